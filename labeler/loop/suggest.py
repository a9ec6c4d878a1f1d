"""What the annotator's form starts with: the pre-selected suggestion, and the clicks it saves or costs.

Single-label: the ensemble's top label. Multi-label: every label at or over its cut (``suggestion_cuts``, fitted
on the answered random reserve to save clicks: a label is pre-selected where it is right more often than wrong),
most probable first; where none is, the reserved "None of these" option (``labeler.argilla.schema.NONE_VALUE``)
when the rows like it were more often answered "None of these" than not (``none_cut``), else nothing.

A click is one option toggled. To submit a multi-label answer with no label the annotator must choose "None of
these" (Argilla's question needs one option), so an empty form costs a record with no label one click, and a
pre-selected "None of these" costs one to take away when the record has labels (``clicks``: the deliberate
path, every wrong option undone). ``pull`` reads an answer against the form it started from, so fewer clicks
also answer (``fewest_clicks``): labels chosen beside a pre-selected "None of these" are those labels, and "None
of these" chosen beside the pre-selected labels is none (``labeler.argilla.schema.answer_labels``).
"""

from __future__ import annotations

import numpy as np

from labeler.argilla.schema import NONE_VALUE
from training.thresholds import fit_thresholds, global_threshold, predict_sets, set_scores

MIN_LABELS_FOR_SUGGESTIONS = 20  # multi-label: fewer labeled random-reserve rows than this pre-select nothing


def suggestion_cuts(S: np.ndarray, rows: np.ndarray, Y: np.ndarray) -> np.ndarray | None:
    """(K,) multi-label cuts for pre-selecting labels in the form, from the suggestion matrix ``S`` (N, K).

    Fitted on ``rows`` of the random reserve (gold and calibration: a uniform sample no model trained on, so
    ``S`` is out of sample there) with their 0/1 truth ``Y``: per label the cut maximising clicks saved against
    an empty form (``TP - FP``, ``training.thresholds.fit_thresholds(objective="clicks")``): a label is
    pre-selected where it is more often right than wrong. Fewer than ``MIN_LABELS_FOR_SUGGESTIONS`` such rows:
    None, the documented fallback: pre-select nothing (an empty form never costs a click to undo)."""

    rows = np.asarray(rows, dtype=np.int64)
    if len(rows) < MIN_LABELS_FOR_SUGGESTIONS:
        return None
    return fit_thresholds(S[rows], np.asarray(Y).reshape(len(rows), -1), default=1.0, objective="clicks")


def none_cut(S: np.ndarray, rows: np.ndarray, Y: np.ndarray, cuts: np.ndarray | None) -> float | None:
    """The score of an empty label set (1 minus the top probability: ``training.thresholds.set_scores``, what
    ``predict`` reports for "None of these") at or above which a row with no label over its cut gets "None of these" pre-selected,
    fitted on the same reserve rows as ``cuts`` among those with no label over its cut: the cut maximising
    ``TP - FP`` (right: the record was answered "None of these", one click saved; wrong: one click to take it
    away). None (never pre-select it) without ``cuts``, or where no cut saves a click: a project whose records
    always carry a label never sees it pre-selected."""

    if cuts is None:
        return None
    rows = np.asarray(rows, dtype=np.int64)
    S_r, Y_r = np.asarray(S)[rows], np.asarray(Y).reshape(len(rows), -1)
    sets = predict_sets(S_r, cuts)
    empty = ~sets.any(axis=1)
    if not empty.any():
        return None
    score, truth = set_scores(S_r, sets)[empty][:, None], (Y_r[empty].sum(axis=1) == 0).astype(np.int64)[:, None]
    cut = global_threshold(score, truth, default=np.inf, objective="clicks")
    return None if cut > 1.0 else float(cut)


def suggestion(p: np.ndarray, labels: list[str], multi_label: bool, threshold, none_at: float | None = None):
    """(value, score) for one ensemble row: the top label (single-label), or every label at or over its cut
    (multi-label), most probable first. ``threshold``: one cut, one per label (K,), or None (pre-select nothing).
    Multi-label with no label over its cut: ``([NONE_VALUE], [1 - max(p)])`` where that score reaches ``none_at``
    (``none_cut``), else ``([], [])``: nothing is likely enough to be right, so the form starts empty."""
    if not multi_label:
        k = int(np.argmax(p))
        return labels[k], float(p[k])
    if threshold is None:
        return [], []
    cut = np.broadcast_to(np.asarray(threshold, dtype=np.float64), p.shape)
    picked = [int(k) for k in np.argsort(-p, kind="stable") if p[k] >= cut[k]]
    if not picked and none_at is not None:
        score = float(set_scores(np.asarray(p)[None, :], np.zeros((1, len(p)), dtype=bool))[0])
        if score >= none_at:
            return [NONE_VALUE], [score]
    return [labels[k] for k in picked], [float(p[k]) for k in picked]


def suggested_none(S: np.ndarray, suggested: np.ndarray, none_at: float | None) -> np.ndarray:
    """(n,) bool: the rows of ``S`` whose form starts with "None of these" (``suggested``: their 0/1 label sets)."""
    if none_at is None:
        return np.zeros(len(S), dtype=bool)
    return ~np.asarray(suggested).astype(bool).any(axis=1) & (set_scores(S, suggested) >= none_at)


def clicks(suggested: np.ndarray, truth: np.ndarray, none: np.ndarray | None = None) -> np.ndarray:
    """Per row, the options an annotator toggles to turn the form into the answer: the labels added or removed
    between 0/1 ``suggested`` and ``truth`` (both (n, K)), plus "None of these" chosen where the answer has no
    label and the form did not start with it, or taken away where the form did (``none``, (n,) bool) and the
    answer has labels."""
    toggled, empty, none = _form_and_answer(suggested, truth, none)
    return toggled + (empty != none).astype(np.int64)


def fewest_clicks(suggested: np.ndarray, truth: np.ndarray, none: np.ndarray | None = None) -> np.ndarray:
    """Per row, the fewest options toggled that ``pull`` reads as the answer (``answer_labels``): a record with no
    label takes one click ("None of these", the pre-selected labels left as they were) unless the form started
    with it (``none``), then none; a record with labels takes the labels added or removed, a pre-selected "None
    of these" left in place. Never more than ``clicks``."""
    toggled, empty, none = _form_and_answer(suggested, truth, none)
    return np.where(empty, (~none).astype(np.int64), toggled)


def _form_and_answer(suggested, truth, none) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per row: the labels added or removed between 0/1 ``suggested`` and ``truth`` ((n, K) each), whether the
    answer has no label, and whether the form started with "None of these" (``none``; None: no row did)."""
    suggested, truth = np.asarray(suggested, dtype=np.int64), np.asarray(truth, dtype=np.int64)
    none = np.zeros(len(truth), dtype=bool) if none is None else np.asarray(none, dtype=bool)
    return np.abs(suggested - truth).sum(axis=1), truth.sum(axis=1) == 0, none
