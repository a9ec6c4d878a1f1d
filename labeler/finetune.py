"""Fine-tuning inside the loop: train from the project's labels, list runs, compare on gold, join the signals.

Plain functions over a loaded ``Config``; the ``train``, ``runs``, ``compare`` and ``round`` commands are thin
wrappers. The training library lives in ``training/``; this module only wires it to the project folder:

- labels:   ``<project dir>/labels.parquet`` (written by ``labeler pull``)
- splits:   ``<project dir>/splits.json`` (gold / calibration / train, stable across rounds)
- runs:     ``training.runs_dir`` (default ``<project dir>/runs``), ``CURRENT`` names the run in use
- reports:  ``<project dir>/reports/<timestamp>/`` (``compare``)

How the current run joins the signals (``training.mode``), decided by ``join_plan`` at every ``bootstrap``:

- ``join``: the run is one more signal; the weights of all signals are refitted
  (``labeler.ensemble.fit_weights``) on the held-out human labels (the gold split, which no run trains on).
  With fewer than ``MIN_HELD_OUT`` held-out labels the configured weights are kept and the run gets weight 1.
- ``replace``: the run becomes the only weighted signal (the others stay in the scores and in Argilla's
  metadata with weight 0) when it beats the configured zero-shot ensemble on gold, with the paired-bootstrap
  95% CI of the accuracy difference above zero. Otherwise the plan falls back to ``join`` and says why.

Suggestion agent (``suggestion_agent``): a pushed suggestion's agent is the run id when the run holds at least
``DOMINANT_SHARE`` (90%) of the weight of the signals that voted on that record (always under ``replace``;
under ``join`` only where fitted weights or abstentions leave the run (nearly) alone); otherwise it is the
ensemble (``ensemble`` or ``ensemble-stacked``).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from labeler.errors import LabelerError

MIN_HELD_OUT = 5  # held-out labels needed to fit join weights or to decide replace
DOMINANT_SHARE = 0.9
RUN_META_NAME = "finetuned"  # Argilla metadata property (top_finetuned) for whichever run is current
ZERO_SHOT_TYPES = {"embedding", "nli", "summarize"}
RULE_TYPES = {"keywords", "entities"}


def runs_root(config) -> Path:
    return Path(config.training.runs_dir or Path(config.project.dir) / "runs")


def labels_path(config) -> Path:
    from labeler.loop import LABELS_FILE, project_dir

    path = project_dir(config) / LABELS_FILE
    if not path.exists():
        raise LabelerError(f"no human labels yet at {path}; review records in Argilla, then run `labeler pull`")
    return path


def split_path(config) -> Path:
    from training.splits import SPLIT_FILE

    return Path(config.project.dir) / SPLIT_FILE


def kind_of(signal_type: str) -> str:
    if signal_type == "finetuned":
        return "fine-tuned"
    if signal_type in RULE_TYPES:
        return "rules"
    return "zero-shot" if signal_type in ZERO_SHOT_TYPES else signal_type


# --- threshold and training -------------------------------------------------------------------------


def threshold(config) -> tuple[bool, dict[str, int], str]:
    """``(met, short, message)`` for ``training.min_per_class`` over the pulled labels (none pulled: all short)."""
    from training.trigger import check_threshold, threshold_message

    n = config.training.min_per_class
    from labeler.loop import load_labels

    labels = load_labels(config)
    if labels is None or labels.empty:
        short = {name: n for name in config.label_names}
    else:
        _, short = check_threshold(labels, config.label_names, n, config.task.multi_label)
    return not short, short, threshold_message(short, n)


def train_project(config, backend: str | None = None, force: bool = False, n_resamples: int = 1000):
    """Train a run on the project's labels with ``config.training`` (``backend`` overrides it); it becomes current."""
    from training.train import train

    t = config.training
    path = labels_path(config)
    if not force:
        ok, _, message = threshold(config)
        if not ok:
            raise LabelerError(message)
    return train(path, config.label_names, config.task.multi_label, backend=backend or t.backend, params=dict(t.params),
                 project_dir=config.project.dir, seed=t.seed, force=force, runs_dir=runs_root(config),
                 split_path=split_path(config), gold_fraction=t.gold_fraction, min_per_class=t.min_per_class,
                 n_resamples=n_resamples)


def describe_run(run) -> list[str]:
    """Lines for the console: the run, its data, its gold metrics with 95% CIs."""
    info, metrics = run.info, run.metrics
    gold, ci = metrics.get("gold", {}), metrics.get("gold_ci", {})
    lines = [f"run {run.run_id} ({run.backend}): trained on {info.get('n_train')} labels "
             f"({info.get('n_calib', 0)} for calibration), evaluated on {info.get('n_gold')} held-out gold labels "
             f"in {info.get('train_seconds', 0):.1f}s"]
    for m in ("accuracy", "macro_f1"):
        c = ci.get(m, {})
        if gold.get(m) is not None:
            lines.append(f"  gold {m}: {_f(gold.get(m))} (95% CI {_f(c.get('lo'))}..{_f(c.get('hi'))})")
    return lines


def _f(v) -> str:
    return f"{v:.3f}" if isinstance(v, (int, float)) and v == v else "n/a"


def current_run(config):
    """The current run, or None when no run is registered or marked current."""
    from training.registry import Registry

    registry = Registry(runs_root(config))
    return registry.load("current") if registry.current_id() else None


def list_project_runs(config) -> list[dict]:
    from training.registry import list_runs

    return list_runs(runs_root(config))


def set_current_run(config, run_id: str) -> None:
    from training.registry import set_current

    set_current(run_id, runs_root(config))


def runs_table(runs: list[dict]) -> str:
    head = f"  {'run':<30} {'backend':<12} {'created':<20} {'n_train':>7} {'accuracy':>8} {'macro_f1':>8}"
    lines = [head]
    for r in runs:
        mark = "*" if r.get("current") else " "
        lines.append(f"{mark} {r['run_id']:<30} {r.get('backend', ''):<12} {r.get('created_at', ''):<20} "
                     f"{r.get('n_train', ''):>7} {_f(r.get('accuracy')):>8} {_f(r.get('macro_f1')):>8}")
    return "\n".join(lines)


# --- gold scoring and compare ---------------------------------------------------------------------------


@dataclass
class Gold:
    ids: list[str]
    texts: list[str]
    y: np.ndarray


def gold_set(config) -> Gold:
    from training.train import load_gold

    ids, texts, y = load_gold(labels_path(config), config.label_names, config.task.multi_label, config.project.dir,
                              split_path=split_path(config), gold_fraction=config.training.gold_fraction)
    return Gold(ids, texts, y)


def signal_probas(config, ids: list[str], texts: list[str], progress: bool = False) -> tuple[dict, dict]:
    """Every configured signal's matrix on ``texts`` (through the cache) and each one's kind."""
    from labeler.loop import build_signals, project_dir
    from labeler.signals.cache import score_cached

    cache = project_dir(config) / "cache"
    probas, kinds = {}, {}
    for sig in build_signals(config):
        probas[sig.name] = score_cached(sig, ids, texts, cache, progress=progress)
        kinds[sig.name] = kind_of(getattr(sig, "type_name", ""))
    return probas, kinds


def zero_shot_ensemble(config, probas: dict) -> np.ndarray:
    from labeler.ensemble import weighted_mean

    weights = {s.name: s.weight for s in config.signals if s.name in probas}
    return weighted_mean(probas, weights, multi_label=config.task.multi_label, threshold=config.task.threshold).P


@dataclass
class ComparePaths:
    result: object
    out_dir: Path
    paths: dict = field(default_factory=dict)
    zero_shot_verdict: str | None = None


def compare_project(config, run_ids: list[str] | None = None, all_runs: bool = False, out_dir: str | Path | None = None,
                    n_resamples: int = 1000, write: bool = True, progress: bool = False) -> ComparePaths:
    """Every configured signal, their ensemble and the chosen runs on the gold split -> report files.

    Runs: ``run_ids`` if given, else every run with ``all_runs``, else the current run (if any).
    The headline verdict is the primary run (the current one, else the first) against the strongest
    zero-shot system; ``result.verdicts`` holds it against every other system.
    """
    from training.compare import compare
    from training.evaluate import read_history
    from training.registry import Registry
    from training.report import write_report

    gold = gold_set(config)
    if not gold.ids:
        raise LabelerError("the gold split is empty; label more records (`labeler status` shows the counts)")
    probas, kinds = signal_probas(config, gold.ids, gold.texts, progress)
    systems = dict(probas)
    if len(probas) > 1:
        systems["ensemble"] = zero_shot_ensemble(config, probas)
        kinds["ensemble"] = "ensemble"
    registry = Registry(runs_root(config))
    if run_ids is None:
        run_ids = registry.run_ids() if all_runs else ([registry.current_id()] if registry.current_id() else [])
    for rid in run_ids:
        run = registry.load(rid)
        P = run.predict_proba(gold.texts)
        systems[rid] = P[:, [run.labels.index(n) for n in config.label_names]]
        kinds[rid] = "fine-tuned"
    current = registry.current_id()
    primary = current if current in run_ids else (run_ids[0] if run_ids else None)
    result = compare(systems, gold.y, config.label_names, config.task.multi_label, kinds=kinds, primary=primary,
                     n_resamples=n_resamples, threshold=config.task.threshold)
    zs = [n for n in result.diffs if kinds.get(n) == "zero-shot"]
    zero_verdict = None
    if kinds.get(result.primary) == "fine-tuned" and zs:
        best = min(zs, key=lambda o: (np.nan_to_num(result.diffs[o]["diff"], nan=np.inf), o))
        zero_verdict = result.verdicts[best]
        result.verdicts = {best: zero_verdict, **{k: v for k, v in result.verdicts.items() if k != best}}
        result.verdict = zero_verdict
    elif kinds.get(result.primary) != "fine-tuned":
        result.verdict = "no fine-tuned run to compare; " + result.verdict
    out = Path(out_dir) if out_dir else Path(config.project.dir) / "reports" / time.strftime("%Y%m%d-%H%M%S")
    cp = ComparePaths(result=result, out_dir=out, zero_shot_verdict=zero_verdict)
    if write:
        cp.paths = write_report(result, out, history=read_history(registry.history_path))
    return cp


# --- joining the loop -----------------------------------------------------------------------------------


@dataclass
class JoinPlan:
    """How the current run enters the ensemble: the weights per signal, the mode used, and why."""

    run_id: str
    mode: str  # "join" | "replace"
    weights: dict[str, float]
    note: str


def held_out_rows(config, ids: list[str]) -> tuple[np.ndarray, np.ndarray | None]:
    """Rows of ``ids`` in the gold split with a submitted human label, and their targets."""
    from labeler.loop import label_matrix, load_labels

    path = split_path(config)
    if not path.exists():
        return np.zeros(0, dtype=int), None
    from training.splits import GOLD, Splits

    splits = Splits.load(path)
    gold_ids = {rid for rid, s in splits.assignment.items() if s == GOLD}
    rows, y = label_matrix(load_labels(config), ids, config.label_names, config.task.multi_label)
    if y is None:
        return rows, None
    keep = np.array([ids[r] in gold_ids for r in rows], dtype=bool)
    return rows[keep], (y[keep] if keep.any() else None)


def join_plan(config, probas: dict, run_id: str, ids: list[str]) -> JoinPlan:
    """Decide the ensemble weights once the run's matrix ``probas[run_id]`` sits beside the configured signals."""
    from labeler.ensemble import fit_weights
    from training.evaluate import paired_bootstrap

    configured = {s.name: s.weight for s in config.signals if s.name in probas}
    rows, y = held_out_rows(config, ids)
    n = 0 if y is None else len(rows)
    fallback = {**configured, run_id: 1.0}
    if n < MIN_HELD_OUT:
        why = f"only {n} held-out gold labels (< {MIN_HELD_OUT})"
        mode_note = "replace needs a comparison on gold; " if config.training.mode == "replace" else ""
        return JoinPlan(run_id, "join", fallback, f"join with configured weights, run weight 1: {mode_note}{why}")
    others = {k: v for k, v in probas.items() if k != run_id and k in configured}
    prefix = ""
    if config.training.mode == "replace":
        base = zero_shot_ensemble(config, {k: v[rows] for k, v in others.items()}) if others else None
        if base is None:
            return JoinPlan(run_id, "replace", {**{k: 0.0 for k in configured}, run_id: 1.0},
                            "replace: no other signals")
        d = paired_bootstrap(probas[run_id][rows], base, y, "accuracy", multi_label=config.task.multi_label,
                             threshold=config.task.threshold)
        ci = f"{d['diff']:+.3f} accuracy, 95% CI {d['lo']:+.3f}..{d['hi']:+.3f}, on {d['n']} gold labels"
        if d["lo"] > 0:
            return JoinPlan(run_id, "replace", {**{k: 0.0 for k in configured}, run_id: 1.0},
                            f"replace: run {run_id} beats the zero-shot ensemble ({ci})")
        prefix = f"replace refused, run {run_id} does not clearly beat the zero-shot ensemble ({ci}); "
    sub = {k: v[rows] for k, v in probas.items() if k == run_id or k in configured}
    weights = fit_weights(sub, y, multi_label=config.task.multi_label)
    shown = ", ".join(f"{k} {v:.2f}" for k, v in weights.items())
    return JoinPlan(run_id, "join", weights, f"{prefix}join: weights fitted on {n} held-out gold labels ({shown})")


def suggestion_agent(weights: dict[str, float], voted: dict[str, bool], run_id: str | None, default: str) -> str:
    """The run id when the run holds >= ``DOMINANT_SHARE`` of the weight of the signals voting on a record."""
    if not run_id or not voted.get(run_id):
        return default
    total = sum(w for name, w in weights.items() if voted.get(name) and w > 0)
    share = weights.get(run_id, 0.0) / total if total > 0 else 0.0
    return run_id if share >= DOMINANT_SHARE else default
