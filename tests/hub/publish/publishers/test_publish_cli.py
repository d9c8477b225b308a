"""``hub publish`` and ``hub publishers``: run one partner by hand, see every partner's lag."""

from __future__ import annotations

from pathlib import Path

import pytest
from lheo_factory import formation
from publishing import Hub
from typer.testing import CliRunner

from hub.cli import app

runner = CliRunner()


@pytest.fixture
def config(hub: Hub, tmp_path: Path, database_url: str, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("HUB_DATABASE_URL", database_url)
    monkeypatch.chdir(tmp_path)
    (tmp_path / "publishers").mkdir()
    (tmp_path / "publishers" / "drop.toml").write_text(
        'publisher = "filedrop"\ndestination = "drop"\n', encoding="utf-8"
    )
    path = tmp_path / "hub.toml"
    path.write_text('[publishing]\nspool_dir = "spool"\n', encoding="utf-8")
    return path


def test_publish_by_hand_then_list_the_partners_with_their_lag(
    hub: Hub, config: Path, tmp_path: Path
) -> None:
    hub.load([formation("F1"), formation("F2")])
    dry = runner.invoke(app, ["publish", "drop", "--dry-run", "--config", str(config)])
    assert dry.exit_code == 0, dry.output
    assert "publish drop: dry-run" in dry.output and not (tmp_path / "drop").exists()

    done = runner.invoke(app, ["publish", "drop", "--config", str(config)])
    assert done.exit_code == 0, done.output
    assert "publish drop: acknowledged" in done.output and "full" in done.output
    assert len(list((tmp_path / "drop").glob("*.xml.gz"))) == 1

    hub.load([formation("F3")])
    listed = runner.invoke(app, ["publishers", "--config", str(config)])
    assert listed.exit_code == 0, listed.output
    assert "store cursor 3" in listed.output
    [row] = [line.split() for line in listed.output.splitlines() if line.strip().startswith("drop")]
    assert row[:4] == ["drop", "2", "1", "2"]  # acknowledged 2, lag 1, holds 2
    assert row[-1] == "acknowledged"

    full = runner.invoke(app, ["publish", "drop", "--full", "--config", str(config)])
    assert "full" in full.output and len(list((tmp_path / "drop").glob("*.xml.gz"))) == 2


def test_an_unknown_partner_exits_1_naming_the_configured_ones(config: Path) -> None:
    result = runner.invoke(app, ["publish", "pole-emploi", "--config", str(config)])
    assert result.exit_code == 1
    assert "unknown publisher 'pole-emploi'; configured publishers: drop" in result.output
