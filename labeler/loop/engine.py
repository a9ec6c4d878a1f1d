"""The loop's steps as pure functions over matrices, and the one ``Policy`` both drivers follow.

One round, whoever drives it (``labeler round`` against Argilla, ``labeler simulate`` with an oracle):

1. ``queue_model``: once human labels exist, a fast model (``training.head.LinearModel``: class-balanced
   logistic regression, C=10, on the cached embeddings, with the pool's words beside them once ``Policy.lexical``
   and enough labels say so: ``training.lexical``) is fitted on the human training labels plus the ensemble's
   most confident weak labels (``weak_rows``); the queue ranks by its matrix (``queue_matrix``).
2. ``plan_batch``: ``gold_share`` of the batch comes from the gold reserve (records drawn uniformly at random
   by a hash of their id, ``labeler.evaluation.gold.GoldReserve``; never queued, never trained on: the unbiased gold set), the
   rest from ``labeler.loop.queue.select_batch`` with the policy's strategy, cold start, exploration, diversity
   and class coverage.
3. The answers come back; the human labels outside the reserve train the next fast model and, once every
   class has ``min_per_class`` of them, the configured backend (``labeler.loop.runs``).

Every function here takes matrices and masks and returns matrices and indices: no files, no server. The
drivers (``labeler.loop.round`` and ``labeler.simulate.driver``) only move data in and out.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from labeler.evaluation.gold import CALIB, GOLD, TRAIN, GoldReserve
from labeler.loop.ensemble import weighted_mean
from labeler.loop.queue import select_batch
from labeler.loop.strategies import RANDOM, strategy_for
from training.head import LinearModel
from training.thresholds import CUT_SHRINK_DOWN, MIN_LABELS_FOR_CUTS, fit_thresholds
from training.thresholds import SHRINK as CUT_SHRINK  # pseudo-positives of the global cut in each label's fitted cut

QUEUE_MODEL_C = 10.0
CUT_FOLDS = 3  # out-of-fold predictions the per-label cuts are fitted on
LEXICAL_FROM = 4.0  # human training labels per label before the fast model reads the pool's words (fewer overfit)
LEXICAL_MIN = 100  # ... and at least this many in all (2-10 labels: 4 per label is the first batch, which dipped)
FIXED, FITTED = "fixed", "fitted"
TRAIN_ROWS, TRAIN_CALIB = "train", "train+calib"  # Policy.cuts_on: which labeled rows the fitted cuts are fitted on


# -- the policy ----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class WeakLabels:
    """The ensemble's most confident ``fraction`` of each predicted class as training rows of ``weight``,
    until ``until`` human labels exist (None: always). ``fraction`` 0 turns them off."""

    fraction: float = 0.05
    weight: float = 0.3
    until: int | None = None

    def active(self, n_human: int) -> bool:
        return self.fraction > 0 and (self.until is None or n_human < self.until)


@dataclass(frozen=True)
class Policy:
    """Everything that decides which records humans see and what the models learn from.

    Read from the config by ``Policy.from_config``; ``labeler simulate`` builds the same object (its flags
    override single fields), so a curve measured there is what ``labeler round`` does. A command on a project
    builds it once with the checked gold share (``labeler.loop.policy.project_policy``) and passes it down.
    """

    strategy: str = "margin"
    batch_size: int = 50
    cold_start: bool = True
    cold_start_by: str = "confident"  # confident | representative (``labeler.loop.queue.select_batch``)
    exploration: float = 0.0
    diversity: float = 0.0
    queue_with: str = "model"  # model | join | ensemble
    coverage: float = 0.5
    min_per_class: int = 8
    gold_share: float = 0.2
    calib_share: float = 1 / 3
    weak: WeakLabels = field(default_factory=WeakLabels)
    seed: int = 0
    thresholds: str = FIXED  # multi-label: fixed (task.threshold for every label) | fitted (per label, ``label_cuts``)
    cut_folds: int = CUT_FOLDS  # fitted cuts: out-of-fold predictions over the human training rows, this many folds
    cut_shrink: float = CUT_SHRINK  # fitted cuts: each label's own cut weighs n_pos / (n_pos + cut_shrink) against the global one
    cut_shrink_down: float = CUT_SHRINK_DOWN  # the same for a label whose own cut is below the global one
    cuts_on: str = TRAIN_ROWS  # fitted cuts: train (out-of-fold training rows) | train+calib (plus the answered calibration rows)
    warmup_per_label: float = 0.0  # random cold start: uniform picks until this many records per label are asked (0: one batch)
    warmup_by: str = "random"  # how the warm-up's batches after the first are picked: random | representative (k-means)
    prior_shift: float = 0.0  # multi-label, fitted cuts: shift them to the reserve's label rates (``prior_shifted``), shrink m
    lexical: float = 0.0  # the fast model's lexical block: TF-IDF rows beside the embeddings, times this (0: off)
    lexical_from: float = LEXICAL_FROM  # ... once the human training labels are this many per label
    lexical_min: int = LEXICAL_MIN  # ... and this many in all

    def __post_init__(self):
        if self.cuts_on not in (TRAIN_ROWS, TRAIN_CALIB) or int(self.cut_folds) < 2 or min(self.cut_shrink, self.cut_shrink_down) < 0:
            raise ValueError(f"cuts_on must be {TRAIN_ROWS!r} or {TRAIN_CALIB!r}, cut_folds at least 2 and cut_shrink "
                             f"(and cut_shrink_down) >= 0, got {self.cuts_on!r}, {self.cut_folds!r} and "
                             f"{self.cut_shrink!r} / {self.cut_shrink_down!r}")
        if self.warmup_by not in ("random", "representative"):
            raise ValueError(f"warmup_by must be 'random' or 'representative', got {self.warmup_by!r}")
        if self.warmup_per_label < 0 or (self.warmup_per_label > 0 and self.cold_start_by != "random"):
            raise ValueError(f"warmup_per_label must be >= 0 and needs cold_start_by 'random', got "
                             f"{self.warmup_per_label!r} with {self.cold_start_by!r}")

    def warming_up(self, n_asked: int, n_labels: int, n_human: int) -> bool:
        """Whether the cold start picks this batch: before any human training label, and with a random
        warm-up (``warmup_per_label`` c > 0) while fewer than c x ``n_labels`` records are asked (gold included)."""
        if not self.cold_start or self.is_random:
            return False
        return n_human == 0 or n_asked < self.warmup_per_label * n_labels

    @classmethod
    def from_config(cls, config, **overrides) -> "Policy":
        q, t = config.queue, config.training
        w = t.weak_labels
        values = dict(strategy=q.strategy, batch_size=q.batch_size, cold_start=q.cold_start,
                      exploration=q.exploration, diversity=q.diversity, queue_with=q.queue_with,
                      coverage=q.coverage, min_per_class=t.min_per_class, gold_share=q.gold_share,
                      calib_share=t.calib_share, weak=WeakLabels(w.fraction, w.weight, w.until), seed=q.seed,
                      thresholds=config.task.thresholds if config.task.multi_label else FIXED,
                      cold_start_by=q.cold_start_by, warmup_per_label=q.warmup_per_label or 0.0,
                      prior_shift=(q.prior_shift or 0.0) if config.task.multi_label else 0.0, lexical=q.lexical or 0.0)
        values.update(overrides)
        return cls(**values)

    def lexical_weight(self, n_human: int, n_labels: int) -> float:
        """The weight of the fast model's lexical block with ``n_human`` human training labels: ``lexical`` from
        ``lexical_from`` x ``n_labels`` of them, and ``lexical_min`` in all, on; 0 before (few labels over thousands
        of terms overfit)."""
        on = n_human >= max(self.lexical_from * n_labels, self.lexical_min)
        return self.lexical if self.lexical and on else 0.0

    @property
    def reserve(self) -> GoldReserve:
        """The random reserve this policy draws gold from (``labeler.evaluation.gold``)."""
        return GoldReserve(self.gold_share, self.calib_share)

    @property
    def is_random(self) -> bool:
        return self.strategy == RANDOM

    @property
    def shifts_cuts(self) -> bool:
        """Whether the queue model's fitted cuts get the prior shift: only where a queue chose the training rows
        (a uniform draw has the pool's label rates already, so the shift would only add the reserve's noise)."""
        return self.prior_shift > 0 and self.thresholds == FITTED and not self.is_random

    @property
    def name(self) -> str:
        """A short label for tables and plots, e.g. ``margin+cold+weak0.05x0.3+cover0.5+gold0.2``."""
        parts = [self.strategy]
        if not self.is_random:
            parts += [("cold" if self.cold_start_by == "confident" else f"cold-{self.cold_start_by}")] if self.cold_start else []
            parts += [f"warmup{self.warmup_per_label:g}"] if self.cold_start and self.warmup_per_label else []
            parts += [f"by-{self.warmup_by}"] if self.cold_start and self.warmup_per_label and self.warmup_by != "random" else []
            parts += [f"explore{self.exploration:g}"] if self.exploration else []
            parts += [f"div{self.diversity:g}"] if self.diversity else []
            parts += [self.queue_with] if self.queue_with != "model" else []
            parts += [f"cover{self.coverage:g}"] if self.coverage else []
        parts += [f"lex{self.lexical:g}" + (f"from{self.lexical_from:g}" if self.lexical_from != LEXICAL_FROM else "")
                  + (f"min{self.lexical_min}" if self.lexical_min != LEXICAL_MIN else "")] if self.lexical else []
        if self.weak.fraction > 0:
            parts.append(f"weak{self.weak.fraction:g}x{self.weak.weight:g}"
                         + (f"<{self.weak.until}" if self.weak.until else ""))
        if self.gold_share:
            parts.append(f"gold{self.gold_share:g}")
        if self.thresholds != FIXED:
            parts.append(f"cuts-{self.thresholds}")
            parts += [f"folds{self.cut_folds}"] if self.cut_folds != CUT_FOLDS else []
            parts += [f"shrink{self.cut_shrink:g}"] if self.cut_shrink != CUT_SHRINK else []
            parts += [f"down{self.cut_shrink_down:g}"] if self.cut_shrink_down != CUT_SHRINK_DOWN else []
            parts += [self.cuts_on] if self.cuts_on != TRAIN_ROWS else []
            parts += [f"prior{self.prior_shift:g}"] if self.shifts_cuts else []
        return "+".join(parts)


# -- the fast queue model ------------------------------------------------------------------------------
def confident_rows(P: np.ndarray, candidates: np.ndarray, fraction: float, multi_label: bool,
                   threshold: float = 0.5) -> tuple[np.ndarray, np.ndarray]:
    """(rows, targets): the most confident ``fraction`` of the candidate rows of each predicted class
    (multi-label: overall, by the distance of the least decided label from the threshold), with the
    predicted targets. Ties go to the lower row."""
    rows_all = np.flatnonzero(candidates)
    if fraction <= 0 or not len(rows_all):
        empty = np.zeros((0, P.shape[1]) if multi_label else 0, dtype=np.int64)
        return np.zeros(0, dtype=np.int64), empty
    if multi_label:
        conf = np.abs(P[rows_all] - threshold).min(axis=1)
        n = int(math.floor(fraction * len(rows_all) + 0.5))
        picked = rows_all[np.lexsort((rows_all, -conf))[:n]]
        return picked, (P[picked] >= threshold).astype(np.int64)
    pred, conf = P.argmax(axis=1), P.max(axis=1)
    picked = []
    for k in range(P.shape[1]):
        rows = rows_all[pred[rows_all] == k]
        n = int(math.floor(fraction * len(rows) + 0.5))
        picked.extend(rows[np.lexsort((rows, -conf[rows]))[:n]].tolist())
    picked = np.array(sorted(picked), dtype=np.int64)
    return picked, pred[picked]


def weak_rows(P_weak: np.ndarray, excluded: np.ndarray, weak: WeakLabels, n_human: int, multi_label: bool,
              threshold: float) -> tuple[np.ndarray, np.ndarray]:
    """Weak training rows from ``P_weak`` (the ensemble) among rows not ``excluded`` (labeled, asked or in
    the gold reserve); none once ``weak.until`` human labels exist."""
    if not weak.active(n_human):
        return confident_rows(P_weak, np.zeros(len(P_weak), dtype=bool), 0.0, multi_label, threshold)
    return confident_rows(P_weak, ~excluded, weak.fraction, multi_label, threshold)


def training_set(X: np.ndarray, rows: np.ndarray, targets: np.ndarray, P_weak: np.ndarray, excluded: np.ndarray,
                 weak: WeakLabels, multi_label: bool, threshold: float):
    """(X, y, w) for a model: the human rows (sorted by pool position, weight 1) then the weak rows."""
    order = np.argsort(rows, kind="stable")
    rows, targets = np.asarray(rows, dtype=np.int64)[order], np.asarray(targets)[order]
    wr, wy = weak_rows(P_weak, excluded, weak, len(rows), multi_label, threshold)
    Xt = X[np.concatenate([rows, wr])]  # rows of an array, or of the CSR features with a lexical block
    yt = np.concatenate([targets, wy]) if len(wr) else targets
    w = np.concatenate([np.ones(len(rows)), np.full(len(wr), weak.weight)])
    return Xt, yt, w, len(wr)


def fit_queue_model(X: np.ndarray, rows: np.ndarray, targets: np.ndarray, P_weak: np.ndarray, excluded: np.ndarray,
                    policy: Policy, multi_label: bool, threshold: float, calib: tuple | None = None,
                    answered_reserve: tuple | None = None):
    """The fast model the queue ranks by: ``training.head.LinearModel`` on the human + weak rows.
    Returns (model, number of weak rows used). Multi-label, the model carries its per-label cuts
    (``model.thresholds`` (K,), ``label_cuts``): the queue, the metrics and the suggestions cut its matrix there.
    ``calib``: (rows, targets) of the answered calibration records, read only when ``policy.cuts_on`` asks (then
    required: ``labeler simulate`` and ``labeler round``'s queue model both hand them). ``answered_reserve``:
    (rows, targets) of the answered gold and calibration records, read only with ``policy.prior_shift``
    (``prior_shifted``; ``labeler simulate`` and ``labeler round``'s queue model both hand them)."""

    Xt, yt, w, n_weak = training_set(X, rows, targets, P_weak, excluded, policy.weak, multi_label, threshold)
    model = LinearModel(P_weak.shape[1], multi_label, QUEUE_MODEL_C, policy.seed).fit(Xt, yt, w)
    if multi_label:
        held = None
        if policy.cuts_on == TRAIN_CALIB and calib is None:  # a caller that cannot hand them must not differ silently
            raise ValueError("cuts_on 'train+calib' needs the answered calibration rows (calib); this caller has none")
        if policy.cuts_on == TRAIN_CALIB and len(calib[0]):
            c_rows = np.asarray(calib[0], dtype=np.int64)
            held = (model.predict_proba(X[c_rows]), np.asarray(calib[1]).reshape(len(c_rows), -1))
        model.thresholds = label_cuts(X, rows, targets, P_weak, excluded, policy, threshold, held)
        if policy.shifts_cuts:
            if answered_reserve is None:
                raise ValueError("prior_shift needs the answered reserve rows (answered_reserve); this caller has none")
            k = P_weak.shape[1]
            model.thresholds = prior_shifted(model.thresholds, np.asarray(targets).reshape(-1, k),
                                             np.asarray(answered_reserve[1]).reshape(-1, k), policy.prior_shift)
    return model, n_weak


def prior_shifted(cuts: np.ndarray, Y_train: np.ndarray, Y_reserve: np.ndarray, m: float) -> np.ndarray:
    """Cuts moved for a prior shift (Saerens et al. 2002): each label's rate among the training rows (chosen by
    the queue) differs from the pool's, estimated on the answered random reserve and shrunk to the training
    rate with ``m`` pseudo-rows. Adding ``d = logit(reserve rate) - logit(training rate)`` to a label's logit
    before its cut ``t`` is the same as cutting at ``sigmoid(logit(t) - d)``. Rates are smoothed (+0.5 / +1)."""
    n_t, n_r = len(Y_train), len(Y_reserve)
    if n_t == 0 or len(cuts) == 0:
        return cuts
    p_t = (Y_train.sum(axis=0) + 0.5) / (n_t + 1.0)
    p_r = (Y_reserve.sum(axis=0) + m * p_t) / (n_r + m)
    d = np.log(p_r / (1 - p_r)) - np.log(p_t / (1 - p_t))
    t = np.clip(np.asarray(cuts, dtype=np.float64), 1e-6, 1 - 1e-6)
    return 1.0 / (1.0 + np.exp(-(np.log(t / (1 - t)) - d)))


def label_cuts(X: np.ndarray, rows: np.ndarray, targets: np.ndarray, P_weak: np.ndarray, excluded: np.ndarray,
               policy: Policy, threshold: float, held: tuple | None = None) -> np.ndarray:
    """(K,) multi-label cuts for the queue model's matrix.

    ``policy.thresholds == "fitted"`` and at least ``MIN_LABELS_FOR_CUTS`` human training labels: each
    label's cut that maximises micro-F1 over all labels (``training.thresholds.fit_thresholds(objective=
    "micro_f1")``, weighed ``n_pos / (n_pos + policy.cut_shrink)`` against the global micro-F1 cut, or
    ``n_pos / (n_pos + policy.cut_shrink_down)`` where it is below it) on out-of-fold predictions: the human rows
    are split into ``policy.cut_folds`` folds by pool position, a model of the same kind (with the same weak rows)
    is fitted without each fold and predicts it. ``held``: (P, Y) of records no model trained on (the answered
    calibration rows, predicted by the queue model itself; ``policy.cuts_on`` "train+calib"), fitted on together
    with the out-of-fold rows. Otherwise (``fixed``, or too few labels: the documented fallback) the task's one
    ``threshold``.
    """

    k = P_weak.shape[1]
    rows = np.asarray(rows, dtype=np.int64)
    if policy.thresholds != FITTED or len(rows) < MIN_LABELS_FOR_CUTS:
        return np.full(k, float(threshold))
    order = np.argsort(rows, kind="stable")
    rows, Y = rows[order], np.asarray(targets)[order].reshape(-1, k)
    wr, wy = weak_rows(P_weak, excluded, policy.weak, len(rows), True, threshold)
    oof = np.zeros(Y.shape)
    folds = int(policy.cut_folds)
    fold = np.arange(len(rows)) % folds
    for f in range(folds):
        fit_on = fold != f
        Xt = X[np.concatenate([rows[fit_on], wr])]  # rows of an array, or of the CSR features with a lexical block
        yt = np.concatenate([Y[fit_on], wy]) if len(wr) else Y[fit_on]
        w = np.concatenate([np.ones(int(fit_on.sum())), np.full(len(wr), policy.weak.weight)])
        oof[~fit_on] = LinearModel(k, True, QUEUE_MODEL_C, policy.seed).fit(Xt, yt, w).predict_proba(X[rows[~fit_on]])
    if held is not None:
        oof, Y = np.concatenate([oof, held[0]]), np.concatenate([Y, held[1]])
    return fit_thresholds(oof, Y, default=threshold, shrink=policy.cut_shrink, objective="micro_f1",
                          shrink_down=policy.cut_shrink_down)


def queue_matrix(P: np.ndarray, model_P: np.ndarray | None, queue_with: str, multi_label: bool) -> np.ndarray:
    """What the queue ranks by: the ensemble ``P`` until a queue model exists, then the model's matrix
    (``model``), its equal-weight mean with ``P`` (``join``), or ``P`` regardless (``ensemble``)."""
    if model_P is None or queue_with == "ensemble":
        return P
    if queue_with == "model":
        return model_P

    return weighted_mean({"ensemble": P, "model": model_P}, multi_label=multi_label).P


# -- the batch -----------------------------------------------------------------------------------------
def class_counts(targets: np.ndarray, k: int, multi_label: bool) -> np.ndarray:
    targets = np.asarray(targets)
    if not len(targets):
        return np.zeros(k, dtype=np.int64)
    if multi_label:
        return targets.reshape(-1, k).sum(axis=0).astype(np.int64)
    return np.bincount(targets.astype(np.int64), minlength=k)


def short_classes(counts: np.ndarray, min_per_class: int) -> dict[int, int]:
    """Class index -> labels still needed to reach ``min_per_class`` (empty once every class has enough)."""
    return {int(k): int(min_per_class - c) for k, c in enumerate(counts) if c < min_per_class}


@dataclass
class Batch:
    """Rows to ask, in review order (gold picks last), each pick's reason, the strategy's score per row."""

    indices: np.ndarray
    reasons: list[str]
    all_scores: np.ndarray

    def rows(self, reason: str) -> np.ndarray:
        return np.array([i for i, r in zip(self.indices, self.reasons) if r == reason], dtype=np.int64)


def plan_batch(policy: Policy, n: int, P: np.ndarray, signals: dict, X: np.ndarray | None, asked: np.ndarray,
               reserve_order: np.ndarray, reserve: np.ndarray, human_counts: np.ndarray, round_no: int,
               multi_label: bool, threshold: float) -> Batch:
    """Up to ``n`` new rows: ``round(gold_share * n)`` from the gold reserve in draw order, the rest from
    the queue (``select_batch`` over rows neither ``asked`` nor in the reserve), seeded ``seed + round_no``.

    ``asked``: rows already pushed or labeled. ``human_counts``: human training labels per class (coverage).
    Cold start applies while no human label exists, or during a random warm-up (``Policy.warming_up``: ``asked``
    counts the records asked, the labels the number of columns of ``P``); ``random`` is ``select_batch`` with
    exploration 1.
    """

    scoring = strategy_for(multi_label, None) if policy.is_random else policy.strategy
    n_gold = policy.reserve.picks(n)
    gold = [int(i) for i in reserve_order if not asked[i]][:n_gold]
    n_queue = n - len(gold)
    exclude = asked | reserve
    sel = select_batch(
        P, max(1, n_queue), strategy=scoring, exploration=1.0 if policy.is_random else policy.exploration,
        diversity=0.0 if policy.is_random else policy.diversity, embeddings=X, exclude=exclude,
        seed=policy.seed + round_no, signal_probas=signals,
        cold_start=policy.warming_up(int(np.sum(asked)), P.shape[1], int(np.sum(human_counts))),
        multi_label=multi_label, threshold=threshold,
        short=None if policy.is_random else short_classes(human_counts, policy.min_per_class),
        coverage=policy.coverage,
        cold_start_by=policy.cold_start_by if not np.sum(human_counts) else policy.warmup_by)
    queued = [int(i) for i in sel.indices[:n_queue]] if n_queue > 0 else []
    reasons = list(sel.reasons[: len(queued)]) + [GOLD] * len(gold)
    return Batch(indices=np.array(queued + gold, dtype=np.int64), reasons=reasons,
                 all_scores=np.asarray(sel.all_scores, dtype=float))
