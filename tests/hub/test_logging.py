"""Structured logs: JSON lines carrying source, flow_id and stage, or readable console lines."""

from __future__ import annotations

import io
import json
import logging
import threading
from collections.abc import Iterator

import pytest
import structlog
from lheo_factory import document, formation

from hub.ops.logging import bound, configure_logging, get_logger
from hub.pipeline.ingest import ingest
from hub.pipeline.replay import replay_flow
from hub.settings import LoggingSettings
from hub.store import Store


@pytest.fixture
def restore_logging() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    root.handlers, root.level = handlers, level
    structlog.reset_defaults()


def lines(stream: io.StringIO) -> list[dict[str, object]]:
    return [json.loads(line) for line in stream.getvalue().splitlines() if line.strip()]


@pytest.mark.usefixtures("restore_logging")
def test_json_lines_carry_the_bound_context_and_stdlib_lines_share_the_format() -> None:
    stream = io.StringIO()
    configure_logging(LoggingSettings(format="json", level="INFO"), stream=stream)
    log = get_logger("hub.test")
    with bound(source="dokelio", flow_id="20261127T101500-3f9a1c2e", stage="apply"):
        log.info("flow applied", created=3)
        logging.getLogger("uvicorn.error").warning("a foreign line")
    log.info("outside")
    log.debug("below the level")
    first, foreign, outside = lines(stream)
    assert first["event"] == "flow applied" and first["created"] == 3
    assert (first["source"], first["flow_id"], first["stage"]) == (
        "dokelio", "20261127T101500-3f9a1c2e", "apply"
    )  # fmt: skip
    assert first["level"] == "info" and str(first["timestamp"]).endswith("Z")
    assert foreign["event"] == "a foreign line" and foreign["source"] == "dokelio"
    assert "source" not in outside, "the context ends with its block"


@pytest.mark.usefixtures("restore_logging")
def test_none_values_are_not_bound_and_threads_keep_their_own_context() -> None:
    stream = io.StringIO()
    configure_logging(LoggingSettings(format="json"), stream=stream)
    log = get_logger("hub.test")

    def worker() -> None:
        with bound(source="emfor", stage="sync"):
            log.info("in the worker")

    with bound(source="dokelio", flow_id=None):
        thread = threading.Thread(target=worker)
        thread.start()
        thread.join()
        log.info("in the caller")
    worker_line, caller_line = lines(stream)
    assert worker_line["source"] == "emfor" and caller_line["source"] == "dokelio"
    assert "flow_id" not in caller_line and "stage" not in caller_line


@pytest.mark.usefixtures("restore_logging")
def test_console_format_is_readable_text_not_json() -> None:
    stream = io.StringIO()
    configure_logging(LoggingSettings(format="console"), stream=stream)
    with bound(source="dokelio", stage="fetch"):
        get_logger("hub.test").warning("retrying", attempt=2)
    text = stream.getvalue()
    assert "retrying" in text and "source=dokelio" in text and "attempt=2" in text
    with pytest.raises(json.JSONDecodeError):
        json.loads(text)


@pytest.mark.usefixtures("restore_logging")
def test_a_replay_logs_its_source_stage_and_flows(store: Store) -> None:
    stream = io.StringIO()
    configure_logging(LoggingSettings(format="json"), stream=stream)
    flow = ingest(store, io.BytesIO(document([formation("F1")])), source="dokelio", region="11")
    replayed = replay_flow(store, flow.flow_id)
    [line] = [entry for entry in lines(stream) if entry["event"] == "flow replayed"]
    assert line["source"] == "dokelio" and line["stage"] == "replay"
    assert line["replay_of"] == flow.flow_id and line["flow_id"] == replayed.flow_id
    assert line["unchanged"] == 1
