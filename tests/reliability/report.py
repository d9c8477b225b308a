"""The figures of the reliability suite: what each test tried, and the table they add up to.

A test takes the ``figures`` fixture (a :class:`Tally`) and counts what it tried: bad
inputs, fuzz cases, lexical variants of an offer, faults survived, records checked and
lost, requests held under load. When a run is to be reported (``HUB_RELIABILITY_FIGURES``
names a folder: the suite's ``pytest_configure`` sets one in the process that runs pytest,
and :func:`main`, which ``make reliability`` runs, sets one for its two pytest runs), each
test process appends one JSON line per test phase to ``figures-<pid>.jsonl`` there: outcome
and figures. That works the same with or without xdist, since every worker writes its own
file; at the end the lines are added up (:func:`summarise`) and the table printed
(:func:`render`).
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

FIGURES_ENV = "HUB_RELIABILITY_FIGURES"
COUNTED = (
    "bad_inputs",
    "fuzz_cases",
    "lexical_variants",
    "faults",
    "records_checked",
    "records_lost",
)


@dataclass
class Tally:
    """What one test tried, by label: ``group: detail`` (``unsafe XML: billion laughs``,
    ``kill -9: while applying``); the table shows the groups."""

    counts: dict[str, Counter[str]] = field(
        default_factory=lambda: {name: Counter() for name in COUNTED}
    )
    load: list[dict[str, Any]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def count(self, figure: str, label: str, n: int = 1) -> None:
        if figure not in self.counts:
            raise KeyError(f"unknown figure {figure!r}: one of {', '.join(COUNTED)}")
        self.counts[figure][label] += n

    def records(self, label: str, expected: Iterable[Any], stored: Iterable[Any]) -> int:
        """Count ``expected`` records as checked and those missing from ``stored`` as lost."""
        wanted, held = set(expected), set(stored)
        lost = len(wanted - held)
        self.count("records_checked", label, len(wanted))
        self.counts["records_lost"][label] += lost
        return lost

    def held(
        self, *, kinds: Counter[str], seconds: float, latencies: Sequence[float], errors: int
    ) -> None:
        """The load test's outcome: requests by kind, wall time, latencies (s), errors."""
        ordered = sorted(latencies)
        requests = kinds.total()
        self.load.append(
            {
                "requests": requests,
                "kinds": dict(kinds),
                "seconds": seconds,
                "rps": requests / seconds if seconds else 0.0,
                "p50_ms": 1000 * statistics.median(ordered) if ordered else 0.0,
                "p99_ms": 1000 * ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))]
                if ordered
                else 0.0,
                "errors": errors,
            }
        )

    def as_json(self) -> dict[str, Any]:
        return {
            "counts": {k: dict(v) for k, v in self.counts.items() if v},
            "load": self.load,
            "notes": self.notes,
        }


def record(nodeid: str, when: str, outcome: str, tally: Tally | None) -> None:
    """Append one test phase's outcome (and the test's figures, once) to this process's file."""
    folder = os.environ.get(FIGURES_ENV)
    if not folder:
        return
    line = {"nodeid": nodeid, "when": when, "outcome": outcome}
    if tally is not None:
        line["figures"] = tally.as_json()
    with (Path(folder) / f"figures-{os.getpid()}.jsonl").open("a", encoding="utf-8") as out:
        out.write(json.dumps(line) + "\n")


@dataclass
class Summary:
    passed: int = 0
    failed: int = 0
    counts: dict[str, Counter[str]] = field(
        default_factory=lambda: {name: Counter() for name in COUNTED}
    )
    load: list[dict[str, Any]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def summarise(folder: Path) -> Summary:
    """Add up every line the test processes wrote into ``folder``."""
    outcomes: dict[str, set[str]] = {}
    summary = Summary()
    for file in sorted(folder.glob("figures-*.jsonl")):
        for text in file.read_text(encoding="utf-8").splitlines():
            line = json.loads(text)
            outcomes.setdefault(line["nodeid"], set()).add(line["outcome"])
            figures = line.get("figures")
            if figures is None:
                continue
            for name, labels in figures["counts"].items():
                summary.counts[name].update(labels)
            summary.load.extend(figures["load"])
            summary.notes.extend(figures["notes"])
    for seen in outcomes.values():
        if "failed" in seen:
            summary.failed += 1
        elif "passed" in seen:
            summary.passed += 1
    return summary


def _labels(counter: Counter[str]) -> str:
    """``group n`` for each group of labels (``group: detail``), largest first."""
    groups: Counter[str] = Counter()
    for label, n in counter.items():
        groups[label.split(": ", 1)[0]] += n
    return ", ".join(f"{group} {n}" for group, n in groups.most_common())


def render(summary: Summary, *, mode: str) -> str:
    """The table ``make reliability`` prints and the README quotes."""
    c = summary.counts
    rows = [
        ("checks passed", f"{summary.passed} of {summary.passed + summary.failed}", ""),
        ("bad inputs tried", str(c["bad_inputs"].total()), _labels(c["bad_inputs"])),
        ("fuzz cases tried", str(c["fuzz_cases"].total()), _labels(c["fuzz_cases"])),
        (
            "lexical variants tried",
            str(c["lexical_variants"].total()),
            _labels(c["lexical_variants"]),
        ),
        ("faults survived", str(c["faults"].total()), _labels(c["faults"])),
        (
            "records lost",
            str(c["records_lost"].total()),
            f"of {c['records_checked'].total()} records checked after faults and load",
        ),
    ]
    for load in summary.load:
        rows.append(
            (
                "requests held",
                str(int(load["requests"])),
                f"in {load['seconds']:.1f} s: {load['rps']:.0f} req/s, "
                f"p50 {load['p50_ms']:.0f} ms, p99 {load['p99_ms']:.0f} ms, "
                f"{int(load['errors'])} errors ("
                + ", ".join(f"{kind} {n}" for kind, n in load.get("kinds", {}).items())
                + ")",
            )
        )
    width = max(len(name) for name, _, _ in rows)
    figure_width = max(len(value) for _, value, _ in rows)
    lines = [f"reliability suite ({mode})"]
    lines += [
        f"  {name:<{width}}  {value:>{figure_width}}  {detail}".rstrip()
        for name, value, detail in rows
    ]
    lines += [f"  note: {note}" for note in dict.fromkeys(summary.notes)]
    return "\n".join(lines)


# -- `make reliability`: the whole suite in full, then its table ----------------------------

TABLE = Path("var/reliability/table.txt")


def main() -> int:
    """Run the suite in full, the load test last and alone, and print the table of figures.

    The load test runs by itself so its requests per second are the hub's, not shared with
    the fuzzers; everything else runs on two workers, one test module per worker at a time.
    """
    folder = Path(tempfile.mkdtemp(prefix="hub-reliability-figures-"))
    env = os.environ | {"HUB_RELIABILITY": "full", FIGURES_ENV: str(folder)}
    pytest = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", *sys.argv[1:]]
    load = "tests/reliability/test_load.py"
    phases = [
        [*pytest, "-n", "2", "--dist", "loadfile", "tests/reliability", f"--ignore={load}"],
        [*pytest, "-p", "no:xdist", load],
    ]
    failed = [subprocess.run(phase, env=env, check=False).returncode for phase in phases]
    table = render(summarise(folder), mode="full")
    shutil.rmtree(folder, ignore_errors=True)
    TABLE.parent.mkdir(parents=True, exist_ok=True)
    TABLE.write_text(table + "\n", encoding="utf-8")
    print("\n" + table + f"\n\n(also written to {TABLE})")
    return 1 if any(failed) else 0


if __name__ == "__main__":
    sys.exit(main())
