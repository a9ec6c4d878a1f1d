import numpy as np
import pytest

from training.thresholds import fit_thresholds, global_threshold, predict_sets, set_scores


def test_global_threshold_maximises_micro_f1():
    P = np.array([[0.9, 0.2], [0.6, 0.1], [0.3, 0.4], [0.1, 0.05]])
    Y = np.array([[1, 0], [1, 0], [0, 1], [0, 0]])
    # 0.3 < t <= 0.4 catches all three positives and nothing else (cuts sit halfway between scores)
    assert global_threshold(P, Y) == pytest.approx(0.35)


def test_no_positives_keeps_the_default():
    P = np.array([[0.9, 0.2], [0.6, 0.1]])
    assert global_threshold(P, np.zeros((2, 2), int), default=0.5) == 0.5
    assert fit_thresholds(P, np.zeros((2, 2), int)).tolist() == [0.5, 0.5]


def test_per_label_cut_shrinks_to_global_by_positive_count():
    P = np.array([[0.9, 0.2], [0.8, 0.15], [0.2, 0.1], [0.1, 0.05]])
    Y = np.array([[1, 1], [1, 0], [0, 0], [0, 0]])
    g = global_threshold(P, Y)
    t = fit_thresholds(P, Y, shrink=5.0)
    own0, own1 = 0.5, 0.175  # label 0: any cut in (0.2, 0.8] (middle candidate 0.5); label 1: (0.15, 0.2]
    assert t[0] == pytest.approx(2 / 7 * own0 + 5 / 7 * g)
    assert t[1] == pytest.approx(1 / 6 * own1 + 5 / 6 * g)


def test_predict_sets_allows_empty_rows():
    out = predict_sets(np.array([[0.1, 0.2], [0.7, 0.4]]), np.array([0.5, 0.3]))
    assert out.tolist() == [[0, 0], [1, 1]]


def test_shape_mismatch_is_one_line():
    with pytest.raises(ValueError, match="same shape"):
        fit_thresholds(np.zeros((2, 2)), np.zeros((2, 3)))


def test_micro_f1_objective_silences_a_label_whose_predictions_hurt_micro_f1():
    P = np.array([[0.9, 0.6], [0.8, 0.5], [0.1, 0.4], [0.2, 0.3]])
    Y = np.array([[1, 0], [1, 0], [0, 1], [0, 0]])
    # label 1 alone: its F1 is best predicting rows 0-2 (cut 0.35, F1 0.5); over both labels that gives
    # micro-F1 6/8 = 0.75, predicting nothing gives 4/5 = 0.8: the micro-F1 cut sits above every score
    assert fit_thresholds(P, Y, shrink=0.0)[1] == pytest.approx(0.35)
    assert fit_thresholds(P, Y, shrink=0.0, objective="micro_f1")[1] > 0.6


def test_a_cut_that_takes_every_label_is_still_a_probability_the_queue_accepts():
    # an early round: every cell is a positive and label 1 scores exactly 0 where a fold's model never saw it.
    # The best cut was 0.0 (every cell, zeros included), which threshold_distance refused with a ValueError (found
    # on a 10-label GoEmotions subset at 40 labels). The lowest cut is MIN_CUT now and a zero score no prediction:
    # MIN_CUT and 0.05 tie (F1 0.8) and the middle of the ties is 0.05
    from labeler.loop.strategies import threshold_distance
    from training.thresholds import MIN_CUT

    P = np.array([[0.3, 0.0], [0.1, 0.0], [0.2, 0.4]])
    Y = np.ones((3, 2), dtype=int)
    assert global_threshold(P, Y) == pytest.approx(0.05)
    cuts = fit_thresholds(P, Y, shrink=5.0, objective="micro_f1", shrink_down=20.0)
    assert ((cuts >= MIN_CUT) & (cuts < 1)).all()
    assert predict_sets(P, cuts).tolist() == [[1, 0], [1, 0], [1, 1]]
    assert len(threshold_distance(P, cuts)) == 3  # accepted
    # no positive scores anything: no cut finds one, the default stands
    assert global_threshold(np.zeros((2, 2)), np.ones((2, 2), dtype=int), default=0.4) == 0.4
    cuts = fit_thresholds(np.zeros((2, 2)), np.ones((2, 2), dtype=int), default=0.4, objective="micro_f1")
    assert ((cuts > 0.4) & (cuts < 1)).all()  # each label's own cut predicts nothing: shrunk up from the default


def test_set_scores_are_the_lowest_probability_in_the_set_or_one_minus_the_highest_for_none():
    P = np.array([[0.9, 0.6, 0.1], [0.2, 0.3, 0.05], [0.5, 0.5, 0.5], [0.0, 0.0, 0.0]])
    sets = predict_sets(P, 0.5)
    assert sets.tolist() == [[1, 1, 0], [0, 0, 0], [1, 1, 1], [0, 0, 0]]
    np.testing.assert_allclose(set_scores(P, sets), [0.6, 0.7, 0.5, 1.0])
