"""The ``hub`` command: exit codes, one-line reasons, and the documented outputs."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from lheo_factory import document, formation, repaired_anotea_fixture
from lxml import etree
from typer.testing import CliRunner

from hub.cli import app
from hub.lheo.schema import NS_23, xml_schema
from hub.publish.feed import current_cursor
from hub.store import Store

runner = CliRunner()


@pytest.fixture
def env(tmp_path: Path, database_url: str, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    monkeypatch.setenv("HUB_DATABASE_URL", database_url)
    monkeypatch.setenv("HUB_ARCHIVE_DIR", str(tmp_path / "archive"))
    monkeypatch.chdir(tmp_path)
    return {"HUB_DATABASE_URL": database_url, "HUB_ARCHIVE_DIR": str(tmp_path / "archive")}


def write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


def test_validate_lists_each_error_with_line_and_path_and_exits_1(shared: Path) -> None:
    sample = shared / "lheo/samples/intercarif-offre-lheo-2.2-anotea-fixture.xml"
    result = runner.invoke(app, ["validate", str(sample)])
    assert result.exit_code == 1
    lines = result.output.splitlines()
    assert f"{sample}:14: formation[@numero='F_XX_XX']/contact-formation/coordonneFs: " in lines[0]
    assert len([line for line in lines if line.startswith(str(sample))]) == 5
    assert lines[-1].endswith("LHEO 2.2, 1 formations, 1 invalid")


def test_validate_exits_0_on_a_valid_file(tmp_path: Path) -> None:
    path = write(tmp_path / "ok.xml", document([formation("F1")]))
    result = runner.invoke(app, ["validate", str(path)])
    assert result.exit_code == 0, result.output
    assert "1 formations, 0 invalid" in result.output


def test_validate_refuses_unsafe_xml_in_one_line(tmp_path: Path) -> None:
    path = write(
        tmp_path / "xxe.xml", b'<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><x/>'
    )
    result = runner.invoke(app, ["validate", str(path)])
    assert result.exit_code == 1
    assert "refused" in result.output and "line 1" in result.output


def test_validate_refuses_an_offres_without_formation(tmp_path: Path) -> None:
    """Every formation valid is not enough: LHEO 2.3 needs at least one in <offres>."""
    path = write(tmp_path / "empty.xml", document([]))
    result = runner.invoke(app, ["validate", str(path)])
    assert result.exit_code == 1, result.output
    lines = result.output.splitlines()
    [error] = [line for line in lines if re.match(rf"{re.escape(str(path))}:\d+: ", line)]
    assert re.match(rf"{re.escape(str(path))}:[1-9]\d*: lheo/offres: \S", error), error
    assert lines[-1].endswith("LHEO 2.3, 0 formations, 0 invalid, 1 document errors")


def test_validate_says_a_delta_that_only_deletes_is_not_valid_lheo(tmp_path: Path) -> None:
    path = write(tmp_path / "deletions.xml", document([], deletions=["F1"]))
    result = runner.invoke(app, ["validate", str(path)])
    assert result.exit_code == 1, result.output
    assert f"{path}: lheo/offres: offres holds no formation: a delta that only deletes" in (
        result.output.replace("\n", " ")
    )
    assert result.output.splitlines()[-1].endswith("0 formations, 0 invalid, 1 document errors")


def test_validate_reports_a_stray_element_inside_offres(tmp_path: Path) -> None:
    data = document([formation("F1"), "<intrus>hors modèle</intrus>", formation("F2")])
    path = write(tmp_path / "stray.xml", data)
    result = runner.invoke(app, ["validate", str(path)])
    assert result.exit_code == 1, result.output
    lines = result.output.splitlines()
    [error] = [line for line in lines if re.match(rf"{re.escape(str(path))}:\d+: ", line)]
    assert re.match(rf"{re.escape(str(path))}:[1-9]\d*: lheo/offres\S*: \S", error), error
    assert "intrus" in error
    assert lines[-1].endswith("LHEO 2.3, 2 formations, 0 invalid, 1 document errors")


def test_export_of_nothing_writes_no_document_and_says_so(
    env: dict[str, str], tmp_path: Path
) -> None:
    out = tmp_path / "national.xml"
    for args in (["--out", str(out)], [], ["--since", "0", "--out", str(out)]):
        result = runner.invoke(app, ["export", *args])
        assert result.exit_code == 0, result.output
        assert result.stdout == ""
        [line] = result.stderr.splitlines()
        assert line.startswith("rien à exporter : "), line
    assert [p.name for p in tmp_path.iterdir() if "national" in p.name] == []  # nor partial

    ok = write(tmp_path / "ok.xml", document([formation("F1")]))
    assert runner.invoke(app, ["ingest", str(ok), "--source", "idf"]).exit_code == 0
    store = Store.at(env["HUB_DATABASE_URL"], tmp_path / "archive")
    with store.engine.connect() as connection:
        cursor = current_cursor(connection)
    store.engine.dispose()
    result = runner.invoke(app, ["export", "--since", str(cursor), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert result.stderr.startswith(f"rien à exporter : aucun changement après le curseur {cursor}")
    assert not out.exists() and not (tmp_path / ".national.xml.partial").exists()
    result = runner.invoke(app, ["export", "--since", str(cursor - 1), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert xml_schema("2.3").validate(etree.parse(str(out)).getroot())


def test_ingest_prints_counts_and_export_writes_valid_2_3(
    env: dict[str, str], tmp_path: Path, shared: Path
) -> None:
    anotea = write(tmp_path / "anotea.xml", repaired_anotea_fixture(shared))
    result = runner.invoke(app, ["ingest", str(anotea), "--region", "11", "--snapshot"])
    assert result.exit_code == 0, result.output
    assert (
        "formations 1 · created 1 · updated 0 · unchanged 0 · deleted 0 · rejected 0 · "
        "stale 0 · kept newer 0" in result.output
    )
    mixed = write(
        tmp_path / "mixed.xml",
        document([formation("F1"), formation("F2").replace("<certifiante>0", "<certifiante>5")]),
    )
    result = runner.invoke(app, ["ingest", str(mixed), "--source", "dokelio"])
    assert result.exit_code == 0, result.output
    assert (
        "rejected: mixed.xml: formation F2, line 4, formation[@numero='F2']/certifiante"
        in result.output
    )
    out = tmp_path / "national.xml"
    result = runner.invoke(app, ["export", "--out", str(out)])
    assert result.exit_code == 0, result.output
    root = etree.parse(str(out)).getroot()
    assert xml_schema("2.3").validate(root)
    numeros = root.xpath("//l:formation/@numero", namespaces={"l": NS_23})
    assert sorted(numeros) == ["F1", "F_XX_XX"]


def test_ingest_of_a_broken_file_exits_1_with_a_one_line_reason(
    env: dict[str, str], tmp_path: Path
) -> None:
    path = write(tmp_path / "cut.xml", document([formation("F1")])[:-300])
    result = runner.invoke(app, ["ingest", str(path), "--source", "idf"])
    assert result.exit_code == 1
    [line] = [line for line in result.output.splitlines() if line.startswith("error:")]
    assert "line" in line and "nothing of it was applied" in line


def test_ingest_needs_a_source_or_a_region(tmp_path: Path) -> None:
    path = write(tmp_path / "ok.xml", document([formation("F1")]))
    result = runner.invoke(app, ["ingest", str(path)])
    assert result.exit_code == 2
    assert "--source" in result.output


def test_the_installed_entry_point_reports_errors_on_stderr(tmp_path: Path) -> None:
    config = write(tmp_path / "bad.toml", b"[store]\nno_such_key = 1\n")
    path = write(tmp_path / "ok.xml", document([formation("F1")]))
    hub = Path(sys.executable).with_name("hub")
    done = subprocess.run(
        [str(hub), "ingest", str(path), "--source", "idf", "--config", str(config)],
        capture_output=True,
        text=True,
        check=False,
        cwd=tmp_path,
        env={k: v for k, v in os.environ.items() if not k.startswith("HUB_")},
    )
    assert done.returncode == 1
    assert done.stderr.startswith(
        f"error: {config}: store.no_such_key: Extra inputs are not permitted"
    )
