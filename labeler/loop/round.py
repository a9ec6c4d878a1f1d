"""The Argilla driver of the loop: push the next batch, pull the answers, one round in one call.

The steps themselves are ``labeler.loop.engine`` (pure, shared with ``labeler simulate``); this module moves data
between them, the project folder (``labeler.project``) and Argilla (``labeler.argilla``). Which records are
in Argilla, and which are answered, is always read from the server, never remembered locally, so a failed
push can never leave a record marked as pushed.
"""

from __future__ import annotations

import dataclasses
import time

import numpy as np

from labeler.argilla.annotate import answer_pending
from labeler.argilla.candidates import above_threshold, top_candidates
from labeler.argilla.client import resolve
from labeler.argilla.datasets import dataset_view
from labeler.argilla.ownership import foreign, owned, record
from labeler.argilla.pull import pull
from labeler.argilla.push import PushRecord, push
from labeler.argilla.schema import (META_AGREEMENT, META_PRIORITY, META_ROUND, META_SAMPLE, META_UNCERTAINTY, META_WHY,
                                    SAMPLE_QUEUE, SAMPLE_RANDOM, DatasetSpec, default_visible_labels, signal_meta)
from labeler.data import load_pool
from labeler.errors import LabelerError
from labeler.evaluation.compare_on_gold import compare_project
from labeler.loop import runs
from labeler.loop.run_lines import describe_run
from labeler.loop.engine import CALIB, GOLD, class_counts, plan_batch
from labeler.loop.human_labels import per_class, submitted, unfound, unfound_note
from labeler.loop.join import RUN_META_NAME, suggestion_agent
from labeler.loop.policy import project_policy
from labeler.loop.queue import COVERAGE
from labeler.loop.scoring import bootstrap, build_signals, embedder, prune_refitted_caches, reading_lines, training_rows
from labeler.loop.suggest import none_cut, suggestion, suggestion_cuts
from labeler.project import Project


def dataset_spec(config, signal_names: list[str], vector_dim: int | None, labels_df=None, queue_status: str = ""):
    a = config.argilla
    return DatasetSpec(
        name=a.dataset,
        labels=config.label_names,
        multi_label=config.task.multi_label,
        text_fields=list(config.data.text_fields),
        descriptions={k: v for k, v in config.label_descriptions.items() if v},
        signal_names=signal_names,
        vector_dim=vector_dim,
        workspace=a.workspace,
        candidates=a.candidates,
        label_order=a.label_order,
        visible_labels=a.visible_labels or default_visible_labels(len(config.label_names)),
        label_counts=per_class(labels_df, config.label_names, config.task.multi_label),
        min_submitted=a.min_submitted,
        queue_status=queue_status,
        max_chars=config.data.max_chars,
        cut_to=a.cut_to,
    )


def connection(config):
    return resolve(config.argilla.url, config.argilla.api_key_env)


def dataset_gone(config, pusher: str = "this round") -> str:
    """What ``pusher`` does when the project's dataset is not on the server: the first push, or (answers pulled
    before, the dataset deleted or the connection pointed elsewhere) a new dataset, the answers kept."""
    answered = submitted(Project(config).load_labels())
    n = 0 if answered is None else len(answered)
    if not n:
        return f"{pusher} pushes the first batch"
    return (f"the {n} answers pulled before are kept in labels.parquet; the dataset was deleted, or argilla.url or "
            f"argilla.workspace points elsewhere; {pusher} pushes the queue to a new one")


def interleave(queued: list[int], gold: list[int]) -> list[int]:
    """The gold picks spread evenly through the queued ones, so a partial session still adds gold."""
    total = len(queued) + len(gold)
    slots = {int((j + 0.5) * total / len(gold)) for j in range(len(gold))} if gold else set()
    q, g = iter(queued), iter(gold)
    return [next(g) if pos in slots else next(q) for pos in range(total)]


def plan_push(config, pool, scores, present: set[str], done: set[str], labels_df, policy=None):
    """(the next ``Batch`` from ``labeler.loop.engine.plan_batch``, pending rows still unanswered).
    ``policy``: the command's (``labeler.loop.policy.project_policy``, built here when not given)."""

    policy = project_policy(config) if policy is None else policy
    project = Project(config)
    ids = scores.ids
    # a record still short of argilla.min_submitted answers is still in the queue (another annotator owes it)
    awaiting = set(labels_df.loc[labels_df["status"] == "awaiting", "id"].astype(str)) \
        if labels_df is not None and "status" in labels_df else set()
    pending_old = [i for i, rid in enumerate(ids) if rid in present and (rid not in done or rid in awaiting)]
    asked = np.array([rid in present or rid in done for rid in ids], dtype=bool)
    n_new = max(0, policy.batch_size - len(pending_old))
    reserve, reserve_order = policy.reserve.draw(ids)
    rows, y, _ = training_rows(config, ids, labels_df, policy.reserve)
    counts = class_counts(y if y is not None else np.zeros(0), len(config.label_names), config.task.multi_label)
    signals = dict(scores.signals)
    if scores.Q is not None:
        signals["model"] = scores.Q
    X = None
    cold = policy.cold_start and policy.cold_start_by == "representative" and int(np.sum(counts)) == 0
    if (policy.diversity > 0 or cold) and not policy.is_random:
        X = embedder(config, build_signals(config)).encode(pool.texts)
    batch = plan_batch(policy, max(1, n_new), scores.queue_P, signals, X, asked, reserve_order, reserve, counts,
                       project.round, config.task.multi_label, queue_cuts(config, scores))
    if n_new == 0:
        batch.indices, batch.reasons = batch.indices[:0], []
    return batch, pending_old


def queue_cuts(config, scores):
    """The cut(s) the queue ranks by: multi-label, the fast queue model's per-label cuts once it exists (fitted
    by ``labeler.loop.engine.label_cuts`` when it was fitted, saved with it), else the task's one threshold."""
    if not config.task.multi_label or scores.Q is None or not Project(config).queue_model.exists():
        return config.task.threshold
    import joblib

    cuts = getattr(joblib.load(Project(config).queue_model), "thresholds", None)
    return config.task.threshold if cuts is None else np.asarray(cuts, dtype=np.float64)


def suggestion_rule(config, ids: list[str], P: np.ndarray, labels_df, reserve) -> tuple:
    """Multi-label: (the per-label cuts of the pre-selected suggestion, the "None of these" cut), decided once per
    push on the labeled random reserve, gold and calibration (``labeler.loop.suggest``: (None, None), pre-select
    nothing, until enough of it is labeled). Single-label: (the task's threshold, None), unused (the top label
    is suggested)."""
    if not config.task.multi_label:
        return config.task.threshold, None

    rows, Y, _ = reserve.rows_in_splits(ids, labels_df, (GOLD, CALIB), config.label_names, True)
    if Y is None:
        return None, None
    cuts = suggestion_cuts(P, rows, Y)
    return cuts, none_cut(P, rows, Y, cuts)


def queue_status(scores, by: str, when: str | None = None) -> str:
    """The guidelines' first line: who refreshed the order when, which model suggests, which run is current."""
    import time

    when = when or time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime())
    model = (f"the ensemble with the fast model {scores.fast_model}" if scores.fast_model
             else "the ensemble" + (f" with run {scores.run_id}" if scores.run_id else " (zero-shot signals)"))
    return (f"Review order refreshed {when} by {by}. Suggestions: {model}. "
            f"Current fine-tuned run: {scores.run_id or 'none yet'}.")


def push_queue(config, progress: bool = True, by: str = "labeler push", policy=None, pool=None, pulled=None):
    """Push the next batch (``plan_push``) and refresh every pending record; ``policy``: the command's
    (``labeler.loop.policy.project_policy``, built here when not given; ``simulate --via-argilla`` hands its own);
    ``pool``: the command's ``load_pool``, when it has read it; ``pulled``: the ``PullReport`` of this command's pull,
    whose view of the dataset (its records, those answered) the plan reads instead of reading every record again
    (``labeler round``: its push comes seconds after its pull; ``push`` still reads the answers again just before it
    upserts, and never re-sends one that came in since).

    Review order (the ``priority`` metadata, 1 first): records queued earlier and still unanswered, by their
    refreshed uncertainty, then the new batch in the order the queue chose it, with the random gold picks
    spread through it. Each suggestion's agent is ``ensemble`` (``ensemble-stacked``; ``ensemble/fast-model-n<N>``
    once the fast model joined), or the current run's id (the fast model's name) where it holds at least 90% of
    the weight of the signals voting on the record (``labeler.loop.join.suggestion_agent``). Answered records are
    never re-sent.
    """

    project = Project(config)
    state = project.read_state()
    policy = project_policy(config, state) if policy is None else policy
    pool = load_pool(config) if pool is None else pool
    scores = project.load_scores()
    if scores.ids != pool.ids:
        raise LabelerError("scores are out of date with the pool; run `labeler bootstrap` again")
    signals = build_signals(config)
    emb = embedder(config, signals).encode(pool.texts)
    names = [s.name for s in signals] + ([RUN_META_NAME] if scores.run_id else [])
    labeled = project.load_labels()
    spec = dataset_spec(config, names, int(emb.shape[1]), labeled, queue_status=queue_status(scores, by))
    conn = connection(config)
    read = pulled is None or pulled.dataset != spec.name  # a pull of another dataset says nothing of this one
    dataset_id, present, answered = dataset_view(conn, spec.name, spec.workspace) if read else \
        (pulled.dataset_id, pulled.present, pulled.answered)
    refuse_foreign(state, conn, spec, dataset_id, present, pool.ids)
    done = answered | (set(labeled["id"]) if labeled is not None else set())
    batch, pending_old = plan_push(config, pool, scores, present, done, labeled, policy)
    uncertainty = batch.all_scores
    gold_rows = [int(i) for i, r in zip(batch.indices, batch.reasons) if r == GOLD]
    queued = [int(i) for i, r in zip(batch.indices, batch.reasons) if r != GOLD]
    order = sorted(pending_old, key=lambda i: (-uncertainty[i], i)) + interleave(queued, gold_rows)
    round_no = state["round"] + (1 if len(batch.indices) else 0)
    new = {int(i) for i in batch.indices}
    why = {int(i): r for i, r in zip(batch.indices, batch.reasons)}  # the queue line's "why next"
    spec = dataclasses.replace(spec, queue_size=len(order))
    ens_agent = "ensemble" if scores.method == "weighted_mean" else f"ensemble-{scores.method}"
    model_id = scores.run_id or scores.fast_model  # the trained model in the suggestions, if any
    if scores.fast_model:
        ens_agent = f"{ens_agent}/{scores.fast_model}"  # Argilla agents allow letters, digits, -_:./ and spaces
    weights = scores.weights or {name: 1.0 for name in scores.signals}
    cuts, none_at = suggestion_rule(config, pool.ids, scores.P, labeled, policy.reserve)
    records = []
    for rank, i in enumerate(order, start=1):
        rec = pool.records[i]
        value, score = suggestion(scores.P[i], config.label_names, config.task.multi_label, cuts, none_at)
        meta = {META_UNCERTAINTY: float(uncertainty[i]), META_PRIORITY: rank, META_AGREEMENT: float(scores.agreement[i]),
                META_SAMPLE: SAMPLE_RANDOM if policy.reserve.contains(rec.id) else SAMPLE_QUEUE, META_WHY: why.get(i, "pending")}
        if i in new:
            meta[META_ROUND] = round_no
        voted = {name: not np.isnan(mat[i]).all() for name, mat in scores.signals.items()}
        for name, mat in scores.signals.items():
            if voted[name]:
                meta[signal_meta(RUN_META_NAME if name == scores.run_id else name)] = \
                    config.label_names[int(np.nanargmax(mat[i]))]
        if scores.fast_model:
            voted[scores.fast_model] = True
        agent = suggestion_agent(weights, voted, model_id, ens_agent)
        if not config.argilla.candidates:
            cands = []
        elif config.task.multi_label:  # every label over its threshold, or "none above threshold"
            cands = above_threshold(scores.P[i], config.label_names, config.task.threshold if cuts is None else cuts)
        else:
            cands = top_candidates(scores.P[i], config.label_names, config.argilla.candidates,
                                   {name: mat[i] for name, mat in scores.signals.items()})
        records.append(PushRecord(id=rec.id, fields=rec.fields, value=value, score=score, agent=agent,
                                  metadata=meta, vector=emb[i].tolist(), candidates=cands))
    report = push(conn, spec, records, progress=progress)
    changed = record(state, conn.url, spec.workspace, spec.name, report.dataset_id)
    if new:
        state["round"] = round_no
        state.setdefault("gold_share", float(policy.gold_share))
    if new or changed:
        project.write_state(state)
    if gold_rows:
        report.notes.append(f"{len(gold_rows)} of the new records {'was' if len(gold_rows) == 1 else 'were'} drawn at "
                            "random (the random reserve: gold, and calibration, never trained on)")
    hunted = sum(r == COVERAGE for r in batch.reasons)
    names, n_answers = unfound(labeled, config.label_names, config.task.multi_label, policy.min_per_class)
    if hunted and names:
        report.notes.append(unfound_note(names, n_answers, hunted))
    short = short_pool_note(pool.ids, present | done | {pool[i].id for i in new}, len(new),
                            max(0, policy.batch_size - len(pending_old)), policy.reserve)
    if short:
        report.notes.append(short)
    return report


def short_pool_note(ids: list[str], asked: set[str], n_new: int, wanted: int, reserve) -> str | None:
    """Why a push brought fewer new records than the batch asked for, or None: the pool has no record left
    to ask, or none outside the random reserve (whose records come ``queue.gold_share`` of a batch at a time)."""
    if n_new >= wanted:
        return None
    left = [rid for rid in ids if rid not in asked]
    if not left:
        return (f"every record in the pool has been asked ({len(ids)}): add records to the data file "
                "(`labeler bootstrap` reads them) to go on")
    if any(not reserve.contains(rid) for rid in left):
        return None
    return (f"{n_new} new of the {wanted} the batch asks for: every record outside the random reserve has been "
            f"asked; its {len(left)} unasked records come in at queue.gold_share of each batch")


def server_view(conn, spec, project=None, pool_ids=None) -> tuple[set[str], set[str]]:
    """(ids present in Argilla, ids answered there); empty sets before the dataset exists. With ``project``: a
    dataset of that name that is not the project's (``labeler.argilla.ownership``) is a one-line error;
    ``pool_ids``: the project's pool, when the caller has read it (else read here)."""

    dataset_id, present, answered = dataset_view(conn, spec.name, spec.workspace)
    if project is not None:
        refuse_foreign(project.read_state(), conn, spec, dataset_id, present,
                       project.pool_ids() if pool_ids is None else pool_ids)
    return present, answered


def refuse_foreign(state: dict, conn, spec, dataset_id, present: set[str], pool_ids) -> None:
    """A one-line error when the server's dataset ``spec.name`` is not the project's (``state``: the project's;
    ``labeler.argilla.ownership.foreign``)."""
    why = foreign(owned(state, conn.url, spec.workspace, spec.name), spec.name, conn.url, dataset_id, present, pool_ids)
    if why:
        raise LabelerError(why)


def claim_dataset(config, dataset_id) -> None:
    """Record ``dataset_id`` as the project's dataset (``labeler.argilla.ownership``): for records pushed to it by
    other means than ``push_queue`` (a script calling ``labeler.argilla.push.push``), which records it itself."""
    project, conn = Project(config).ensure(), connection(config)
    state = project.read_state()
    if record(state, conn.url, config.argilla.workspace, config.argilla.dataset, dataset_id):
        project.write_state(state)


def pull_labels(config):
    """Pull the project's dataset (``labeler.argilla.pull``), refusing one of the same name that is not the
    project's before anything is written; a dataset whose records are the pool's is recorded as the project's."""
    spec = dataset_spec(config, [s.name for s in config.signals], None)
    project, conn = Project(config).ensure(), connection(config)
    state = project.read_state()
    report = pull(conn, spec, project.dir,
                  check=lambda dataset_id, present: refuse_foreign(state, conn, spec, dataset_id, present,
                                                                   project.pool_ids()))
    if record(state, conn.url, spec.workspace, spec.name, report.dataset_id):
        project.write_state(state)
    return report


def run_round(config, backend: str | None = None, force: bool = False, progress: bool = True, echo=print) -> dict:
    """Pull, train when a run is due (``runs.trigger``: the fast model's verdict over zero-shot on gold, or
    every class at ``min_per_class``; and the labels changed), re-score, push; ``echo`` each step.

    Returns ``{"pulled", "trained" (run id or None), "train_note", "scores", "push"}``.
    """

    policy = project_policy(config)  # the round's one policy, passed to every step
    out: dict = {"pulled": None, "trained": None, "train_note": None}
    echo("[1/4] pull")
    try:
        report = pull_labels(config)
        out["pulled"] = report
        echo("  " + report.summary())
    except LabelerError as exc:
        if "not found" not in str(exc):
            raise
        echo(f"  nothing to pull: {exc.args[0].split(';')[0]} ({dataset_gone(config)})")
    echo("[2/4] train")
    pool = load_pool(config)  # the round's one read of the pool, for every step after the pull
    decision = runs.trigger(config, policy, backend, pool)
    if not (decision.due or force):
        out["train_note"] = decision.reason
        echo(f"  {decision.reason}")
    else:
        hold = None if force else retrain_hold(config, policy, backend)
        if hold:
            out["train_note"] = hold
            echo(f"  {hold}")
        else:
            echo(f"  training: {decision.reason}" if decision.due else "  training: --force")
            run = runs.train_project(config, backend=backend, force=force, policy=policy, decision=decision, pool=pool)
            out["trained"] = run.run_id
            for line in describe_run(run):
                echo("  " + line)
            try:
                cmp = compare_project(config, run_ids=[run.run_id], write=False, reserve=policy.reserve, pool=pool)
                echo("  verdict: " + cmp.result.verdict)
            except LabelerError as exc:
                echo(f"  no comparison: {exc}")
    echo("[3/4] bootstrap")
    started = time.perf_counter()
    pool, scores = bootstrap(config, progress=progress, policy=policy, pool=pool)
    out["scores"] = scores
    echo(f"  scored {len(scores.ids)} records with {', '.join(scores.signals)} ({scores.method}) in "
         f"{time.perf_counter() - started:.1f} s")
    for note in reading_lines(config, pool.texts) + [scores.note, scores.queue_note, prune_refitted_caches(config)]:
        if note:
            echo(f"  {note}")
    echo("[4/4] push")
    out["push"] = push_queue(config, progress=progress, policy=policy, pool=pool, pulled=out["pulled"])
    for line in out["push"].summary().splitlines():
        echo("  " + line)
    return out


def retrain_hold(config, policy, backend: str | None = None) -> str | None:
    """Why the train step does not retrain the current run now, in one line (None: it does, once a run is due): the
    labels are unchanged since it trained, or a SetFit or transformers run waits for ``training.retrain_after`` more
    (``runs.growth_wait``)."""
    unchanged = runs.labels_unchanged(config)
    if unchanged:
        return f"labels unchanged since run {unchanged}; not retraining"
    wait = runs.growth_wait(config, policy, backend)
    if wait is None:
        return None
    run_id, before, n, at = wait
    backend = backend or config.training.backend
    return (f"not retraining yet: run {run_id} trained on {before} human training labels, {n} now; the next {backend} "
            f"run at {at} (training.retrain_after {config.training.retrain_after:g}: scoring a {backend} run "
            f"encodes the whole pool again); --force trains now")


def simulate_annotator(config, n: int):
    """Answer the ``n`` highest-priority pending records through the Argilla API with the pool's held-back
    labels (``data.label_field``), mapped to the config's labels; returns the ``AnswerReport`` (one that says
    there is nothing to answer yet before the first push: the round about to run pushes the first batch)."""

    pool = load_pool(config)
    truth = {r.id: (r.labels if config.task.multi_label else r.label) for r in pool.records}
    return answer_pending(connection(config), config.argilla.dataset, config.argilla.workspace, truth, n,
                          config.label_names, config.task.multi_label)
