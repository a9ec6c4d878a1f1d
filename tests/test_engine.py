"""The loop engine's pure steps on hand-written matrices: exact rows, exact counts."""

import dataclasses

import numpy as np
import pytest

from labeler.loop.engine import (GOLD, Policy, WeakLabels, class_counts, confident_rows, plan_batch, queue_matrix,
                            short_classes, training_set)
from labeler.evaluation.gold import GoldReserve
from training.splits import hash_unit
from labeler.loop.queue import select_batch
from labeler.loop.strategies import strategy_for
from labeler.errors import LabelerError


def test_hash_unit_is_stable_and_uniform():
    assert hash_unit(0, "a", "gold") == hash_unit(0, "a", "gold")
    assert hash_unit(0, "a", "gold") != hash_unit(1, "a", "gold")
    u = np.array([hash_unit(0, f"r{i}", "gold") for i in range(4000)])
    assert 0.18 < (u < 0.2).mean() < 0.22


def test_gold_reserve_is_the_records_below_the_share_in_draw_order():
    ids = [f"r{i}" for i in range(500)]
    mask, order = GoldReserve(0.2).draw(ids)
    u = np.array([hash_unit(0, i, GOLD) for i in ids])
    assert mask.tolist() == (u < 0.2).tolist()
    assert mask.tolist() == GoldReserve(0.2).mask(ids).tolist() == [GoldReserve(0.2).contains(i) for i in ids]
    assert sorted(order.tolist()) == np.flatnonzero(mask).tolist()
    assert (np.diff(u[order]) > 0).all()
    # membership depends on the id alone: a bigger pool keeps the old reserve
    mask2, _ = GoldReserve(0.2).draw(ids + [f"x{i}" for i in range(100)])
    assert mask2[:500].tolist() == mask.tolist()


def test_split_of():
    assert GoldReserve(0.0, 0.5).split_of("anything") == "train"
    calib = [GoldReserve(0.999999, 1 / 3).split_of(f"r{i}") for i in range(3000)]
    assert set(calib) == {"gold", "calib"}
    assert 0.30 < calib.count("calib") / 3000 < 0.37


def test_confident_rows_per_predicted_class():
    P = np.array([[0.9, 0.1], [0.6, 0.4], [0.2, 0.8], [0.3, 0.7], [0.45, 0.55], [0.95, 0.05]])
    rows, y = confident_rows(P, np.array([1, 1, 1, 1, 1, 0], bool), 0.5, False)
    # class 0 candidates: rows 0, 1 (row 5 is excluded) -> 1 most confident: row 0; class 1: rows 2, 3, 4 -> 2: rows 2, 3
    assert rows.tolist() == [0, 2, 3] and y.tolist() == [0, 1, 1]


def test_weak_labels_stop_after_until():
    P = np.array([[0.9, 0.1], [0.1, 0.9], [0.8, 0.2]])
    X = np.eye(3)
    excluded = np.array([True, False, False])
    Xt, yt, w, n_weak = training_set(X, np.array([0]), np.array([0]), P, excluded, WeakLabels(1.0, 0.3), False, 0.5)
    assert n_weak == 2 and yt.tolist() == [0, 1, 0] and w.tolist() == [1.0, 0.3, 0.3]
    _, yt, w, n_weak = training_set(X, np.array([0]), np.array([0]), P, excluded, WeakLabels(1.0, 0.3, until=1),
                                    False, 0.5)
    assert n_weak == 0 and yt.tolist() == [0] and w.tolist() == [1.0]


def test_queue_matrix():
    P, M = np.array([[0.5, 0.5]]), np.array([[0.9, 0.1]])
    assert queue_matrix(P, None, "model", False) is P
    assert queue_matrix(P, M, "model", False) is M
    assert queue_matrix(P, M, "ensemble", False) is P
    assert np.allclose(queue_matrix(P, M, "join", False), [[0.7, 0.3]])


def test_class_counts_and_short():
    assert class_counts(np.array([0, 2, 2]), 4, False).tolist() == [1, 0, 2, 0]
    assert class_counts(np.array([[1, 0, 1], [1, 1, 0]]), 3, True).tolist() == [2, 1, 1]
    assert short_classes(np.array([1, 0, 2, 5]), 2) == {0: 1, 1: 2}


def test_coverage_round_robin_takes_the_neediest_classes_most_uncertain_first():
    # 3 classes; class 2 needs 3, class 1 needs 1, class 0 needs none
    P = np.array([
        [0.40, 0.35, 0.25],  # pred 0, margin .05 (most uncertain overall)
        [0.20, 0.42, 0.38],  # pred 1, margin .04
        [0.10, 0.20, 0.70],  # pred 2, margin .50
        [0.30, 0.31, 0.39],  # pred 2, margin .08
        [0.05, 0.05, 0.90],  # pred 2, margin .85
        [0.33, 0.33, 0.34],  # pred 2, margin .01
    ])
    sel = select_batch(P, 4, strategy="margin", exploration=0, diversity=0, short={2: 3, 1: 1}, coverage=0.5)
    # coverage budget round(0.5 * 4) = 2: class 2 (needs 3) then class 1 (needs 1), each its most uncertain
    assert sorted(i for i, r in zip(sel.indices, sel.reasons) if r == "coverage") == [1, 5]
    # the rest straight by uncertainty: rows 0 (0.05) and 3 (0.08)
    assert sorted(i for i, r in zip(sel.indices, sel.reasons) if r == "uncertain") == [0, 3]
    none = select_batch(P, 4, strategy="margin", exploration=0, diversity=0, short={}, coverage=0.5)
    assert set(none.reasons) == {"uncertain"} and none.indices.tolist() == [5, 1, 0, 3]


def test_plan_batch_draws_gold_from_the_reserve_and_never_queues_it():
    rng = np.random.default_rng(0)
    ids = [f"r{i}" for i in range(200)]
    P = rng.dirichlet(np.ones(3), size=200)
    reserve, order = GoldReserve(0.2).draw(ids)
    policy = Policy(batch_size=10, gold_share=0.2, coverage=0.0)
    asked = np.zeros(200, bool)
    batch = plan_batch(policy, 10, P, {}, None, asked, order, reserve, np.zeros(3, int), 0, False, 0.5)
    assert len(batch.indices) == 10
    assert batch.rows(GOLD).tolist() == order[:2].tolist()
    queued = [i for i, r in zip(batch.indices, batch.reasons) if r != GOLD]
    assert not reserve[queued].any() and len(queued) == 8
    asked[batch.indices] = True
    nxt = plan_batch(policy, 10, P, {}, None, asked, order, reserve, np.ones(3, int), 1, False, 0.5)
    assert nxt.rows(GOLD).tolist() == order[2:4].tolist()
    assert not set(nxt.indices) & set(batch.indices)


def test_plan_batch_cold_start_only_before_any_training_label():
    P = np.random.default_rng(1).dirichlet(np.ones(4), size=50)
    ids = [f"r{i}" for i in range(50)]
    reserve, order = GoldReserve(0.0).draw(ids)
    policy = Policy(batch_size=6, gold_share=0.0, coverage=0.0)
    first = plan_batch(policy, 6, P, {}, None, np.zeros(50, bool), order, reserve, np.zeros(4, int), 0, False, 0.5)
    assert first.reasons[:4] == ["cold_start"] * 4
    later = plan_batch(policy, 6, P, {}, None, np.zeros(50, bool), order, reserve, np.ones(4, int), 0, False, 0.5)
    assert "cold_start" not in later.reasons


def test_random_warmup_picks_what_random_picks_until_c_per_label_are_asked():
    P = np.random.default_rng(3).uniform(size=(60, 3))  # 3 labels: a warm-up of 2 per label is 6 records asked
    ids = [f"r{i}" for i in range(60)]
    reserve, order = GoldReserve(0.0).draw(ids)
    warm = Policy(strategy="threshold_distance", cold_start_by="random", warmup_per_label=2.0, gold_share=0.0,
                  coverage=0.0)
    rand = dataclasses.replace(warm, strategy="random", warmup_per_label=0.0)
    asked = np.zeros(60, bool)
    asked[[0, 1, 2, 3, 4]] = True  # 5 asked, every label seen: the warm-up goes on (5 < 6)
    args = (P, {}, None, asked, order, reserve, np.ones(3, int), 1, True, 0.5)
    a, r = plan_batch(warm, 4, *args), plan_batch(rand, 4, *args)
    assert a.indices.tolist() == [45, 32, 57, 29] and sorted(r.indices.tolist()) == [29, 32, 45, 57]
    assert set(a.reasons) == {"cold_start"} and set(r.reasons) == {"explore"}
    asked[5] = True  # 6 asked: the queue takes over
    after = plan_batch(warm, 4, P, {}, None, asked, order, reserve, np.ones(3, int), 1, True, 0.5)
    assert set(after.reasons) == {"uncertain"}
    no_warmup = dataclasses.replace(warm, warmup_per_label=0.0)  # the default: the first batch only
    assert "cold_start" not in plan_batch(no_warmup, 4, *args).reasons
    assert warm.name == "threshold_distance+cold-random+warmup2+weak0.05x0.3"
    with pytest.raises(ValueError, match="needs cold_start_by 'random'"):
        Policy(warmup_per_label=2.0)


def test_representative_warmup_takes_kmeans_picks_after_the_random_first_batch():
    from labeler.loop.queue import _representative

    rng = np.random.default_rng(3)
    P, X = rng.uniform(size=(60, 3)), rng.normal(size=(60, 4))
    ids = [f"r{i}" for i in range(60)]
    reserve, order = GoldReserve(0.0).draw(ids)
    warm = Policy(strategy="threshold_distance", cold_start_by="random", warmup_per_label=2.0, gold_share=0.0,
                  coverage=0.0, warmup_by="representative")
    asked = np.zeros(60, bool)
    first = plan_batch(warm, 4, P, {}, X, asked, order, reserve, np.zeros(3, int), 0, True, 0.5)
    plain = dataclasses.replace(warm, warmup_by="random")
    assert first.indices.tolist() == plan_batch(plain, 4, P, {}, X, asked, order, reserve, np.zeros(3, int), 0, True,
                                                0.5).indices.tolist()  # the first batch: random either way
    assert first.indices.tolist() == [16, 30, 48, 36]
    asked[first.indices] = True  # 4 asked < 6: still warming up, now by k-means over what is left
    second = plan_batch(warm, 2, P, {}, X, asked, order, reserve, np.ones(3, int), 1, True, 0.5)
    assert second.indices.tolist() == [38, 32] == _representative(X, asked.copy(), 2)
    assert set(second.reasons) == {"cold_start"}
    assert warm.name == "threshold_distance+cold-random+warmup2+by-representative+weak0.05x0.3"
    with pytest.raises(ValueError, match="warmup_by must be"):
        Policy(warmup_by="confident")


def test_warmup_per_label_is_read_from_the_queue_config_and_needs_a_random_cold_start():
    from labeler.config import validate_config

    raw = {"data": {"path": "x.csv"}, "task": {"labels": [{"name": "a"}, {"name": "b"}], "multi_label": True},
           "queue": {"warmup_per_label": 2}}
    assert Policy.from_config(validate_config(raw, "x.yaml")).warmup_per_label == 2.0
    with pytest.raises(LabelerError, match="queue.warmup_per_label needs queue.cold_start_by: random"):
        validate_config({**raw, "task": {"labels": raw["task"]["labels"]}}, "x.yaml")


def test_prior_shift_moves_each_cut_by_the_reserve_log_odds_against_the_training_rows():
    from labeler.loop.engine import fit_queue_model, prior_shifted

    Y_train, Y_reserve = np.array([[1, 0], [1, 0], [1, 1], [0, 0]]), np.array([[0, 0], [0, 1], [1, 1], [0, 1]])
    # label 0: rate 3.5/5 = 0.7 among the training rows, (1 + 2 x 0.7) / 6 = 0.4 in the reserve: the cut rises
    assert prior_shifted(np.array([0.5, 0.3]), Y_train, Y_reserve, 2.0).round(4).tolist() == [0.7778, 0.1091]
    assert prior_shifted(np.array([0.5, 0.3]), Y_train, Y_reserve[:0], 2.0).round(12).tolist() == [0.5, 0.3]
    X, P = np.random.default_rng(0).normal(size=(30, 4)), np.full((30, 2), 0.5)
    policy = Policy(strategy="threshold_distance", thresholds="fitted", weak=WeakLabels(0.0), prior_shift=2.0)
    with pytest.raises(ValueError, match="prior_shift needs the answered reserve rows"):
        fit_queue_model(X, np.arange(25), np.tile(Y_train, (7, 1))[:25], P, np.zeros(30, bool), policy, True, 0.5)
    # a uniform draw has the pool's label rates already: random's cuts are never shifted (nor need the reserve)
    import dataclasses

    rand = dataclasses.replace(policy, strategy="random")
    assert policy.shifts_cuts and not rand.shifts_cuts and "prior" not in rand.name and "prior2" in policy.name
    shifted = fit_queue_model(X, np.arange(25), np.tile(Y_train, (7, 1))[:25], P, np.zeros(30, bool), rand, True, 0.5)[0]
    plain = fit_queue_model(X, np.arange(25), np.tile(Y_train, (7, 1))[:25], P, np.zeros(30, bool),
                            dataclasses.replace(rand, prior_shift=0.0), True, 0.5)[0]
    assert shifted.thresholds.tolist() == plain.thresholds.tolist()


def test_random_policy_is_uniform_and_seeded():
    P = np.random.default_rng(2).dirichlet(np.ones(3), size=100)
    ids = [f"r{i}" for i in range(100)]
    reserve, order = GoldReserve(0.0).draw(ids)
    policy = Policy(strategy="random", batch_size=5, gold_share=0.0)
    args = (P, {}, None, np.zeros(100, bool), order, reserve, np.zeros(3, int))
    a = plan_batch(policy, 5, *args, 0, False, 0.5)
    b = plan_batch(policy, 5, *args, 0, False, 0.5)
    c = plan_batch(policy, 5, *args, 1, False, 0.5)
    assert a.indices.tolist() == b.indices.tolist() != c.indices.tolist()
    assert set(a.reasons) == {"explore"}


def test_policy_from_config_reads_every_field(tmp_path):
    from labeler.config import validate_config

    raw = {"data": {"path": "x.csv"}, "task": {"labels": ["a", "b"]},
           "queue": {"batch_size": 7, "exploration": 0.1, "coverage": 0.3, "gold_share": 0.25, "seed": 4,
                     "queue_with": "join"},
           "training": {"min_per_class": 3, "weak_labels": {"fraction": 0.1, "weight": 0.2, "until": 99}}}
    p = Policy.from_config(validate_config(raw, tmp_path / "c.yaml"))
    assert p == Policy(strategy="margin", batch_size=7, cold_start=True, exploration=0.1, diversity=0.0,
                       queue_with="join", coverage=0.3, min_per_class=3, gold_share=0.25, calib_share=1 / 3,
                       weak=WeakLabels(0.1, 0.2, 99), seed=4)
    assert p.name == "margin+cold+explore0.1+join+cover0.3+weak0.1x0.2<99+gold0.25"
    assert dataclasses.replace(p, strategy="random").name == "random+weak0.1x0.2<99+gold0.25"


def test_strategy_for():
    assert strategy_for(False) == "margin" and strategy_for(True) == "threshold_distance"
    assert strategy_for(True, "random") == "random"
    with pytest.raises(LabelerError, match="does not fit a multi-label task"):
        strategy_for(True, "margin")
    with pytest.raises(LabelerError, match="unknown query strategy 'x'"):
        strategy_for(False, "x")
