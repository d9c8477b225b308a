"""``hub sync`` and ``hub sources`` on a configuration whose sources are simulated."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest
from typer.testing import CliRunner

from hub.cli import app

runner = CliRunner()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def config(tmp_path: Path, database_url: str, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("HUB_DATABASE_URL", database_url)
    monkeypatch.setenv("HUB_ARCHIVE_DIR", str(tmp_path / "archive"))
    monkeypatch.setenv("CLI_DOKELIO_TOKEN", "")  # so the dev token set by the command is undone
    monkeypatch.delenv("CLI_DOKELIO_TOKEN")
    (tmp_path / "regions").mkdir()
    (tmp_path / "regions" / "dokelio.toml").write_text(
        'connector = "dokelio"\nregion = "11"\n'
        f'url = "http://127.0.0.1:{free_port()}/v1"\ntoken_env = "CLI_DOKELIO_TOKEN"\n'
        '[schedule]\nevery = "1h"\n[options]\npage_size = 5\n'
    )
    (tmp_path / "regions" / "emfor.toml").write_text(
        f'connector = "emfor"\nregion = "27"\nurl = "http://127.0.0.1:{free_port()}"\n'
        '[schedule]\ncron = "0 3 * * *"\n'
    )
    path = tmp_path / "hub.toml"
    path.write_text(
        "[fetch]\nattempts = 2\nbackoff_initial = 0.0\njitter = 0.0\n"
        '[simulators]\nenabled = true\ndemo = "simulators.demo:Demo"\nformations = 12\n'
        "invalid_share = 0.0\nfirst_sync = false\n"
    )
    return path


def test_sync_runs_one_source_by_hand_then_only_asks_what_changed(config: Path) -> None:
    first = runner.invoke(app, ["sync", "emfor", "--config", str(config)])
    assert first.exit_code == 0, first.output
    assert "emfor: 1 items fetched, 1 flows" in first.output and "created 12" in first.output
    assert "flagged siret" in first.output or "flagged numero-activite" in first.output
    listed = runner.invoke(app, ["sources", "--config", str(config)])
    assert listed.exit_code == 0, listed.output
    lines = listed.output.splitlines()
    assert lines[0].startswith("dokelio: connector dokelio, region 11, http://127.0.0.1:")
    assert "every 1:00:00, secret CLI_DOKELIO_TOKEN (unset), cursor {}" in lines[0]
    assert lines[1].startswith("emfor: connector emfor, region 27") and '"etag": ' in lines[1]


def test_a_dry_run_reports_and_writes_nothing(config: Path) -> None:
    dry = runner.invoke(app, ["sync", "dokelio", "--dry-run", "--config", str(config)])
    assert dry.exit_code == 0, dry.output
    assert "dry run, nothing written" in dry.output and "created 12" in dry.output
    real = runner.invoke(app, ["sync", "dokelio", "--config", str(config)])
    assert real.exit_code == 0 and "created 12" in real.output, real.output


def test_an_unknown_source_exits_1_with_the_configured_ones(config: Path) -> None:
    result = runner.invoke(app, ["sync", "paris", "--config", str(config)])
    assert result.exit_code == 1
    assert "unknown source 'paris'; configured sources: dokelio, emfor" in result.output
