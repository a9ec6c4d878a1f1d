"""Compare systems (signals, ensembles, fine-tuned runs) on the gold labels, from their probability matrices.

``compare(systems, y, labels, multi_label)`` evaluates each matrix, bootstraps a CI for each headline metric,
and runs a paired bootstrap of the primary system (by default the first fine-tuned one, else the first)
against every other. The verdict says whether the primary beats the strongest other system and by how much:

    fine-tuned run-7 beats zero-shot nli by +0.123 accuracy (95% CI +0.080..+0.160) on 140 gold labels

A verdict of "beats" / "is worse than" needs the paired percentile interval to exclude 0 *and* the point
estimate to have the same sign; anything else is "does not beat". With ``min_gold`` and fewer gold labels
than that there is no verdict at all ("no verdict: not enough gold labels ..."); callers with a better
message (how many more labels, how many rounds) overwrite ``verdict`` / ``verdicts`` and ``table()`` and
the report print whatever they hold. Percentile intervals need not contain their estimate (see
``training.evaluate``).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Mapping, Sequence

import numpy as np

from training.evaluate import METRICS, bootstrap_ci, evaluate, paired_bootstrap


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

    def to_dict(self) -> dict:
        return asdict(self)

    def table(self) -> str:
        """A fixed-width table: one row per system, metric with 95% CI, coverage."""
        head = f"{'system':<28} {'kind':<11} {'coverage':>8}  " + "  ".join(f"{m:>22}" for m in self.shown_metrics())
        lines = [head, "-" * len(head)]
        for s in self.systems.values():
            cells = []
            for m in self.shown_metrics():
                c = s.ci[m]
                cells.append(f"{c['value']:.3f} [{c['lo']:.3f},{c['hi']:.3f}]".rjust(22))
            lines.append(f"{s.name[:28]:<28} {s.kind[:11]:<11} {s.metrics['coverage']:>8.2f}  " + "  ".join(cells))
        return "\n".join(lines + ["", self.verdict])

    def shown_metrics(self) -> list[str]:
        return list(METRICS) if self.multi_label else ["accuracy", "macro_f1"]


def _fmt_ci(d: dict) -> str:
    return f"95% CI {d['lo']:+.3f}..{d['hi']:+.3f}"


def verdict_line(a: str, kind_a: str, b: str, kind_b: str, d: dict, metric: str, n_total: int) -> str:
    who_a, who_b = (f"{k} {n}".strip() if k != n else n for k, n in ((kind_a, a), (kind_b, b)))
    where = f"on {d['n']} gold labels" if d["n"] == n_total else f"on the {d['n']} of {n_total} gold labels both cover"
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
    metric: str = "accuracy",
    n_resamples: int = 1000,
    seed: int = 0,
    threshold: float = 0.5,
    min_gold: int | None = None,
) -> CompareResult:
    """Evaluate every ``(N, K)`` matrix in ``systems`` against gold ``y`` and compare the primary to the rest.

    ``kinds`` names each system's kind for the verdict (e.g. ``{"run-3": "fine-tuned", "nli": "zero-shot"}``);
    ``primary`` defaults to the first system of kind "fine-tuned", else the first system. With ``min_gold``
    and fewer than that many gold labels, every verdict is "no verdict: not enough gold labels ..." and
    ``enough_gold`` is False (metrics, intervals and paired differences are still computed and reported).
    """
    if not systems:
        raise ValueError("compare needs at least one system")
    if metric not in METRICS:
        raise ValueError(f"unknown metric {metric!r}; choose from {', '.join(METRICS)}")
    kinds = dict(kinds or {})
    y = np.asarray(y)
    names = list(systems)
    if primary is None:
        primary = next((n for n in names if kinds.get(n) == "fine-tuned"), names[0])
    if primary not in systems:
        raise ValueError(f"primary {primary!r} is not one of the systems {names}")
    boot = dict(multi_label=multi_label, n_resamples=n_resamples, seed=seed, threshold=threshold)
    results = {}
    for name in names:
        P = np.asarray(systems[name], dtype=np.float64)
        if P.shape != (len(y), len(labels)):
            raise ValueError(f"system {name!r} gave a {P.shape} matrix; expected ({len(y)}, {len(labels)})")
        results[name] = SystemResult(
            name=name,
            kind=kinds.get(name, ""),
            metrics=evaluate(P, y, labels, multi_label, threshold=threshold),
            ci={m: bootstrap_ci(P, y, m, **boot) for m in METRICS},
        )
    res = CompareResult(
        labels=list(labels), multi_label=multi_label, n=len(y), metric=metric, primary=primary,
        systems=results, n_resamples=n_resamples, seed=seed, min_gold=min_gold,
        enough_gold=min_gold is None or len(y) >= min_gold,
    )
    for other in names:
        if other == primary:
            continue
        d = paired_bootstrap(systems[primary], systems[other], y, metric, **boot)
        res.diffs[other] = d
        res.verdicts[other] = verdict_line(primary, kinds.get(primary, ""), other, kinds.get(other, ""), d, metric, len(y))
    if not res.enough_gold:
        res.verdict = not_enough_line(len(y), int(min_gold))
        res.verdicts = {o: res.verdict for o in res.verdicts}
    elif res.diffs:
        strongest = min(res.diffs, key=lambda o: (np.nan_to_num(res.diffs[o]["diff"], nan=np.inf), o))
        res.verdict = res.verdicts[strongest]
    else:
        c = results[primary].ci[metric]
        res.verdict = f"{kinds.get(primary, '')} {primary}".strip() + (
            f": {c['value']:.3f} {metric} (95% CI {c['lo']:.3f}..{c['hi']:.3f}) on {c['n']} gold labels"
        )
    return res
