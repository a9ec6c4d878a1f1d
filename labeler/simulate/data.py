"""The labeled data a simulation runs on, and what is computed once per pool.

``SimData``: a labeled pool (queried) and a held-out eval split (never queried), from a shared benchmark data
set (``dataset_data``) or a project config whose ``data.label_field`` is set (``config_data``).
``Features``: embeddings, each signal's matrix and the zero-shot ensemble, computed once per pool and cached
by the signals in the simulation's project folder. ``subsample`` takes a fixed random subset of both.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np

from labeler.config import validate_config
from labeler.data import load_pool, read_pool
from labeler.errors import LabelerError
from labeler.loop.join import zero_shot_ensemble
from labeler.loop.scoring import MIN_LABELS_FOR_TEMPERATURE, build_signals, embedder, score_signals
from labeler.project import Project
from labeler.signals.cache import score_cached
from labeler.simulate.datasets import REPO, SHARED_DATASETS, get_dataset
from training.lexical import Lexical


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
    """What the loop computes per pool: embeddings, each signal's matrix and the zero-shot ensemble ``P0``.

    ``rescore(rows, y)`` repeats the product's "score" step after each round (embedding temperatures refitted
    on the human training labels, ``labeler.loop.scoring.score_signals``); ``reset()`` goes back to round 0.
    """

    X: np.ndarray  # (N, D) pool embeddings
    X_eval: np.ndarray  # (M, D)
    signals: dict[str, np.ndarray]  # name -> (N, K) on the pool
    P0: np.ndarray  # (N, K) ensemble of the signals
    P0_eval: np.ndarray  # (M, K) ensemble on the eval split (for the zero-shot line only)
    data: "SimData | None" = None
    objects: list = dataclasses.field(default_factory=list)  # the signal objects (their temperatures change)
    initial: dict = dataclasses.field(default_factory=dict)  # name -> params at round 0
    heads: dict = dataclasses.field(default_factory=dict)  # lexical weight -> (pool, eval) head features

    def head(self, lexical: float = 0.0) -> tuple:
        """(pool, eval) features of the fast model's head: the embeddings, with the lexical block beside them when
        ``lexical`` > 0 (``training.lexical``: a vocabulary of the pool's texts, as ``labeler round`` fits it)."""
        if not lexical or self.data is None:
            return self.X, self.X_eval
        if lexical not in self.heads:
            lex = Lexical(lexical).fit(self.data.texts)
            self.heads[lexical] = (lex.features(self.X, self.data.texts),
                                   lex.features(self.X_eval, self.data.eval_texts))
        return self.heads[lexical]

    def reset(self) -> None:
        for sig in self.objects:
            sig.params = self.initial[sig.name]
        if self.objects:
            self.rescore(np.zeros(0, dtype=np.int64), None)

    def rescore(self, rows: np.ndarray, y) -> None:
        if not self.objects or (y is not None and len(rows) < MIN_LABELS_FOR_TEMPERATURE and not self._fitted()):
            return
        data = self.data
        self.signals = score_signals(data.config, self.objects, data.ids, data.texts, rows, y)
        self.P0 = zero_shot_ensemble(data.config, self.signals)

    def _fitted(self) -> bool:
        return any(sig.params != self.initial[sig.name] for sig in self.objects)


def _write_if_changed(path: Path, text: str) -> None:
    if not path.exists() or path.read_text(encoding="utf-8") != text:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")


def _rows_jsonl(rows: Sequence[tuple[str, str, object]], key: str) -> str:
    return "".join(json.dumps({"id": i, "text": t, key: y}, ensure_ascii=False) + "\n" for i, t, y in rows)


def _sim_config(raw_base: dict, pool_file: Path, project: Path, multi_label: bool, dataset_name: str):
    raw = dict(raw_base)
    raw["data"] = {"path": str(pool_file), "text_fields": ["text"], "id_field": "id",
                   "label_field": "labels" if multi_label else "label"}
    raw["project"] = {"dir": str(project)}
    raw["argilla"] = {**raw.get("argilla", {}), "dataset": dataset_name}
    return validate_config(raw, project / "simulate.yaml")


def dataset_data(name: str, project: str | Path | None = None, root: str | Path | None = None) -> SimData:
    """A named benchmark data set (``labeler.simulate.datasets``) as a :class:`SimData`.

    Writes ``pool.jsonl`` and ``eval.jsonl`` (and a ``simulate.yaml`` for reference) in ``project``
    (default ``<repo>/.labeler/simulate/<name>``); the config's signal is the embedding zero-shot with
    the data set's label descriptions.
    """

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
    project = Path(project) if project is not None else Project(config).simulate
    key = "labels" if ml else "label"
    _write_if_changed(project / "pool.jsonl", _rows_jsonl([r for i, r in enumerate(rows) if i not in held], key))
    _write_if_changed(project / "eval.jsonl", _rows_jsonl([r for i, r in enumerate(rows) if i in held], key))
    raw = config.model_dump(mode="json", include={"task", "signals", "ensemble", "queue", "training"})
    raw["training"].pop("runs_dir", None)
    sim = _sim_config(raw, project / "pool.jsonl", project, ml, f"simulate-{config.project.name}")
    _write_if_changed(project / "simulate.yaml", _yaml(sim))
    return _load(config.project.name or "config", sim, project / "eval.jsonl", "micro_f1" if ml else "accuracy", None)


def _yaml(config) -> str:
    import yaml

    dump = config.model_dump(mode="json", exclude_none=True)
    return "# generated by labeler simulate; the labels in pool.jsonl are hidden from the loop\n" + yaml.safe_dump(
        dump, sort_keys=False, allow_unicode=True)


def _load(name: str, config, eval_path: Path, primary: str, positive: int | None) -> SimData:
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

    config = data.config
    signals = build_signals(config)
    cache = Project(config).ensure().cache
    emb = embedder(config, signals)
    X = emb.encode(data.texts)
    X_eval = emb.encode(data.eval_texts)
    probas = {s.name: score_cached(s, data.ids, data.texts, cache, progress=progress) for s in signals}
    probas_eval = {s.name: score_cached(s, ["eval:" + i for i in data.eval_ids], data.eval_texts, cache,
                                        progress=progress) for s in signals}
    return Features(X=X, X_eval=X_eval, signals=probas, P0=zero_shot_ensemble(config, probas),
                    P0_eval=zero_shot_ensemble(config, probas_eval), data=data, objects=signals,
                    initial={s.name: s.params for s in signals})


def subsample(data: SimData, feats: Features, pool_size: int | None, eval_size: int | None,
              seed: int = 0) -> tuple[SimData, Features]:
    """A uniform random subset of the pool and of the eval split (original order kept), with the matching
    rows of the precomputed features, for quick runs on large pools; the labels-to-95% reference is then
    the model trained on the subset pool."""
    rng = np.random.default_rng(seed)

    def pick(n_all: int, n: int | None) -> np.ndarray:
        return np.arange(n_all) if n is None or n >= n_all else np.sort(rng.choice(n_all, size=n, replace=False))

    p, e = pick(len(data.ids), pool_size), pick(len(data.eval_ids), eval_size)
    sub = dataclasses.replace(
        data, ids=[data.ids[i] for i in p], texts=[data.texts[i] for i in p], y=data.y[p],
        eval_ids=[data.eval_ids[i] for i in e], eval_texts=[data.eval_texts[i] for i in e], eval_y=data.eval_y[e])
    return sub, Features(X=feats.X[p], X_eval=feats.X_eval[e], signals={k: v[p] for k, v in feats.signals.items()},
                         P0=feats.P0[p], P0_eval=feats.P0_eval[e], data=sub, objects=feats.objects,
                         initial=feats.initial)
