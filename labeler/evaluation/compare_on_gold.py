"""``compare``: every configured signal, their ensemble and the chosen runs on the random gold labels.

Gold is the human labels on records drawn uniformly at random from the pool (``labeler.evaluation.gold``), so the
accuracies reported estimate accuracy on the pool itself. Single-label, the calibration labels (the reserve's
other split) count too, since nothing fitted on them moves an argmax (``gold.verdict_splits``; not where a
compared run trained or early-stopped on them): every metric and the verdict are scored on gold + calibration,
and ECE, which a run's temperature (fitted on calibration) does change, on gold alone. A verdict (beats / worse
/ no clear difference) is given only with at least ``training.min_gold`` of those labels; below that the report
says how many more are needed. The report (Markdown + JSON) is written before any plot; a plot that fails is a
warning line.

A single-label accuracy verdict also scores every system on up to ``gold.PPI_UNLABELED`` reserve records nobody
answered yet (``unanswered_reserve``: random like gold, free to score) and reports the prediction-powered gain
(``training.ppi``, from 100 answered records on): the models' own expected gain there, corrected on the answered
records; unbiased, and 20-24% narrower than the plain interval on AG News and BANKING77 (BENCHMARKS.md
"Interval coverage").

The verdict metric is ``training.verdict_metric``; unset, accuracy for single-label and micro-F1 for
multi-label. Multi-label systems are judged at per-label cuts fitted on the calibration labels (the random
reserve's other split, ``labeler.evaluation.gold``), each system on its own matrix; with fewer than
``training.compare.MIN_CALIB_POSITIVES`` positive labels there, every label is cut at ``task.threshold`` and
the report says so.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from labeler.data.load import load_pool
from labeler.errors import LabelerError
from labeler.evaluation.gold import CALIB, GOLD, GoldReserve, enough_gold, verdict_splits
from labeler.loop.join import SUGGESTIONS, joined_on_gold, zero_shot_ensemble
from labeler.loop.ensemble import StackedEnsemble
from labeler.loop.human_labels import discarded
from labeler.loop.runs import registry, run_mismatch, training_errors
from labeler.loop.scoring import build_signals, run_signal, score_run, training_rows
from labeler.project import Project
from labeler.signals.cache import score_cached
from training.compare import below_trivial, compare, default_metric, label_cuts, majority_note
from training.evaluate import evaluate
from training.registry import PRUNED

ZERO_SHOT_TYPES = {"embedding", "nli", "summarize"}
RULE_TYPES = {"keywords", "entities"}

_UNREAD = object()  # a label table the caller did not read (None is a project before its first pull)


def kind_of(signal_type: str) -> str:
    if signal_type == "finetuned":
        return "fine-tuned"
    if signal_type in RULE_TYPES:
        return "rules"
    return "zero-shot" if signal_type in ZERO_SHOT_TYPES else signal_type


@dataclass
class Gold:
    ids: list[str]
    texts: list[str]
    y: np.ndarray | None


def gold_set(config, reserve: GoldReserve, split: str = GOLD, labels=_UNREAD) -> Gold:
    """The submitted human labels of the gold split (random records, never trained on), or of ``split``.
    ``labels``: the project's label table, when the caller has read it."""
    labels = Project(config).load_labels() if labels is _UNREAD else labels
    if labels is None or labels.empty:
        return Gold([], [], None)
    ids = labels["id"].astype(str).tolist()
    rows, y = reserve.rows_in_split(ids, labels, split, config.label_names, config.task.multi_label)
    texts = labels["text"].tolist()
    return Gold([ids[r] for r in rows], [texts[r] for r in rows], y)


def unanswered_reserve(config, reserve: GoldReserve, pool=None, labels=_UNREAD) -> Gold:
    """Up to ``gold.PPI_UNLABELED`` random reserve records nobody answered yet (``GoldReserve.unanswered``): where
    a single-label accuracy verdict reads the models' expected gain (``training.ppi``). ``pool`` and ``labels``: the
    project's, when the caller has read them."""
    pool = load_pool(config) if pool is None else pool
    labels = Project(config).load_labels() if labels is _UNREAD else labels
    ids, texts = pool.ids, pool.texts
    rows = reserve.unanswered(ids, labels)
    return Gold([ids[r] for r in rows], [texts[r] for r in rows], None)


def verdict_metric(config) -> str:
    """``training.verdict_metric``, else accuracy (single-label) or micro-F1 (multi-label)."""

    return config.training.verdict_metric or default_metric(config.task.multi_label)


def calibration_cuts(config, calib: Gold, calib_probas: dict) -> dict:
    """Multi-label: each system's per-label cuts (``training.compare.label_cuts``) fitted on its matrix over
    the calibration labels ``calib``, or ``task.threshold`` for every label where they hold too few positives
    (or there are none); {} for single-label."""

    if not config.task.multi_label:
        return {}
    k, t = len(config.label_names), float(config.task.threshold)
    return {n: label_cuts(P if calib.ids else None, calib.y, k, t, default_name="task.threshold")
            for n, P in calib_probas.items()}


def signal_probas(config, ids: list[str], texts: list[str], progress: bool = False, signals=None) -> tuple[dict, dict]:
    """Every configured signal's matrix on ``texts`` (through the cache) and each one's kind (``signals``: built
    from the config when not given)."""

    cache = Project(config).cache
    probas, kinds = {}, {}
    for sig in build_signals(config) if signals is None else signals:
        probas[sig.name] = score_cached(sig, ids, texts, cache, progress=progress)
        kinds[sig.name] = kind_of(getattr(sig, "type_name", ""))
    return probas, kinds


@dataclass
class ComparePaths:
    result: object
    out_dir: Path
    paths: dict = field(default_factory=dict)
    zero_shot_verdict: str | None = None
    enough: bool = False
    warnings: list[str] = field(default_factory=list)
    n_gold: int = 0  # the gold labels scored
    n_calib: int = 0  # the calibration labels scored with them (0 where the verdict is on gold alone)
    gold_only: str = ""  # why calibration is left out (multi-label, or a run that trained on it), "" where it counts
    positives: tuple[int, int] | None = None  # multi-label: (records answered "None of these", label positives)
    joined: str | None = None  # how the suggestions row joined the current run (``_suggestions``), None without it
    left_out: list[str] = field(default_factory=list)  # runs not scored on gold, and why (final fits trained on it)
    weak: list[str] = field(default_factory=list)  # zero-shot signals below a model that reads no text (``below_trivial``)
    majority: str | None = None  # single-label, one label most of the records: what always answering it scores
    discarded: int = 0  # random reserve records annotators discarded: not scored (the estimates cover the answered)
    ensemble: str | None = None  # ensemble.method stacked: what the ensemble row was stacked on (``_ensemble``)

    def discarded_note(self) -> str:
        n = self.discarded
        return (f"{n} random reserve record{'s were' if n != 1 else ' was'} discarded by annotators and "
                f"{'are' if n != 1 else 'is'} not scored: the estimates cover the records answered (a discarded "
                "record is often a hard one)")

    def positives_note(self) -> str:
        """Multi-label: what micro-F1 rests on, e.g. "9 carry a label (46 'None of these'), 10 label positives"."""
        if self.positives is None:
            return ""
        none, pos = self.positives
        n = self.n_gold + self.n_calib
        return f"{n - none} carry a label ({none} 'None of these'), {pos} label positive{'s' * (pos != 1)}"


def evaluation_note(n_gold: int, n_calib: int, counted: bool) -> str:
    """What the verdict is scored on: "92 random labels (gold 61 + calibration 31)", or "61 random gold labels"."""
    return f"{n_gold + n_calib} random labels (gold {n_gold} + calibration {n_calib})" if counted else \
        f"{n_gold} random gold labels"


def gold_only_ece(result, systems_gold: dict, y_gold, config) -> None:
    """ECE on the gold labels alone for every system (a run's temperature is fitted on calibration)."""
    for name, P in systems_gold.items():
        n = 0 if y_gold is None else len(y_gold)
        result.systems[name].metrics["ece"] = evaluate(P, y_gold, config.label_names, False)["ece"] if n else float("nan")
        result.systems[name].metrics["ece_n"] = n


def _ensemble(config, probas: dict, reserve, labels) -> tuple[np.ndarray, str | None]:
    """The ensemble row: the signals' weighted mean, or, with ``ensemble.method: stacked``, the stack fitted as
    ``bootstrap`` fits it before a run exists: on the human training labels (never gold), over the signals'
    pool matrices in ``scores.npz``. The note says what it was stacked on, or why it fell back."""
    P = zero_shot_ensemble(config, probas)
    if config.ensemble.method != "stacked":
        return P, None
    names = [s.name for s in config.signals if s.name in probas]
    scores = Project(config).fitting_scores()
    if scores is None or any(n not in scores.signals for n in names):
        return P, "the signals' weighted mean: run `labeler bootstrap` to score the pool the stack is fitted on"
    rows, y, _ = training_rows(config, scores.ids, labels, reserve)
    if y is None or not len(rows):
        return P, "the signals' weighted mean: no training labels to stack on yet"
    stack = StackedEnsemble(multi_label=config.task.multi_label, cv_folds=config.ensemble.cv_folds,
                            min_labels=config.ensemble.min_labels_for_stacking, threshold=config.task.threshold,
                            weights={s.name: s.weight for s in config.signals if s.name in probas})
    out = stack.fit({n: scores.signals[n][rows] for n in names}, y).predict({n: probas[n] for n in names})
    return out.P, f"stacked on {len(rows)} human training labels (never on gold)" + (f"; {out.note}" if out.note else "")


def _suggestions(config, reserve, scored: dict, kinds: dict, run_id: str | None, gold) -> str | None:
    """Add the suggestions annotators are shown once the current run ``run_id`` joins the signals
    (``labeler.loop.join.joined_on_gold``: weights cross-fitted on gold) to ``scored`` as ``SUGGESTIONS``; return
    how they were joined, or why there is no such row (None: no current run, or no signal to join it with)."""
    if run_id is None:
        return None
    if config.training.mode != "join":
        return f"not scored: training.mode {config.training.mode} (the run's own suggestions once it wins)"
    if config.ensemble.method != "weighted_mean":
        return f"not scored: ensemble.method {config.ensemble.method} (only the weighted mean's join is scored)"
    fit = enough_gold(config, reserve, len(gold.ids), purpose="to fit the join weights")[0]
    joined = joined_on_gold(config, scored, run_id, len(gold.ids), gold.y, fit)
    if joined is None:
        return None
    scored[SUGGESTIONS], kinds[SUGGESTIONS] = joined[0], "joined"
    return joined[1]


def compare_project(config, run_ids: list[str] | None = None, all_runs: bool = False, out_dir: str | Path | None = None,
                    n_resamples: int = 1000, write: bool = True, progress: bool = False,
                    reserve: GoldReserve | None = None, pool=None) -> ComparePaths:
    """Every configured signal, their ensemble and the chosen runs on the gold split -> report files.

    Runs: ``run_ids`` if given, else every run with ``all_runs``, else the current run (if any). The headline
    verdict is the primary run (the current one, else the first) against the strongest zero-shot system,
    given only when the labels it is scored on (``gold.verdict_splits``: gold + calibration single-label, else
    gold) number ``training.min_gold``. ``reserve``: the command's (``policy.reserve``; read from the project
    when not given); ``pool``: the project's, when the command has read it. The label table is read once.
    """

    if reserve is None:
        from labeler.loop.policy import project_reserve

        reserve = project_reserve(config)
    labels = Project(config).load_labels()
    gold, calib = gold_set(config, reserve, labels=labels), gold_set(config, reserve, CALIB, labels)
    reg = registry(config)
    with training_errors():
        if run_ids is None:
            run_ids = reg.run_ids() if all_runs else ([reg.current_id()] if reg.current_id() else [])
        runs = {rid: reg.load(rid) for rid in run_ids}
    # a final fit trained on these very gold labels: scored on them it would read near perfect
    final = [rid for rid, run in runs.items() if (run.info or {}).get("final_fit")]
    left_out = [f"run {rid} (a final fit: it trained on the gold labels; its cross-fitted metrics are in `labeler "
                "runs` and its model card)" for rid in final]
    stale = {rid: why for rid, run in runs.items() if (why := run_mismatch(config, run))}
    left_out += [f"{why}: it cannot be scored on them" for why in stale.values()]
    pruned = [rid for rid, run in runs.items() if run.info.get(PRUNED) and rid not in final and rid not in stale]
    left_out += [f"run {rid} (its model was deleted by `labeler runs --prune`; its metrics are in `labeler runs`)"
                 for rid in pruned]
    runs = {rid: run for rid, run in runs.items() if rid not in final and rid not in stale and rid not in pruned}
    run_ids = list(runs)
    signals = build_signals(config)  # a configured fine-tuned signal is a run too: its argmax is checked the same way
    signals_runs = [sig.run for sig in signals if getattr(sig, "type_name", "") == "finetuned"]
    splits, gold_only = verdict_splits(config, list(runs.values()) + signals_runs)
    counted = CALIB in splits
    current = reg.current_id()
    if gold_only and all_runs and current in runs and CALIB in verdict_splits(config, [runs[current], *signals_runs])[0]:
        gold_only += "; without --all-runs the current run's verdict counts the calibration labels too"
    n_gold, n_calib = len(gold.ids), len(calib.ids)
    ok, why = enough_gold(config, reserve, n_gold, n_calib if counted else None, ids=Project(config).pool_ids())
    if not gold.ids and not (counted and calib.ids):
        raise LabelerError(f"no random gold labels yet; {why}")
    if not (counted or config.task.multi_label):
        calib = Gold([], [], None)
    # the calibration labels are scored with gold, in one pass: counted (single-label) or for the cuts (multi-label);
    # single-label accuracy also scores unanswered reserve records, the prediction-powered verdict's other side
    powered = not config.task.multi_label and verdict_metric(config) == "accuracy"
    unl = unanswered_reserve(config, reserve, pool, labels) if powered else Gold([], [], None)
    n_eval = len(gold.ids) + len(calib.ids)
    ids, texts = gold.ids + calib.ids + unl.ids, gold.texts + calib.texts + unl.texts
    probas, kinds = signal_probas(config, ids, texts, progress, signals)
    scored = dict(probas)
    ensemble_note = None
    if len(probas) > 1:
        scored["ensemble"], ensemble_note = _ensemble(config, probas, reserve, labels)
        kinds["ensemble"] = "ensemble"
    with training_errors():
        for rid, run in runs.items():
            # as bootstrap scores a run: a logreg run from the embedding signal's cached vectors, any other through
            # the prediction cache, where bootstrap's rows of the pool (the reserve among them) are found
            scored[rid] = score_run(run_signal(config, rid, signals, run), ids, texts, Project(config).cache, progress)
            kinds[rid] = "fine-tuned"
    joined_note = _suggestions(config, reserve, scored, kinds, current if current in runs else None, gold)
    unlabeled = {name: P[n_eval:] for name, P in scored.items()} if unl.ids else None
    scored = {name: P[:n_eval] for name, P in scored.items()}
    if counted:
        y = gold.y if not calib.ids else calib.y if not gold.ids else np.concatenate([gold.y, calib.y])
        systems, cuts = scored, {}
    else:
        y, systems = gold.y, {name: P[:n_gold] for name, P in scored.items()}
        cuts = calibration_cuts(config, calib, {name: P[n_gold:] for name, P in scored.items()})
    primary = current if current in run_ids else (run_ids[0] if run_ids else None)
    named = dict(named=evaluation_note(n_gold, n_calib, True), records="random records (gold + calibration)") \
        if counted else {}  # the verdict lines and the rule name the labels they were scored on
    result = compare(systems, y, config.label_names, config.task.multi_label, kinds=kinds, primary=primary,
                     metric=verdict_metric(config), n_resamples=n_resamples, threshold=config.task.threshold,
                     cuts=cuts, unlabeled=unlabeled, **named)
    if counted:
        gold_only_ece(result, {name: P[:n_gold] for name, P in scored.items()}, gold.y, config)
    if config.training.verdict_metric:
        result.rule += " (training.verdict_metric)"
    elif config.task.multi_label:
        result.rule += " (micro-F1: the multi-label default; training.verdict_metric chooses another)"
    zs = [n for n in result.diffs if kinds.get(n) == "zero-shot"]
    zero_verdict = None
    result.min_gold, result.enough_gold = int(config.training.min_gold), ok
    if not ok:
        result.verdicts = {k: f"no verdict: {why}" for k in result.verdicts}
        result.verdict = f"no verdict: {why}"
    elif kinds.get(result.primary) == "fine-tuned" and zs:
        best = min(zs, key=lambda o: (np.nan_to_num(result.diffs[o]["diff"], nan=np.inf), o))
        zero_verdict = result.verdicts[best]
        result.verdicts = {best: zero_verdict, **{k: v for k, v in result.verdicts.items() if k != best}}
        result.verdict = zero_verdict
    elif kinds.get(result.primary) == "fine-tuned" and set(result.diffs) - {SUGGESTIONS}:
        # the headline is against the signals (or other runs), never the suggestions the run itself is part of
        best = min(set(result.diffs) - {SUGGESTIONS},
                   key=lambda o: (np.nan_to_num(result.diffs[o]["diff"], nan=np.inf), o))
        result.verdict = result.verdicts[best]
    elif kinds.get(result.primary) != "fine-tuned":
        result.verdict = "no fine-tuned run to compare; " + result.verdict
    weak = below_trivial(result, y)
    _, discarded_reserve = discarded(labels, reserve)
    majority = majority_note(result, y, verdict_metric(config)) if y is not None else None
    out = Path(out_dir) if out_dir else Project(config).reports / time.strftime("%Y%m%d-%H%M%S")
    cp = ComparePaths(result=result, out_dir=out, zero_shot_verdict=zero_verdict, enough=ok, n_gold=n_gold,
                      n_calib=n_calib if counted else 0, gold_only=gold_only, joined=joined_note, left_out=left_out, weak=weak,
                      majority=majority, discarded=discarded_reserve,
                      ensemble=ensemble_note,
                      positives=(int((np.asarray(y).sum(axis=1) == 0).sum()), int(np.asarray(y).sum()))
                      if config.task.multi_label and y is not None and len(y) else None)
    if write:
        from training.evaluate import read_history
        from training.report import write_report

        note = (f"{evaluation_note(n_gold, n_calib, counted)}: human labels on records drawn uniformly at random from "
                "the pool (never trained on)")
        note += ("; ECE on the gold labels alone (a run's temperature is fitted on calibration)" if counted else
                 f"; calibration left out ({gold_only})" if gold_only and not config.task.multi_label else "")
        notes = ([f"ensemble: {ensemble_note}"] if ensemble_note else []) \
            + ([f"{SUGGESTIONS}: {joined_note}"] if joined_note else []) + [f"left out: {why}" for why in left_out] \
            + [f"warning: {line}" for line in weak] + ([f"note: {majority}"] if majority else []) \
            + ([f"note: {cp.discarded_note()}"] if discarded_reserve else [])
        cp.paths = write_report(result, out, history=read_history(reg.history_path), gold_note=note, notes=notes)
        cp.warnings = list(cp.paths.pop("warnings", []) or [])
    return cp
