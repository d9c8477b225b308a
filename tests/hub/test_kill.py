"""A process killed in the middle of a flow leaves the store as it was; the flow resumes."""

from __future__ import annotations

import io
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from lheo_factory import document, formation
from sqlalchemy import select

from hub.pipeline.ingest import ingest
from hub.pipeline.replay import resume_pending
from hub.publish.feed import changes_page
from hub.store import Store
from hub.store.tables import FLOWS
from simulators.corpus import CorpusSpec, iter_formations, write_corpus


def state(store: Store) -> dict[str, str | None]:
    with store.engine.connect() as connection:
        page = changes_page(connection, 0, 1_000_000)
    return {c["numero"]: c["content_hash"] for c in page.changes}


def flow_statuses(store: Store) -> list[str]:
    with store.engine.connect() as connection:
        return list(
            connection.execute(select(FLOWS.c.status).order_by(FLOWS.c.received_at)).scalars()
        )


@pytest.mark.slow
def test_kill_during_ingest_leaves_before_state_then_resume_gives_after_state(
    database_url: str, tmp_path: Path
) -> None:
    store = Store.at(database_url, tmp_path / "archive")
    ingest(
        store,
        io.BytesIO(document([formation("OLD-1"), formation("OLD-2")])),
        source="idf",
        region="11",
        kind="snapshot",
    )
    before = state(store)
    spec = CorpusSpec(formations=1500, seed=11, regions=("11",), invalid_share=0.02)
    big = tmp_path / "big.xml"
    with big.open("wb") as out:
        write_corpus(out, spec)
    env = {
        **os.environ,
        "HUB_DATABASE_URL": database_url,
        "HUB_ARCHIVE_DIR": str(tmp_path / "archive"),
    }
    hub = Path(sys.executable).with_name("hub")
    process = subprocess.Popen(
        [str(hub), "ingest", str(big), "--source", "idf", "--region", "11", "--snapshot"],
        env=env,
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60
    while flow_statuses(store) != ["applied", "received"]:
        assert time.monotonic() < deadline and process.poll() is None, "the flow never started"
        time.sleep(0.02)
    time.sleep(0.4)  # well inside the apply transaction of 1,500 formations
    process.kill()
    process.wait()

    assert flow_statuses(store) == ["applied", "received"], "killed too late to test anything"
    assert state(store) == before

    [resumed] = resume_pending(store)
    expected = {g.numero for g in iter_formations(spec) if g.valid}
    live = {numero for numero, content_hash in state(store).items() if content_hash}
    assert live == expected
    assert resumed.counts.created == len(expected) and resumed.counts.deleted == 2
    assert flow_statuses(store) == ["applied", "applied"]
    store.engine.dispose()
