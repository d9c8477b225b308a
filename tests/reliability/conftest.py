"""The reliability and security suite: real ``hub serve`` processes, real HTTP, real PostgreSQL.

Two sizes. ``make test`` runs the *quick* part: every property once, on small inputs, in a
few seconds each. ``make reliability`` sets ``HUB_RELIABILITY=full``: the same tests with
larger inputs, longer fuzzing and load, plus the tests marked ``reliability_full`` (a real
PostgreSQL restart, more kill points), and prints the table of figures at the end.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Generator, Iterator
from pathlib import Path

import pytest

from tests.reliability import report
from tests.reliability.report import Tally
from tests.reliability.sizes import FULL, MODE

TALLY = pytest.StashKey[Tally]()
_OWN_FIGURES = pytest.StashKey[Path]()


def pytest_configure(config: pytest.Config) -> None:
    """In the process that runs pytest (not an xdist worker), open the figures folder."""
    if hasattr(config, "workerinput") or os.environ.get(report.FIGURES_ENV):
        return
    folder = Path(tempfile.mkdtemp(prefix="hub-reliability-figures-"))
    os.environ[report.FIGURES_ENV] = str(folder)  # inherited by the xdist workers
    config.stash[_OWN_FIGURES] = folder


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Outside ``make reliability``, the long tests are deselected (not skipped)."""
    if FULL:
        return
    long = [item for item in items if item.get_closest_marker("reliability_full")]
    if long:
        config.hook.pytest_deselected(items=long)
        items[:] = [item for item in items if item not in long]


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    made = yield
    if item.path.is_relative_to(Path(__file__).parent) and (made.when == "call" or made.failed):
        tally = item.stash.get(TALLY, None) if made.when == "call" else None
        report.record(made.nodeid, made.when, made.outcome, tally)
    return made


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    folder = terminalreporter.config.stash.get(_OWN_FIGURES, None)
    if folder is None:
        return
    summary = report.summarise(folder)
    if summary.passed + summary.failed:
        terminalreporter.write_sep("=", "reliability figures")
        terminalreporter.write_line(report.render(summary, mode=MODE))
    shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def figures(request: pytest.FixtureRequest) -> Iterator[Tally]:
    """What this test tried, counted into the suite's table."""
    tally = Tally()
    request.node.stash[TALLY] = tally
    yield tally
