"""Key figures of the French-language training offer, per region and for France.

What is counted, and why:
- Only *language-training* formations (``language`` is set) are counted, in every
  figure: the Carif-Oref network publishes these figures for its map of French-language
  training for newcomers, and counting every offer there would mix in, say, forklift
  courses. Figures of the whole offer come from the store, not from here.
- An action counts in its own region (that of its place of training), falling back to
  the formation's region; its sessions count where the action counts. A formation
  whose actions span regions therefore counts in each of them, and once for ``FR``.
- ``cpf_eligible`` counts formations (offers), not actions: an offer open to the CPF
  counts once in each region where it has an action, and once for ``FR``.
- ``sessions_by_certification`` counts each session once per certification label its
  formation prepares (a session preparing DELF A2 and DELF B1 counts under both);
  certifications without a label are not counted there.
- Anything whose region is unknown counts for ``FR`` only.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

from mappings._model import CONVENTIONNEMENTS, HarmonisedAction, HarmonisedFormation

NATIONAL = "FR"


@dataclass(frozen=True, slots=True)
class RegionFigures:
    """The published figures of one region (or of ``FR``)."""

    actions: int
    actions_ofii: int
    sessions: int
    sessions_by_conventionnement: dict[str, int]
    """Keys are exactly ``ofii``, ``autre_public`` and ``non_conventionne``."""
    sessions_by_certification: dict[str, int]
    """Keyed by certification label (``DELF A2``, ``DCL FLE``...)."""
    cpf_eligible: int


@dataclass
class _Tally:
    actions: int = 0
    actions_ofii: int = 0
    sessions: int = 0
    by_conventionnement: Counter[str] = field(default_factory=Counter)
    by_certification: Counter[str] = field(default_factory=Counter)
    cpf_eligible: int = 0

    def add_action(self, action: HarmonisedAction, labels: list[str]) -> None:
        sessions = len(action.sessions)
        self.actions += 1
        self.actions_ofii += action.conventionnement == "ofii"
        self.sessions += sessions
        self.by_conventionnement[action.conventionnement] += sessions
        for label in labels:
            self.by_certification[label] += sessions

    def figures(self) -> RegionFigures:
        return RegionFigures(
            actions=self.actions,
            actions_ofii=self.actions_ofii,
            sessions=self.sessions,
            sessions_by_conventionnement={
                c: self.by_conventionnement[c] for c in CONVENTIONNEMENTS
            },
            sessions_by_certification=dict(sorted(self.by_certification.items())),
            cpf_eligible=self.cpf_eligible,
        )


def key_figures(harmonised: Iterable[HarmonisedFormation]) -> dict[str, RegionFigures]:
    """Figures per region code and for ``FR``, over the language-training formations."""
    tallies: dict[str, _Tally] = {NATIONAL: _Tally()}
    for formation in harmonised:
        if formation.language is None:
            continue
        labels = sorted({c.label for c in formation.certifications if c.label})
        regions: set[str] = set()
        for action in formation.actions:
            region = action.region or formation.region
            for key in (NATIONAL, region):
                if key is not None:
                    tallies.setdefault(key, _Tally()).add_action(action, labels)
            if region is not None:
                regions.add(region)
        if not formation.actions and formation.region is not None:
            regions.add(formation.region)
        if formation.cpf_eligible:
            for key in (NATIONAL, *regions):
                tallies.setdefault(key, _Tally()).cpf_eligible += 1
    return {key: tally.figures() for key, tally in sorted(tallies.items())}
