"""``simulate``: every policy variant for every seed, the labels-to-95% reference, summaries and files.

The reference is the queue model (``training.head.LinearModel``, C=10, class-balanced) trained on the whole
labeled pool without weak labels, scored on the eval split (computed once and cached in the project).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import time
from pathlib import Path
from typing import Callable, Sequence


from labeler.errors import LabelerError
from labeler.loop.engine import QUEUE_MODEL_C, Policy, WeakLabels, label_cuts
from labeler.project import Project
from labeler.simulate.data import Features, SimData, compute_features
from labeler.simulate.driver import Curve, primary_metric, run_curve, run_curve_via_argilla, score_metrics
from labeler.simulate.report import RANDOM, compare_to_random, shown_metrics, shown_name, summarize, write_outputs
from training.head import LinearModel

REFERENCE_FILE = "reference.json"
CUTS_VERSION = "micro_f1-oof3-down20"  # how fitted cuts are made (labeler.loop.engine.label_cuts); part of the cache key


def reference(data: SimData, feats: Features, cuts: str | None = None, lexical: float | None = None) -> dict:
    """The queue model trained on the whole labeled pool, scored on the eval split (cached in the project).

    Multi-label with ``cuts`` ``fitted`` (the config's ``task.thresholds``): the model's matrix is cut per label
    as the loop cuts it (``labeler.loop.engine.label_cuts`` on out-of-fold predictions over the whole pool).
    ``lexical``: the weight of its lexical block (default the config's ``queue.lexical``: the same head as the queue
    model's)."""
    import numpy as np

    cuts = (cuts or data.config.task.thresholds) if data.multi_label else None
    lexical = (data.config.queue.lexical or 0.0) if lexical is None else lexical
    H, H_eval = feats.head(lexical)
    key = hashlib.sha256(json.dumps([data.ids, data.y.tolist(), data.eval_ids, data.labels, QUEUE_MODEL_C,
                                     feats.X[:5].round(5).tolist()] + ([cuts, CUTS_VERSION] if cuts else [])
                                    + ([f"lexical {lexical:g}"] if lexical else [])).encode()).hexdigest()[:16]
    path = Project(data.config).ensure().dir / REFERENCE_FILE
    cached = json.loads(path.read_text()) if path.exists() else {}
    if key not in cached:
        start = time.perf_counter()
        fitted = LinearModel(len(data.labels), data.multi_label, QUEUE_MODEL_C, 0).fit(H, data.y)
        t = None
        if cuts:
            rows = np.arange(len(data.ids))
            t = label_cuts(H, rows, data.y, feats.P0, np.ones(len(rows), dtype=bool),
                           Policy(thresholds=cuts, weak=WeakLabels(0.0)), data.threshold)
        name = (f"logreg C={QUEUE_MODEL_C:g} balanced" + (f", lexical {lexical:g}" if lexical else "")
                + (f", cuts {cuts}" if cuts else ""))
        cached[key] = {"n_labels": len(data.ids), "model": name, "seconds": round(time.perf_counter() - start, 2),
                       **score_metrics(fitted.predict_proba(H_eval), data.eval_y, data, t)}
        path.write_text(json.dumps(cached, indent=2))
    return cached[key]


def deterministic(policy: Policy) -> bool:
    """No seeded choice anywhere: every seed gives the same curve, so one is run. Random picks, exploration
    and diversity use the seed; the gold reserve and everything else do not."""
    return not policy.is_random and policy.exploration == 0 and policy.diversity == 0 and not (
        policy.cold_start and policy.cold_start_by == "random")


def simulate(data: SimData, variants: Sequence[Policy], seeds: Sequence[int], rounds: int,
             out_dir: str | Path | None = None, via_argilla: bool = False, progress: bool = True,
             feats: Features | None = None, log: Callable[[str], None] | None = None,
             dedupe_seeds: bool = True) -> dict:
    """Run every policy for every seed; write curves (CSV, JSON), the plot and the summary to ``out_dir``.

    A deterministic policy runs the first seed only (the others would repeat it) unless ``dedupe_seeds`` is
    False; its summary lists the seeds actually run."""
    if not variants or not seeds:
        raise LabelerError("simulate needs at least one strategy and one seed")
    if rounds <= 0:
        raise LabelerError(f"rounds must be > 0, got {rounds}")
    log = log or (lambda s: None)
    feats = feats or compute_features(data, progress=progress)
    ref = reference(data, feats)
    zero_shot = score_metrics(feats.P0_eval, data.eval_y, data)
    primary = primary_metric(data)
    acc = shown_name("accuracy", data.multi_label)  # exact match, multi-label
    log(f"{data.name}: pool {len(data.ids)}, eval {len(data.eval_ids)}, {len(data.labels)} label{'s' * (len(data.labels) != 1)}; "
        f"full-pool {ref['model']}: {acc} {ref['accuracy']:.3f}"
        + (f", {primary} {ref[primary]:.3f}" if primary != "accuracy" else "") + "; "
        f"zero-shot {acc} {zero_shot['accuracy']:.3f}")
    results = []
    for v in variants:
        curves: list[Curve] = []
        for seed in (seeds[:1] if deterministic(v) and dedupe_seeds else seeds):
            start = time.perf_counter()
            if via_argilla:
                tag = "".join(ch if ch.isalnum() else "-" for ch in f"{v.name}-s{seed}").lower()
                curve = run_curve_via_argilla(data, feats, v, rounds, seed, Project(data.config).dir / "argilla" / tag,
                                              f"{data.config.argilla.dataset}-{tag}"[:100])
            else:
                curve = run_curve(data, feats, v, rounds, seed)
            curves.append(curve)
            last = curve.points[-1]
            extra = f", {primary} {last[primary]:.3f}" if primary != "accuracy" else ""
            log(f"  {v.name} seed {seed}: {last['n_labels']} labels ({last['n_train']} trained on) -> {acc} "
                f"{last['accuracy']:.3f}{extra} ({time.perf_counter() - start:.1f} s)")
        results.append((v, curves, summarize(curves, data.metrics, ref, primary)))
    rand = next((s for v, _, s in results if v.is_random), None)
    report = {
        "dataset": data.name, "pool": len(data.ids), "eval": len(data.eval_ids), "labels": data.labels,
        "multi_label": data.multi_label, "primary_metric": primary, "metrics": data.metrics,
        "seeds": list(seeds), "rounds": rounds, "via_argilla": via_argilla, "reference": ref, "zero_shot": zero_shot,
        "variants": [
            {"name": v.name, "settings": dataclasses.asdict(v), "summary": s,
             "vs_random": {m: compare_to_random(s, rand, m) for m in shown_metrics(primary, data.multi_label)},
             "runs": [{"seed": c.seed, "curve": c.points, "selected": c.selected} for c in curves]}
            for v, curves, s in results
        ],
    }
    if out_dir is not None:
        write_outputs(report, Path(out_dir))
    return report


def variants_from(base: Policy, strategies: Sequence[str], cold_start: Sequence[bool] = (True,),
                  weak: Sequence[float] | None = None, coverage: Sequence[float] | None = None) -> list[Policy]:
    """``base`` (the config's policy) with each strategy x cold start x weak fraction x coverage. ``random``
    runs once: the baseline a team without labeler has, a uniform sample of the pool trained on as it is (no
    weak labels); it pays the same gold share, so both curves count the same labels."""
    out: list[Policy] = []
    weak = list(weak) if weak is not None else [base.weak.fraction]
    coverage = list(coverage) if coverage is not None else [base.coverage]
    for strategy in strategies:
        if strategy == RANDOM:
            out.append(dataclasses.replace(base, strategy=RANDOM, cold_start=False, weak=WeakLabels(0.0)))
            continue
        for cold in cold_start:
            for wf in weak:
                for cov in coverage:
                    out.append(dataclasses.replace(base, strategy=strategy, cold_start=cold, coverage=cov,
                                                   weak=WeakLabels(wf, base.weak.weight, base.weak.until)))
    return list(dict.fromkeys(out))
