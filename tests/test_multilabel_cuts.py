"""Per-label cuts in the multi-label loop: the queue, the fast model, the suggestion and its clicks."""

import numpy as np
import pytest

from labeler.argilla.schema import NONE_VALUE
from labeler.loop.engine import FITTED, FIXED, MIN_LABELS_FOR_CUTS, Policy, WeakLabels, fit_queue_model, label_cuts
from labeler.loop.suggest import (MIN_LABELS_FOR_SUGGESTIONS, clicks, fewest_clicks, none_cut, suggested_none,
                                  suggestion, suggestion_cuts)
from labeler.loop.queue import select_batch
from labeler.loop.strategies import threshold_distance
from training.thresholds import fit_thresholds, global_threshold


def test_threshold_distance_uses_each_labels_cut():
    P = np.array([[0.30, 0.90], [0.50, 0.20], [0.10, 0.25]])
    t = np.array([0.3, 0.8])
    # row 0: label 0 sits on its cut -> 1; row 1: min(|.5-.3|/.7, |.2-.8|/.8) = 0.2/0.7; row 2: |.25-.8|/.8 vs .2/.7
    expected = [1.0, 1 - 0.2 / 0.7, 1 - 0.2 / 0.7]
    assert threshold_distance(P, t) == pytest.approx(expected)
    assert threshold_distance(P, 0.5).tolist() == pytest.approx([1 - 0.4, 1.0, 1 - 0.5])


def test_threshold_distance_rejects_bad_cuts():
    with pytest.raises(ValueError, match="one per label"):
        threshold_distance(np.zeros((2, 2)), np.array([0.5, 0.5, 0.5]))
    with pytest.raises(ValueError, match=r"in \(0, 1\)"):
        threshold_distance(np.zeros((2, 2)), np.array([0.5, 1.0]))


def test_coverage_picks_rows_over_each_labels_cut():
    P = np.array([[0.35, 0.1], [0.25, 0.1], [0.1, 0.9]])
    sel = select_batch(P, 1, strategy="threshold_distance", multi_label=True, threshold=np.array([0.3, 0.5]),
                       short={0: 1}, coverage=1.0)
    assert sel.indices.tolist() == [0] and sel.reasons == ["coverage"]


def test_clicks_objective_keeps_labels_that_are_right_more_often_than_not():
    p = np.array([[0.9], [0.8], [0.7], [0.6], [0.2]])
    y = np.array([[1], [1], [0], [1], [0]])
    # cuts between scores: >= 0.85 saves 1, >= 0.75 saves 2, >= 0.65 saves 1, >= 0.4 saves 2 (tie: the higher cut)
    assert global_threshold(p, y, objective="clicks") == pytest.approx(0.75)
    assert fit_thresholds(p, y, shrink=0.0, objective="clicks").tolist() == pytest.approx([0.75])
    with pytest.raises(ValueError, match="unknown objective"):
        fit_thresholds(p, y, objective="accuracy")


def test_suggestion_cuts_need_enough_reserve_labels():
    S = np.tile([[0.9, 0.1]], (MIN_LABELS_FOR_SUGGESTIONS, 1))
    Y = np.tile([[1, 0]], (MIN_LABELS_FOR_SUGGESTIONS, 1))
    assert suggestion_cuts(S, np.arange(MIN_LABELS_FOR_SUGGESTIONS - 1), Y[:-1]) is None
    cuts = suggestion_cuts(S, np.arange(MIN_LABELS_FOR_SUGGESTIONS), Y)
    assert cuts[0] <= 0.9 and cuts[1] > 0.1  # label 0 is always right, label 1 never


def test_multi_label_suggestion_takes_labels_over_their_cuts_or_none():
    labels = ["a", "b", "c"]
    p = np.array([0.6, 0.3, 0.45])
    assert suggestion(p, labels, True, np.array([0.7, 0.2, 0.4])) == (["c", "b"], [0.45, 0.3])
    assert suggestion(p, labels, True, 0.5) == (["a"], [0.6])
    assert suggestion(p, labels, True, 0.9) == ([], [])
    assert suggestion(p, labels, True, None) == ([], [])
    assert suggestion(p, labels, False, None) == ("a", 0.6)


def test_clicks_count_labels_added_or_removed():
    assert clicks(np.array([[1, 0, 1], [0, 0, 0]]), np.array([[1, 1, 0], [0, 0, 1]])).tolist() == [2, 1]


def test_clicks_count_none_of_these_chosen_or_taken_away():
    truth = np.array([[0, 0], [0, 0], [1, 0], [0, 0]])
    shown = np.array([[0, 0], [0, 0], [0, 0], [1, 0]])
    none = np.array([False, True, True, False])
    # an empty form on a no-label record: choose "None of these"; pre-selected and right: nothing; pre-selected on a
    # record with a label: take it away and add the label; a wrong label on a no-label record: remove it, choose None
    assert clicks(shown, truth, none).tolist() == [1, 0, 2, 2]
    assert clicks(0 * truth, truth).tolist() == [1, 1, 1, 1]  # the empty form
    # the fewest pull reads as the answer: the label added beside the pre-selected None (1), None chosen beside the
    # wrong label (1); never more than the deliberate path, the same on an empty form
    assert fewest_clicks(shown, truth, none).tolist() == [1, 0, 1, 1]
    assert fewest_clicks(0 * truth, truth).tolist() == [1, 1, 1, 1]
    two = np.array([[1, 1, 0], [1, 1, 0], [1, 1, 0]])
    assert fewest_clicks(two, np.array([[0, 0, 0], [1, 0, 1], [1, 1, 0]])).tolist() == [1, 2, 0]
    assert clicks(two, np.array([[0, 0, 0], [1, 0, 1], [1, 1, 0]])).tolist() == [3, 2, 0]


def test_none_of_these_is_pre_selected_where_rows_like_it_were_answered_so():
    # label 0's cut is fitted at 0.75; rows under every cut are pre-selected "None of these" from 1 - max 0.6 up
    S = np.array([[0.9, 0.1]] * 10 + [[0.05, 0.1]] * 6 + [[0.35, 0.1]] * 2 + [[0.2, 0.3]] * 2 + [[0.6, 0.1]] * 2)
    Y = np.array([[1, 0]] * 10 + [[0, 0]] * 6 + [[0, 0]] * 1 + [[1, 0]] * 1 + [[0, 1]] * 2 + [[0, 0]] * 2)
    rows = np.arange(len(S))
    cuts = suggestion_cuts(S, rows, Y)
    assert cuts[0] == pytest.approx(0.75) and cuts[1] > 0.3
    # under the cuts, 1 - max: 0.9 (6 none), 0.7 (2 labelled), 0.65 (1 none, 1 labelled), 0.4 (2 none); clicks
    # saved from 0.8 up: 6; from 0.675: 4; from 0.525: 4; every such row: 6 (a tie with 0.8: the higher cut)
    assert none_cut(S, rows, Y, cuts) == pytest.approx(0.8)
    assert none_cut(S, rows, Y, None) is None
    labels = ["a", "b"]
    assert suggestion(np.array([0.05, 0.1]), labels, True, cuts, 0.8) == ([NONE_VALUE], [pytest.approx(0.9)])
    assert suggestion(np.array([0.25, 0.1]), labels, True, cuts, 0.8) == ([], [])  # 0.75: not sure enough
    assert suggestion(np.array([0.05, 0.1]), labels, True, cuts, None) == ([], [])
    assert suggestion(np.array([0.95, 0.1]), labels, True, cuts, 0.8) == (["a"], [0.95])
    shown = np.array([[0, 0], [0, 0], [1, 0]])
    S = np.array([[0.05, 0.1], [0.25, 0.1], [0.01, 0.0]])
    assert suggested_none(S, shown, 0.8).tolist() == [True, False, False]


def test_no_none_of_these_where_every_record_carries_a_label():
    S = np.array([[0.9, 0.1], [0.1, 0.05], [0.2, 0.1]] * 8)
    Y = np.array([[1, 0], [0, 1], [1, 0]] * 8)
    rows = np.arange(len(S))
    assert none_cut(S, rows, Y, suggestion_cuts(S, rows, Y)) is None


def _toy(n=30, k=3, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 4))
    Y = (X[:, :k] > 0.3).astype(np.int64)
    return X, Y


def test_label_cuts_fall_back_to_the_one_threshold():
    X, Y = _toy()
    P0 = np.full(Y.shape, 0.5)
    none = np.zeros(len(X), dtype=bool)
    few = np.arange(MIN_LABELS_FOR_CUTS - 1)
    fitted = Policy(thresholds=FITTED, weak=WeakLabels(0.0))
    assert label_cuts(X, few, Y[few], P0, none, fitted, 0.4).tolist() == [0.4] * 3
    rows = np.arange(len(X))
    assert label_cuts(X, rows, Y, P0, none, Policy(thresholds=FIXED), 0.4).tolist() == [0.4] * 3
    cuts = label_cuts(X, rows, Y, P0, none, fitted, 0.4)
    assert cuts.shape == (3,) and ((cuts > 0) & (cuts < 1)).all()


def test_fast_model_carries_its_cuts_and_predicts_with_them():
    X, Y = _toy()
    P0 = np.full(Y.shape, 0.5)
    rows = np.arange(len(X))
    model, _ = fit_queue_model(X, rows, Y, P0, np.ones(len(X), dtype=bool), Policy(thresholds=FITTED), True, 0.5)
    assert model.thresholds.shape == (3,)
    assert (model.predict(X) == (model.predict_proba(X) >= model.thresholds).astype(int)).all()
    same = label_cuts(X, rows, Y, P0, np.ones(len(X), dtype=bool), Policy(thresholds=FITTED), 0.5)
    assert model.thresholds.tolist() == same.tolist()


def test_representative_cold_start_takes_one_record_per_cluster_largest_first():
    rng = np.random.default_rng(0)
    E = np.concatenate([rng.normal(0, 0.1, (5, 3)) + [5, 0, 0], rng.normal(0, 0.1, (3, 3)) + [0, 5, 0]])
    P = np.full((8, 2), 0.5)
    sel = select_batch(P, 2, strategy="threshold_distance", multi_label=True, cold_start=True,
                       cold_start_by="representative", embeddings=E)
    assert sel.reasons == ["cold_start", "cold_start"]
    assert sel.indices[0] in range(5) and sel.indices[1] in range(5, 8)
    with pytest.raises(ValueError, match="needs the embeddings"):
        select_batch(P, 2, strategy="threshold_distance", multi_label=True, cold_start=True,
                     cold_start_by="representative")


def test_multi_label_policy_defaults_from_the_config():
    from labeler.config import validate_config

    raw = {"data": {"path": "x.csv"}, "task": {"labels": [{"name": "a"}, {"name": "b"}], "multi_label": True}}
    policy = Policy.from_config(validate_config(raw, "x.yaml"))
    assert (policy.thresholds, policy.cold_start_by, policy.weak.fraction, policy.prior_shift) == \
        (FITTED, "random", 0.0, 50.0)
    single = Policy.from_config(validate_config({**raw, "task": {"labels": raw["task"]["labels"]}}, "x.yaml"))
    assert (single.thresholds, single.cold_start_by, single.weak.fraction, single.prior_shift) == \
        (FIXED, "confident", 0.05, 0.0)
    off = Policy.from_config(validate_config({**raw, "queue": {"prior_shift": 0}}, "x.yaml"))
    assert off.prior_shift == 0.0
    # single-label ignores it even when set
    assert Policy.from_config(validate_config({**raw, "task": {"labels": raw["task"]["labels"]},
                                               "queue": {"prior_shift": 20}}, "x.yaml")).prior_shift == 0.0


def test_random_first_batch_is_the_random_policys_first_batch():
    rng = np.random.default_rng(1)
    P = rng.uniform(size=(40, 3))
    cold = select_batch(P, 6, strategy="threshold_distance", multi_label=True, cold_start=True,
                        cold_start_by="random", exploration=0.0, seed=3)
    rand = select_batch(P, 6, strategy="threshold_distance", multi_label=True, exploration=1.0, seed=3)
    assert sorted(cold.indices.tolist()) == sorted(rand.indices.tolist())
    assert set(cold.reasons) == {"cold_start"}


def _oof_by_hand(X, Y, folds):
    from training.head import LinearModel

    oof, fold = np.zeros(Y.shape), np.arange(len(X)) % folds
    for f in range(folds):
        model = LinearModel(Y.shape[1], True, 10.0, 0).fit(X[fold != f], Y[fold != f], np.ones(int((fold != f).sum())))
        oof[fold == f] = model.predict_proba(X[fold == f])
    return oof


def test_label_cuts_use_the_policys_folds_and_the_held_out_rows():
    X, Y = _toy(n=90)
    P0 = np.full(Y.shape, 0.5)
    none = np.zeros(len(X), dtype=bool)
    rows = np.arange(60)
    for folds in (3, 5):
        policy = Policy(thresholds=FITTED, weak=WeakLabels(0.0), cut_folds=folds)
        expected = fit_thresholds(_oof_by_hand(X[rows], Y[rows], folds), Y[rows], default=0.5, objective="micro_f1",
                                  shrink_down=20.0)
        assert np.allclose(label_cuts(X, rows, Y[rows], P0, none, policy, 0.5), expected)
    held = (np.linspace(0.05, 0.95, 30 * 3).reshape(30, 3), Y[60:])
    policy = Policy(thresholds=FITTED, weak=WeakLabels(0.0))
    both = fit_thresholds(np.concatenate([_oof_by_hand(X[rows], Y[rows], 3), held[0]]), np.concatenate([Y[rows], Y[60:]]),
                          default=0.5, objective="micro_f1", shrink_down=20.0)
    got = label_cuts(X, rows, Y[rows], P0, none, policy, 0.5, held)
    assert np.allclose(got, both)
    assert not np.allclose(got, label_cuts(X, rows, Y[rows], P0, none, policy, 0.5))


def test_queue_model_cuts_read_the_calibration_rows_only_when_the_policy_asks():
    X, Y = _toy(n=90)
    P0 = np.full(Y.shape, 0.5)
    none = np.zeros(len(X), dtype=bool)
    rows, calib = np.arange(60), (np.arange(60, 90), Y[60:])
    train_only = Policy(thresholds=FITTED, weak=WeakLabels(0.0))
    plain, _ = fit_queue_model(X, rows, Y[rows], P0, none, train_only, True, 0.5)
    ignored, _ = fit_queue_model(X, rows, Y[rows], P0, none, train_only, True, 0.5, calib)
    assert plain.thresholds.tolist() == ignored.thresholds.tolist()
    with_calib = Policy(thresholds=FITTED, weak=WeakLabels(0.0), cuts_on="train+calib")
    model, _ = fit_queue_model(X, rows, Y[rows], P0, none, with_calib, True, 0.5, calib)
    held = (model.predict_proba(X[60:]), Y[60:])
    assert model.thresholds.tolist() == label_cuts(X, rows, Y[rows], P0, none, with_calib, 0.5, held).tolist()
    no_calib, _ = fit_queue_model(X, rows, Y[rows], P0, none, with_calib, True, 0.5, (np.zeros(0, dtype=int), Y[:0]))
    assert no_calib.thresholds.tolist() == plain.thresholds.tolist()
    assert with_calib.name.endswith("cuts-fitted+train+calib")
    assert Policy(thresholds=FITTED, cut_folds=5).name.endswith("cuts-fitted+folds5")


def test_policy_rejects_unknown_cut_sources():
    with pytest.raises(ValueError, match="cuts_on must be"):
        Policy(cuts_on="gold")
    with pytest.raises(ValueError, match="cut_folds at least 2"):
        Policy(cut_folds=1)


def _toy_simulation(tmp_path, X, Y, Xe, Ye, labels):
    """(config, SimData, Features) of a multi-label toy pool: vectors ``X``, truth ``Y``, a flat zero-shot (0.5)."""
    from labeler import simulate as sim
    from labeler.config import validate_config

    config = validate_config({"data": {"path": "pool.jsonl", "label_field": "label"},
                              "task": {"labels": labels, "multi_label": True},
                              "project": {"dir": str(tmp_path / "proj")}}, tmp_path / "sim.yaml")
    data = sim.SimData(name="toy", config=config, labels=labels, multi_label=True, ids=[f"p{i}" for i in range(len(X))],
                       texts=[f"t{i}" for i in range(len(X))], y=Y, eval_ids=[f"e{i}" for i in range(len(Xe))],
                       eval_texts=[f"e{i}" for i in range(len(Xe))], eval_y=Ye)
    P0 = np.full(Y.shape, 0.5)
    return config, data, sim.Features(X=X, X_eval=Xe, signals={"zero-shot": P0}, P0=P0, P0_eval=np.full(Ye.shape, 0.5))


def test_simulate_fits_the_cuts_on_the_answered_calibration_rows_when_asked(tmp_path):
    from labeler.evaluation.gold import CALIB
    from labeler.simulate.driver import each_round

    X, Y = _toy(n=200, seed=1)
    config, data, feats = _toy_simulation(tmp_path, X, Y, *_toy(n=40, seed=2), ["a", "b", "c"])
    P0 = feats.P0
    policy = Policy.from_config(config, batch_size=20, gold_share=0.4, cuts_on="train+calib",
                                strategy="threshold_distance", prior_shift=0.0)  # the cuts alone
    s = list(each_round(data, feats, policy, 3))[-1]
    calib = np.array([s.labeled[i] and s.reserve[i] and policy.reserve.split_of(data.ids[i]) == CALIB
                      for i in range(200)])
    rows = np.flatnonzero(calib)
    assert len(s.train) >= MIN_LABELS_FOR_CUTS and len(rows) > 0
    held = (s.model.predict_proba(X[rows]), Y[rows])
    expected = label_cuts(X, s.train, Y[s.train], P0, s.labeled | s.reserve, policy, data.threshold, held)
    assert s.model.thresholds.tolist() == expected.tolist()
    assert s.model.thresholds.tolist() != label_cuts(X, s.train, Y[s.train], P0, s.labeled | s.reserve, policy,
                                                     data.threshold).tolist()


def test_cuts_on_calibration_rows_refuse_a_caller_without_them():
    X, Y = _toy(n=60)
    policy = Policy(thresholds=FITTED, weak=WeakLabels(0.0), cuts_on="train+calib")
    with pytest.raises(ValueError, match="needs the answered calibration rows"):
        fit_queue_model(X, np.arange(60), Y, np.full(Y.shape, 0.5), np.zeros(60, dtype=bool), policy, True, 0.5)


def test_each_labels_cut_weighs_its_positives_against_the_global_cut():
    P = np.array([[0.9, 0.2], [0.8, 0.6], [0.3, 0.7], [0.6, 0.1], [0.2, 0.4], [0.55, 0.35]])
    Y = np.array([[1, 0], [1, 1], [0, 1], [1, 0], [0, 0], [0, 1]])
    # the global cut 0.575; label 1's own micro-F1 cut 0.275 with 3 positives: 3/8 of it at shrink 5, 3/23 at 20
    assert fit_thresholds(P, Y, 0.5, 0.0, "micro_f1").tolist() == pytest.approx([0.575, 0.275])
    assert fit_thresholds(P, Y, 0.5, 5.0, "micro_f1").tolist() == pytest.approx([0.575, 0.4625])
    assert fit_thresholds(P, Y, 0.5, 20.0, "micro_f1").tolist() == pytest.approx([0.575, (3 * 0.275 + 20 * 0.575) / 23])
    # shrink_down: 20 for a cut below the global one (label 1 here), 5 above it (label 1 of the flipped matrix)
    assert fit_thresholds(P, Y, 0.5, 5.0, "micro_f1", shrink_down=20.0).tolist() == pytest.approx(
        [0.575, (3 * 0.275 + 20 * 0.575) / 23])
    flipped = fit_thresholds(1 - P, 1 - Y, 0.5, 5.0, "micro_f1")
    assert fit_thresholds(1 - P, 1 - Y, 0.5, 5.0, "micro_f1", shrink_down=20.0).tolist() == flipped.tolist()
    assert flipped.tolist() == pytest.approx([0.425, 0.453125])


def test_label_cuts_use_the_policys_shrink():
    X, Y = _toy(n=60)
    P0 = np.full(Y.shape, 0.5)
    none, rows = np.zeros(len(X), dtype=bool), np.arange(60)
    oof = _oof_by_hand(X, Y, 3)
    for shrink in (5.0, 20.0):
        policy = Policy(thresholds=FITTED, weak=WeakLabels(0.0), cut_shrink=shrink, cut_shrink_down=shrink)
        expected = fit_thresholds(oof, Y, default=0.5, shrink=shrink, objective="micro_f1")
        assert np.allclose(label_cuts(X, rows, Y, P0, none, policy, 0.5), expected)
    # the default: 5 pseudo-positives for a cut above the global one, 20 for one below it
    default = Policy(thresholds=FITTED, weak=WeakLabels(0.0))
    assert (default.cut_shrink, default.cut_shrink_down) == (5.0, 20.0) and default.name.endswith("cuts-fitted")
    assert np.allclose(label_cuts(X, rows, Y, P0, none, default, 0.5),
                       fit_thresholds(oof, Y, default=0.5, shrink=5.0, objective="micro_f1", shrink_down=20.0))
    assert Policy(thresholds=FITTED, cut_shrink=20).name.endswith("cuts-fitted+shrink20")
    assert Policy(thresholds=FITTED, cut_shrink_down=5).name.endswith("cuts-fitted+down5")
    with pytest.raises(ValueError, match="cut_shrink"):
        Policy(cut_shrink=-1.0)
    with pytest.raises(ValueError, match="cut_shrink"):
        Policy(cut_shrink_down=-1.0)


def test_what_ships_predicts_at_least_one_label_where_no_answer_was_none_of_these(tmp_path):
    # the shipped run's rule (training.train.never_none): "neutral" catches every text no other label does, as in
    # GoEmotions, so the final fit predicts at least its most probable label; simulate's "what ships" scores that
    from dataclasses import replace

    from labeler import simulate as sim
    from labeler.simulate.driver import each_round, ships_metrics

    def with_neutral(X, Y):
        return X, np.column_stack([Y, (Y.sum(axis=1) == 0).astype(np.int64)])

    X, Y = with_neutral(*_toy(n=200, seed=1))
    Xe, Ye = with_neutral(*_toy(n=60, seed=2))
    config, data, feats = _toy_simulation(tmp_path, X, Y, Xe, Ye, ["a", "b", "c", "neutral"])
    P0 = feats.P0
    policy = Policy.from_config(config, batch_size=20, gold_share=0.4, strategy="threshold_distance")
    s = list(each_round(data, feats, policy, 2))[-1]
    rows = np.flatnonzero(s.labeled)
    model, _ = fit_queue_model(X, rows, Y[rows], P0, s.labeled | s.reserve, replace(policy, prior_shift=0.0), True,
                               data.threshold, (np.zeros(0, dtype=np.int64), Y[:0]))
    P = model.predict_proba(Xe)
    one = sim.score_metrics(P, Ye, data, model.thresholds, at_least_one=True)
    plain = sim.score_metrics(P, Ye, data, model.thresholds)
    assert one != plain  # some test rows have nothing over their cuts: the rule decides them
    assert ships_metrics(data, feats, policy, s.labeled, s.reserve, s.model) == {f"ships_{k}": v for k, v in one.items()}
    # one answered "None of these" (an empty set) and the final fit may predict none: no rule
    Y0 = Y.copy()
    Y0[rows[0]] = 0
    data0 = replace(data, y=Y0)
    model0, _ = fit_queue_model(X, rows, Y0[rows], P0, s.labeled | s.reserve, replace(policy, prior_shift=0.0), True,
                                data.threshold, (np.zeros(0, dtype=np.int64), Y[:0]))
    assert ships_metrics(data0, feats, policy, s.labeled, s.reserve, s.model) == \
        {f"ships_{k}": v for k, v in sim.score_metrics(model0.predict_proba(Xe), Ye, data0, model0.thresholds).items()}


def test_simulate_counts_the_none_click_on_the_queued_records():
    from types import SimpleNamespace

    from labeler.loop.engine import GOLD
    from labeler.simulate.driver import suggestion_clicks

    # the reserve of the test above (cuts 0.75 / > 0.3, "None of these" from 0.8), then four queued records
    S = np.array([[0.9, 0.1]] * 10 + [[0.05, 0.1]] * 6 + [[0.35, 0.1]] * 2 + [[0.2, 0.3]] * 2 + [[0.6, 0.1]] * 2
                 + [[0.05, 0.1], [0.05, 0.1], [0.9, 0.1], [0.25, 0.1], [0.5, 0.5]])
    Y = np.array([[1, 0]] * 10 + [[0, 0]] * 6 + [[0, 0]] * 1 + [[1, 0]] * 1 + [[0, 1]] * 2 + [[0, 0]] * 2
                 + [[0, 0], [1, 0], [1, 0], [0, 0], [1, 1]])
    reserve = np.arange(len(S)) < 22
    batch = SimpleNamespace(indices=np.array([22, 23, 24, 25, 26]), reasons=["uncertainty"] * 4 + [GOLD])
    got = suggestion_clicks(SimpleNamespace(y=Y, threshold=0.5), SimpleNamespace(signals={"zs": S}), None, batch,
                            reserve)
    # None right (0), None on a labelled record (take it away, add a: 2), a right (0), an empty form on a record
    # with no label (choose None: 1); the gold pick is not shown first, so not counted
    # fewest: the label added beside the pre-selected None is the answer (1 instead of 2)
    assert got == pytest.approx({"clicks": 3 / 4, "clicks_without_none": 3 / 4, "clicks_fewest": 2 / 4,
                                 "clicks_empty": 1.0,
                                 "clicks_half": 6 / 4, "suggested": 1 / 4, "suggested_none": 2 / 4,
                                 "none_right": 1 / 4})  # the first record's None is right, the second's is not
