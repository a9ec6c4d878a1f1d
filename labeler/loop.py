"""The weak-labeling loop as plain functions: score the pool, push the next queue, pull the answers.

State lives in the project folder (``config.project.dir``):

- ``pool.parquet``, ``rejects.jsonl``  the usable records and what could not be used (``labeler.data``)
- ``cache/``                           per-signal prediction caches and text embeddings (``signals.cache``)
- ``scores.npz``                       ids, every signal's matrix, the ensemble's ``P`` and agreement
- ``labels.parquet``, ``responses.parquet``  human answers (``labeler.argilla.pull``)
- ``state.json``                       the round counter
- ``splits.json``, ``runs/``, ``reports/``  training splits, the run registry, comparison reports
  (``labeler.finetune``); the current run joins the signals at ``bootstrap``

Which records are already in Argilla, and which are answered, is always read from the server, never
remembered locally, so a failed push can never leave a record marked as pushed.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from labeler.errors import LabelerError

SCORES_FILE = "scores.npz"
LABELS_FILE = "labels.parquet"
STATE_FILE = "state.json"


@dataclass
class Scores:
    """Everything the queue and push need, rows aligned with ``ids``."""

    ids: list[str]
    P: np.ndarray  # (N, K) ensemble
    agreement: np.ndarray  # (N,)
    signals: dict[str, np.ndarray]  # name -> (N, K), NaN rows = abstain
    method: str = "weighted_mean"
    weights: dict[str, float] = field(default_factory=dict)  # the ensemble's weights (empty: all 1)
    run_id: str | None = None  # the fine-tuned run among ``signals``, if one joined
    note: str | None = None  # how the run joined (labeler.finetune.join_plan)

    def save(self, path: Path) -> None:
        arrays = {f"signal::{name}": mat for name, mat in self.signals.items()}
        meta = json.dumps({"weights": self.weights, "run_id": self.run_id, "note": self.note})
        tmp = path.with_suffix(f".{os.getpid()}.tmp.npz")  # per process: `torchrun` runs several
        np.savez(tmp, ids=np.array(self.ids, dtype=object), P=self.P, agreement=self.agreement,
                 method=np.array(self.method), meta=np.array(meta), **arrays)
        tmp.replace(path)

    @classmethod
    def load(cls, path: Path) -> "Scores":
        if not path.exists():
            raise LabelerError(f"no scores at {path}; run `labeler bootstrap` first")
        with np.load(path, allow_pickle=True) as data:
            signals = {k.split("::", 1)[1]: data[k] for k in data.files if k.startswith("signal::")}
            meta = json.loads(str(data["meta"])) if "meta" in data.files else {}
            return cls(ids=list(data["ids"]), P=data["P"], agreement=data["agreement"], signals=signals,
                       method=str(data["method"]), weights=meta.get("weights") or {}, run_id=meta.get("run_id"),
                       note=meta.get("note"))


def project_dir(config) -> Path:
    path = Path(config.project.dir)
    path.mkdir(parents=True, exist_ok=True)
    return path


def read_state(config) -> dict:
    path = project_dir(config) / STATE_FILE
    return json.loads(path.read_text()) if path.exists() else {"round": 0}


def write_state(config, state: dict) -> None:
    path = project_dir(config) / STATE_FILE
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(state, indent=2))
    tmp.replace(path)


# --- signals -------------------------------------------------------------------------------------------


def build_signals(config) -> list:
    from labeler.signals.registry import build_signal

    if not config.signals:
        raise LabelerError("the config lists no signals; add at least one under `signals:` (e.g. type: embedding)")
    cache = project_dir(config) / "cache"
    return [build_signal(s.type, s.name, config.task.labels, config.task.multi_label, s.params, cache_dir=cache)
            for s in config.signals]


def embedder(config, signals: list):
    """The embedding signal that provides vectors (Argilla's "Find similar", queue diversity)."""
    for sig in signals:
        if getattr(sig, "type_name", "") == "embedding":
            return sig
    from labeler.signals.registry import build_signal

    return build_signal("embedding", "embedding", config.task.labels, config.task.multi_label, {},
                        cache_dir=project_dir(config) / "cache")


def load_labels(config):
    """The pulled label table (pandas), or None before the first pull."""
    path = project_dir(config) / LABELS_FILE
    if not path.exists():
        return None
    import pandas as pd

    return pd.read_parquet(path)


def label_matrix(labels_df, ids: list[str], label_names: list[str], multi_label: bool):
    """Rows of ``ids`` that have a submitted human label, and their targets (class index or 0/1 matrix)."""
    if labels_df is None or labels_df.empty:
        return np.zeros(0, dtype=int), None
    sub = labels_df[labels_df["status"] == "submitted"]
    pos = {rid: i for i, rid in enumerate(ids)}
    col = {name: j for j, name in enumerate(label_names)}
    rows, targets = [], []
    for rid, label, labels in zip(sub["id"], sub["label"], sub["labels"]):
        if rid not in pos:
            continue
        if multi_label:
            vec = np.zeros(len(label_names))
            for lab in list(labels if labels is not None else []):
                if lab in col:
                    vec[col[lab]] = 1
            rows.append(pos[rid])
            targets.append(vec)
        elif label in col:
            rows.append(pos[rid])
            targets.append(col[label])
    return np.array(rows, dtype=int), (np.array(targets) if rows else None)


def run_signal(config, run_id: str):
    """The run ``run_id`` as a signal named by its id (``labeler.signals.finetuned``)."""
    from labeler.finetune import runs_root
    from labeler.signals.registry import build_signal

    return build_signal("finetuned", run_id, config.task.labels, config.task.multi_label,
                        {"run": run_id, "runs_dir": str(runs_root(config))}, cache_dir=project_dir(config) / "cache")


MIN_LABELS_FOR_TEMPERATURE = 10


def fit_embedding_temperatures(config, signals: list, ids: list[str], texts: list[str]) -> dict[str, float]:
    """Fit each embedding signal's softmax temperature on the human labels (NLL), once enough exist.

    Skipped for a signal whose config sets ``temperature`` explicitly, and below
    ``MIN_LABELS_FOR_TEMPERATURE`` labels. The new temperature changes the signal's fingerprint, so its
    predictions are recomputed from the cached embeddings (cheap). Returns signal name -> fitted T.
    """
    from labeler.signals.embedding import fit_temperature

    rows, y = label_matrix(load_labels(config), ids, config.label_names, config.task.multi_label)
    if y is None or len(rows) < MIN_LABELS_FOR_TEMPERATURE:
        return {}
    explicit = {s.name for s in config.signals if "temperature" in (s.params or {})}
    fitted = {}
    for sig in signals:
        if getattr(sig, "type_name", "") != "embedding" or sig.name in explicit:
            continue
        cos = sig.cosines([texts[i] for i in rows])
        temperature = float(fit_temperature(cos, y, multi_label=config.task.multi_label))
        sig.params = sig.params.model_copy(update={"temperature": temperature})
        fitted[sig.name] = temperature
    return fitted


def bootstrap(config, progress: bool = True):
    """Load the pool, score it with every signal (cached per record), combine; save ``scores.npz``.

    When the registry has a current run it is scored too and joins the ensemble as ``training.mode`` says
    (``labeler.finetune.join_plan``: fitted weights, or replacing the zero-shot signals).
    """
    from labeler.data import load_pool
    from labeler.ensemble import StackedEnsemble, weighted_mean
    from labeler.finetune import current_run, join_plan
    from labeler.signals.cache import score_cached

    pool = load_pool(config)
    signals = build_signals(config)
    cache = project_dir(config) / "cache"
    ids, texts = pool.ids, pool.texts
    fit_embedding_temperatures(config, signals, ids, texts)
    probas = {sig.name: score_cached(sig, ids, texts, cache, progress=progress) for sig in signals}
    weights = {s.name: s.weight for s in config.signals}
    run, note = current_run(config), None
    if run is not None:
        if run.run_id in probas:
            raise LabelerError(f"a configured signal is named like the current run {run.run_id!r}; rename it")
        probas[run.run_id] = score_cached(run_signal(config, run.run_id), ids, texts, cache, progress=progress)
        plan = join_plan(config, probas, run.run_id, ids)
        weights, note = plan.weights, plan.note
    ens = weighted_mean(probas, weights, multi_label=config.task.multi_label, threshold=config.task.threshold)
    if config.ensemble.method == "stacked":
        rows, y = label_matrix(load_labels(config), ids, config.label_names, config.task.multi_label)
        if run is not None:  # the run has seen its training labels: stack on held-out labels only
            from labeler.finetune import held_out_rows

            rows, y = held_out_rows(config, ids)
        if y is not None:
            stacked = StackedEnsemble(multi_label=config.task.multi_label, cv_folds=config.ensemble.cv_folds,
                                      min_labels=config.ensemble.min_labels_for_stacking, weights=weights)
            stacked.fit({n: m[rows] for n, m in probas.items()}, y)
            ens = stacked.predict(probas)
    scores = Scores(ids=ids, P=ens.P, agreement=ens.agreement, signals=probas, method=ens.method,
                    weights={k: float(v) for k, v in weights.items()}, run_id=run.run_id if run else None, note=note)
    scores.save(project_dir(config) / SCORES_FILE)
    return pool, scores


# --- push ---------------------------------------------------------------------------------------------


def dataset_spec(config, signal_names: list[str], vector_dim: int | None):
    from labeler.argilla.schema import DatasetSpec

    return DatasetSpec(
        name=config.argilla.dataset,
        labels=config.label_names,
        multi_label=config.task.multi_label,
        text_fields=list(config.data.text_fields),
        descriptions={k: v for k, v in config.label_descriptions.items() if v},
        signal_names=signal_names,
        vector_dim=vector_dim,
        workspace=config.argilla.workspace,
    )


def connection(config):
    from labeler.argilla.client import resolve

    return resolve(config.argilla.url, config.argilla.api_key_env)


def suggestion(p: np.ndarray, labels: list[str], multi_label: bool, threshold: float):
    """(value, score) for one ensemble row: the top label, or every label over the threshold (at least one)."""
    if not multi_label:
        k = int(np.argmax(p))
        return labels[k], float(p[k])
    picked = [k for k in np.argsort(-p) if p[k] >= threshold] or [int(np.argmax(p))]
    return [labels[k] for k in picked], [float(p[k]) for k in picked]


def push_queue(config, progress: bool = True):
    """Push the next batch (selected by the configured strategy) and refresh every pending record.

    Review order (the ``priority`` metadata, 1 first): records queued earlier and still unanswered, by
    their refreshed uncertainty, then the new batch in the order the queue chose it.

    Each suggestion's agent is ``ensemble`` (``ensemble-stacked``), or the current run's id where the run
    holds at least 90% of the weight of the signals voting on the record (``labeler.finetune.suggestion_agent``;
    always the case under ``training.mode: replace``). Answered records are never re-sent.
    """
    from labeler.argilla.push import PushRecord, push
    from labeler.argilla.schema import META_AGREEMENT, META_PRIORITY, META_ROUND, META_UNCERTAINTY, signal_meta
    from labeler.data import load_pool
    from labeler.finetune import RUN_META_NAME, suggestion_agent
    from labeler.queue import select_batch

    pool = load_pool(config)
    scores = Scores.load(project_dir(config) / SCORES_FILE)
    if scores.ids != pool.ids:
        raise LabelerError("scores are out of date with the pool; run `labeler bootstrap` again")
    signals = build_signals(config)
    emb = embedder(config, signals).encode(pool.texts)
    names = [s.name for s in signals] + ([RUN_META_NAME] if scores.run_id else [])
    spec = dataset_spec(config, names, int(emb.shape[1]))
    conn = connection(config)

    present, answered = _server_view(conn, spec)
    labeled = load_labels(config)
    done = answered | (set(labeled["id"]) if labeled is not None else set())
    pending_old = [i for i, rid in enumerate(scores.ids) if rid in present and rid not in done]
    exclude = np.array([rid in present or rid in done for rid in scores.ids])
    q = config.queue
    # The queue is topped up to batch_size pending records: pushing again before anyone answers adds
    # nothing (only refreshes), so repeated pushes are idempotent.
    n_new = max(0, q.batch_size - len(pending_old))
    sel = select_batch(scores.P, max(1, n_new), strategy=q.strategy, exploration=q.exploration, diversity=q.diversity,
                       embeddings=emb, exclude=exclude, seed=q.seed + read_state(config)["round"],
                       signal_probas=scores.signals, cold_start=labeled is None or labeled.empty,
                       multi_label=config.task.multi_label, threshold=config.task.threshold)
    uncertainty = np.asarray(sel.all_scores, dtype=float)  # the strategy's score for every record
    sel.indices = sel.indices[:n_new]
    order = sorted(pending_old, key=lambda i: (-uncertainty[i], i)) + [int(i) for i in sel.indices]
    state = read_state(config)
    round_no = state["round"] + (1 if len(sel.indices) else 0)
    new = {int(i) for i in sel.indices}
    ens_agent = "ensemble" if scores.method == "weighted_mean" else f"ensemble-{scores.method}"
    weights = scores.weights or {name: 1.0 for name in scores.signals}
    records = []
    for rank, i in enumerate(order, start=1):
        rec = pool.records[i]
        value, score = suggestion(scores.P[i], config.label_names, config.task.multi_label, config.task.threshold)
        meta = {META_UNCERTAINTY: float(uncertainty[i]), META_PRIORITY: rank, META_AGREEMENT: float(scores.agreement[i])}
        if i in new:
            meta[META_ROUND] = round_no
        voted = {name: not np.isnan(mat[i]).all() for name, mat in scores.signals.items()}
        for name, mat in scores.signals.items():
            if voted[name]:
                meta[signal_meta(RUN_META_NAME if name == scores.run_id else name)] = \
                    config.label_names[int(np.nanargmax(mat[i]))]
        agent = suggestion_agent(weights, voted, scores.run_id, ens_agent)
        records.append(PushRecord(id=rec.id, fields=rec.fields, value=value, score=score, agent=agent,
                                  metadata=meta, vector=emb[i].tolist()))
    report = push(conn, spec, records, progress=progress)
    if new:
        state["round"] = round_no
        write_state(config, state)
    return report


def _server_view(conn, spec) -> tuple[set[str], set[str]]:
    """(ids present in Argilla, ids answered there); empty sets before the dataset exists."""
    from labeler.argilla.client import connect
    from labeler.argilla.push import answered_ids

    client = connect(conn)
    dataset = client.datasets(name=spec.name, workspace=spec.workspace or None)
    if dataset is None:
        return set(), set()
    return answered_ids(conn, dataset.id)


# --- pull and status ------------------------------------------------------------------------------------


def pull_labels(config):
    from labeler.argilla.pull import pull

    spec = dataset_spec(config, [s.name for s in config.signals], None)
    return pull(connection(config), spec, project_dir(config))


def status(config) -> dict:
    """Counts for ``labeler status``: pool, scored, pushed, labeled per class, agreement, threshold."""
    from labeler.data import Pool, POOL_FILE

    pdir = project_dir(config)
    out: dict = {"project": str(pdir), "round": read_state(config)["round"]}
    pool_path = pdir / POOL_FILE
    out["pool"] = len(Pool.load(pool_path)) if pool_path.exists() else None
    scores_path = pdir / SCORES_FILE
    out["scored"] = len(Scores.load(scores_path).ids) if scores_path.exists() else 0
    labels = load_labels(config)
    per_class = {name: 0 for name in config.label_names}
    if labels is not None:
        sub = labels[labels["status"] == "submitted"]
        for label, labs in zip(sub["label"], sub["labels"]):
            for lab in (list(labs) if config.task.multi_label else [label]):
                if lab in per_class:
                    per_class[lab] += 1
        out["discarded"] = int((labels["status"] == "discarded").sum())
        out["conflicts"] = int((labels["status"] == "conflict").sum())
        agree = labels["agreement"].dropna()
        out["mean_agreement"] = float(agree.mean()) if len(agree) else None
    out["labeled_per_class"] = per_class
    out["labeled"] = sum(per_class.values()) if not config.task.multi_label else (
        int((labels["status"] == "submitted").sum()) if labels is not None else 0)
    min_per_class = config.training.min_per_class
    short = {k: min_per_class - v for k, v in per_class.items() if v < min_per_class}
    out["training_threshold"] = {"min_per_class": min_per_class, "met": not short, "short": short}
    try:
        present, answered = _server_view(connection(config), dataset_spec(config, [], None))
        out["pushed"], out["answered_in_argilla"] = len(present), len(answered)
    except LabelerError as exc:
        out["pushed"], out["server"] = None, str(exc)
    return out


# --- one round -----------------------------------------------------------------------------------------


def run_round(config, backend: str | None = None, force: bool = False, progress: bool = True, echo=print) -> dict:
    """Pull, train when the threshold is met (and the labels changed), re-score, push; ``echo`` each step.

    Returns ``{"pulled", "trained" (run id or None), "train_note", "scores", "push"}``.
    """
    from labeler import finetune

    out: dict = {"pulled": None, "trained": None, "train_note": None}
    echo("[1/4] pull")
    try:
        report = pull_labels(config)
        out["pulled"] = report
        echo("  " + report.summary())
    except LabelerError as exc:
        if "not found" not in str(exc):
            raise
        echo(f"  nothing to pull: {exc}")
    echo("[2/4] train")
    met, short, message = finetune.threshold(config)
    if not (met or force):
        out["train_note"] = message
        echo(f"  not training: {message}")
    else:
        unchanged = _labels_unchanged(config)
        if unchanged and not force:
            out["train_note"] = f"labels unchanged since run {unchanged}; not retraining"
            echo(f"  {out['train_note']}")
        else:
            run = finetune.train_project(config, backend=backend, force=force)
            out["trained"] = run.run_id
            for line in finetune.describe_run(run):
                echo("  " + line)
            try:
                cmp = finetune.compare_project(config, run_ids=[run.run_id], write=False)
                echo("  verdict: " + cmp.result.verdict)
            except LabelerError as exc:
                echo(f"  no comparison: {exc}")
    echo("[3/4] bootstrap")
    pool, scores = bootstrap(config, progress=progress)
    out["scores"] = scores
    echo(f"  scored {len(scores.ids)} records with {', '.join(scores.signals)} ({scores.method})")
    if scores.note:
        echo(f"  {scores.note}")
    echo("[4/4] push")
    out["push"] = push_queue(config, progress=progress)
    echo("  " + out["push"].summary())
    return out


def _labels_unchanged(config) -> str | None:
    """The current run's id when it was trained on exactly the labels on disk now."""
    from labeler.finetune import current_run, labels_path
    from training.labels import load_labels as load_label_table

    run = current_run(config)
    if run is None:
        return None
    table = load_label_table(labels_path(config), config.label_names, config.task.multi_label)
    return run.run_id if table.fingerprint() == run.data_fingerprint else None


# --- simulated annotator --------------------------------------------------------------------------------


def simulate_annotator(config, n: int) -> int:
    """Answer the ``n`` highest-priority pending records through the Argilla API with held-back labels."""
    import argilla as rg

    from labeler.argilla.client import connect
    from labeler.argilla.schema import META_PRIORITY, QUESTION
    from labeler.data import load_pool

    pool = load_pool(config)
    truth = {r.id: (r.labels if config.task.multi_label else r.label) for r in pool.records}
    if not any(v for v in truth.values()):
        raise LabelerError("--simulate-annotator needs held-back labels: set data.label_field in the config")
    client = connect(connection(config))
    dataset = client.datasets(name=config.argilla.dataset, workspace=config.argilla.workspace or None)
    if dataset is None:
        raise LabelerError(f"dataset {config.argilla.dataset!r} not found; push first")
    me = client.me.id
    pending = [r for r in dataset.records(with_responses=True) if not r.responses and truth.get(r.id)]
    pending.sort(key=lambda r: (r.metadata.get(META_PRIORITY) or 10**9, r.id))
    chosen = pending[:n]
    for rec in chosen:
        rec.responses.add(rg.Response(QUESTION, truth[rec.id], user_id=me, status="submitted"))
    if chosen:
        dataset.records.log(chosen, batch_size=len(chosen))
    return len(chosen)
