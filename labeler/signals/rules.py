"""Keyword / regex lexicons per label: a cheap, transparent weak-label signal.

Each label has a list of regular expressions. For a text, ``count_k`` is the number of matches of
label k's patterns (every occurrence counts):

* nothing matches -> the signal abstains (a NaN row);
* single-label: ``P[k] = count_k / sum(count)`` (several labels matching share the mass by count);
* multi-label: ``P[k] = 1`` where label k matched and ``0`` elsewhere.
"""

from __future__ import annotations

import re
from typing import ClassVar

import numpy as np
from pydantic import Field

from labeler.errors import LabelerError
from labeler.signals.base import Signal, SignalParams
from labeler.words import plural


class KeywordParams(SignalParams):
    keywords: dict[str, list[str]] = Field(default_factory=dict)
    ignore_case: bool = True


class KeywordSignal(Signal):
    type_name: ClassVar[str] = "keywords"
    Params: ClassVar[type[SignalParams]] = KeywordParams

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        unknown = sorted(set(self.params.keywords) - set(self.labels))
        if unknown:
            raise LabelerError(
                f"signal {self.name!r}: keywords given for unknown labels {unknown} (labels: {self.labels})"
            )
        flags = re.IGNORECASE if self.params.ignore_case else 0
        self._patterns: list[list[re.Pattern]] = []
        for label in self.labels:
            compiled = []
            for pattern in self.params.keywords.get(label, []):
                try:
                    compiled.append(re.compile(pattern, flags))
                except re.error as exc:
                    raise LabelerError(
                        f"signal {self.name!r}: bad regex {pattern!r} for label {label!r}: {exc}"
                    ) from None
            self._patterns.append(compiled)

    def match_counts(self, texts: list[str]) -> np.ndarray:
        counts = np.zeros((len(texts), len(self.labels)), dtype=np.float64)
        for i, text in enumerate(texts):
            for k, patterns in enumerate(self._patterns):
                counts[i, k] = sum(sum(1 for _ in p.finditer(text)) for p in patterns)
        return counts

    def _predict(self, texts: list[str]) -> np.ndarray:
        return counts_to_proba(self.match_counts(texts), self.multi_label)


def counts_to_proba(counts: np.ndarray, multi_label: bool) -> np.ndarray:
    """Match counts -> probabilities (NaN rows where nothing matched); see the module docstring."""
    total = counts.sum(axis=1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        out = (counts > 0).astype(np.float64) if multi_label else counts / total
    out[total[:, 0] == 0] = np.nan
    return out


def vote_lines(matrices: dict[str, np.ndarray], labels: list[str], multi_label: bool, shown: int = 5) -> list[str]:
    """One line per signal that abstains somewhere (rules, entity lexicons): how many records it votes on and
    for which labels, so a user who wrote patterns sees what they reach. A single-label vote is the row's top
    label; a multi-label vote counts every label at 0.5 or more. Signals that vote on every record (the
    zero-shot models) get no line."""
    lines = []
    for name, P in matrices.items():
        voted = ~np.isnan(P).all(axis=1)
        n, v = len(P), int(voted.sum())
        if v == n:
            continue
        if v == 0:
            lines.append(f"{name} votes on no record of {n:,}: check its patterns or rules against the texts")
            continue
        rows = P[voted]
        if multi_label:
            counts = (np.nan_to_num(rows) >= 0.5).sum(axis=0)
        else:
            counts = np.bincount(np.nan_to_num(rows).argmax(axis=1), minlength=len(labels))
        order = [k for k in np.argsort(-counts, kind="stable") if counts[k] > 0]
        top = ", ".join(f"{labels[k]} {counts[k]:,}" for k in order[:shown])
        more = f", and {plural(len(order) - shown, 'more label')}" if len(order) > shown else ""
        never = [labels[k] for k in range(len(labels)) if counts[k] == 0]
        if not never:
            missing = ""
        elif len(never) <= shown:
            missing = f"; never for {', '.join(map(repr, never))}"
        else:
            missing = f"; never for {len(never)} of {len(labels)} labels"
        lines.append(f"{name} votes on {v:,} of {n:,} records ({v / n:.0%}): {top}{more}{missing}; "
                     "abstains on the rest")
    return lines
