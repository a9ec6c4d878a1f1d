"""Score the pool: every signal (cached per record), the current run joined, the ensemble, the queue model.

``bootstrap(config)`` is the "score" step of every round; it writes ``scores.npz`` (``labeler.loop.pool_matrices``) and the
queue model (``labeler.loop.engine.fit_queue_model``) fitted on the human training labels plus weak labels.
"""

from __future__ import annotations

import shutil

import numpy as np

from labeler.data import load_pool
from labeler.errors import LabelerError
from labeler.evaluation.gold import CALIB, GOLD, TRAIN, GoldReserve
from labeler.loop.engine import TRAIN_CALIB, fit_queue_model
from labeler.loop.ensemble import StackedEnsemble, weighted_mean
from labeler.loop.human_labels import label_matrix, outside_pool, outside_pool_note
from labeler.loop.join import zero_shot_ensemble
from labeler.loop.policy import project_policy
from labeler.loop.pool_matrices import Scores
from labeler.loop.runs import current_run, run_mismatch
from labeler.project import Project
from labeler.signals.cache import distributed, refitted_caches, score_cached
from labeler.signals.catalog import build_signals as build, embedding_signal
from labeler.signals.cosine_calibration import fit_temperature
from labeler.signals.finetuned import FinetunedSignal
from training.lexical import Lexical

MIN_LABELS_FOR_TEMPERATURE = 10
FAST_MODEL = "fast-model"  # the queue model's name when it joins the suggestions (``ensemble.fast_model``)


def build_signals(config) -> list:
    if not config.signals:
        raise LabelerError("the config lists no signals; add at least one under `signals:` (e.g. type: embedding)")
    return build(config.signals, config.task.labels, config.task.multi_label, cache_dir=Project(config).cache)


def embedder(config, signals: list):
    """The embedding signal that provides vectors (Argilla's "Find similar", diversity, the queue model)."""
    return embedding_signal(signals, config.task.labels, config.task.multi_label, cache_dir=Project(config).cache)


def reading_lines(config, texts: list[str]) -> list[str]:
    """What each embedding signal reads of the texts past its model's token limit (``EmbeddingSignal.reading_note``;
    the queue model and logreg runs read the same vectors): a line for ``bootstrap`` and ``round``."""
    notes = [s.reading_note(texts) for s in build_signals(config) if hasattr(s, "reading_note")]
    return [n for n in notes if n]


def run_signal(config, run_id: str, signals: list | None = None, run=None):
    """The run ``run_id`` as a signal named by its id (``labeler.signals.finetuned``; ``run``: the run, loaded
    already). With the command's ``signals``, a ``logreg`` run scores from the embedding signal's cached vectors
    (``share_encoder``; in ``bootstrap``, ``score_run``)."""
    project = Project(config)
    sig = FinetunedSignal(run_id, config.task.labels, config.task.multi_label,
                          {"run": run_id, "runs_dir": str(project.runs)}, project.cache, run=run)
    if signals is not None:
        sig.share_encoder(embedder(config, signals))
    return sig


def training_rows(config, ids: list[str], labels_df, reserve: GoldReserve | None = None
                  ) -> tuple[np.ndarray, np.ndarray | None, np.ndarray]:
    """(rows, targets) of the human training labels (queue-chosen, outside the gold reserve) and the mask of
    every labeled row (any split). ``reserve``: the command's (``policy.reserve``); read from the project
    when a caller outside a command has none."""
    if reserve is None:
        from labeler.loop.policy import project_reserve

        reserve = project_reserve(config)
    labeled = np.zeros(len(ids), dtype=bool)
    labeled[label_matrix(labels_df, ids, config.label_names, config.task.multi_label)[0]] = True
    rows, y = reserve.rows_in_split(ids, labels_df, TRAIN, config.label_names, config.task.multi_label)
    return rows, y, labeled


def fit_embedding_temperatures(config, signals: list, texts: list[str], y) -> dict[str, float]:
    """Fit each embedding signal's softmax temperature (NLL) on human training labels (``texts``, ``y``),
    once ``MIN_LABELS_FOR_TEMPERATURE`` exist; skipped for a signal whose config sets ``temperature``.

    Gold labels are never passed here, so the signals are still judged on records they were not fitted to.
    The new temperature changes the signal's fingerprint; its predictions come from the cached embeddings.
    """

    if y is None or len(texts) < MIN_LABELS_FOR_TEMPERATURE:
        return {}
    explicit = {s.name for s in config.signals if "temperature" in (s.params or {})}
    fitted = {}
    for sig in signals:
        if getattr(sig, "type_name", "") != "embedding" or sig.name in explicit:
            continue
        temperature = float(fit_temperature(sig.cosines(list(texts)), y, multi_label=config.task.multi_label))
        sig.params = sig.params.model_copy(update={"temperature": temperature})
        fitted[sig.name] = temperature
    return fitted


def score_signals(config, signals: list, ids: list[str], texts: list[str], rows, y, progress: bool = False,
                  persist_fitted: bool = False) -> dict:
    """The "score" step: temperatures fitted on the human training rows (``rows`` of ``texts``, targets
    ``y``), then every signal's matrix through the prediction cache, except a signal whose temperature was just
    refitted: it is computed from its cached embeddings without storing one prediction cache per round (same
    numbers, no disk churn). ``persist_fitted``: through the cache all the same (``bootstrap`` under ``accelerate
    launch``, whose shards split the work)."""

    fitted = fit_embedding_temperatures(config, signals, [texts[i] for i in rows], y)
    cache = Project(config).ensure().cache
    return {sig.name: (np.asarray(sig.predict_proba(list(texts)), dtype=np.float64)
                       if sig.name in fitted and not persist_fitted
                       else score_cached(sig, ids, texts, cache, progress=progress)) for sig in signals}


def score_run(sig, ids: list[str], texts: list[str], cache, progress: bool = False,
              vectors: np.ndarray | None = None) -> np.ndarray:
    """The current run's (N, K) matrix on the pool. A run that scores from the embedding signal's cached vectors
    (``shares_encoder``; ``vectors``: those of ``texts``, when read already) is scored again each round, in one
    matrix product, with no prediction cache (writing 10,003 rows and reading them back cost more than the head:
    BENCHMARKS.md "Round times"); only the texts its body must encode itself (past a token limit) go through the
    cache. Any other run: ``score_cached``."""
    if not sig.shares_encoder:
        return score_cached(sig, ids, texts, cache, progress=progress)
    P, rest = sig.predict_shared(texts, vectors)
    if len(rest):
        P[rest] = score_cached(sig, [ids[i] for i in rest], [texts[i] for i in rest], cache, progress=progress)
    return P


def combine(config, probas: dict, ids: list[str], labels_df, run_id: str | None, reserve: GoldReserve,
            final_fit: bool = False):
    """(ensemble, weights, note): the weighted mean (weights from ``join_plan`` when a run joined), or the
    stacked ensemble once enough labels exist (fitted on gold when a run has seen the training labels).
    ``final_fit``: the joined run trained on gold (``join_plan`` keeps the configured weights)."""

    weights, note = {s.name: s.weight for s in config.signals}, None
    if run_id is not None:
        from labeler.loop.join import join_plan

        plan = join_plan(config, probas, run_id, ids, reserve, labels_df, final_fit=final_fit)
        weights, note = plan.weights, plan.note
    ens = weighted_mean(probas, weights, multi_label=config.task.multi_label, threshold=config.task.threshold)
    if config.ensemble.method == "stacked":
        if run_id is not None:
            rows, y = reserve.rows_in_split(ids, labels_df, GOLD, config.label_names, config.task.multi_label)
        else:
            rows, y, _ = training_rows(config, ids, labels_df, reserve)
        if y is not None:
            stacked = StackedEnsemble(multi_label=config.task.multi_label, cv_folds=config.ensemble.cv_folds,
                                      min_labels=config.ensemble.min_labels_for_stacking, weights=weights)
            stacked.fit({n: m[rows] for n, m in probas.items()}, y)
            ens = stacked.predict(probas)
    return ens, weights, note


def bootstrap(config, progress: bool = True, policy=None, pool=None):
    """Load the pool, score it with every signal (cached per record), combine, fit the queue model; save
    ``scores.npz``. When the registry has a current run it is scored too and joins as ``training.mode`` says.
    A signal whose temperature was refitted on the new labels is computed from its cached embeddings, not written
    to a prediction cache of its own: its temperature changes with every round's labels, so nothing would read it
    again (a round wrote 6.8 MB on BANKING77, 162 MB in 22 rounds). Under ``accelerate launch`` it still goes
    through the cache, whose shards split the work between the processes (``labeler.signals.cache``).
    ``policy``: the command's (``labeler.loop.policy.project_policy``, built here when not given); ``pool``: the
    command's ``load_pool``, when it has read it."""

    project = Project(config).ensure()
    policy = project_policy(config) if policy is None else policy
    pool = load_pool(config) if pool is None else pool
    labels_df = project.load_labels()
    signals = build_signals(config)
    ids, texts = pool.ids, pool.texts
    rows, y, _ = training_rows(config, ids, labels_df, policy.reserve)
    probas = score_signals(config, signals, ids, texts, rows, y, progress, persist_fitted=distributed())
    run, X = current_run(config), None
    stale = run_mismatch(config, run)
    if stale:  # the labels changed since it trained: the suggestions come from the signals until a run covers them
        run = None
    if run is not None:
        if run.run_id in probas:
            raise LabelerError(f"a configured signal is named like the current run {run.run_id!r}; rename it")
        sig = run_signal(config, run.run_id, signals)
        # a logreg run's body output is the embedding signal's vectors: read once, for the run's head and the queue
        # model (both compute in float64: converted once)
        X = embedder(config, signals).encode(texts).astype(np.float64) if sig.shares_encoder else None
        probas[run.run_id] = score_run(sig, ids, texts, project.cache, progress=progress, vectors=X)

    Q, queue_note = queue_model(config, signals, pool, zero_shot_ensemble(config, probas), labels_df, policy, X)
    del X  # 8 bytes a dimension a text: not kept through the ensemble and the save
    # the fast model joins the suggestions like a run (labeler.loop.join) until a fine-tuned run is current
    fast = f"{FAST_MODEL}-n{len(rows)}" if Q is not None and run is None and config.ensemble.fast_model == "join" \
        else None
    joined = {**probas, fast: Q} if fast else probas
    ens, weights, note = combine(config, joined, ids, labels_df, run.run_id if run else fast, policy.reserve,
                                 final_fit=bool(run is not None and (run.info or {}).get("final_fit")))
    if stale:
        note = f"{stale}: left out of the suggestions until a run trains on every label" + (f"; {note}" if note else "")
    scores = Scores(ids=ids, P=ens.P, agreement=ens.agreement, signals=probas, method=ens.method,
                    weights={k: float(v) for k, v in weights.items()}, run_id=run.run_id if run else None, note=note,
                    Q=Q, queue_note=queue_note, fast_model=fast, labels=list(config.label_names))
    scores.save(project.scores)
    return pool, scores


def prune_refitted_caches(config) -> str | None:
    """Remove the prediction caches of the configured embedding signals at temperatures refitted on earlier rounds'
    labels (``bootstrap`` wrote one a round before it computed a refitted signal in memory: 6.8 MB each on
    BANKING77; nothing reads them). A line saying what went, None when nothing did. Not under ``accelerate
    launch``, whose rounds still write them."""
    if distributed():
        return None
    explicit = {s.name for s in config.signals if "temperature" in (s.params or {})}
    cache, gone, size = Project(config).cache, 0, 0
    for sig in build_signals(config) if config.signals else []:
        if getattr(sig, "type_name", "") != "embedding" or sig.name in explicit:
            continue
        for folder in refitted_caches(cache, sig):
            size += sum(f.stat().st_size for f in folder.iterdir() if f.is_file())
            shutil.rmtree(folder, ignore_errors=True)
            gone += 1
    return (f"removed {gone} prediction cache{'s' if gone != 1 else ''} of temperatures refitted in earlier rounds "
            f"({size / 1e6:,.0f} MB; nothing reads them)") if gone else None


def queue_model(config, signals: list, pool, P0: np.ndarray, labels_df, policy, X: np.ndarray | None = None
                ) -> tuple[np.ndarray | None, str | None]:
    """The fast queue model's matrix on the pool (None before the first human training label), saved to the
    project (``Project.queue_model``) so its accuracy can be measured on held-out texts. Its weak labels come
    from the zero-shot ensemble ``P0`` (never from a run, which has seen the labels), as in ``simulate``.
    ``X``: the embedding signal's vectors of the pool, when the caller has read them already."""

    rows, y, labeled = training_rows(config, pool.ids, labels_df, policy.reserve)
    if y is None or not len(rows):
        return None, None
    excluded = labeled | policy.reserve.mask(pool.ids)
    X = embedder(config, signals).encode(pool.texts) if X is None else X
    calib = None  # the answered calibration rows, read only where the policy fits the cuts on them too
    if policy.cuts_on == TRAIN_CALIB:
        c_rows, c_y = policy.reserve.rows_in_split(pool.ids, labels_df, CALIB, config.label_names,
                                                   config.task.multi_label)
        calib = (c_rows, c_y) if c_y is not None else (np.zeros(0, dtype=np.int64), None)
    answered = None  # the answered random reserve (gold and calibration), read only by the prior shift
    if policy.shifts_cuts and config.task.multi_label:
        r, t, _ = policy.reserve.rows_in_splits(pool.ids, labels_df, (GOLD, CALIB), config.label_names, True)
        answered = (r, t) if t is not None else \
            (np.zeros(0, dtype=np.int64), np.zeros((0, len(config.label_names)), dtype=np.int64))
    # the pool's words beside its embeddings (queue.lexical), once there are enough labels per label
    lex = Lexical(policy.lexical_weight(len(rows), len(config.label_names))).fit(pool.texts)
    H = lex.features(X, pool.texts)
    model, n_weak = fit_queue_model(H, rows, y, P0, excluded, policy, config.task.multi_label, config.task.threshold,
                                    calib, answered)
    model.lexical = lex.weight if lex.terms else 0.0  # the features it reads (labeler simulate --via-argilla scores it)
    import joblib

    joblib.dump(model, Project(config).queue_model)
    gone = outside_pool(labels_df, pool.ids)
    return model.predict_proba(H), (f"queue model: logistic head on {len(rows)} human + {n_weak} weak labels"
                                    + (f", with {lex.terms:,} terms of the pool beside the embeddings" if lex.terms else "")
                                    + (f"; {outside_pool_note(gone)}" if gone else ""))
