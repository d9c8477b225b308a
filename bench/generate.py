"""Generate a synthetic LHEO corpus file for benchmarks and manual tests.

    python bench/generate.py --out bench/out/national.xml --scale 1
    python bench/generate.py --out idf.xml.gz --scale 1 --regions 11 --version 2.2
    python bench/generate.py --out small.xml --formations 500 --invalid-share 0.02

Scale 1 is the national offer (100,000 formations, about 250,000 actions and 600,000 sessions).
With ``--regions`` the scaled count is the regions' share of the national population. A name
ending in ``.gz`` is gzip-compressed; ``-`` writes to standard output. The statistics are printed
on standard output (standard error when the corpus itself goes to standard output).
"""

from __future__ import annotations

import argparse
import contextlib
import gzip
import sys
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import BinaryIO, TextIO, cast

try:
    from simulators.corpus import CorpusSpec, CorpusStats, population_share, write_corpus
except ModuleNotFoundError:  # a checkout without `pip install -e .`
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from simulators.corpus import CorpusSpec, CorpusStats, population_share, write_corpus

NATIONAL_FORMATIONS = 100_000


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--out", required=True, help="output file (.gz to compress, - for stdout)")
    size = parser.add_mutually_exclusive_group()
    size.add_argument("--scale", type=float, default=0.01, help="1 = the national offer")
    size.add_argument("--formations", type=int, help="exact number of formations")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--version", choices=("2.2", "2.3"), default="2.3")
    parser.add_argument("--encoding", choices=("UTF-8", "ISO-8859-1"), default="UTF-8")
    parser.add_argument("--invalid-share", type=float, default=0.0)
    parser.add_argument("--language-share", type=float, default=0.15)
    parser.add_argument("--regions", default="*", help="INSEE region codes (11,84) or *")
    parser.add_argument("--prefix", default="F", help="numero prefix (F_AF_0000000001...)")
    return parser


def _spec(args: argparse.Namespace) -> CorpusSpec:
    regions = tuple(code.strip() for code in args.regions.split(",") if code.strip())
    formations = args.formations
    if formations is None:
        share = population_share(regions)
        formations = max(1, round(NATIONAL_FORMATIONS * args.scale * share))
    return CorpusSpec(
        formations=formations,
        seed=args.seed,
        regions=regions,
        numero_prefix=args.prefix,
        version=args.version,
        language_share=args.language_share,
        invalid_share=args.invalid_share,
    )


@contextlib.contextmanager
def _open(out: str) -> Iterator[BinaryIO]:
    if out == "-":
        yield sys.stdout.buffer
        sys.stdout.buffer.flush()
        return
    path = Path(out)
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.suffix == ".gz":
        with gzip.open(path, "wb", compresslevel=3) as compressed:
            yield cast(BinaryIO, compressed)
    else:
        with path.open("wb") as plain:
            yield plain


def _report(stats: CorpusStats, spec: CorpusSpec, seconds: float, stream: TextIO) -> None:
    rate = stats.formations / seconds if seconds else 0.0
    lines = [
        f"version          {spec.version} ({', '.join(spec.regions)}, seed {spec.seed})",
        f"formations       {stats.formations}",
        f"actions          {stats.actions}",
        f"sessions         {stats.sessions}",
        f"language offers  {stats.language}",
        f"invalid          {stats.invalid}",
        f"bytes            {stats.bytes} (before compression)",
        f"seconds          {seconds:.2f}",
        f"formations/s     {rate:.0f}",
        f"MB/s             {stats.bytes / 1e6 / seconds if seconds else 0.0:.1f}",
    ]
    print("\n".join(lines), file=stream)


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        spec = _spec(args)
    except ValueError as exc:
        print(f"generate.py: {exc}", file=sys.stderr)
        return 2
    started = time.perf_counter()
    with _open(args.out) as out:
        stats = write_corpus(out, spec, encoding=args.encoding)
    _report(
        stats, spec, time.perf_counter() - started, sys.stderr if args.out == "-" else sys.stdout
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
