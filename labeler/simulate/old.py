"""Learning curves with an oracle annotator: how many human labels does each query strategy need?

Take a fully labeled data set, hide the labels, and run the loop: signals (embedding zero-shot by default)
-> ensemble -> queue (``labeler.queue.select_batch``) -> the oracle answers ONLY the queued records -> a model
is trained on the human answers -> it is scored on a FIXED held-out split that is never queried. Repeat for
``rounds`` rounds of ``batch_size`` records, for several strategies and seeds.

One round is one call of :func:`queue_request` (what to ask for), :func:`next_batch` (``select_batch`` on
it), an answer :class:`Transport`, and :func:`fit_and_score` (train on the answers, score the eval split).
Two transports move the answers:

* :class:`InProcess`: the oracle answers the batch ``next_batch`` chose, in memory;
* :class:`ViaArgilla`: the real loop: the request is written as ``scores.npz`` + ``config.queue``, then
  ``labeler.loop.push_queue`` (which calls ``select_batch`` with exactly the same arguments) pushes the
  batch to the local Argilla server, ``simulate_annotator`` answers it through the API with the held-back
  labels, and ``pull_labels`` brings the answers back. The batch Argilla received is checked against
  ``next_batch``'s, so both transports give the same curve for the same seed.

The queue after round 0 ranks by the trained model's probabilities: the model REPLACES the zero-shot
ensemble as ``P`` (``queue_with="model"``, the default), or joins it in an equal-weight mean
(``queue_with="join"``). ``disagreement`` always compares the zero-shot signals with the model.
``random`` is ``select_batch`` with ``exploration=1`` (uniform picks, seeded); it ignores cold start.
Without cold start the FIRST batch of every strategy is such a random batch (the usual random seed set);
with it, the first batch is the zero-shot ensemble's most confident record per predicted class, the rest
of the batch by the strategy on the zero-shot ``P``. Seeds change the random picks (random strategy, the
first batch without cold start, exploration) and the k-means of ``diversity``; a cold-started strategy
without exploration or diversity is deterministic, so its seeds give the same curve.

Model (default ``logreg``): logistic regression (C=10, class weights balanced over the sample weights) on
frozen MiniLM embeddings, computed once per pool and cached by the embedding signal in the project folder.
Options: the ensemble's most confident weak labels on unlabeled pool records as extra training rows with
``weak_weight`` (``weak_fraction`` of each predicted class, most confident first), self-training rounds
(the model's own confident predictions added the same way), ``model="setfit"`` (capped contrastive steps
every ``setfit_every`` rounds via ``training.setfit_backend``; the head is refitted in between).

Summaries: the area under each curve, normalised by the label range (the mean metric over the budgets
run), and labels-to-95%: the first budget at which the mean curve over seeds reaches 95% of the same model
trained on the whole labeled pool (the *reference*, computed once and cached).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import time
import warnings
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable, Sequence

import numpy as np

from labeler.errors import LabelerError

from labeler.simulate_report import (  # noqa: F401 - re-exported: the summaries are part of the API
    FRACTION_95,
    RANDOM,
    auc,
    compare_to_random,
    format_table,
    labels_to_target,
    plot,
    summarize,
    table_rows,
    write_outputs,
)

REFERENCE_FILE = "reference.json"


# -- data ---------------------------------------------------------------------------------------------
@dataclass
class SimData:
    """A labeled pool (queried) and a held-out eval split (never queried). ``y``: class indices (N,) or,
    multi-label, a 0/1 matrix (N, K). ``config``: the simulation's labeler config (pool file, signals,
    project folder); its pool is exactly ``ids`` in this order."""

    name: str
    config: object
    labels: list[str]
    multi_label: bool
    ids: list[str]
    texts: list[str]
    y: np.ndarray
    eval_ids: list[str]
    eval_texts: list[str]
    eval_y: np.ndarray
    primary: str = "accuracy"  # accuracy | spam_f1 (binary F1 of `positive`) | micro_f1
    positive: int | None = None

    @property
    def threshold(self) -> float:
        return float(self.config.task.threshold)

    @property
    def metrics(self) -> list[str]:
        names = ["accuracy", "macro_f1"]
        if self.multi_label:
            names.append("micro_f1")
        if self.positive is not None:
            names.append(f"{self.labels[self.positive]}_f1")
        return names


@dataclass
class Features:
    """Everything computed once per pool: embeddings, each signal's matrix, the zero-shot ensemble."""

    X: np.ndarray  # (N, D) pool embeddings
    X_eval: np.ndarray  # (M, D)
    signals: dict[str, np.ndarray]  # name -> (N, K) on the pool
    P0: np.ndarray  # (N, K) ensemble of the signals
    P0_eval: np.ndarray  # (M, K) ensemble on the eval split (for the zero-shot line only)


def _write_if_changed(path: Path, text: str) -> None:
    if not path.exists() or path.read_text(encoding="utf-8") != text:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")


def _rows_jsonl(rows: Sequence[tuple[str, str, object]], key: str) -> str:
    return "".join(json.dumps({"id": i, "text": t, key: y}, ensure_ascii=False) + "\n" for i, t, y in rows)


def _sim_config(raw_base: dict, pool_file: Path, project: Path, multi_label: bool, dataset_name: str):
    from labeler.config import validate_config

    raw = dict(raw_base)
    raw["data"] = {"path": str(pool_file), "text_fields": ["text"], "id_field": "id",
                   "label_field": "labels" if multi_label else "label"}
    raw["queue"] = {**raw.get("queue", {}), "exploration": 0.0, "diversity": 0.0}
    raw["queue"].pop("strategy", None)
    raw["project"] = {"dir": str(project)}
    raw["argilla"] = {**raw.get("argilla", {}), "dataset": dataset_name}
    return validate_config(raw, project / "simulate.yaml")


def dataset_data(name: str, project: str | Path | None = None, root: str | Path | None = None) -> SimData:
    """A named benchmark data set (``labeler.simulate_datasets``) as a :class:`SimData`.

    Writes ``pool.jsonl`` and ``eval.jsonl`` (and a ``simulate.yaml`` for reference) in ``project``
    (default ``<repo>/.labeler/simulate/<name>``); the config's signal is the embedding zero-shot with
    the data set's label descriptions.
    """
    from labeler.simulate_datasets import REPO, SHARED_DATASETS, get_dataset

    spec = get_dataset(name)
    root = Path(root) if root is not None else SHARED_DATASETS
    pool_rows, eval_rows = spec.load(root)
    project = Path(project) if project is not None else REPO / ".labeler" / "simulate" / name
    key = "labels" if spec.multi_label else "label"
    seen = {r.id for r in pool_rows}
    clash = [r.id for r in eval_rows if r.id in seen]
    if clash:
        raise LabelerError(f"{name}: ids {clash[:3]} are in both the pool and the eval split")
    _write_if_changed(project / "pool.jsonl", _rows_jsonl([(r.id, r.text, r.label) for r in pool_rows], key))
    _write_if_changed(project / "eval.jsonl", _rows_jsonl([(r.id, r.text, r.label) for r in eval_rows], key))
    names = sorted({lab for r in pool_rows + eval_rows for lab in (r.label if spec.multi_label else [r.label])})
    desc = spec.descriptions(root)
    raw = {"task": {"labels": [{"name": n, "description": desc.get(n)} for n in names], "multi_label": spec.multi_label},
           "signals": [{"type": "embedding", "name": "zero-shot", "params": {}}]}
    config = _sim_config(raw, project / "pool.jsonl", project, spec.multi_label, f"simulate-{name.replace('_', '-')}")
    _write_if_changed(project / "simulate.yaml", _yaml(config))
    positive = names.index(spec.positive_label) if spec.positive_label else None
    return _load(name, config, project / "eval.jsonl", spec.primary_metric, positive)


def config_data(config, eval_fraction: float = 0.2, project: str | Path | None = None) -> SimData:
    """A project config whose ``data.label_field`` is set, as a :class:`SimData`.

    Records whose truth is missing (or names no configured label) are left out. The eval split is the
    ``eval_fraction`` of records with the smallest ``sha1(id)`` (stable across runs and machines). The
    pool and eval files are written to ``project`` (default ``<project dir>/simulate``), and the
    simulation config keeps the task, signals and ensemble of ``config``.
    """
    from labeler.data import load_pool

    if not config.data.label_field:
        raise LabelerError("simulate needs a labeled data set: set data.label_field in the config (or use --dataset)")
    if not 0.0 < eval_fraction < 1.0:
        raise LabelerError(f"eval_fraction must be in (0, 1), got {eval_fraction}")
    pool = load_pool(config)
    names, ml = config.label_names, config.task.multi_label
    rows = []
    for r in pool.records:
        truth = [lab for lab in (r.labels or []) if lab in names] if ml else r.label
        if (ml and r.labels is None) or (not ml and truth not in names):
            continue
        rows.append((r.id, r.text, truth))
    if len(rows) < 10:
        raise LabelerError(f"only {len(rows)} records carry a usable label in {config.data.label_field!r}; need at least 10")
    rank = sorted(range(len(rows)), key=lambda i: (hashlib.sha1(rows[i][0].encode()).hexdigest(), i))
    held = set(rank[: max(1, int(round(eval_fraction * len(rows))))])
    project = Path(project) if project is not None else Path(config.project.dir) / "simulate"
    key = "labels" if ml else "label"
    _write_if_changed(project / "pool.jsonl", _rows_jsonl([r for i, r in enumerate(rows) if i not in held], key))
    _write_if_changed(project / "eval.jsonl", _rows_jsonl([r for i, r in enumerate(rows) if i in held], key))
    raw = config.model_dump(mode="json", include={"task", "signals", "ensemble"})
    sim = _sim_config(raw, project / "pool.jsonl", project, ml, f"simulate-{config.project.name}")
    _write_if_changed(project / "simulate.yaml", _yaml(sim))
    return _load(config.project.name or "config", sim, project / "eval.jsonl", "micro_f1" if ml else "accuracy", None)


def _yaml(config) -> str:
    import yaml

    dump = config.model_dump(mode="json", exclude_none=True)
    return "# generated by labeler simulate; the labels in pool.jsonl are hidden from the loop\n" + yaml.safe_dump(
        dump, sort_keys=False, allow_unicode=True)


def _load(name: str, config, eval_path: Path, primary: str, positive: int | None) -> SimData:
    from labeler.data import load_pool, read_pool

    pool = load_pool(config)
    ev, _ = read_pool(eval_path, "jsonl", ["text"], "id", config.data.label_field, multi_label=config.task.multi_label)
    labels, ml = config.label_names, config.task.multi_label
    return SimData(name=name, config=config, labels=labels, multi_label=ml, ids=pool.ids, texts=pool.texts,
                   y=_targets(pool.records, labels, ml), eval_ids=ev.ids, eval_texts=ev.texts,
                   eval_y=_targets(ev.records, labels, ml), primary=primary, positive=positive)


def _targets(records, labels: list[str], multi_label: bool) -> np.ndarray:
    col = {n: j for j, n in enumerate(labels)}
    if multi_label:
        Y = np.zeros((len(records), len(labels)), dtype=np.int64)
        for i, r in enumerate(records):
            for lab in r.labels or []:
                if lab in col:
                    Y[i, col[lab]] = 1
        return Y
    missing = [r.id for r in records if r.label not in col]
    if missing:
        raise LabelerError(f"records {missing[:3]} have no label from the label set")
    return np.array([col[r.label] for r in records], dtype=np.int64)


def compute_features(data: SimData, progress: bool = True) -> Features:
    """Score the pool with every configured signal (cached per record) and embed pool and eval (cached)."""
    from labeler.ensemble import weighted_mean
    from labeler.loop import build_signals, embedder, project_dir
    from labeler.signals.cache import score_cached

    config = data.config
    signals = build_signals(config)
    cache = project_dir(config) / "cache"
    emb = embedder(config, signals)
    X = emb.encode(data.texts)
    X_eval = emb.encode(data.eval_texts)
    probas = {s.name: score_cached(s, data.ids, data.texts, cache, progress=progress) for s in signals}
    probas_eval = {s.name: score_cached(s, ["eval:" + i for i in data.eval_ids], data.eval_texts, cache,
                                        progress=progress) for s in signals}
    weights = {s.name: s.weight for s in config.signals}
    kw = dict(multi_label=data.multi_label, threshold=data.threshold)
    return Features(X=X, X_eval=X_eval, signals=probas, P0=weighted_mean(probas, weights, **kw).P,
                    P0_eval=weighted_mean(probas_eval, weights, **kw).P)


# -- settings -----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Settings:
    """One simulated labeling policy (a curve is this policy over several seeds)."""

    strategy: str = "margin"
    batch_size: int = 16
    rounds: int = 10
    cold_start: bool = True
    weak_fraction: float = 0.0  # of each zero-shot-predicted class, most confident first
    weak_weight: float = 0.3
    weak_until: int | None = None  # stop adding weak labels once this many human labels exist
    self_training: int = 0  # extra fits on the model's own confident predictions
    self_training_fraction: float = 0.1
    diversity: float = 0.0
    exploration: float = 0.0
    queue_with: str = "model"  # model (replaces the zero-shot P after round 0) | join (mean with it)
    model: str = "logreg"  # logreg | setfit
    C: float = 10.0
    setfit_every: int = 3
    setfit_steps: int = 48

    @property
    def name(self) -> str:
        parts = [self.strategy]
        if self.strategy != RANDOM and self.cold_start:
            parts.append("cold")
        if self.weak_fraction > 0:
            parts.append(f"weak{self.weak_fraction:g}x{self.weak_weight:g}" + (f"<{self.weak_until}" if self.weak_until else ""))
        if self.self_training:
            parts.append(f"self{self.self_training}")
        if self.diversity > 0:
            parts.append(f"div{self.diversity:g}")
        if self.exploration > 0 and self.strategy != RANDOM:
            parts.append(f"explore{self.exploration:g}")
        if self.queue_with != "model":
            parts.append(self.queue_with)
        if self.model != "logreg":
            parts.append(self.model)
        return "+".join(parts)

    @property
    def deterministic(self) -> bool:
        """No seeded choice anywhere: a cold-started uncertainty strategy without exploration or diversity,
        trained with logistic regression. Every seed gives the same curve, so one is run."""
        return (self.strategy != RANDOM and self.cold_start and self.exploration == 0 and self.diversity == 0
                and self.model == "logreg")

    def check(self, multi_label: bool) -> None:
        from labeler.queue import MULTI_LABEL_STRATEGIES, SINGLE_LABEL_STRATEGIES

        allowed = (RANDOM, *(MULTI_LABEL_STRATEGIES if multi_label else SINGLE_LABEL_STRATEGIES))
        if self.strategy not in (RANDOM, *SINGLE_LABEL_STRATEGIES, *MULTI_LABEL_STRATEGIES):
            raise LabelerError(f"unknown strategy {self.strategy!r}; valid: {', '.join(allowed)}")
        if self.strategy not in allowed:
            kind = "multi-label" if multi_label else "single-label"
            raise LabelerError(f"strategy {self.strategy!r} does not fit a {kind} task; use one of: {', '.join(allowed)}")
        if self.batch_size <= 0 or self.rounds <= 0:
            raise LabelerError(f"batch_size and rounds must be > 0, got {self.batch_size} and {self.rounds}")
        for key in ("weak_fraction", "self_training_fraction", "diversity", "exploration"):
            if not 0.0 <= getattr(self, key) <= 1.0:
                raise LabelerError(f"{key} must be in [0, 1], got {getattr(self, key)}")
        if self.queue_with not in ("model", "join"):
            raise LabelerError(f"queue_with must be 'model' or 'join', got {self.queue_with!r}")
        if self.model not in ("logreg", "setfit"):
            raise LabelerError(f"model must be 'logreg' or 'setfit', got {self.model!r}")


# -- one round ----------------------------------------------------------------------------------------
@dataclass
class QueueRequest:
    """The arguments of one ``select_batch`` call (everything but the exclusions and the embeddings)."""

    P: np.ndarray
    signals: dict[str, np.ndarray]
    strategy: str
    exploration: float
    diversity: float
    seed: int
    cold_start: bool


def default_strategy(multi_label: bool) -> str:
    return "threshold_distance" if multi_label else "margin"


def queue_request(settings: Settings, feats: Features, model_P: np.ndarray | None, round_no: int, seed: int,
                  multi_label: bool) -> QueueRequest:
    """What round ``round_no`` (0-based) asks the queue for. ``seed + round_no`` seeds ``select_batch``,
    as ``labeler.loop.push_queue`` does with ``queue.seed + round``."""
    from labeler.ensemble import weighted_mean

    signals = dict(feats.signals)
    P = feats.P0
    if model_P is not None:
        signals["model"] = model_P
        P = model_P if settings.queue_with == "model" else weighted_mean(
            {"zero-shot": feats.P0, "model": model_P}, multi_label=multi_label).P
    if settings.strategy == RANDOM or (round_no == 0 and not settings.cold_start):
        # uniform picks: exploration=1 leaves no budget for cold start, so push_queue draws the same batch
        return QueueRequest(P, signals, default_strategy(multi_label) if settings.strategy == RANDOM
                            else settings.strategy, 1.0, 0.0, seed + round_no, False)
    return QueueRequest(P, signals, settings.strategy, settings.exploration, settings.diversity, seed + round_no,
                        settings.cold_start and round_no == 0)


def next_batch(req: QueueRequest, feats: Features, labeled: np.ndarray, batch_size: int, multi_label: bool,
               threshold: float) -> np.ndarray:
    """Pool rows to ask next: ``select_batch`` on the request, the labeled rows (bool mask) excluded."""
    from labeler.queue import select_batch

    sel = select_batch(req.P, batch_size, strategy=req.strategy, exploration=req.exploration,
                       diversity=req.diversity, embeddings=feats.X, exclude=labeled, seed=req.seed,
                       signal_probas=req.signals, cold_start=req.cold_start, multi_label=multi_label,
                       threshold=threshold)
    return np.asarray(sel.indices, dtype=np.int64)


class Oracle:
    """Knows every pool label; answers only what it is asked, and remembers what it was asked."""

    def __init__(self, y: np.ndarray):
        self._y = np.asarray(y)
        self.asked: list[int] = []

    def answer(self, indices: Sequence[int]) -> np.ndarray:
        indices = [int(i) for i in indices]
        self.asked.extend(indices)
        return self._y[indices]


class Transport:
    """How a round's batch reaches the oracle and the answers come back."""

    def exchange(self, req: QueueRequest, batch: np.ndarray, round_no: int) -> tuple[np.ndarray, np.ndarray]:
        """(answered pool rows, their targets) for the request; ``batch`` is what ``next_batch`` chose."""
        raise NotImplementedError

    def close(self) -> None:
        pass


class InProcess(Transport):
    def __init__(self, oracle: Oracle):
        self.oracle = oracle

    def exchange(self, req, batch, round_no):
        return batch, self.oracle.answer(batch)


# -- the model ----------------------------------------------------------------------------------------
def _balanced_weights(y: np.ndarray, w: np.ndarray, n_classes: int) -> np.ndarray:
    """Sample weights times sklearn's 'balanced' class weights computed from the weighted class totals
    (with unit weights this equals ``class_weight='balanced'``)."""
    totals = np.bincount(y, weights=w, minlength=n_classes)
    present = totals > 0
    cw = np.zeros(n_classes)
    cw[present] = w.sum() / (present.sum() * totals[present])
    return w * cw[y]


class LinearModel:
    """Logistic regression (``C``, class-balanced) on fixed features; ``predict_proba -> (N, K)``."""

    def __init__(self, n_labels: int, multi_label: bool, C: float = 10.0, seed: int = 0):
        self.k, self.multi_label, self.C, self.seed = n_labels, multi_label, C, seed
        self._models: list = []
        self._const: list = []

    def _lr(self):
        from sklearn.linear_model import LogisticRegression

        return LogisticRegression(C=self.C, max_iter=1000, random_state=self.seed)

    def fit(self, X: np.ndarray, y: np.ndarray, w: np.ndarray | None = None) -> "LinearModel":
        from threadpoolctl import threadpool_limits

        w = np.ones(len(X)) if w is None else np.asarray(w, dtype=np.float64)
        X = np.asarray(X, dtype=np.float64)
        with threadpool_limits(1), warnings.catch_warnings():
            warnings.filterwarnings("ignore", message="The number of unique classes")  # 77 classes, 77 labels
            if self.multi_label:
                self._models, self._const = [], []
                for j in range(self.k):
                    t = np.asarray(y[:, j], dtype=np.int64)
                    if t.min() == t.max():
                        self._models.append(None)
                        self._const.append(float(t[0]))
                    else:
                        self._models.append(self._lr().fit(X, t, sample_weight=_balanced_weights(t, w, 2)))
                        self._const.append(None)
            else:
                y = np.asarray(y, dtype=np.int64)
                self._classes = np.unique(y)
                if len(self._classes) == 1:
                    self._models = [None]
                else:
                    self._models = [self._lr().fit(X, y, sample_weight=_balanced_weights(y, w, self.k))]
        return self

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        X = np.asarray(X, dtype=np.float64)
        out = np.zeros((len(X), self.k))
        with np.errstate(all="ignore"):
            if self.multi_label:
                for j, (m, c) in enumerate(zip(self._models, self._const)):
                    out[:, j] = c if m is None else m.predict_proba(X)[:, 1]
            elif self._models[0] is None:
                out[:, self._classes[0]] = 1.0
            else:
                out[:, self._models[0].classes_] = self._models[0].predict_proba(X)
        return out


def confident_rows(P: np.ndarray, candidates: np.ndarray, fraction: float, multi_label: bool,
                   threshold: float = 0.5) -> tuple[np.ndarray, np.ndarray]:
    """(rows, targets): the most confident ``fraction`` of the candidate rows of each predicted class
    (multi-label: overall, by the distance of the least decided label from the threshold), with the
    predicted targets. Ties go to the lower row."""
    rows_all = np.flatnonzero(candidates)
    if fraction <= 0 or not len(rows_all):
        return np.zeros(0, dtype=np.int64), (np.zeros((0, P.shape[1]), dtype=np.int64) if multi_label else np.zeros(0, dtype=np.int64))
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


@dataclass
class ModelState:
    """What a run carries between rounds for the model: the SetFit body's embeddings, when fine-tuned."""

    X: np.ndarray | None = None
    X_eval: np.ndarray | None = None


def fit_and_score(data: SimData, feats: Features, settings: Settings, rows: np.ndarray, targets: np.ndarray,
                  seed: int, round_no: int, state: ModelState | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Train on the human answers (rows sorted by pool position, so the order answers arrived in never
    matters) plus weak/self-training rows; return (P on the pool, P on the eval split)."""
    order = np.argsort(rows, kind="stable")
    rows, targets = np.asarray(rows)[order], np.asarray(targets)[order]
    X, X_eval = feats.X, feats.X_eval
    if settings.model == "setfit":
        state = state if state is not None else ModelState()
        last = round_no == settings.rounds - 1
        if (round_no + 1) % settings.setfit_every == 0 or last:
            state.X, state.X_eval = _setfit_embeddings(data, rows, targets, settings.setfit_steps, seed)
        if state.X is not None:
            X, X_eval = state.X, state.X_eval
    labeled = np.zeros(len(data.ids), dtype=bool)
    labeled[rows] = True
    Xs, ys, ws = [X[rows]], [targets], [np.ones(len(rows))]
    if settings.weak_fraction > 0 and (settings.weak_until is None or len(rows) < settings.weak_until):
        wr, wy = confident_rows(feats.P0, ~labeled, settings.weak_fraction, data.multi_label, data.threshold)
        Xs.append(X[wr]), ys.append(wy), ws.append(np.full(len(wr), settings.weak_weight))
    model = LinearModel(len(data.labels), data.multi_label, settings.C, seed).fit(
        np.concatenate(Xs), np.concatenate(ys), np.concatenate(ws))
    for _ in range(settings.self_training):
        P = model.predict_proba(X)
        pr, py = confident_rows(P, ~labeled, settings.self_training_fraction, data.multi_label, data.threshold)
        model = LinearModel(len(data.labels), data.multi_label, settings.C, seed).fit(
            np.concatenate(Xs + [X[pr]]), np.concatenate(ys + [py]),
            np.concatenate(ws + [np.full(len(pr), settings.weak_weight)]))
    return model.predict_proba(X), model.predict_proba(X_eval)


def _setfit_embeddings(data: SimData, rows, targets, steps: int, seed: int):
    try:
        from training.setfit_backend import SetFitParams, train_setfit
    except ImportError as exc:
        raise LabelerError(f"--model setfit needs training.setfit_backend ({exc})") from None
    clf = train_setfit([data.texts[i] for i in rows], targets, data.labels, data.multi_label,
                       SetFitParams(max_steps=steps), seed=seed)
    return np.asarray(clf.embed(data.texts)), np.asarray(clf.embed(data.eval_texts))


# -- metrics ------------------------------------------------------------------------------------------
def score_metrics(P: np.ndarray, y: np.ndarray, data: SimData) -> dict[str, float]:
    """accuracy (exact match for multi-label), macro-F1, micro-F1 (multi-label), the positive class's F1."""
    k = len(data.labels)
    y = np.asarray(y, dtype=np.int64)
    pred = (P >= data.threshold).astype(np.int64) if data.multi_label else P.argmax(axis=1)
    out = {"accuracy": float((y == pred).all(axis=1).mean() if data.multi_label else (y == pred).mean())}
    if data.multi_label:
        tp, pp, ap = (y & pred).sum(0), pred.sum(0), y.sum(0)
    else:
        tp = np.bincount(y[y == pred], minlength=k)
        pp, ap = np.bincount(pred, minlength=k), np.bincount(y, minlength=k)
    f1 = np.where(pp + ap > 0, 2 * tp / np.maximum(pp + ap, 1), 0.0)
    present = (pp + ap) > 0
    out["macro_f1"] = float(f1[present].mean()) if present.any() else 0.0
    if data.multi_label:
        out["micro_f1"] = float(2 * tp.sum() / max(pp.sum() + ap.sum(), 1))
    if data.positive is not None:
        out[f"{data.labels[data.positive]}_f1"] = float(f1[data.positive])
    return out


def primary_metric(data: SimData) -> str:
    if data.primary == "spam_f1" and data.positive is not None:
        return f"{data.labels[data.positive]}_f1"
    return data.primary


def reference(data: SimData, feats: Features, C: float = 10.0, model: str = "logreg", setfit_steps: int = 48) -> dict:
    """The same model trained on the whole labeled pool, scored on the eval split (cached in the project).

    ``model="setfit"``: SetFit with the same capped contrastive steps on the whole pool, its head refitted
    on the fine-tuned embeddings, exactly as a simulated round would train it."""
    from labeler.loop import project_dir

    key = hashlib.sha256(json.dumps([data.ids, data.y.tolist(), data.eval_ids, data.labels, C, model, setfit_steps,
                                     feats.X[:5].round(5).tolist()]).encode()).hexdigest()[:16]
    path = project_dir(data.config) / REFERENCE_FILE
    cached = json.loads(path.read_text()) if path.exists() else {}
    if key not in cached:
        start = time.perf_counter()
        X, X_eval, name = feats.X, feats.X_eval, f"logreg C={C:g} balanced"
        if model == "setfit":
            X, X_eval = _setfit_embeddings(data, np.arange(len(data.ids)), data.y, setfit_steps, 0)
            name = f"SetFit ({setfit_steps} steps) + logreg C={C:g} balanced"
        fitted = LinearModel(len(data.labels), data.multi_label, C, 0).fit(X, data.y)
        cached[key] = {"n_labels": len(data.ids), "model": name, "seconds": round(time.perf_counter() - start, 2),
                       **score_metrics(fitted.predict_proba(X_eval), data.eval_y, data)}
        path.write_text(json.dumps(cached, indent=2))
    return cached[key]


def subsample(data: SimData, feats: Features, pool_size: int | None, eval_size: int | None,
              seed: int = 0) -> tuple[SimData, Features]:
    """A uniform random subset of the pool and of the eval split (original order kept), with the matching
    rows of the precomputed features. For models too slow to re-embed the whole pool every few rounds
    (SetFit on a CPU); the labels-to-95% reference is then the model trained on the subset pool."""
    rng = np.random.default_rng(seed)

    def pick(n_all: int, n: int | None) -> np.ndarray:
        return np.arange(n_all) if n is None or n >= n_all else np.sort(rng.choice(n_all, size=n, replace=False))

    p, e = pick(len(data.ids), pool_size), pick(len(data.eval_ids), eval_size)
    sub = dataclasses.replace(
        data, ids=[data.ids[i] for i in p], texts=[data.texts[i] for i in p], y=data.y[p],
        eval_ids=[data.eval_ids[i] for i in e], eval_texts=[data.eval_texts[i] for i in e], eval_y=data.eval_y[e])
    return sub, Features(X=feats.X[p], X_eval=feats.X_eval[e], signals={k: v[p] for k, v in feats.signals.items()},
                         P0=feats.P0[p], P0_eval=feats.P0_eval[e])


# -- running ------------------------------------------------------------------------------------------
@dataclass
class Curve:
    settings: Settings
    seed: int
    points: list[dict] = field(default_factory=list)  # one per round: round, n_labels, metrics, seconds
    selected: list[list[str]] = field(default_factory=list)  # ids asked per round, in review order

    def values(self, metric: str) -> np.ndarray:
        return np.array([p[metric] for p in self.points])

    @property
    def n_labels(self) -> np.ndarray:
        return np.array([p["n_labels"] for p in self.points])


def run_curve(data: SimData, feats: Features, settings: Settings, seed: int,
              transport: Transport | None = None, on_round: Callable[[dict], None] | None = None) -> Curve:
    """One learning curve: ``settings.rounds`` rounds of ask -> answer -> train -> score."""
    settings.check(data.multi_label)
    oracle = Oracle(data.y)
    transport = transport or InProcess(oracle)
    curve = Curve(settings, seed)
    labeled = np.zeros(len(data.ids), dtype=bool)
    rows: list[int] = []
    targets: list = []
    model_P, state = None, ModelState()
    try:
        for round_no in range(settings.rounds):
            if labeled.all():
                break
            start = time.perf_counter()
            req = queue_request(settings, feats, model_P, round_no, seed, data.multi_label)
            batch = next_batch(req, feats, labeled, settings.batch_size, data.multi_label, data.threshold)
            got_rows, got_targets = transport.exchange(req, batch, round_no)
            if labeled[got_rows].any():
                raise LabelerError(f"round {round_no}: answers for records already labeled")
            labeled[got_rows] = True
            rows.extend(int(i) for i in got_rows)
            targets.extend(list(got_targets))
            model_P, P_eval = fit_and_score(data, feats, settings, np.array(rows), np.array(targets), seed,
                                            round_no, state)
            point = {"round": round_no + 1, "n_labels": len(rows), **score_metrics(P_eval, data.eval_y, data),
                     "seconds": round(time.perf_counter() - start, 3)}
            curve.points.append(point)
            curve.selected.append([data.ids[i] for i in got_rows])
            if on_round:
                on_round(point)
    finally:
        transport.close()
    return curve


# -- the real loop through Argilla ---------------------------------------------------------------------
class ViaArgilla(Transport):
    """Answers travel through the local Argilla server: push_queue -> simulate_annotator -> pull_labels.

    Each run gets its own project folder (sharing the pool's caches through a symlink) and its own
    Argilla dataset (deleted first if a previous run left one with the same name).
    """

    def __init__(self, data: SimData, settings: Settings, seed: int, run_dir: Path, dataset_name: str):
        from labeler.loop import project_dir

        self.data, self.settings = data, settings
        run_dir = Path(run_dir)
        if run_dir.exists():
            import shutil

            shutil.rmtree(run_dir)
        run_dir.mkdir(parents=True)
        (run_dir / "cache").symlink_to(project_dir(data.config) / "cache", target_is_directory=True)
        config = data.config.model_copy(deep=True)
        config.project.dir = run_dir
        config.argilla.dataset = dataset_name
        config.queue.batch_size = settings.batch_size
        config.queue.seed = seed
        self.config = config
        self.seen: set[int] = set()
        self._delete_dataset()

    def _delete_dataset(self) -> None:
        from labeler.argilla.client import connect
        from labeler.loop import connection

        client = connect(connection(self.config))
        ds = client.datasets(name=self.config.argilla.dataset, workspace=self.config.argilla.workspace or None)
        if ds is not None:
            ds.delete()

    def exchange(self, req, batch, round_no):
        from labeler.loop import (SCORES_FILE, Scores, label_matrix, load_labels, project_dir, pull_labels,
                                  push_queue, read_state, simulate_annotator)

        config, data = self.config, self.data
        if read_state(config)["round"] != round_no:
            raise LabelerError(f"Argilla project is at round {read_state(config)['round']}, simulation at {round_no}")
        config.queue.strategy = req.strategy
        config.queue.exploration = req.exploration
        config.queue.diversity = req.diversity
        Scores(ids=list(data.ids), P=req.P, agreement=np.ones(len(data.ids)), signals=req.signals).save(
            project_dir(config) / SCORES_FILE)
        push_queue(config, progress=False)
        answered = simulate_annotator(config, self.settings.batch_size)
        pull_labels(config)
        rows, targets = label_matrix(load_labels(config), data.ids, data.labels, data.multi_label)
        new = [(int(r), t) for r, t in zip(rows, targets if targets is not None else []) if int(r) not in self.seen]
        if sorted(r for r, _ in new) != sorted(int(i) for i in batch) or answered != len(batch):
            raise LabelerError(f"round {round_no}: Argilla received a different batch than the in-process queue "
                               f"({len(new)} answered vs {len(batch)} chosen)")
        self.seen.update(r for r, _ in new)
        by_row = dict(new)
        got = np.array([by_row[int(i)] for i in batch])
        return np.asarray(batch), got.astype(np.int64)


# -- many curves, summaries, outputs -------------------------------------------------------------------
def simulate(data: SimData, variants: Sequence[Settings], seeds: Sequence[int], out_dir: str | Path | None = None,
             via_argilla: bool = False, progress: bool = True, feats: Features | None = None,
             log: Callable[[str], None] | None = None, dedupe_seeds: bool = True) -> dict:
    """Run every variant for every seed; write curves (CSV, JSON), the plot and the summary to ``out_dir``.

    A :attr:`Settings.deterministic` variant runs the first seed only (the others would repeat it) unless
    ``dedupe_seeds`` is False; its summary lists the seeds actually run."""
    if not variants or not seeds:
        raise LabelerError("simulate needs at least one strategy and one seed")
    for v in variants:
        v.check(data.multi_label)
    log = log or (lambda s: None)
    feats = feats or compute_features(data, progress=progress)
    models = {(v.model, v.C, v.setfit_steps if v.model == "setfit" else 0) for v in variants}
    if len(models) > 1:
        raise LabelerError("one model per simulation (the labels-to-95% reference is that model on the whole pool); "
                           f"got {sorted(models)}")
    ref = reference(data, feats, variants[0].C, variants[0].model, variants[0].setfit_steps)
    zero_shot = score_metrics(feats.P0_eval, data.eval_y, data)
    primary = primary_metric(data)
    log(f"{data.name}: pool {len(data.ids)}, eval {len(data.eval_ids)}, {len(data.labels)} labels; "
        f"full-pool {ref['model']}: accuracy {ref['accuracy']:.3f}"
        + (f", {primary} {ref[primary]:.3f}" if primary != "accuracy" else "") + "; "
        f"zero-shot accuracy {zero_shot['accuracy']:.3f}")
    results = []
    for v in variants:
        curves = []
        for seed in (seeds[:1] if v.deterministic and dedupe_seeds else seeds):
            start = time.perf_counter()
            transport = None
            if via_argilla:
                from labeler.loop import project_dir

                tag = f"{v.name}-s{seed}"
                safe = "".join(ch if ch.isalnum() else "-" for ch in tag).lower()
                transport = ViaArgilla(data, v, seed, project_dir(data.config) / "argilla" / safe,
                                       f"{data.config.argilla.dataset}-{safe}"[:100])
            curve = run_curve(data, feats, v, seed, transport)
            curves.append(curve)
            last = curve.points[-1]
            extra = f", {primary} {last[primary]:.3f}" if primary != "accuracy" else ""
            log(f"  {v.name} seed {seed}: {last['n_labels']} labels -> accuracy {last['accuracy']:.3f}{extra} "
                f"({time.perf_counter() - start:.1f} s)")
        results.append((v, curves, summarize(curves, data.metrics, ref, primary)))
    rand = next((s for v, _, s in results if v.strategy == RANDOM), None)
    report = {
        "dataset": data.name, "pool": len(data.ids), "eval": len(data.eval_ids), "labels": data.labels,
        "multi_label": data.multi_label, "primary_metric": primary, "metrics": data.metrics,
        "seeds": list(seeds), "via_argilla": via_argilla, "reference": ref, "zero_shot": zero_shot,
        "queue_after_round_0": "trained model's P (replaces the zero-shot ensemble; 'join' averages them)",
        "variants": [
            {"name": v.name, "settings": asdict(v), "summary": s,
             "vs_random": {m: compare_to_random(s, rand, m) for m in dict.fromkeys(["accuracy", primary])},
             "runs": [{"seed": c.seed, "curve": c.points, "selected": c.selected} for c in curves]}
            for v, curves, s in results
        ],
    }
    if out_dir is not None:
        write_outputs(report, Path(out_dir))
    return report


def variants_from(strategies: Sequence[str], cold_start: Sequence[bool] = (True,), weak: Sequence[float] = (0.0,),
                  **common) -> list[Settings]:
    """The product strategies x cold start x weak fraction (random once, without cold start or weak labels
    unless asked: it is the baseline)."""
    out: list[Settings] = []
    for strategy in strategies:
        if strategy == RANDOM:
            out.append(Settings(strategy=RANDOM, cold_start=False, **common))
            continue
        for cold in cold_start:
            for wf in weak:
                out.append(Settings(strategy=strategy, cold_start=cold, weak_fraction=wf, **common))
    return list(dict.fromkeys(out))
