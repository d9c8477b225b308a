"""The layout's promises that import-linter cannot see (docs/architecture.md).

- The production wheel holds no development tooling (simulators, corpus, tests, bench).
- Starting the hub's entry points loads no simulator module unless the demo is asked for.
- A document head (``<?xml …?>`` and the ``<lheo>`` root) is written in ``hub/lheo/writer.py`` only.
"""

from __future__ import annotations

import ast
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
PRODUCTION = ("hub", "connectors", "mappings")
WRITER = REPO / "hub/lheo/writer.py"


@pytest.mark.slow
def test_wheel_holds_no_development_tooling(tmp_path: Path) -> None:
    # A copy: a build folder left in the checkout would add stale files to the wheel.
    tree = tmp_path / "tree"
    leftovers = shutil.ignore_patterns(
        ".*", "build", "dist", "var", "out", "artefacts", "*.egg-info", "__pycache__"
    )
    shutil.copytree(REPO, tree, ignore=leftovers)
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", str(tree), "--no-deps", "--no-build-isolation",
         "-q", "-w", str(tmp_path)],
        check=True, capture_output=True, cwd=tmp_path,
    )  # fmt: skip
    (wheel,) = tmp_path.glob("lheo_sync_hub-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    tops = {name.split("/", 1)[0] for name in names if "/" in name and ".dist-info" not in name}
    assert tops == set(PRODUCTION), tops
    tooling = [n for n in names if "simulat" in n or "corpus" in n or n.endswith("communes.csv")]
    assert tooling == []
    # What the hub needs at run time is in it.
    for needed in (
        "hub/lheo/xsd/lheo-2.3.xsd",
        "hub/publish/data/departements_centroides.csv",
        "hub/store/migrations/env.py",
        "hub/store/migrations/versions/0012_raw_parts.py",
        "hub/api/templates/dashboard.html",
        "mappings/tables/lheo_dictionaries.csv",
    ):
        assert needed in names, needed


def test_entry_points_load_no_simulator() -> None:
    code = (
        "import sys, hub.cli, hub.api.app, hub.ops.scheduler, hub.pipeline.sync\n"
        "loaded = sorted(m for m in sys.modules if m.split('.')[0] in "
        "('simulators', 'tests', 'bench'))\n"
        "print(loaded)\n"
    )
    run = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True
    )
    assert run.stdout.strip() == "[]", run.stdout


HEAD = re.compile(r"<\?xml\s+version=|<lheo\s+xmlns=")


def _heads(path: Path) -> list[int]:
    """Lines of code (not documentation) whose string literals write an XML declaration or
    open an ``<lheo xmlns=…>`` root."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    docs = {  # docstrings, attribute docstrings: bare string statements
        id(node.value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant)
    }
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str | bytes):
            if id(node) in docs:
                continue
            text = node.value.decode("latin-1") if isinstance(node.value, bytes) else node.value
            if HEAD.search(text):
                found.append(node.lineno)
    return found


def test_document_heads_are_written_by_the_writer_only() -> None:
    assert _heads(WRITER), "hub/lheo/writer.py writes no document head any more"
    elsewhere = {
        str(path.relative_to(REPO)): lines
        for package in (*PRODUCTION, "simulators")
        for path in sorted((REPO / package).rglob("*.py"))
        if path != WRITER and "migrations" not in path.parts and (lines := _heads(path))
    }
    assert elsewhere == {}
