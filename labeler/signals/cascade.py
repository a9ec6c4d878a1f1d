"""Candidate cascade: a pairwise signal (NLI) scores only each text's top candidates from a cheaper signal.

A pairwise signal scores one (text, label) pair per forward pass, so its cost grows with the label count.
With ``candidates: {from: <signal name>, k: 10}`` in its params it asks the named signal (typically the
embedding signal) for its probabilities ``Q`` and scores only each text's candidate labels:

* single-label: the ``k`` labels with the highest ``Q``. The pairwise signal's softmax over those ``k``
  labels shares out the candidate signal's mass on them, ``m = sum(Q[candidates])``; every other label
  keeps its ``Q`` (``rest: scaled``; the rows still sum to 1) or gets 0 (``rest: zero``; the candidates
  then share all the mass). The arg-max is always a candidate.
* multi-label: the labels whose ``Q`` reaches ``threshold`` (recall-oriented, default 0.01), at least the
  top one, at most ``k``; each candidate gets the pairwise signal's own independent probability, the
  others keep their ``Q`` (``scaled``) or 0 (``zero``).
* a text on which the candidate signal abstains (NaN row) has every label scored.

The output is a full ``(N, K)`` matrix in label order. ``k >= K`` (and ``threshold: 0`` when multi-label)
is the full signal itself. ``Q`` comes through the prediction cache (``score_cached``, keyed by text) when
the signal has a ``cache_dir``. The fingerprint covers the candidate config and the candidate signal's
fingerprint. ``topk_recall`` and ``suggest_k`` measure, on labelled rows, how often the true label is
among the candidates, to choose ``k``; ``candidate_report`` turns them into the lines ``labeler bootstrap``
prints for every cascade once human training labels exist.

Signals are bound to their candidate signal by ``labeler.signals.catalog.build_signals``.
"""

from __future__ import annotations

from typing import Iterable, Literal, Mapping, Sequence

import numpy as np
from pydantic import ConfigDict, Field, model_serializer

from labeler.errors import LabelerError
from labeler.signals.base import Signal, SignalParams, stable_hash, text_key
from labeler.signals.cache import score_cached

DEFAULT_THRESHOLD = 0.01  # NLU++ with the embedding signal: 0.1 cut top-10 recall from 0.71 to 0.64
DEFAULT_KS = (1, 2, 3, 5, 10, 20, 50)


class CandidateParams(SignalParams):
    """``candidates:`` of a pairwise signal: ``from`` (a signal name), ``k``, ``rest``, ``threshold``."""

    model_config = ConfigDict(extra="forbid", protected_namespaces=())

    source: str = Field(alias="from", min_length=1)
    k: int = Field(default=10, ge=1)
    rest: Literal["scaled", "zero"] = "scaled"
    threshold: float = Field(default=DEFAULT_THRESHOLD, ge=0.0, le=1.0)

    @model_serializer(mode="wrap")
    def _dump_as_written(self, handler):
        data = handler(self)
        if "source" in data:
            data = {"from": data.pop("source"), **data}
        return data


# -- pure functions ----------------------------------------------------------------------------------
def candidate_sets(Q: np.ndarray, k: int, multi_label: bool = False,
                   threshold: float = DEFAULT_THRESHOLD) -> list[np.ndarray]:
    """Per row of ``Q`` (N, K), the candidate label indices, best first (ties: lower index first).

    Single-label: the top ``min(k, K)``. Multi-label: those of the top ``min(k, K)`` whose ``Q`` reaches
    ``threshold``, at least the first. A NaN row (abstain): every label.
    """
    Q = np.asarray(Q, dtype=np.float64)
    n, n_labels = Q.shape
    kk = min(int(k), n_labels)
    everything = np.arange(n_labels)
    out = []
    for row in Q:
        if np.isnan(row).any():
            out.append(everything)
            continue
        top = np.argsort(-row, kind="stable")[:kk]
        if multi_label:
            keep = row[top] >= threshold
            keep[0] = True
            top = top[keep]
        out.append(top)
    return out


def merge_scores(Q: np.ndarray, sets: Sequence[np.ndarray], scores: Sequence[np.ndarray], multi_label: bool = False,
                 rest: str = "scaled") -> np.ndarray:
    """The ``(N, K)`` output from the candidate probabilities ``Q``, the candidate ``sets`` and the pairwise
    ``scores`` on them (single-label: a distribution over the set; multi-label: independent probabilities)."""
    Q = np.asarray(Q, dtype=np.float64)
    out = np.zeros_like(Q)
    for i, (cols, s) in enumerate(zip(sets, scores)):
        s = np.asarray(s, dtype=np.float64)
        q = Q[i]
        if np.isnan(q).any():  # abstained: every label was scored
            out[i, cols] = s
            continue
        if multi_label:
            if rest == "scaled":
                out[i] = q
            out[i, cols] = s
            continue
        total = q.sum()
        q = q / total if total > 0 else np.full_like(q, 1.0 / len(q))
        if rest == "scaled":
            out[i] = q
            out[i, cols] = q[cols].sum() * s
        else:
            out[i, cols] = s
    return out


def _true_ranks(P: np.ndarray, y, threshold: float | None) -> tuple[np.ndarray, int]:
    """Rank (0 = best) of every true label among its row's labels, ``K`` where a threshold excludes it;
    and the label count K. NaN rows are left out."""
    P = np.asarray(P, dtype=np.float64)
    if P.ndim != 2:
        raise LabelerError(f"P must be an (N, K) matrix, got shape {P.shape}")
    y = np.asarray(y)
    if len(y) != len(P):
        raise LabelerError(f"P has {len(P)} rows but y has {len(y)}")
    n_labels = P.shape[1]
    valid = ~np.isnan(P).any(axis=1)
    order = np.argsort(-np.where(np.isnan(P), 0.0, P), axis=1, kind="stable")
    rank = np.empty_like(order)
    np.put_along_axis(rank, order, np.arange(n_labels)[None, :].repeat(len(P), 0), axis=1)
    if y.ndim == 1:
        ranks = rank[np.arange(len(P)), y.astype(int)][valid]
    else:
        if y.shape != P.shape:
            raise LabelerError(f"multi-label y must have P's shape {P.shape}, got {y.shape}")
        hit = (y > 0) & valid[:, None]
        ranks = rank[hit]
        if threshold is not None:  # as the multi-label cascade picks: over the threshold or the top one
            ranks = np.where((P[hit] >= threshold) | (ranks == 0), ranks, n_labels)
    if ranks.size == 0:
        raise LabelerError("no labelled rows to measure top-k recall on")
    return ranks, n_labels


def topk_recall(P: np.ndarray, y, ks: Iterable[int] = DEFAULT_KS, threshold: float | None = None) -> dict[int, float]:
    """Share of true labels among each row's top ``k`` of ``P``, for each ``k`` in ``ks``.

    ``y``: class indices (single-label) or an (N, K) 0/1 matrix (multi-label: micro recall over every
    true label; ``threshold`` also drops candidates below it, as the multi-label cascade does). Rows where
    ``P`` abstains (NaN) are left out.
    """
    ranks, _ = _true_ranks(P, y, threshold)
    return {int(k): float(np.mean(ranks < int(k))) for k in ks}


def suggest_k(P: np.ndarray, y, target: float = 0.95, min_k: int | None = None,
              threshold: float | None = None) -> int:
    """The smallest ``k`` (at least ``min_k``: 2 single-label, 1 multi-label) whose top-k recall reaches
    ``target``; K when none does (only possible with a multi-label threshold)."""
    if not 0 < target <= 1:
        raise LabelerError(f"target recall must be in (0, 1], got {target}")
    ranks, n_labels = _true_ranks(P, y, threshold)
    if min_k is None:
        min_k = 1 if np.asarray(y).ndim == 2 else 2
    recall = np.cumsum(np.bincount(ranks, minlength=n_labels + 1)[:n_labels]) / ranks.size
    reached = np.flatnonzero(recall >= target - 1e-12)
    k = int(reached[0]) + 1 if reached.size else n_labels
    return min(max(k, int(min_k)), n_labels)


def cascade_specs(specs: Iterable) -> list[tuple[str, CandidateParams]]:
    """(signal name, its ``candidates``) of every configured signal that takes candidates (a summarize
    signal's wrapped ``inner`` signal too). ``specs``: config ``SignalSpec``-like objects or dicts."""
    out = []
    for spec in specs:
        get = spec.get if isinstance(spec, dict) else (lambda key, default=None, s=spec: getattr(s, key, default))
        params = dict(get("params") or {})
        inner = params.get("inner")
        inner_params = (inner.get("params") if isinstance(inner, dict) else getattr(inner, "params", None)) or {}
        cand = params.get("candidates") or dict(inner_params).get("candidates")
        if cand:
            parsed = cand if isinstance(cand, CandidateParams) else CandidateParams.model_validate(cand)
            out.append((str(get("name") or get("type")), parsed))
    return out


def candidate_report(specs: Iterable, scores: Mapping[str, np.ndarray], rows, y, multi_label: bool,
                     target: float = 0.95) -> list[str]:
    """One line per candidate cascade in ``specs``: its candidate signal's recall on the human labels
    (``scores[source][rows]`` against ``y``) at the configured ``k`` (multi-label: with its threshold), and
    the smallest ``k`` whose recall reaches ``target``. No lines without cascades or without labels."""
    cascades = cascade_specs(specs)
    if not cascades or y is None or len(np.asarray(rows)) == 0:
        return []
    rows = np.asarray(rows, dtype=int)
    lines = []
    for name, spec in cascades:
        head = f"{name}: candidates from {spec.source}, k={spec.k}"
        if multi_label:
            head += f", threshold {spec.threshold:g}"
        if spec.source not in scores:
            lines.append(f"{head}: no scores of {spec.source!r} to measure recall on")
            continue
        P = np.asarray(scores[spec.source], dtype=np.float64)[rows]
        threshold = spec.threshold if multi_label else None
        try:
            ranks, n_labels = _true_ranks(P, y, threshold)
        except LabelerError as exc:
            lines.append(f"{head}: {exc}")
            continue
        k = min(spec.k, n_labels)
        recall = float(np.mean(ranks < k))
        n_rows = int((~np.isnan(P).any(axis=1)).sum())
        what = f"{ranks.size} true labels of {n_rows} human labels" if multi_label else f"{n_rows} human labels"
        if n_rows < len(rows):
            what += f" ({len(rows) - n_rows} where {spec.source} abstained left out)"
        best = suggest_k(P, y, target=target, threshold=threshold)
        if float(np.mean(ranks < best)) < target - 1e-12:  # only possible with a multi-label threshold
            advice = (f"no k reaches {100 * target:.0f}% with this threshold (k={n_labels}: "
                      f"{np.mean(ranks < n_labels):.3f}); lower candidates.threshold")
        else:
            valid = P[~np.isnan(P).any(axis=1)]
            per_text = (float(np.mean([len(c) for c in candidate_sets(valid, best, True, spec.threshold)]))
                        if multi_label else float(best))
            advice = (f"smallest k with >= {100 * target:.0f}%: {best} "
                      f"(scores {per_text:.3g} of {n_labels} labels per text)")
            if best > spec.k:
                advice += f"; raise candidates.k to {best}"
            elif best < spec.k:
                advice += f"; k={best} would score fewer pairs"
        lines.append(f"{head}: top-{k} recall {recall:.3f} on {what}; {advice}")
    return lines


# -- the mixin -----------------------------------------------------------------------------------------
class CascadeMixin:
    """For a ``Signal`` whose params have ``candidates: CandidateParams | None``.

    The signal implements ``score_pairs(texts, sets) -> list of arrays`` (its scores on each text's
    candidate labels) and ``_predict_full(texts)``; its ``_predict`` calls ``cascade_predict`` when
    ``self.candidates`` is set.
    """

    _candidate_signal: Signal | None = None

    @property
    def candidates(self) -> CandidateParams | None:
        return getattr(self.params, "candidates", None)

    def check_candidates(self) -> None:
        spec = self.candidates
        if spec is not None and not self.multi_label and spec.k < 2:
            raise LabelerError(f"signal {self.name!r}: candidates.k is {spec.k}; a single-label task needs k >= 2 "
                               f"(with one candidate there is nothing to compare)")

    def bind(self, signals: Mapping[str, Signal]) -> None:
        """Attach the candidate signal named by ``candidates.from`` (no-op without ``candidates``)."""
        spec = self.candidates
        if spec is None:
            return
        if spec.source == self.name:
            raise LabelerError(f"signal {self.name!r}: candidates.from names the signal itself; "
                               f"name a cheaper signal (e.g. an embedding signal)")
        if spec.source not in signals:
            raise LabelerError(f"signal {self.name!r}: candidates.from {spec.source!r} names no configured signal "
                               f"(configured: {', '.join(sorted(signals))})")
        other = signals[spec.source]
        if list(other.labels) != list(self.labels) or bool(other.multi_label) != bool(self.multi_label):
            raise LabelerError(f"signal {self.name!r}: candidate signal {spec.source!r} has other labels or task type")
        self._candidate_signal = other

    def candidate_signal(self) -> Signal:
        if self._candidate_signal is None:
            raise LabelerError(f"signal {self.name!r} takes candidates from {self.candidates.source!r} but is not bound "
                               f"to it; build signals with labeler.signals.catalog.build_signals")
        return self._candidate_signal

    def fingerprint(self) -> str:
        base = super().fingerprint()
        spec = self.candidates
        if spec is None:
            return base
        return stable_hash({"signal": base, "candidates": spec.model_dump(mode="json"),
                            "candidate_fingerprint": self.candidate_signal().fingerprint()})

    def is_full(self, n_labels: int) -> bool:
        """Whether the cascade's candidates are always every label (then it is the full signal)."""
        spec = self.candidates
        return spec is None or (spec.k >= n_labels and (not self.multi_label or spec.threshold <= 0))

    def candidate_matrix(self, texts: list[str]) -> np.ndarray:
        """The candidate signal's ``(N, K)`` probabilities, through the prediction cache (keyed by text)."""

        keys = ["text:" + text_key(t) for t in texts]
        # shard=(0, 1): never shard this nested call; the caller's own score_cached already shards
        return score_cached(self.candidate_signal(), keys, texts, self.cache_dir, progress=False, shard=(0, 1))

    def cascade_predict(self, texts: list[str]) -> np.ndarray:
        spec = self.candidates
        if self.is_full(len(self.labels)):
            return self._predict_full(texts)
        Q = self.candidate_matrix(texts)
        sets = candidate_sets(Q, spec.k, self.multi_label, spec.threshold)
        scores = self.score_pairs(texts, sets)
        return merge_scores(Q, sets, scores, self.multi_label, spec.rest)
