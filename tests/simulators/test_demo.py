"""The demo of `make run`: it binds only its own ports, draws its tokens, trusts only itself."""

from __future__ import annotations

import re
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from hub.errors import ConfigError
from hub.ops.demo import demo_for_source, start_demo
from hub.settings import (
    FetchSettings,
    Settings,
    SimulatorSettings,
    SourceSettings,
    StoreSettings,
)
from hub.store import Store
from simulators.demo import Demo
from simulators.dokelio import DokelioSimulator
from simulators.serving import running

TOKEN = "DEMO_TEST_DOKELIO_TOKEN"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def port_is_free(port: int) -> bool:
    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


@pytest.fixture
def taken() -> Iterator[int]:
    """A port some other process listens on."""
    with socket.socket() as other:
        other.bind(("127.0.0.1", 0))
        other.listen()
        yield int(other.getsockname()[1])


@pytest.fixture(autouse=True)
def no_token(monkeypatch: pytest.MonkeyPatch) -> None:
    # Registered with monkeypatch, then unset: the token the demo sets is removed afterwards.
    monkeypatch.setenv(TOKEN, "")
    monkeypatch.delenv(TOKEN)


def demo_settings(tmp_path: Path, dokelio: int, emfor: int) -> Settings:
    return Settings(
        store=StoreSettings(archive_dir=tmp_path / "var" / "archive"),
        fetch=FetchSettings(attempts=1, backoff_initial=0.0, jitter=0.0),
        simulators=SimulatorSettings(
            enabled=True, demo="simulators.demo:Demo", formations=4, first_sync=False
        ),
        sources={
            "dokelio": SourceSettings(
                name="dokelio", connector="dokelio", region="11",
                url=f"http://127.0.0.1:{dokelio}/v1", token_env=TOKEN,
            ),
            "emfor": SourceSettings(
                name="emfor", connector="emfor", region="27", url=f"http://127.0.0.1:{emfor}"
            ),
        },
    )  # fmt: skip


def test_a_port_already_taken_stops_the_demo_and_names_it(
    tmp_path: Path, taken: int, store: Store
) -> None:
    dokelio = free_port()
    settings = demo_settings(tmp_path, dokelio, emfor=taken)
    with pytest.raises(ConfigError) as refused:
        start_demo(settings, store)
    message = str(refused.value)
    assert f"port {taken} of 127.0.0.1 is already taken" in message
    assert "'emfor'" in message
    assert f"sport = :{taken}" in (refused.value.hint or "")
    # What it had started before (dokelio, sorted first) is stopped, and nothing remembered.
    assert port_is_free(dokelio)
    assert not (tmp_path / "var" / "demo.json").exists()


def test_tokens_are_drawn_at_each_start_and_printed_once(
    tmp_path: Path,
    store: Store,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    tokens = []
    for _ in range(2):
        monkeypatch.delenv(TOKEN, raising=False)
        settings = demo_settings(tmp_path, free_port(), free_port())
        demo = start_demo(settings, store)
        assert demo is not None
        demo.stop()
        printed = re.findall(rf"{TOKEN}=(\S+)", capsys.readouterr().err)
        assert len(printed) == 1
        tokens.append(printed[0])
    assert tokens[0] != tokens[1]
    assert all(len(token) >= 32 for token in tokens)


def test_a_token_set_in_the_environment_is_kept_and_not_printed(
    tmp_path: Path,
    store: Store,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv(TOKEN, "chosen-by-the-operator")
    demo = Demo.start(demo_settings(tmp_path, free_port(), free_port()), store)
    try:
        assert demo.systems["dokelio"].token == "chosen-by-the-operator"
    finally:
        demo.stop()
    assert "chosen-by-the-operator" not in capsys.readouterr().err


def test_a_sync_talks_only_to_the_demo_s_own_simulator(tmp_path: Path, store: Store) -> None:
    # A stranger on the source's port (a simulator this demo did not start): refused.
    with running(DokelioSimulator(formations=2)) as url:
        port = int(url.rsplit(":", 1)[1].split("/")[0])
        settings = demo_settings(tmp_path, port, free_port())
        with pytest.raises(ConfigError, match="held by a process the demo did not start"):  # noqa: SIM117
            with demo_for_source(settings, "dokelio"):
                pytest.fail("the sync went ahead")
    # The running demo's own simulator: trusted (it answers with the instance it wrote down).
    settings = demo_settings(tmp_path, free_port(), free_port())
    demo = start_demo(settings, store)
    assert demo is not None
    try:
        with demo_for_source(settings, "dokelio"):
            pass
    finally:
        demo.stop()
    # Nothing on the port: the sync serves the source's simulator for its own length.
    port = free_port()
    with demo_for_source(demo_settings(tmp_path, port, free_port()), "dokelio"):
        assert not port_is_free(port)
    assert port_is_free(port)
