"""The simulation's two drivers of the one loop engine (``labeler.loop.engine``), and the per-round metrics.

* ``run_curve``: in process. Each round (``each_round``, which benchmarks also read): ``queue_matrix`` ->
  ``plan_batch`` (gold picks included) -> the oracle answers exactly the batch -> ``fit_queue_model`` on the
  human training labels plus weak labels -> the model is scored on the held-out split.
* ``run_curve_via_argilla``: the product's own commands against the local Argilla server, round after
  round: ``bootstrap`` (scores from the caches, the queue model fitted on the pulled labels), ``push_queue``,
  the simulated annotator answering through the API, ``pull_labels``. What it records is what the server
  received, so a test can check that both drivers ask for the same records and train on the same labels.

Both use one ``Policy``; both score the same queue model on the same eval split.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Callable

import numpy as np

from labeler.argilla.datasets import delete_dataset
from labeler.errors import LabelerError
from labeler.evaluation.gold import CALIB, TRAIN
from labeler.loop.engine import GOLD, TRAIN_CALIB, Policy, class_counts, fit_queue_model, plan_batch, queue_matrix
from labeler.loop.ensemble import weighted_mean
from labeler.loop.round import connection, pull_labels, push_queue, simulate_annotator
from labeler.loop.scoring import bootstrap
from labeler.loop.suggest import clicks, fewest_clicks, none_cut, suggested_none, suggestion_cuts
from labeler.project import Project
from labeler.simulate.data import Features, SimData
from training.evaluate import evaluate
from training.thresholds import predict_sets
from training.train import never_none


@dataclass
class Curve:
    policy: Policy
    seed: int
    points: list[dict] = field(default_factory=list)  # one per round: round, n_labels, n_train, metrics, seconds
    selected: list[list[str]] = field(default_factory=list)  # ids asked per round (queue picks, then gold)
    trained: list[list[str]] = field(default_factory=list)  # ids of the human training labels after each round

    def values(self, metric: str) -> np.ndarray:
        return np.array([p[metric] for p in self.points])

    @property
    def n_labels(self) -> np.ndarray:
        return np.array([p["n_labels"] for p in self.points])


# -- metrics ------------------------------------------------------------------------------------------
def score_metrics(P: np.ndarray, y: np.ndarray, data: SimData, thresholds=None, at_least_one: bool = False
                  ) -> dict[str, float]:
    """accuracy (exact match for multi-label), macro-F1, micro-F1 (multi-label), the positive class's F1:
    ``training.evaluate``'s metrics, as every report in labeler computes them. Multi-label ``P`` is cut at
    ``thresholds`` (K,) (the model's per-label cuts) or, without them, at the task's one threshold;
    ``at_least_one``: a row with nothing over its cut keeps its most probable label (``training.evaluate.predict``)."""

    cut = data.threshold if thresholds is None else np.asarray(thresholds, dtype=np.float64)
    m = evaluate(P, np.asarray(y, dtype=np.int64), data.labels, data.multi_label, threshold=cut,
                 at_least_one=at_least_one)
    out = {"accuracy": float(m["accuracy"]), "macro_f1": float(m["macro_f1"])}
    if data.multi_label:
        out["micro_f1"] = float(m["micro_f1"])
    if data.positive is not None:
        name = data.labels[data.positive]
        out[f"{name}_f1"] = float(m["per_class"][name]["f1"])
    return out


def primary_metric(data: SimData) -> str:
    if data.primary == "spam_f1" and data.positive is not None:
        return f"{data.labels[data.positive]}_f1"
    return data.primary


class Oracle:
    """Knows every pool label; answers only what it is asked, and remembers what it was asked."""

    def __init__(self, y: np.ndarray):
        self._y = np.asarray(y)
        self.asked: list[int] = []

    def answer(self, indices) -> np.ndarray:
        indices = [int(i) for i in indices]
        self.asked.extend(indices)
        return self._y[indices]


# -- in process ---------------------------------------------------------------------------------------
@dataclass
class RoundState:
    """One in-process round, after the oracle answered and the queue model was refitted (``each_round``).
    The arrays are the loop's own: read them before asking for the next round."""
    round_no: int
    batch: object  # plan_batch's Batch: indices and reasons
    labeled: np.ndarray  # (N,) asked so far, this batch included
    reserve: np.ndarray  # (N,) the random reserve
    train: np.ndarray  # rows of the human training labels (labeled, outside the reserve)
    model: object  # the queue model fitted on them (plus weak labels)
    model_P: np.ndarray  # its probabilities on the pool
    n_weak: int
    shown: dict  # multi-label: suggestion_clicks on this batch, before it was answered
    started: float  # perf_counter() when the round began


def each_round(data: SimData, feats: Features, policy: Policy, n_rounds: int, reserve=None):
    """Yield each round's ``RoundState``: plan -> answer -> fit, with ``policy`` as it is and ``reserve`` (a
    ``GoldReserve``; default ``policy.reserve``). Stops early once the pool is asked or a batch is empty."""
    ml, thr, k = data.multi_label, data.threshold, len(data.labels)
    gold_reserve = policy.reserve if reserve is None else reserve
    reserve, reserve_order = gold_reserve.draw(data.ids)
    calib = (reserve & np.array([gold_reserve.split_of(i) == CALIB for i in data.ids], dtype=bool)
             if policy.cuts_on == TRAIN_CALIB else None)  # read by the cuts only where the policy asks
    oracle = Oracle(data.y)
    labeled = np.zeros(len(data.ids), dtype=bool)
    model_P, cuts = None, thr  # the queue ranks by the zero-shot at the task's threshold until a model exists
    feats.reset()
    for round_no in range(n_rounds):
        if labeled.all():
            break
        start = time.perf_counter()
        signals = dict(feats.signals) | ({"model": model_P} if model_P is not None else {})
        train = np.flatnonzero(labeled & ~reserve)
        batch = plan_batch(policy, policy.batch_size, queue_matrix(feats.P0, model_P, policy.queue_with, ml), signals,
                           feats.X, labeled, reserve_order, reserve, class_counts(data.y[train], k, ml), round_no, ml,
                           cuts)
        if not len(batch.indices):
            break
        shown = suggestion_clicks(data, feats, model_P, batch, labeled & reserve) if ml else {}
        oracle.answer(batch.indices)
        labeled[batch.indices] = True
        train = np.flatnonzero(labeled & ~reserve)
        feats.rescore(train, data.y[train])
        held = None if calib is None else np.flatnonzero(labeled & calib)
        answered = np.flatnonzero(labeled & reserve)  # read only by Policy.prior_shift
        lexical = policy.lexical_weight(len(train), k)
        H = feats.head(lexical)[0]  # what the fast model reads (feats.X for the queue's distances)
        model, n_weak = fit_queue_model(H, train, data.y[train], feats.P0, labeled | reserve, policy, ml, thr,
                                        None if held is None else (held, data.y[held]), (answered, data.y[answered]))
        model.lexical = lexical  # the features it reads: the embeddings, and the pool's words at this weight
        model_P = model.predict_proba(H)
        cuts = model.thresholds if ml else thr
        yield RoundState(round_no, batch, labeled.copy(), reserve, train, model, model_P, n_weak, shown, start)


def run_curve(data: SimData, feats: Features, policy: Policy, rounds: int, seed: int,
              on_round: Callable[[dict], None] | None = None) -> Curve:
    """``rounds`` rounds of plan -> answer -> fit -> score with ``policy`` (its seed replaced by ``seed``)."""
    policy = Policy(**{**policy.__dict__, "seed": seed})
    ml = data.multi_label
    curve = Curve(policy, seed)
    for s in each_round(data, feats, policy, rounds):
        cuts = s.model.thresholds if ml else None
        point = {"round": s.round_no + 1, "n_labels": int(s.labeled.sum()), "n_train": len(s.train),
                 "n_weak": s.n_weak, **score_metrics(s.model.predict_proba(feats.head(s.model.lexical)[1]), data.eval_y,
                                                     data, cuts),
                 **ships_metrics(data, feats, policy, s.labeled, s.reserve, s.model),
                 **s.shown, "seconds": round(time.perf_counter() - s.started, 3)}
        curve.points.append(point)
        curve.selected.append([data.ids[i] for i in s.batch.indices])
        curve.trained.append([data.ids[i] for i in s.train])
        if on_round:
            on_round(point)
    return curve


def ships_metrics(data: SimData, feats: Features, policy: Policy, labeled: np.ndarray, reserve: np.ndarray,
                  queue_model) -> dict[str, float]:
    """"What ships" at this budget (``ships_<metric>``): the final fit (``labeler train --final-fit`` with the
    logreg backend) trains on every human label, the answered gold and calibration records included, with the same
    weak labels, and reads the pool's words beside the embeddings as the queue model's rule says for that many
    labels (``Policy.lexical_weight``); the queue model keeps the reserve apart. Without a gold share both are the
    same model, which is not refitted. Multi-label, it predicts as the shipped run does: at its cuts, and at least
    its most probable label where no human label set was empty (``training.train.never_none``: GoEmotions, whose
    "neutral" is a label)."""

    rows = np.flatnonzero(labeled)
    lexical = policy.lexical_weight(len(rows), len(data.labels))
    if not (labeled & reserve).any() and lexical == getattr(queue_model, "lexical", 0.0):
        model = queue_model
    else:
        none = np.zeros(0, dtype=np.int64)  # it trains on the calibration rows: none is held out for its cuts
        final = replace(policy, prior_shift=0.0)  # the final fit has no queue-model prior shift
        model, _ = fit_queue_model(feats.head(lexical)[0], rows, data.y[rows], feats.P0, labeled | reserve, final,
                                   data.multi_label, data.threshold, (none, data.y[none]))
    one = data.multi_label and never_none(data.y[rows])
    m = score_metrics(model.predict_proba(feats.head(lexical)[1]), data.eval_y, data,
                      model.thresholds if data.multi_label else None, at_least_one=one)
    return {f"ships_{k}": v for k, v in m.items()}


def suggestion_clicks(data: SimData, feats: Features, model_P: np.ndarray | None, batch, reserve_labeled: np.ndarray
                      ) -> dict[str, float]:
    """Multi-label: the clicks (options toggled: labels added or removed, and "None of these") an annotator needs on
    this round's queued records (the ones the queue shows first; gold picks left out) to fix the pre-selected
    suggestion, against an empty form (where a record with no label takes one click: "None of these"). The
    suggestion matrix is the zero-shot signals' mean with the fast model joined at equal weight (what ``labeler
    push`` shows before gold weights exist), cut by ``labeler.loop.suggest.suggestion_cuts`` and ``none_cut``
    fitted on the labeled random reserve; ``clicks_half`` is the old rule (every label >= 0.5, at least the top
    one); ``clicks_without_none``: the same suggestion with "None of these" never pre-selected; ``clicks_fewest``:
    the fewest clicks ``pull`` reads as the answer (``fewest_clicks``: a wrong pre-selection left beside the option
    that overrides it); ``suggested_none``: the share of those records whose form starts with "None of these", and
    ``none_right`` the share whose form starts with it rightly (the record carries no label): over rounds,
    ``none_right / suggested_none`` is how often a pre-selected "None of these" is right."""

    queued = np.array([i for i, r in zip(batch.indices, batch.reasons) if r != GOLD], dtype=np.int64)
    if not len(queued):
        return {}
    mats = dict(feats.signals) | ({"fast-model": model_P} if model_P is not None else {})
    S = weighted_mean(mats, multi_label=True, threshold=data.threshold).P
    rows = np.flatnonzero(reserve_labeled)
    cuts = suggestion_cuts(S, rows, data.y[rows])
    truth = data.y[queued]
    suggested = np.zeros_like(truth) if cuts is None else predict_sets(S[queued], cuts)
    none = suggested_none(S[queued], suggested, none_cut(S, rows, data.y[rows], cuts))
    half = predict_sets(S[queued], data.threshold)
    half[np.arange(len(queued)), S[queued].argmax(axis=1)] = 1
    return {"clicks": float(clicks(suggested, truth, none).mean()),
            "clicks_without_none": float(clicks(suggested, truth).mean()),
            "clicks_fewest": float(fewest_clicks(suggested, truth, none).mean()),
            "clicks_empty": float(clicks(0 * truth, truth).mean()),
            "clicks_half": float(clicks(half, truth).mean()), "suggested": float(suggested.sum(axis=1).mean()),
            "suggested_none": float(none.mean()), "none_right": float((none & (truth.sum(axis=1) == 0)).mean())}


# -- through the real server ----------------------------------------------------------------------------
def run_curve_via_argilla(data: SimData, feats: Features, policy: Policy, rounds: int, seed: int, run_dir: Path,
                          dataset_name: str, on_round: Callable[[dict], None] | None = None) -> Curve:
    """The same rounds with the product's commands through the local Argilla server (small pools only).

    The run gets its own project folder (sharing the pool's caches through a symlink) and its own dataset
    (deleted first if a previous run left one). ``policy`` (its seed replaced by ``seed``) is handed to
    ``bootstrap`` and ``push_queue`` as it is: the config's queue fields are not consulted. The queue model
    is read back from the project after each pull and scored on the eval split exactly as ``run_curve``
    scores its own.
    """
    import shutil

    import joblib

    run_dir = Path(run_dir)
    if run_dir.exists():
        shutil.rmtree(run_dir)
    run_dir.mkdir(parents=True)
    (run_dir / "cache").symlink_to(Project(data.config).cache, target_is_directory=True)
    config = data.config.model_copy(deep=True)
    config.project.dir = run_dir
    config.training.runs_dir = run_dir / "runs"
    config.argilla.dataset = dataset_name
    policy = Policy(**{**policy.__dict__, "seed": seed})
    delete_dataset(connection(config), dataset_name, config.argilla.workspace)
    curve = Curve(policy, seed)
    project = Project(config)
    asked: set[str] = set()
    reserve, _ = policy.reserve.draw(data.ids)
    bootstrap(config, progress=False, policy=policy)
    for round_no in range(rounds):
        start = time.perf_counter()
        push_queue(config, progress=False, policy=policy)
        answered = simulate_annotator(config, policy.batch_size).answered
        if not answered:
            break
        pull_labels(config)
        labels = project.load_labels()
        now = [str(i) for i in labels["id"]]
        new = [i for i in now if i not in asked]
        asked.update(new)
        bootstrap(config, progress=False, policy=policy)
        split = policy.reserve.splits(now)
        train = sorted((i for i in now if split[i] == TRAIN), key=data.ids.index)
        model = joblib.load(project.queue_model)
        labeled = np.isin(np.asarray(data.ids), now)
        point = {"round": round_no + 1, "n_labels": len(now), "n_train": len(train),
                 **score_metrics(model.predict_proba(feats.head(getattr(model, "lexical", 0.0))[1]), data.eval_y, data,
                                 getattr(model, "thresholds", None) if data.multi_label else None),
                 **ships_metrics(data, feats, policy, labeled, reserve, model),
                 "seconds": round(time.perf_counter() - start, 3)}
        curve.points.append(point)
        curve.selected.append(new)
        curve.trained.append(train)
        if on_round:
            on_round(point)
    if not curve.points:
        raise LabelerError("the simulated annotator answered nothing; is the pool labeled?")
    return curve
