"""Fine-tuned runs inside the project: when training is due, training with weak labels, the registry.

The training library is ``training/`` (the lower layer, which knows nothing of projects); this module wires
it to the project: its labels, its gold split (``labeler.evaluation.gold``), its pool and ensemble for weak labels.
Training errors (``training.errors.TrainingError``) become ``LabelerError`` here, at the boundary.
"""

from __future__ import annotations

import contextlib
import math

import numpy as np

from labeler.data import Pool
from labeler.errors import LabelerError
from labeler.evaluation.gold import CALIB, GOLD, TRAIN, GoldReserve
from labeler.loop.engine import QUEUE_MODEL_C, class_counts, short_classes, weak_rows
from labeler.loop.human_labels import label_matrix
from labeler.loop.join import zero_shot_ensemble
from labeler.loop.policy import project_policy
from labeler.project import Project
from labeler.signals.catalog import build_signals, embedding_signal
from labeler.signals.finetuned import cached_body
from labeler.signals.templated import DEFAULT_TEMPLATE, label_text
from training.backends import get_backend
from training.compare import default_metric, label_cuts
from training.errors import TrainingError
from training.evaluate import metric_name, paired_bootstrap
from training.head import LinearModel
from training.labels import load_labels
from training.lexical import Lexical
from training.registry import Registry, list_runs, set_current
from training.train import make_params, train
from training.trigger import BACKEND_FLOOR, Evidence, first_run

SHOWN_SHORT = 5  # short classes named in a message; the rest are counted


@contextlib.contextmanager
def training_errors():
    """Re-raise the training layer's one-line errors as ``LabelerError``."""

    try:
        yield
    except TrainingError as exc:
        raise LabelerError(str(exc)) from None


# -- threshold ---------------------------------------------------------------------------------------
def _train_labels(config, reserve: GoldReserve):
    """The human training labels' targets (class indices, or a 0/1 matrix multi-label), None when there are none."""
    labels = Project(config).load_labels()
    if labels is None or labels.empty:
        return None
    _, y = reserve.rows_in_split(labels["id"].astype(str).tolist(), labels, TRAIN, config.label_names,
                                 config.task.multi_label)
    return y


def train_counts(config, reserve: GoldReserve) -> dict[str, int]:
    """Human training labels per class (queue-chosen records; gold and calibration never train)."""
    y = _train_labels(config, reserve)
    if y is None:
        return {name: 0 for name in config.label_names}
    per = class_counts(y, len(config.label_names), config.task.multi_label)
    return dict(zip(config.label_names, map(int, per)))


def train_records(config, reserve: GoldReserve) -> int:
    """Human training labels as records: multi-label, a record with three labels (or none: "None of these") is one,
    where ``train_counts`` counts it under each of its labels. What a run's ``n_train`` counts."""
    y = _train_labels(config, reserve)
    return 0 if y is None else len(y)


def short_message(short: dict[str, int], n: int, shown: int = SHOWN_SHORT) -> str:
    """One line at any label count: the neediest few classes by name, the rest counted."""
    if not short:
        return f"every class has at least {n} training labels"
    ranked = sorted(short.items(), key=lambda kv: (-kv[1], kv[0]))
    named = ", ".join(f"{name} needs {k} more" for name, k in ranked[:shown])
    more = f", and {len(ranked) - shown} more classes ({sum(k for _, k in ranked[shown:])} labels)" \
        if len(ranked) > shown else ""
    return (f"not enough labels to train ({n} per class): {len(ranked)} of the classes are short, "
            f"{sum(short.values())} labels in all: {named}{more}; label more or pass --force")


def threshold(config, policy) -> tuple[bool, dict[str, int], str]:
    """``(met, short, message)`` for the policy's ``min_per_class`` over the human training labels."""
    n = policy.min_per_class
    counts = train_counts(config, policy.reserve)
    short = {config.label_names[k]: need for k, need in
             short_classes(np.array([counts[name] for name in config.label_names]), n).items()}
    return not short, short, short_message(short, n)


def fast_model_evidence(config, policy, pool=None):
    """A fast model fitted on the human training labels alone (``training.head.LinearModel``, the queue model's
    head, without weak labels: the evidence is about what the labels teach) against the zero-shot ensemble on
    the answered random reserve, gold and calibration both (neither ever trains it):
    ``training.trigger.Evidence``, or None before a scored pool, two trained-on classes or any reserve answer.
    Multi-label, as ``compare`` judges: micro-F1 (``training.verdict_metric`` where set) on gold, each model cut
    where the calibration labels say (``training.compare.label_cuts``; ``task.threshold`` while they hold too few
    positives). Embeddings come from the embedding signal's cache; zero-shot from scores.npz. ``pool``: the
    project's, when the caller has read it; None too while its records differ from the scored ones."""

    project = Project(config)
    scores = project.fitting_scores() if project.pool.exists() else None
    if scores is None:
        return None
    labels = project.load_labels()
    if labels is None or labels.empty:
        return None
    names, ml = config.label_names, config.task.multi_label
    train_rows, y_train = policy.reserve.rows_in_split(scores.ids, labels, TRAIN, names, ml)
    rows, y, answered = policy.reserve.rows_in_splits(scores.ids, labels, (GOLD, CALIB), names, ml)  # gold first
    if y_train is None or y is None or (not ml and len(np.unique(y_train)) < 2) or (ml and not answered[GOLD]):
        return None
    pool = Pool.load(project.pool) if pool is None else pool
    if pool.ids != scores.ids:  # the data changed since bootstrap scored it: the rows do not line up until it rescores
        return None
    texts = pool.texts
    emb = _embedding(config)
    model = LinearModel(len(names), ml, QUEUE_MODEL_C, policy.seed).fit(emb.encode([texts[i] for i in train_rows]),
                                                                       y_train)
    zero_shot = zero_shot_ensemble(config, scores.signals)
    P_fast = model.predict_proba(emb.encode([texts[i] for i in rows]))
    if ml:
        return _multi_label_evidence(config, P_fast, zero_shot[rows], y, answered[GOLD])
    unl = policy.reserve.unanswered(scores.ids, labels)  # prediction-powered (training.ppi)
    P_unl = model.predict_proba(emb.encode([texts[i] for i in unl])) if len(unl) else None
    d = paired_bootstrap(P_fast, zero_shot[rows], y, "accuracy", unlabeled=None if P_unl is None else
                         (P_unl, zero_shot[unl]))
    return Evidence(float(d["diff"]), float(d["lo"]), float(d["hi"]), int(d["n"]), float(d["p_value"]))


def _multi_label_evidence(config, P_fast: np.ndarray, P_zero: np.ndarray, y: np.ndarray, n_gold: int) -> Evidence:
    """``fast_model_evidence`` for multi-label, on the answered reserve's rows (its first ``n_gold`` gold, the rest
    calibration): the verdict's metric on gold, each model at cuts fitted on the calibration rows."""
    gold, calib = slice(None, n_gold), slice(n_gold, None)
    k, t = len(config.label_names), float(config.task.threshold)
    metric = config.training.verdict_metric or default_metric(True)
    d = paired_bootstrap(P_fast[gold], P_zero[gold], y[gold], metric, multi_label=True,
                         threshold=np.asarray(label_cuts(P_fast[calib], y[calib], k, t).values),
                         threshold_b=np.asarray(label_cuts(P_zero[calib], y[calib], k, t).values))
    return Evidence(float(d["diff"]), float(d["lo"]), float(d["hi"]), int(d["n"]), float(d["p_value"]),
                    metric=metric_name(metric, True))


def trigger(config, policy, backend: str | None = None, pool=None):
    """Is a run due (``training.trigger.first_run``)? Human training labels per class against the policy's
    ``min_per_class`` and the backend's floor, and the fast model's evidence on the random reserve (P(better)
    from the paired bootstrap's one-sided p-value against ``training.trigger.CONFIDENCE``). ``pool``: the
    project's, when the caller has read it."""

    backend = backend or config.training.backend
    counts = train_counts(config, policy.reserve)
    args = (counts, policy.min_per_class, BACKEND_FLOOR.get(backend, 1))
    by_count = first_run(*args, None, int(config.training.min_gold))
    if by_count.due:  # the count rule needs no evidence (first_run asks it first): skip fitting the fast model
        return by_count
    return first_run(*args, fast_model_evidence(config, policy, pool), int(config.training.min_gold))


# -- training ----------------------------------------------------------------------------------------
def weak_training_rows(config, labels_df=None, policy=None, pool=None) -> tuple[list[str], np.ndarray, float] | None:
    """(texts, targets, weight) of the weak labels for a run: the ensemble's most confident
    ``training.weak_labels.fraction`` of each predicted class among unlabeled pool records outside the gold
    reserve (``labeler.loop.engine.weak_rows``, as the queue model uses them); None when off or unavailable.
    ``policy``: the command's (built here when not given); ``pool``: the project's, when the caller has read it."""

    project = Project(config)
    policy = project_policy(config) if policy is None else policy
    scores = project.fitting_scores() if policy.weak.fraction > 0 and project.pool.exists() else None
    if scores is None:  # no weak labels before bootstrap, nor from matrices scored for other labels
        return None
    pool = Pool.load(project.pool) if pool is None else pool
    if scores.ids != pool.ids:
        return None
    labels_df = project.load_labels() if labels_df is None else labels_df
    rows, _ = label_matrix(labels_df, pool.ids, config.label_names, config.task.multi_label)
    reserve = policy.reserve.mask(pool.ids)
    n_human = int((~reserve[rows]).sum())
    excluded = reserve.copy()
    excluded[rows] = True
    wr, wy = weak_rows(zero_shot_ensemble(config, scores.signals), excluded, policy.weak, n_human, config.task.multi_label,
                       config.task.threshold)
    if not len(wr):
        return None
    return [pool[i].text for i in wr], wy, policy.weak.weight


def training_params(config, backend: str) -> dict:
    """The run's backend params: ``training.params``, and for SetFit (single- and multi-label) one more training
    example per label, "This sentence is {description}" (the humanised name where there is none), unless
    ``training.params.label_texts`` is set (``null``: none). What it gains: BENCHMARKS.md, "Few-shot variants at
    small N" and "Multi-label"."""

    params = dict(config.training.params)
    if backend == "setfit" and "label_texts" not in params:
        params["label_texts"] = [DEFAULT_TEMPLATE.format(label_text(label.name, label.description))
                                 for label in config.task.labels]
    return params


def train_project(config, backend: str | None = None, force: bool = False, n_resamples: int = 1000,
                  labels_path=None, make_current: bool = True, policy=None, final_fit: int = 0, progress=None,
                  decision=None, pool=None):
    """Train a run on the project's labels (weak labels per ``training.weak_labels``); it becomes current
    unless ``make_current`` is False. ``labels_path``: a snapshot of labels.parquet to train on instead (the
    watcher's background fine-tune, while refreshes keep rewriting the project's file). ``policy``: the
    command's (built here when not given). ``final_fit``: K folds: train on every human label, gold and
    calibration included, accuracy cross-fitted over the random reserve (``training.train``; ``progress`` is told
    after each of its K + 1 fits). ``decision``: the trigger's answer where the command asked it already (``labeler
    round`` asks before training: the fast model's evidence is fitted once a round); ``pool``: the project's, when
    the command has read it."""
    t = config.training
    project = Project(config)
    project.require_labels()
    policy = project_policy(config) if policy is None else policy
    backend = backend or t.backend
    floor = 0 if final_fit else policy.min_per_class  # the shipped model: every label, whenever asked
    if not force and not final_fit:
        decision = trigger(config, policy, backend, pool) if decision is None else decision
        if not decision.due:
            raise LabelerError(decision.reason + "; label more or pass --force")
        floor = 0  # either rule lets classes below min_per_class (or the floor) train without blocking
    # the second review's verdicts laid over the labels (corrections train, ambiguous records do not), renames applied
    labels_df = project.load_labels(path=labels_path)
    splits = policy.reserve.splits(labels_df["id"].astype(str).tolist())
    params = training_params(config, backend)
    # read once, for the weak labels and the words, where either is asked for
    if pool is None and project.pool.exists() and (policy.weak.fraction > 0 or policy.lexical):
        pool = Pool.load(project.pool)
    with training_errors():
        return train(labels_df, config.label_names, config.task.multi_label, backend=backend,
                     params=params, project_dir=project.dir, seed=t.seed, embed=body_cache(config, backend, params),
                     force=force, runs_dir=project.runs,
                     splits=splits, min_per_class=floor, n_resamples=n_resamples,
                     weak=weak_training_rows(config, labels_df, policy, pool), make_current=make_current,
                     final_fit=final_fit, threshold=config.task.threshold, progress=progress,
                     lexical=run_lexical(config, policy, backend, labels_df, bool(final_fit), pool))


def run_lexical(config, policy, backend: str, labels_df, final_fit: bool, pool=None) -> Lexical | None:
    """The pool's words for a run's head (``queue.lexical``): a vocabulary fitted on the pool's texts, as the
    queue model's, when the backend's head is linear and the human labels it trains on pass the queue model's
    rule (``Policy.lexical_weight``: every label for a final fit, those outside the random reserve otherwise);
    None otherwise (and before ``bootstrap`` has read the pool). ``pool``: the project's, when the caller has read
    it."""
    project = Project(config)
    if not policy.lexical or not get_backend(backend).linear_head or not project.pool.exists():
        return None
    pool = Pool.load(project.pool) if pool is None else pool
    names, ml = config.label_names, config.task.multi_label
    rows = (label_matrix(labels_df, pool.ids, names, ml)[0] if final_fit  # the rows the queue model counts otherwise
            else policy.reserve.rows_in_split(pool.ids, labels_df, TRAIN, names, ml)[0])
    lex = Lexical(policy.lexical_weight(len(rows), len(names))).fit(pool.texts)
    return lex if lex.terms else None


def body_cache(config, backend: str, params: dict):
    """For a ``logreg`` run whose body is the embedding signal's model: the signal's cached vectors, so training
    encodes none of its texts again (``labeler.signals.finetuned.cached_body``); None otherwise."""
    if backend != "logreg":
        return None
    p = make_params(backend, params, config.task.multi_label)
    return cached_body(_embedding(config), p.body, p.max_length)


def _embedding(config):
    """The configured embedding signal (or the default one), whose cached vectors the fast model and logreg
    runs read."""
    cache = Project(config).cache
    labels, ml = config.task.labels, config.task.multi_label
    signals = build_signals(config.signals, labels, ml, cache_dir=cache) if config.signals else []
    return embedding_signal(signals, labels, ml, cache_dir=cache)


# -- the registry ------------------------------------------------------------------------------------
def registry(config):
    return Registry(Project(config).runs)


def current_run(config):
    """The current run, or None when no run is registered or marked current."""
    reg = registry(config)
    with training_errors():
        return reg.load("current") if reg.current_id() else None


def run_mismatch(config, run) -> str | None:
    """Why ``run`` cannot serve the config's labels (the labels changed since it trained, or the task's mode),
    as one phrase; None when it can. A run that does not fit is left out of the suggestions and retrained, never
    read with the wrong columns."""
    labels, multi = getattr(run, "labels", None), getattr(run, "multi_label", config.task.multi_label)
    if run is None or labels is None:  # a stand-in without labels (tests' stubs) is taken at its word
        return None
    if bool(multi) != bool(config.task.multi_label):
        return f"run {run.run_id} is {'multi' if multi else 'single'}-label and the config is not"
    new = [n for n in config.label_names if n not in labels]
    gone = [n for n in labels if n not in config.label_names]
    if not new and not gone:
        return None
    what = "; ".join(part for part in (
        f"new: {_names(new)}" if new else "", f"no longer in the config: {_names(gone)}" if gone else "") if part)
    return f"run {run.run_id} was trained on other labels than the config's ({what})"


def _names(names: list[str], shown: int = 5) -> str:
    more = f" and {len(names) - shown} more" if len(names) > shown else ""
    return ", ".join(map(repr, names[:shown])) + more


def list_project_runs(config) -> list[dict]:
    with training_errors():
        return list_runs(Project(config).runs)


def set_current_run(config, run_id: str) -> None:
    with training_errors():
        set_current(run_id, Project(config).runs)


def labels_unchanged(config) -> str | None:
    """The current run's id when it was trained on exactly the labels on disk now."""

    run = current_run(config)
    project = Project(config)
    if run is None or not project.labels.exists() or run_mismatch(config, run):  # new labels: a retrain is due
        return None
    with training_errors():  # reviewed labels: a new second-review verdict is a change
        table = load_labels(project.load_labels(), config.label_names, config.task.multi_label)
    return run.run_id if table.fingerprint() == run.data_fingerprint else None


REENCODING_BACKENDS = ("setfit", "transformers")  # fine-tuned bodies: scoring a run encodes the whole pool again


def retrain_at(n_before: int, growth: float) -> int:  # the records that retrain a run that saw n_before
    return max(n_before + 1, math.ceil(n_before * (1 + growth) - 1e-9))


def growth_wait(config, policy, backend: str | None = None) -> tuple[str, int, int, int] | None:
    """(run id, the human training records it saw, the records now, the count that retrains it) while ``labeler
    round`` waits for ``training.retrain_after`` more labels to retrain the current run; None: it retrains on any
    change (``retrain_after`` 0, no run, one that no longer fits the labels, a final fit, another backend than the
    one to train, or a logreg run: a second's work, its pool scored from the cached embeddings)."""
    backend = backend or config.training.backend
    run = current_run(config) if config.training.retrain_after > 0 else None
    if run is None or backend not in REENCODING_BACKENDS or run.backend != backend or run_mismatch(config, run) \
            or (run.info or {}).get("final_fit"):
        return None
    before = int((run.info or {}).get("n_train") or 0)
    n, at = train_records(config, policy.reserve), retrain_at(before, config.training.retrain_after)
    return None if n >= at else (run.run_id, before, n, at)
