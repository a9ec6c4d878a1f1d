"""Compare systems (signals, ensembles, fine-tuned runs) on the gold labels, from their probability matrices.

``compare(systems, y, labels, multi_label)`` evaluates each matrix with a CI for each headline metric, and
compares the primary system (by default the first fine-tuned one, else the first) with every other on the
same rows (``paired_bootstrap``: for accuracy a paired score interval, or the prediction-powered interval when
the caller hands the systems' matrices on unanswered random records, ``training.ppi``; for F1 a paired
bootstrap). The verdict says whether the primary beats the strongest other system and by how much,
on the verdict metric (``metric``: accuracy for single-label, micro-F1 for multi-label unless the caller says
otherwise), which the verdict names:

    fine-tuned run-7 beats zero-shot nli by +0.123 accuracy (95% CI +0.080..+0.160) on 140 gold labels

A verdict of "beats" / "is worse than" needs the paired interval to exclude 0 *and* the point
estimate to have the same sign; anything else is "does not beat". With ``min_gold`` and fewer gold labels
than that there is no verdict at all ("no verdict: not enough gold labels ..."); callers with a better
message (how many more labels, how many rounds) overwrite ``verdict`` / ``verdicts`` and ``table()`` and
the report print whatever they hold. Percentile intervals (F1) need not contain their estimate (see
``training.evaluate``).

Multi-label: each system's label sets are cut at its own per-label thresholds (``LabelCuts``, from
``label_cuts``: fitted on calibration rows by ``training.thresholds.fit_thresholds``, or the scalar threshold
for every label when calibration holds too few positives), and the paired interval compares the systems at
their own cuts. The cuts used are part of the result.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Mapping, Sequence

import numpy as np

from training.evaluate import (METRICS, bootstrap_ci, check_threshold, covered, evaluate, interval_name, metric_name,
                               paired_bootstrap)
from training.thresholds import fit_thresholds

MIN_CALIB_POSITIVES = 20  # positive (record, label) pairs in calibration a per-label fit needs
MIN_TRIVIAL = 20  # fewer labels than this: no below-a-constant warning (the intervals are too wide to tell)
MAJORITY_SHARE = 0.8  # single-label: compare says what always answering the largest label scores from this share


def default_metric(multi_label: bool) -> str:
    """The verdict metric when the caller names none: micro-F1 for multi-label, accuracy for single-label."""
    return "micro_f1" if multi_label else "accuracy"


@dataclass
class LabelCuts:
    """The per-label cuts one system's multi-label predictions are made at, and where they came from."""

    values: list[float]  # (K,) in label order
    fitted: bool  # True: fitted on calibration rows; False: the scalar threshold for every label
    n_calib: int = 0  # calibration records the fit saw (covered rows)
    n_positives: int = 0  # positive (record, label) pairs among them
    note: str = ""


def label_cuts(P_cal: np.ndarray | None, Y_cal: np.ndarray | None, n_labels: int, default: float = 0.5,
               min_positives: int = MIN_CALIB_POSITIVES, default_name: str = "threshold") -> LabelCuts:
    """Per-label cuts fitted on calibration rows (``fit_thresholds``; abstaining rows left out), or
    ``default`` for every label when there are none or they hold fewer than ``min_positives`` positive
    labels. ``default_name`` is how the note names the scalar (e.g. "task.threshold")."""
    P = np.zeros((0, n_labels)) if P_cal is None else np.asarray(P_cal, dtype=np.float64).reshape(-1, n_labels)
    Y = np.zeros((0, n_labels), dtype=np.int64) if Y_cal is None else np.asarray(Y_cal).astype(np.int64)
    if P.shape != Y.shape:
        raise ValueError(f"calibration P {P.shape} and Y {Y.shape} must both be (N, {n_labels})")
    keep = covered(P)
    P, Y = P[keep], Y[keep]
    n, pos = len(P), int(Y.sum())
    if pos < min_positives:
        why = "no calibration labels" if n == 0 else (f"calibration holds {pos} positive labels in {n} records, "
                                                      f"fewer than the {min_positives} positive labels a fit needs")
        return LabelCuts([float(default)] * n_labels, False, n, pos,
                         f"the scalar {default_name} {default:g} for every label: {why}")
    t = fit_thresholds(P, Y, default=default)
    return LabelCuts([float(v) for v in t], True, n, pos, f"fitted on {n} calibration records ({pos} positive labels)")


@dataclass
class SystemResult:
    name: str
    kind: str  # "fine-tuned", "zero-shot", "rules", ... (free text, used in the verdict)
    metrics: dict
    ci: dict[str, dict]


@dataclass
class CompareResult:
    labels: list[str]
    multi_label: bool
    n: int
    metric: str
    primary: str
    systems: dict[str, SystemResult]
    diffs: dict[str, dict] = field(default_factory=dict)  # other -> paired bootstrap of primary - other
    verdicts: dict[str, str] = field(default_factory=dict)
    verdict: str = ""
    n_resamples: int = 1000
    seed: int = 0
    min_gold: int | None = None  # the fewest gold labels a verdict needs (None: no minimum)
    enough_gold: bool = True  # False: verdicts are "no verdict: ..." lines, the diffs are shown for information
    rule: str = ""  # how the verdict is decided, naming its metric
    thresholds: dict[str, dict] = field(default_factory=dict)  # multi-label: system -> LabelCuts as a dict
    n_empty: int = 0  # multi-label: gold records with no label ("none of these")

    def to_dict(self) -> dict:
        return asdict(self)

    def table(self) -> str:
        """A fixed-width table: one row per system, metric with 95% CI, coverage."""
        head = f"{'system':<28} {'kind':<11} {'coverage':>8}  " + "  ".join(
            f"{metric_name(m, self.multi_label):>22}" for m in self.shown_metrics())
        lines = [head, "-" * len(head)]
        for s in self.systems.values():
            cells = []
            for m in self.shown_metrics():
                c = s.ci[m]
                cells.append(f"{c['value']:.3f} [{c['lo']:.3f},{c['hi']:.3f}]".rjust(22))
            lines.append(f"{s.name[:28]:<28} {s.kind[:11]:<11} {s.metrics['coverage']:>8.2f}  " + "  ".join(cells))
        return "\n".join(lines + ["", self.verdict])

    def shown_metrics(self) -> list[str]:
        return ["micro_f1", "macro_f1", "accuracy"] if self.multi_label else ["accuracy", "macro_f1"]

    def cuts(self, name: str) -> np.ndarray | None:
        """The (K,) cuts system ``name`` was evaluated at (multi-label), else None."""
        t = self.thresholds.get(name)
        return np.asarray(t["values"], dtype=np.float64) if t else None


def _fmt_ci(d: dict) -> str:
    return f"95% CI {d['lo']:+.3f}..{d['hi']:+.3f}"


def verdict_line(a: str, kind_a: str, b: str, kind_b: str, d: dict, metric: str, n_total: int,
                 named: str | None = None) -> str:
    """``named``: how the ``n_total`` records are called (default "<n_total> gold labels")."""
    who_a, who_b = (f"{k} {n}".strip() if k != n else n for k, n in ((kind_a, a), (kind_b, b)))
    named = named or f"{n_total} gold labels"
    where = f"on {named}" if d["n"] == n_total else f"on the {d['n']} of {named} both cover"
    if d["n"] == 0:
        return f"{who_a} and {who_b} share no covered gold labels; no comparison"
    if d["lo"] > 0 and d["diff"] > 0:
        return f"{who_a} beats {who_b} by {d['diff']:+.3f} {metric} ({_fmt_ci(d)}) {where}"
    if d["hi"] < 0 and d["diff"] < 0:
        return f"{who_a} is worse than {who_b} by {d['diff']:+.3f} {metric} ({_fmt_ci(d)}) {where}"
    why = "CI includes 0" if d["lo"] <= 0 <= d["hi"] else "the estimate and its CI disagree in sign"
    return f"{who_a} does not beat {who_b}: {d['diff']:+.3f} {metric} ({_fmt_ci(d)}, {why}) {where}"


def not_enough_line(n: int, min_gold: int) -> str:
    return f"no verdict: not enough gold labels ({n} of the {min_gold} a verdict needs; {min_gold - n} more)"


def compare(
    systems: Mapping[str, np.ndarray],
    y: np.ndarray,
    labels: Sequence[str],
    multi_label: bool = False,
    kinds: Mapping[str, str] | None = None,
    primary: str | None = None,
    metric: str | None = None,
    n_resamples: int = 1000,
    seed: int = 0,
    threshold: float = 0.5,
    min_gold: int | None = None,
    cuts: Mapping[str, LabelCuts] | None = None,
    named: str | None = None,
    records: str = "gold records",
    unlabeled: Mapping[str, np.ndarray] | None = None,
) -> CompareResult:
    """Evaluate every ``(N, K)`` matrix in ``systems`` against gold ``y`` and compare the primary to the rest.

    ``kinds`` names each system's kind for the verdict (e.g. ``{"run-3": "fine-tuned", "nli": "zero-shot"}``);
    ``primary`` defaults to the first system of kind "fine-tuned", else the first system. With ``min_gold``
    and fewer than that many gold labels, every verdict is "no verdict: not enough gold labels ..." and
    ``enough_gold`` is False (metrics, intervals and paired differences are still computed and reported).
    ``metric`` (default ``default_metric``) decides the verdict. Multi-label: ``cuts`` gives a system its
    per-label cuts (``label_cuts``); a system without them is cut at ``threshold`` for every label.
    ``named``: how the verdicts call all of ``y``'s records (default "<N> gold labels"); ``records``: how the
    rule calls them ("gold records"). ``unlabeled``: systems' matrices on records drawn like ``y``'s but never
    answered (the same rows for each); a single-label accuracy difference between two systems that both have
    one is the prediction-powered estimate (``training.ppi``), and the rule says so.
    """
    if not systems:
        raise ValueError("compare needs at least one system")
    metric = metric or default_metric(multi_label)
    if metric not in METRICS:
        raise ValueError(f"unknown metric {metric!r}; choose from {', '.join(METRICS)}")
    kinds = dict(kinds or {})
    y = np.asarray(y)
    names = list(systems)
    if primary is None:
        primary = next((n for n in names if kinds.get(n) == "fine-tuned"), names[0])
    if primary not in systems:
        raise ValueError(f"primary {primary!r} is not one of the systems {names}")
    cut_of = _cuts_by_system(names, len(labels), multi_label, threshold, cuts or {})
    boot = dict(multi_label=multi_label, n_resamples=n_resamples, seed=seed)
    results = {}
    for name in names:
        P = np.asarray(systems[name], dtype=np.float64)
        if P.shape != (len(y), len(labels)):
            raise ValueError(f"system {name!r} gave a {P.shape} matrix; expected ({len(y)}, {len(labels)})")
        t = np.asarray(cut_of[name].values) if multi_label else threshold
        results[name] = SystemResult(
            name=name,
            kind=kinds.get(name, ""),
            metrics=evaluate(P, y, labels, multi_label, threshold=t),
            ci={m: bootstrap_ci(P, y, m, threshold=t, **boot) for m in METRICS},
        )
    shown = metric_name(metric, multi_label)
    res = CompareResult(
        labels=list(labels), multi_label=multi_label, n=len(y), metric=metric, primary=primary,
        systems=results, n_resamples=n_resamples, seed=seed, min_gold=min_gold,
        enough_gold=min_gold is None or len(y) >= min_gold,
        rule=(f"{shown}, {primary} minus each other system on the same {records} ({interval_name(metric, True)}); "
              "a difference counts when its whole 95% CI lies on one side of 0"),
        thresholds={n: asdict(c) for n, c in cut_of.items()},
        n_empty=int((y.sum(axis=1) == 0).sum()) if multi_label and y.ndim == 2 else 0,
    )
    for other in names:
        if other == primary:
            continue
        t_a, t_b = (cut_of[primary].values, cut_of[other].values) if multi_label else (threshold, threshold)
        pair = (unlabeled[primary], unlabeled[other]) if unlabeled and primary in unlabeled and other in unlabeled \
            else None
        d = paired_bootstrap(systems[primary], systems[other], y, metric, threshold=np.asarray(t_a),
                             threshold_b=np.asarray(t_b), unlabeled=pair, **boot)
        res.diffs[other] = d
        res.verdicts[other] = verdict_line(primary, kinds.get(primary, ""), other, kinds.get(other, ""), d, shown, len(y),
                                           named)
    powered = [d for d in res.diffs.values() if d.get("method") == "prediction-powered"]
    if powered:
        res.rule += (f"; prediction-powered where both systems scored {powered[0]['n_unlabeled']} random records "
                     "nobody answered (training.ppi: the models' expected gain there, corrected on the labels)")
    if not res.enough_gold:
        res.verdict = not_enough_line(len(y), int(min_gold))
        res.verdicts = {o: res.verdict for o in res.verdicts}
    elif res.diffs:
        strongest = min(res.diffs, key=lambda o: (np.nan_to_num(res.diffs[o]["diff"], nan=np.inf), o))
        res.verdict = res.verdicts[strongest]
    else:
        c = results[primary].ci[metric]
        res.verdict = f"{kinds.get(primary, '')} {primary}".strip() + (
            f": {c['value']:.3f} {shown} (95% CI {c['lo']:.3f}..{c['hi']:.3f}) on "
            + (named if named and c["n"] == len(y) else f"{c['n']} gold labels")
        )
    return res


def below_trivial(result: CompareResult, y: np.ndarray, kinds: Sequence[str] = ("zero-shot",)) -> list[str]:
    """One line per system of ``kinds`` whose whole 95% interval lies below a model that reads no text.
    Single-label: macro-F1 under chance, 1/K (a random guess that follows the label mix scores each class's F1
    at its share; on imbalanced data accuracy would flag useful signals below "always the largest class").
    Multi-label: micro-F1 (the primary metric) under the best constant label set, the m most frequent labels
    given to every record (m chosen on the same labels). Such a signal pulls the ensemble down."""
    y = np.asarray(y)
    if len(y) < MIN_TRIVIAL:
        return []
    if result.multi_label:
        metric, value, what = "micro_f1", *_best_constant_set(y, result.labels)
    else:
        metric, value = "macro_f1", 1.0 / len(result.labels)
        what = "chance, a random guess that follows the label mix"
    lines = []
    for s in result.systems.values():
        c = s.ci.get(metric)
        if s.kind in kinds and c and s.metrics.get("coverage", 1.0) >= 0.999 and c["hi"] < value:
            lines.append(f"{s.name} scores {metric_name(metric, result.multi_label)} {c['value']:.3f} [{c['lo']:.3f},"
                         f"{c['hi']:.3f}], below {what} ({value:.3f}): it pulls the ensemble down; check its model "
                         "and template, or lower its weight in the config")
    return lines


def majority_note(result: CompareResult, y: np.ndarray, metric: str) -> str | None:
    """Single-label, one label most of the records scored (``MAJORITY_SHARE``): what always answering it scores, so
    that an accuracy near it reads as what it is (2% spam: "always 'ham'" scores 0.98), with the way to judge runs
    on macro-F1 when the verdict reads accuracy. None otherwise."""
    y = np.asarray(y)
    if result.multi_label or len(y) < MIN_TRIVIAL:
        return None
    counts = np.bincount(y.astype(np.int64), minlength=len(result.labels))
    k = int(counts.argmax())
    share, rest = counts[k] / len(y), len(y) - int(counts[k])
    if share < MAJORITY_SHARE:
        return None
    macro = 2 * share / (1 + share) / max(1, int((counts > 0).sum()))  # its F1 for that label, 0 for the others
    line = (f"{result.labels[k]!r} is {share:.0%} of these {len(y)} records: always answering it scores accuracy "
            f"{share:.3f} (macro-F1 {macro:.3f}); the other labels rest on {rest} record{'s' * (rest != 1)}")
    return line + ("; on labels this imbalanced judge runs on macro-F1 (training.verdict_metric: macro_f1)"
                   if metric == "accuracy" else "")


def _best_constant_set(Y: np.ndarray, labels: Sequence[str]) -> tuple[float, str]:
    """The best micro-F1 of one label set given to every record (the m most frequent labels), and its words."""
    counts = Y.sum(axis=0)
    order = np.argsort(-counts, kind="stable")
    total, n = float(counts.sum()), len(Y)
    tp = np.cumsum(counts[order])  # m = 1..K most frequent labels
    m = np.arange(1, len(order) + 1)
    f1 = 2 * tp / np.maximum(m * n + total, 1)  # 2TP / (2TP + FP + FN) with FP = m n - TP, FN = total - TP
    best = int(f1.argmax())
    names = ", ".join(repr(labels[k]) for k in order[:min(best + 1, 3)]) + (", ..." if best >= 3 else "")
    return float(f1[best]), f"always answering the same {best + 1} label{'s' * (best > 0)} ({names})"


def _cuts_by_system(names: Sequence[str], k: int, multi_label: bool, threshold: float,
                    cuts: Mapping[str, LabelCuts]) -> dict[str, LabelCuts]:
    """Multi-label: each system's cuts (given, else ``threshold`` for every label), checked; else empty."""
    if not multi_label:
        return {}
    unknown = sorted(set(cuts) - set(names))
    if unknown:
        raise ValueError(f"cuts given for {', '.join(map(repr, unknown))}, which are not among the systems {list(names)}")
    out = {}
    for name in names:
        c = cuts.get(name) or LabelCuts([float(threshold)] * k, False, note=f"the scalar threshold {threshold:g} for every label")
        try:
            check_threshold(c.values, k)
        except ValueError as exc:
            raise ValueError(f"system {name!r}: {exc}") from None
        out[name] = c
    return out
