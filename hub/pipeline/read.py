"""The read stage: a flow's archived files, parsed once, through its source's dialect.

For each file of the flow, in order: the archive is inflated on another core
(:class:`~hub.pipeline.parallel.ReadAhead`), the dialect opens it (a zip's XML file, a
spreadsheet's LHEO), its bytes are checked against the encoding they declare (or repaired,
where the source's configuration says so), and the hub's one streaming parse reads it, the
dialect's ``fix`` hook running on each formation before the official XSD judges it. Big
plain flows take the fast path (raw-hash skip, worker processes); a flow whose files make
one offer together goes through the dialect's ``combine``.

Every finding names its file and its line in the region's own file.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from contextlib import ExitStack, closing, contextmanager
from dataclasses import dataclass, field, replace
from typing import IO, Any

from lxml import etree

from hub.errors import RecordError, UnsupportedLheoError
from hub.lheo.dialect import Combined, Dialect, Flag, Opened, Part, flag_errors, mark_quality
from hub.lheo.encoding import EncodingCheck, redeclared, sniff
from hub.lheo.reader import LheoReader
from hub.lheo.record import FormationRecord, read_formation
from hub.lheo.schema import NS_23
from hub.pipeline.parallel import Mapped, ReadAhead, split_records
from hub.store.archive import open_archived
from hub.store.records import FlowApplier

__all__ = ["FlowReading", "Policy", "fix_and_mark"]


@dataclass(frozen=True, slots=True)
class Policy:
    """How one source's flows are read and applied: its dialect and its safety limits."""

    dialect: Dialect = field(default_factory=Dialect)
    assume_encoding: str | None = None
    """Repair a flow whose bytes contradict their declared encoding by reading them in
    this one (flagged in the flow's report), instead of refusing it."""
    hold_share: float = 0.2
    """A snapshot deleting more than this share of the source's live offer is held..."""
    hold_min: int = 10
    """...and more than this many formations."""


def fix_and_mark(dialect: Dialect, part: Part, formation: etree._Element) -> list[Flag]:
    """The dialect's fix hook, its flags written into the formation's quality extras."""
    flags = dialect.fix(formation, part)
    mark_quality(formation, flags)
    return flags


def _with_file(record: FormationRecord, name: str) -> FormationRecord:
    record.file = name
    record.errors = [replace(error, file=name) for error in record.errors]
    return record


@dataclass(slots=True)
class _PartState:
    version: str | None = None
    encoding: str | None = None
    deletions: list[str] = field(default_factory=list)
    findings: list[RecordError] = field(default_factory=list)
    summary: dict[str, Any] | None = None


class FlowReading:
    """One read of a flow's files: its records, then its deletions and findings.

    ``fast`` lets a plain flow take the split path; the caller reads again with
    ``fast=False`` when that path raises :class:`~hub.errors.SplitMismatch`.
    """

    def __init__(
        self,
        parts: tuple[Part, ...],
        policy: Policy,
        *,
        source: str,
        region: str | None,
        fast: bool = True,
        validate: bool = True,
    ) -> None:
        self.parts, self.policy = parts, policy
        self.source, self.region = source, region
        self.fast, self.validate = fast, validate
        self._states: dict[int, _PartState] = {}

    @property
    def dialect(self) -> Dialect:
        return self.policy.dialect

    # -- what the flow said, complete once its records were read --------------------------

    @property
    def version(self) -> str | None:
        return next((s.version for s in self._ordered() if s.version), None)

    @property
    def encoding(self) -> str | None:
        return next((s.encoding for s in self._ordered() if s.encoding), None)

    @property
    def deletions(self) -> list[str]:
        return [numero for state in self._ordered() for numero in state.deletions]

    @property
    def findings(self) -> list[RecordError]:
        """What opening, checking and reading the files found beside the records."""
        return [finding for state in self._ordered() for finding in state.findings]

    @property
    def summaries(self) -> list[dict[str, Any]]:
        """What converting the files read (a spreadsheet's rows), one per converted file."""
        return [state.summary for state in self._ordered() if state.summary is not None]

    def _ordered(self) -> list[_PartState]:
        return [self._states[key] for key in sorted(self._states)]

    # -- the records ----------------------------------------------------------------------

    def records(
        self, applier: FlowApplier | None = None
    ) -> Iterator[tuple[FormationRecord, Mapped]]:
        """Every formation of the flow, in order, as (record, rows already mapped or None)."""
        combined = self.dialect.combine(self.parts, self._plain_formations)
        if combined is not None:
            yield from self._combined(combined)
            return
        for part in self.parts:
            yield from self._part_records(part, applier)

    def _part_records(
        self, part: Part, applier: FlowApplier | None
    ) -> Iterator[tuple[FormationRecord, Mapped]]:
        state = self._states[part.position] = _PartState()
        with self._opened(part, state) as (opened, stream):
            fix = self._fix(part)
            reader = LheoReader(stream, validate=self.validate, fix=fix)
            self._check_version(reader.version, opened.name)
            state.version, state.encoding = reader.version, reader.encoding
            if self.fast and applier is not None and reader.context is not None:
                salt = self.dialect.fingerprint() if self.dialect.fixes else ""
                records = split_records(reader, applier, fix=fix, salt=salt)
            else:
                records = ((record, None) for record in reader)
            for record, mapped in records:
                yield _with_file(record, opened.name), mapped
            state.deletions = list(reader.deletions)
            state.findings += [replace(e, file=opened.name) for e in reader.document_errors]

    def _fix(self, part: Part) -> Callable[[etree._Element], list[Flag]] | None:
        if not self.dialect.fixes:
            return None
        return functools.partial(fix_and_mark, self.dialect, part)

    def _check_version(self, version: str, name: str) -> None:
        expected = getattr(self.dialect, "lheo_version", None)
        if expected is not None and version != expected:
            raise UnsupportedLheoError(
                f"{name}: LHEO {version} where source {self.source!r} sends LHEO {expected}",
                hint="the regional system changed its format: update its connector",
            )

    @contextmanager
    def _opened(self, part: Part, state: _PartState) -> Iterator[tuple[Opened, IO[bytes]]]:
        """The part's LHEO stream: inflated, opened by the dialect, its encoding checked."""
        with ExitStack() as stack:
            raw = stack.enter_context(closing(ReadAhead(open_archived(part.path))))
            opened = self.dialect.open(part, raw)  # type: ignore[arg-type]
            stack.callback(opened.close)
            state.findings += [replace(e, file=e.file or opened.name) for e in opened.findings]
            state.summary = opened.summary
            yield opened, self._checked(part, opened, state)

    def _checked(self, part: Part, opened: Opened, state: _PartState) -> IO[bytes]:
        assume = self.policy.assume_encoding
        if assume is None:
            return EncodingCheck(opened.stream, opened.name)  # type: ignore[return-value]
        with closing(self._reopened(part)) as again:
            verdict = sniff(again.stream)
        if not verdict.lies:
            return opened.stream
        state.findings.append(
            RecordError(
                None,
                verdict.line,
                "/",
                f"the file declares {verdict.declared} but is in {verdict.actual}: read as "
                f"{assume}, as the source's configuration says (assume_encoding)",
                stage="repair",
                file=opened.name,
            )
        )
        return redeclared(opened.stream, assume)

    def _reopened(self, part: Part) -> Opened:
        """The part opened again from its archive, for a look before the real read."""
        return self.dialect.open(part, open_archived(part.path))

    # -- several files, one offer ---------------------------------------------------------

    def _plain_formations(
        self, part: Part
    ) -> Iterator[tuple[etree._Element | None, int, list[RecordError]]]:
        """One file's formations in LHEO 2.3, unvalidated, for the dialect's ``combine``."""
        state = self._states[part.position] = _PartState()
        with self._opened(part, state) as (opened, stream):
            reader = LheoReader(stream, validate=False)
            self._check_version(reader.version, opened.name)
            state.version, state.encoding = reader.version, reader.encoding
            for record in reader:
                errors = [replace(e, file=opened.name) for e in record.errors]
                yield record.element, record.line, errors
            state.deletions = list(reader.deletions)
            state.findings += [replace(e, file=opened.name) for e in reader.document_errors]

    def _combined(
        self, combined: Iterator[Combined | RecordError]
    ) -> Iterator[tuple[FormationRecord, Mapped]]:
        for item in combined:
            if isinstance(item, RecordError):
                if item.kept:
                    self._states.setdefault(-1, _PartState()).findings.append(item)
                else:  # a copy that could not be read: a rejected record of its own
                    yield FormationRecord(item.numero, None, item.line or 0, errors=[item]), None
                continue
            record = read_formation(item.element, "2.3", NS_23, validate=self.validate)
            record.line = item.line
            record.flags = list(item.flags)
            yield _with_file(record, item.part.name), None


def flag_findings(record: FormationRecord) -> list[RecordError]:
    """The findings of the flags a dialect raised on a kept record."""
    return flag_errors(record.numero, record.line, record.flags, file=record.file)
