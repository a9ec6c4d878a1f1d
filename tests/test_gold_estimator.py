"""The gold estimator (issue 11), on BANKING77: accuracy measured on the random gold set estimates accuracy on
the data set's own held-out test split; the old gold (a stratified hash sample of the labels the uncertainty
queue chose) does not.

The product's steps run in process, without the Argilla server, as tests/test_one_loop.py runs them:
``scoring.bootstrap`` -> ``loop.plan_push`` (default policy, gold_share 0.2) -> the truth written to
labels.parquet the way ``pull`` writes it -> ``runs.train_project`` (logreg) -> ``comparison.compare_project``.
A fixed random subset (pool 3,000 of the train split, eval 1,000 of the test split) keeps it to minutes; the
text embeddings are shared with ``labeler simulate --dataset banking77`` through its cache.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from .conftest import shared_dataset

POOL_SIZE, EVAL_SIZE, SUBSET_SEED = 3000, 1000, 0
ROUNDS, BATCH = 6, 150
MIN_GOLD = 30


def subset_rows(n_all: int, n: int, rng) -> np.ndarray:
    """As ``labeler.simulate.subsample`` picks them (pool first, then eval, from one generator)."""
    return np.arange(n_all) if n >= n_all else np.sort(rng.choice(n_all, size=n, replace=False))


def write_labels(project, answered: dict[str, str], texts: dict[str, str]) -> None:
    """labels.parquet as ``labeler pull`` writes it (tests/test_one_loop.py)."""
    rows = [{"id": i, "text": texts[i], "fields": json.dumps({"text": texts[i]}), "label": lab, "labels": [],
             "status": "submitted", "annotator": "oracle", "n_annotators": 1, "agreement": None,
             "submitted_at": None, "round": 0} for i, lab in answered.items()]
    pd.DataFrame(rows).to_parquet(project.labels, index=False)


def contains(ci: dict, value: float) -> bool:
    return ci["lo"] <= value <= ci["hi"]


def show(name: str, ci: dict, truth: float) -> str:
    return f"{name}: {ci['value']:.3f} [{ci['lo']:.3f}, {ci['hi']:.3f}] n={ci['n']}; held-out test {truth:.3f}"


@pytest.fixture(scope="module")
def banking77_loop(tmp_path_factory):
    """Bootstrap and ROUNDS uncertainty-driven batches answered with the truth, then a logreg run."""
    shared_dataset("banking77")
    from labeler import simulate as sim
    from labeler.loop import plan_push
    from labeler.project import Project
    from labeler.runs import train_project
    from labeler.scoring import bootstrap

    data = sim.dataset_data("banking77")
    rng = np.random.default_rng(SUBSET_SEED)
    p, e = subset_rows(len(data.ids), POOL_SIZE, rng), subset_rows(len(data.eval_ids), EVAL_SIZE, rng)
    root = tmp_path_factory.mktemp("banking77")
    pool_file = root / "pool.jsonl"
    pool_file.write_text("".join(json.dumps({"id": data.ids[i], "text": data.texts[i], "label": data.labels[data.y[i]]})
                                 + "\n" for i in p), encoding="utf-8")
    config = data.config.model_copy(deep=True)
    config.data.path = pool_file
    config.project.dir = root / "project"
    config.training.runs_dir = root / "project" / "runs"  # validated configs carry it resolved: not the simulate one
    config.queue.batch_size = BATCH
    config.training.backend = "logreg"
    config.training.min_per_class = 1
    config.training.min_gold = MIN_GOLD
    project = Project(config).ensure()
    shared = Project(data.config).cache / "embeddings"  # the texts' embeddings only; predictions stay here
    shared.mkdir(parents=True, exist_ok=True)
    project.cache.mkdir()
    (project.cache / "embeddings").symlink_to(shared, target_is_directory=True)

    truth = {data.ids[i]: data.labels[data.y[i]] for i in p}
    texts = {data.ids[i]: data.texts[i] for i in p}
    answered: dict[str, str] = {}
    pool, scores = bootstrap(config, progress=False)
    for r in range(ROUNDS):
        batch, _ = plan_push(config, pool, scores, set(answered), set(answered), project.load_labels())
        answered.update({scores.ids[i]: truth[scores.ids[i]] for i in batch.indices})
        write_labels(project, answered, texts)
        project.write_state({"round": r + 1, "gold_share": config.queue.gold_share})
        if r < ROUNDS - 1:
            pool, scores = bootstrap(config, progress=False)
    run = train_project(config, backend="logreg", force=True, n_resamples=200)
    eval_texts = [data.eval_texts[i] for i in e]
    return dict(config=config, project=project, run=run, eval_texts=eval_texts, eval_y=data.eval_y[e],
                n_labels=len(answered))


@pytest.mark.slow
def test_random_gold_accuracy_covers_the_held_out_accuracy(banking77_loop):
    from labeler.comparison import compare_project
    from labeler.gold import GOLD, GoldReserve
    from labeler.policy import project_reserve
    from labeler.scoring import build_signals

    config, run = banking77_loop["config"], banking77_loop["run"]
    eval_texts, eval_y = banking77_loop["eval_texts"], banking77_loop["eval_y"]
    assert banking77_loop["n_labels"] == ROUNDS * BATCH

    cp = compare_project(config, run_ids=[run.run_id], write=False)
    res = cp.result
    gold_ids = [i for i, s in project_reserve(config).splits(banking77_loop["project"].load_labels()["id"]).items() if s == GOLD]
    assert res.n == len(gold_ids) >= MIN_GOLD and cp.enough
    assert all(GoldReserve(config.queue.gold_share).contains(i) for i in gold_ids)

    (zs,) = build_signals(config)
    zs_eval = float((np.asarray(zs.predict_proba(eval_texts)).argmax(1) == eval_y).mean())
    ft_eval = float((run.predict_proba(eval_texts).argmax(1) == eval_y).mean())
    zs_ci, ft_ci = res.systems[zs.name].ci["accuracy"], res.systems[run.run_id].ci["accuracy"]
    report = show("zero-shot on random gold", zs_ci, zs_eval) + "\n" + show("fine-tuned on random gold", ft_ci, ft_eval)
    print(report)
    assert contains(zs_ci, zs_eval), report
    assert contains(ft_ci, ft_eval), report
    assert ft_eval > zs_eval + 0.05, report  # the run learned something: the comparison is not vacuous


@pytest.mark.slow
def test_old_stratified_gold_over_queued_labels_misses_the_held_out_accuracy(banking77_loop):
    """The old design: every batch chosen by the queue, gold a stratified hash sample (20%) of those labels.

    The random reserve's labels are left out: the old design had none, and ``training.splits`` ranks by the
    same hash as the reserve, so over every label the old gold would mostly be the random records again."""
    from labeler.gold import GoldReserve
    from labeler.scoring import build_signals
    from training.evaluate import bootstrap_ci
    from training.splits import GOLD, assign_splits

    config = banking77_loop["config"]
    labels = banking77_loop["project"].load_labels()
    queued = labels[~labels["id"].map(GoldReserve(config.queue.gold_share).contains)]
    assert len(queued) == ROUNDS * round(BATCH * (1 - config.queue.gold_share))
    old = assign_splits(queued[["id", "label"]], False, None, seed=0, gold_fraction=0.2, calib_fraction=0.1)
    gold = queued[old.mask(queued["id"], GOLD)]
    y = np.array([config.label_names.index(lab) for lab in gold["label"]])
    (zs,) = build_signals(config)
    ci = bootstrap_ci(zs.predict_proba(gold["text"].tolist()), y, "accuracy", n_resamples=1000, seed=0)
    eval_texts, eval_y = banking77_loop["eval_texts"], banking77_loop["eval_y"]
    zs_eval = float((np.asarray(zs.predict_proba(eval_texts)).argmax(1) == eval_y).mean())
    report = show("zero-shot on the old stratified gold", ci, zs_eval)
    print(report)
    assert ci["n"] == len(gold) >= 100
    assert ci["hi"] < zs_eval, report  # biased low: the queue chose records the models were unsure of
