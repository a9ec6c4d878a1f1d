"""The model's top guesses for one record, as shown in the "Model's top guesses" field beside the text.

Pure functions over a probability row: ``top_candidates`` (single-label: the ``k`` most likely labels) and
``above_threshold`` (multi-label: every label over its threshold, or "none above threshold"); ``push``
renders ``PushRecord.candidates`` with ``candidates_markdown``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

from labeler.argilla.schema import md_escape

Candidate = tuple[str, float, str]  # (label, probability, source: the signals that proposed it, "" when all agree)


def _finite(x) -> float | None:
    try:
        v = float(x)
    except (TypeError, ValueError):
        return None
    return v if math.isfinite(v) else None


def _ranked(row: Sequence[float]) -> list[int]:
    """Label indices by probability, highest first (ties: label order); missing values last, dropped."""
    vals = [(_finite(v), i) for i, v in enumerate(row)]
    return [i for v, i in sorted((x for x in vals if x[0] is not None), key=lambda t: (-t[0], t[1]))]


def top_candidates(p_row: Sequence[float], labels: Sequence[str], k: int = 3,
                   per_signal_rows: Mapping[str, Sequence[float]] | None = None) -> list[Candidate]:
    """The ``k`` labels ``p_row`` ranks highest, with their probabilities and who proposed them.

    ``per_signal_rows`` (signal or run name -> that signal's probability row for the record; an all-NaN row
    means the signal abstained) adds sources: when the voting signals' top labels differ, each candidate
    names the signals whose top label it is, and a signal's top label outside the top ``k`` is appended
    (with ``p_row``'s probability), so a dissenting signal is never hidden. When every voting signal agrees,
    sources are left empty.
    """
    if len(p_row) != len(labels):
        raise ValueError(f"probability row has {len(p_row)} values for {len(labels)} labels")
    if k <= 0:
        return []
    order = _ranked(p_row)
    picked = order[:k]
    tops: dict[int, list[str]] = {}
    for name, row in (per_signal_rows or {}).items():
        ranked = _ranked(row)
        if ranked:
            tops.setdefault(ranked[0], []).append(str(name))
    disagree = len(tops) > 1
    if disagree:
        rank = {i: r for r, i in enumerate(order)}
        extra = sorted((i for i in tops if i not in picked), key=lambda i: (rank.get(i, len(order)), i))
        picked = picked + extra
    out = []
    for i in picked:
        p = _finite(p_row[i])
        out.append((labels[i], p if p is not None else float("nan"), ", ".join(tops.get(i, [])) if disagree else ""))
    return out


BELOW = "below threshold"  # the source of the one candidate ``above_threshold`` gives when no label passes


def above_threshold(p_row: Sequence[float], labels: Sequence[str], thresholds) -> list[Candidate]:
    """Multi-label top guesses: every label whose probability is at or over its threshold, highest first
    (ties: label order). ``thresholds``: one number, or one per label (``training.thresholds.fit_thresholds``).

    When no label passes, the list is the single highest label with source ``BELOW``, which
    ``candidates_markdown`` shows as "none above threshold (highest: label p)"; empty only when every value is
    missing."""
    if len(p_row) != len(labels):
        raise ValueError(f"probability row has {len(p_row)} values for {len(labels)} labels")
    try:
        cuts = [float(t) for t in thresholds]
    except TypeError:  # one number for every label
        cuts = [float(thresholds)] * len(labels)
    if len(cuts) != len(labels):
        raise ValueError(f"{len(cuts)} thresholds for {len(labels)} labels")
    order = _ranked(p_row)
    passed = [i for i in order if float(p_row[i]) >= cuts[i]]
    if passed:
        return [(labels[i], float(p_row[i]), "") for i in passed]
    return [(labels[order[0]], float(p_row[order[0]]), BELOW)] if order else []


def _prob(p: float) -> str:
    if not math.isfinite(p):
        return "n/a"
    return "<0.01" if p < 0.005 else f"{p:.2f}"


def candidates_markdown(candidates: Sequence[Candidate]) -> str:
    """One Markdown line, e.g. ``**Suggested:** timezone 0.83 · time 0.05 (keywords) · current_location 0.03``.

    Empty string when there are no candidates. A source, where given, follows its label in parentheses. A
    multi-label row with no label over its threshold (``above_threshold``) reads
    ``**Suggested:** none above threshold (highest: timezone 0.31)``.
    """
    if len(candidates) == 1 and candidates[0][2] == BELOW:
        label, prob, _ = candidates[0]
        return f"**Suggested:** none above threshold (highest: {md_escape(label)} {_prob(prob)})"
    parts = []
    for label, prob, source in candidates:
        part = f"{md_escape(label)} {_prob(prob)}"
        if source:
            part += f" ({md_escape(source)})"
        parts.append(part)
    return ("**Suggested:** " + " · ".join(parts)) if parts else ""


# -- why this record is next (a small line under the top guesses) -------------------------------------------
WHY = {  # the queue's reason for a pick (``labeler.loop.queue.Selection.reasons``, ``engine.GOLD``) in words
    "cold_start": "first look at a class the model predicts",
    "uncertain": "the model is unsure",
    "diverse": "the model is unsure, unlike the others picked",
    "coverage": "a class still short of training labels",
    "explore": "picked at random to explore",
    "gold": "picked at random from the whole pool",
    "pending": "queued earlier, still unanswered",
}


NO_UNCERTAINTY = ("gold", "explore", "cold_start")  # picked for another reason than the model's doubt


def queue_line(rank: int | None, total: int | None, why: str | None, uncertainty: float | None,
               freshness: str = "") -> str:
    """One small Markdown line that says why a record is where it is in the review order and how fresh that
    order is, e.g. ``<sub>Next because: #3 of 20 · the model is unsure (uncertainty 0.83) · order refreshed
    2026-12-05 23:30 UTC by labeler watch after 120 answers</sub>``; empty without a reason or a freshness."""
    if not why and not freshness:  # a place alone explains nothing
        return ""
    parts = []
    if rank:
        parts.append(f"#{rank}" + (f" of {total}" if total else ""))
    if why:
        words = WHY.get(why, why.replace("_", " "))
        u = _finite(uncertainty)
        parts.append(words + (f" (uncertainty {u:.2f})" if u is not None and why not in NO_UNCERTAINTY else ""))
    if freshness:
        parts.append(freshness)
    if not parts:
        return ""
    return "<sub>Next because: " + " · ".join(md_escape(p) for p in parts) + "</sub>"
