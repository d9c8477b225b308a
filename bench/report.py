"""The benchmark's markdown table and PNG chart, from the figures bench/run.py gathered."""

from __future__ import annotations

from pathlib import Path
from typing import Any

MB = 1e6
MEMORY_LIMIT_MB = 300
LABELS = {
    "first_ingest": "full first ingest (validate + store)",
    "reingest": "re-ingest, unchanged snapshot",
    "delta": "1% delta, applied + read back from the changes feed",
    "export": "full feed export (write_lheo to a file)",
    "changes_walk": "changes feed walk from cursor 0",
    "push": "push of 100 changed formations → visible",
}


def _rss(result: dict[str, Any]) -> float:
    """Peak memory of the scenario: the proportional memory (PSS) of its process and workers
    when sampled, else its peak RSS plus its largest child's."""
    if "tree_pss_mb" in result:
        return float(result["tree_pss_mb"])
    return float(result["rss_mb"]) + float(result.get("children_rss_mb", 0.0))


def _memory(result: dict[str, Any]) -> str:
    if "tree_pss_mb" in result:
        return f"{result['tree_pss_mb']:.0f} ({result['rss_mb']:.0f})"
    return f"{_rss(result):.0f}"


def _verdict(ok: bool) -> str:
    return "met" if ok else "**missed**"


def _target(
    name: str, result: dict[str, Any], floor: dict[str, Any], naive: float
) -> tuple[str, str]:
    """(ratios, target verdict) of one scenario; CPU ratios are less skewed by other load."""
    seconds = float(result["seconds"])
    memory_ok = _rss(result) < MEMORY_LIMIT_MB
    ratio, cpu_ratio = seconds / floor["seconds"], result["cpu_s"] / floor["cpu_s"]
    if name == "first_ingest":
        speedup = naive / seconds
        ok = ratio <= 8 and speedup >= 20 and memory_ok
        return f"{ratio:.1f}× floor (CPU {cpu_ratio:.1f}×), {speedup:.0f}× faster than naive", (
            f"≤ 8× floor, ≥ 20× naive, < 300 MB: {_verdict(ok)}"
        )
    if name == "reingest":
        return f"{ratio:.1f}× floor (CPU {cpu_ratio:.1f}×)", (
            f"≤ 3× floor, < 300 MB: {_verdict(ratio <= 3 and memory_ok)}"
        )
    if name == "delta":
        return f"apply {result['apply_seconds']:.2f} s", f"< 5 s: {_verdict(seconds < 5)}"
    if name == "export":
        rate = result["bytes"] / MB / seconds
        return "", f"≥ 50 MB/s: {_verdict(rate >= 50)}"
    if name == "push":
        return (
            f"p50 {result['p50'] * 1000:.0f} ms, p95 {result['p95'] * 1000:.0f} ms",
            f"p95 < 1 s: {_verdict(result['p95'] < 1)} ({result['path']})",
        )
    return "", ""


def table(figures: dict[str, Any]) -> str:
    """One markdown table: references, then every scenario on every backend."""
    refs = figures["references"]
    floor, naive = refs["floor"], refs["naive"]
    stats = figures["stats"]
    size = stats["bytes"] / MB
    lines = [
        "Memory: peak PSS of the scenario's processes (main + workers, or client + API server),"
        " and in brackets the main process's peak RSS; before PSS was sampled, RSS of the main"
        " process plus its largest child.",
        "",
        f"Scale {figures['scale']:g}: {stats['formations']} formations, {stats['actions']} "
        f"actions, {stats['sessions']} sessions, {stats['invalid']} invalid, {size:.0f} MB.",
        "",
        "| scenario | backend | records | wall s | CPU s | records/s | MB/s | memory MB | ratios "
        "| target |",
        "|---|---|---:|---:|---:|---:|---:|---:|---|---|",
        f"| floor: `xmllint --stream --noout` | — | {stats['formations']} | "
        f"{floor['seconds']:.2f} | {floor['cpu_s']:.2f} | "
        f"{stats['formations'] / floor['seconds']:.0f} | "
        f"{size / floor['seconds']:.1f} | {floor['rss_mb']:.0f} | 1× | |",
        f"| naive: `xmlschema` iter_decode, timed on the first {naive['slice_records']} "
        f"formations ({naive['slice_bytes'] / MB:.1f} MB, {naive['slice_seconds']:.1f} s) and "
        f"scaled ×{naive['factor']:.1f} | — | {stats['formations']} | {naive['seconds']:.1f} | | "
        f"{stats['formations'] / naive['seconds']:.0f} | {size / naive['seconds']:.2f} | "
        f"{naive['rss_mb']:.0f} | {naive['seconds'] / floor['seconds']:.0f}× floor | |",
    ]
    for name, label in LABELS.items():
        for backend, results in figures["runs"].items():
            result = results[name]
            seconds = float(result["seconds"])
            rate = f"{result['bytes'] / MB / seconds:.1f}" if result["bytes"] else ""
            ratios, target = _target(name, result, floor, naive["seconds"])
            lines.append(
                f"| {label} | {backend} | {result['records']} | {seconds:.2f} | "
                f"{result['cpu_s']:.1f} | "
                f"{result['records'] / seconds:.0f} | {rate} | {_memory(result)} | {ratios} | "
                f"{target} |"
            )
    return "\n".join(lines) + "\n"


def chart(figures: dict[str, Any], path: Path) -> None:
    """Throughput (MB/s) and peak memory of every scenario and backend, as one PNG."""
    import matplotlib  # noqa: PLC0415 - an optional dependency (the `bench` extra)

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt  # noqa: PLC0415

    names = [n for n in LABELS if n != "push"]
    backends = list(figures["runs"])
    fig, (speed, memory) = plt.subplots(1, 2, figsize=(13, 4.8))
    width = 0.8 / len(backends)
    for offset, backend in enumerate(backends):
        results = figures["runs"][backend]
        xs = [i + offset * width for i in range(len(names))]
        speed.bar(xs, [results[n]["bytes"] / MB / results[n]["seconds"] for n in names], width)
        memory.bar(xs, [_rss(results[n]) for n in [*names]], width, label=backend)
    floor = figures["references"]["floor"]
    speed.set_yscale("log")
    speed.axhline(floor["bytes"] / MB / floor["seconds"], color="grey", linestyle="--")
    speed.text(0, floor["bytes"] / MB / floor["seconds"], "xmllint floor", va="bottom")
    memory.axhline(MEMORY_LIMIT_MB, color="red", linestyle="--")
    for axis, title in (
        (speed, "throughput, MB/s"),
        (memory, "peak memory (PSS of main + workers), MB"),
    ):
        axis.set_xticks([i + width * (len(backends) - 1) / 2 for i in range(len(names))])
        axis.set_xticklabels([n.replace("_", "\n") for n in names])
        axis.set_title(title)
    memory.legend()
    fig.suptitle(f"LHEO sync hub, scale {figures['scale']:g}")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
