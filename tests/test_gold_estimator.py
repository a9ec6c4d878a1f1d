"""The gold estimator (issue 11), on BANKING77: accuracy measured on the random gold set estimates accuracy on
the data set's own held-out test split; the old gold (a stratified hash sample of the labels the uncertainty
queue chose) does not.

The product's steps run in process, without the Argilla server (bench/common.py's oracle loop, as
tests/test_one_loop.py and bench/bench_gold.py run them): ``scoring.bootstrap`` -> ``loop.plan_push`` (default
policy, gold_share 0.2) -> the truth written to labels.parquet the way ``pull`` writes it ->
``runs.train_project`` (logreg) -> ``comparison.compare_project``.
A fixed random subset (pool 3,000 of the train split, eval 1,000 of the test split) keeps it to minutes; the
text embeddings are shared with ``labeler simulate --dataset banking77`` through its cache.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

from .conftest import shared_dataset

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))
from common import oracle_project, oracle_rounds, subset  # noqa: E402

POOL_SIZE, EVAL_SIZE, SUBSET_SEED = 3000, 1000, 0
ROUNDS, BATCH = 6, 150
MIN_GOLD = 30


def contains(ci: dict, value: float) -> bool:
    return ci["lo"] <= value <= ci["hi"]


def show(name: str, ci: dict, truth: float) -> str:
    return f"{name}: {ci['value']:.3f} [{ci['lo']:.3f}, {ci['hi']:.3f}] n={ci['n']}; held-out test {truth:.3f}"


@pytest.fixture(scope="module")
def banking77_loop(tmp_path_factory):
    """Bootstrap and ROUNDS uncertainty-driven batches answered with the truth, then a logreg run."""
    shared_dataset("banking77")
    from labeler import simulate as sim
    from labeler.loop.runs import train_project

    data = sim.dataset_data("banking77")
    rng = np.random.default_rng(SUBSET_SEED)
    p, e = subset(len(data.ids), POOL_SIZE, rng), subset(len(data.eval_ids), EVAL_SIZE, rng)
    op = oracle_project(data, p, tmp_path_factory.mktemp("banking77"), BATCH,
                        training__min_per_class=1, training__min_gold=MIN_GOLD)
    config, project = op.config, op.project
    *_, last = oracle_rounds(config, project, op.truth, op.texts, ROUNDS, rescore_last=False)
    answered = last.answered
    run = train_project(config, backend="logreg", force=True, n_resamples=200)
    eval_texts = [data.eval_texts[i] for i in e]
    return dict(config=config, project=project, run=run, eval_texts=eval_texts, eval_y=data.eval_y[e],
                n_labels=len(answered))


@pytest.mark.slow
def test_random_gold_accuracy_covers_the_held_out_accuracy(banking77_loop):
    from labeler.evaluation.compare_on_gold import compare_project
    from labeler.evaluation.gold import CALIB, GOLD, GoldReserve
    from labeler.loop.policy import project_reserve
    from labeler.loop.scoring import build_signals

    config, run = banking77_loop["config"], banking77_loop["run"]
    eval_texts, eval_y = banking77_loop["eval_texts"], banking77_loop["eval_y"]
    assert banking77_loop["n_labels"] == ROUNDS * BATCH

    cp = compare_project(config, run_ids=[run.run_id], write=False)
    res = cp.result
    split = project_reserve(config).splits(banking77_loop["project"].load_labels()["id"])
    gold_ids = [i for i, s in split.items() if s == GOLD]
    calib_ids = [i for i, s in split.items() if s == CALIB]
    # single-label, a logreg run that held calibration out: the verdict scores gold + calibration
    assert run.info["n_calib"] == len(calib_ids) >= 20 and not cp.gold_only
    assert res.n == len(gold_ids) + len(calib_ids) and (cp.n_gold, cp.n_calib) == (len(gold_ids), len(calib_ids))
    assert res.n >= MIN_GOLD and cp.enough
    assert all(GoldReserve(config.queue.gold_share).contains(i) for i in gold_ids + calib_ids)

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
    from labeler.evaluation.gold import GoldReserve
    from labeler.loop.scoring import build_signals
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
