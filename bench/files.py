"""The benchmark's input files, generated once per scale and cached under bench/out/.

The corpus is the generator's national sample scaled down (scale 1 = 100,000 formations) with
2% of records made XSD-invalid. Beside it: the 1% delta (1% of formations at revision 1, 0.1%
deleted) and, for the naive decode, a slice holding the corpus's first formations.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path
from typing import Any

from simulators.corpus import (
    CorpusSpec,
    formation_numero,
    formation_xml,
    write_corpus,
    write_formations,
)

NATIONAL_FORMATIONS = 100_000
INVALID_SHARE = 0.02
DELTA_EVERY = 100  # 1% of the formations change...
DELETE_EVERY = 1000  # ...and 0.1% are deleted
SLICE_BYTES = 4_000_000


def spec_for(scale: float) -> CorpusSpec:
    return CorpusSpec(
        formations=max(1, round(NATIONAL_FORMATIONS * scale)),
        seed=0,
        regions=("*",),
        invalid_share=INVALID_SHARE,
    )


def corpus_spec(corpus: Path) -> CorpusSpec:
    """The spec a cached corpus was generated from (read from its sidecar file)."""
    fields = json.loads(corpus.with_suffix(".json").read_text())["spec"]
    return CorpusSpec(**{**fields, "regions": tuple(fields["regions"])})


def ensure_corpus(outdir: Path, scale: float) -> tuple[Path, dict[str, Any]]:
    """The corpus file of ``scale`` and its statistics, generated unless already cached."""
    spec = spec_for(scale)
    corpus = outdir / f"corpus-{scale:g}.xml"
    sidecar = corpus.with_suffix(".json")
    if corpus.exists() and sidecar.exists():
        cached = json.loads(sidecar.read_text())
        if cached["spec"] == json.loads(json.dumps(asdict(spec))):
            return corpus, cached["stats"]
    outdir.mkdir(parents=True, exist_ok=True)
    print(f"generating {corpus} ({spec.formations} formations)...", flush=True)
    with corpus.open("wb") as out:
        stats = write_corpus(out, spec)
    sidecar.write_text(json.dumps({"spec": asdict(spec), "stats": asdict(stats)}, indent=1))
    return corpus, asdict(stats)


def ensure_delta(corpus: Path) -> Path:
    """1% of the corpus's formations at revision 1, plus 0.1% deleted, as one delta flow."""
    spec = corpus_spec(corpus)
    delta = corpus.with_name(corpus.stem + "-delta.xml")
    if delta.exists() and delta.stat().st_mtime >= corpus.stat().st_mtime:
        return delta
    changed = (
        formation_xml(spec, index, revision=1)
        for index in range(DELTA_EVERY // 2, spec.formations, DELTA_EVERY)
    )
    deleted = [formation_numero(spec, index) for index in range(7, spec.formations, DELETE_EVERY)]
    with delta.open("wb") as out:
        write_formations(out, changed, deletions=deleted)
    return delta


def ensure_slice(corpus: Path, size: int = SLICE_BYTES) -> tuple[Path, int, int]:
    """The corpus's first formations (about ``size`` bytes) as a valid document.

    Returns the slice's path, its number of formations and its size in bytes.
    """
    sliced = corpus.with_name(corpus.stem + "-slice.xml")
    with corpus.open("rb") as stream:
        head = stream.read(size + 200_000)
    end, count = 0, 0
    while end < size:
        found = head.find(b"</formation>", end)
        if found < 0:
            break
        end, count = found + len(b"</formation>"), count + 1
    data = head[:end] + b"\n</offres>\n</lheo>\n"
    sliced.write_bytes(data)
    return sliced, count, len(data)
