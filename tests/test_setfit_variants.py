"""SetFit options measured in issue 14.4: label texts as training examples, pair sampling strategy."""

import numpy as np
import pytest

from training.backends import get_backend
from training.errors import TrainingError
from training.setfit_backend import SetFitParams, add_label_texts, pairs_without_self, train_setfit

LABELS = ["sports", "business", "science"]
TEMPLATES = ["This sentence is news about games and teams", "This sentence is news about companies and markets",
             "This sentence is news about research and space"]


def test_label_texts_are_appended_one_per_label():
    texts, y, w = add_label_texts(["goal!", "stocks"], np.array([0, 1]), None, TEMPLATES, 3, False)
    assert texts == ["goal!", "stocks"] + TEMPLATES
    assert y.tolist() == [0, 1, 0, 1, 2]
    assert w is None


def test_label_texts_weigh_one_beside_weak_rows_and_skip_empty_texts():
    texts, y, w = add_label_texts(["goal!", "stocks"], np.array([0, 1]), np.array([1.0, 0.3]),
                                  ["", "This sentence is business", "  "], 3, False)
    assert texts == ["goal!", "stocks", "This sentence is business"]
    assert y.tolist() == [0, 1, 1]
    assert w.tolist() == [1.0, 0.3, 1.0]


def test_label_texts_multi_label_rows_are_one_hot():
    texts, Y, _ = add_label_texts(["goal!"], np.array([[1, 0, 1]]), None, TEMPLATES, 3, True)
    assert texts == ["goal!"] + TEMPLATES
    assert Y.tolist() == [[1, 0, 1], [1, 0, 0], [0, 1, 0], [0, 0, 1]]


def test_no_label_texts_changes_nothing():
    texts, y, w = add_label_texts(["goal!"], np.array([0]), np.array([1.0]), None, 3, False)
    assert (texts, y.tolist(), w.tolist()) == (["goal!"], [0], [1.0])


def test_label_texts_must_match_the_labels():
    with pytest.raises(TrainingError, match=r"label_texts has 2 texts; expected one per label \(3\)"):
        add_label_texts(["goal!"], np.array([0]), None, TEMPLATES[:2], 3, False)


@pytest.mark.parametrize("params, message", [
    ({"sampling_strategy": "random"}, "sampling_strategy 'random' is not one of oversampling, undersampling, unique"),
    ({"label_texts": "This sentence is {}"}, "label_texts must be a list of strings, one per label"),
    ({"label_texts": ["a", 3, "c"]}, "label_texts must be a list of strings, one per label"),
])
def test_bad_options_are_one_line_errors(params, message):
    with pytest.raises(TrainingError, match=message):
        get_backend("setfit").make_params(params)


def test_defaults_unchanged():
    p = SetFitParams()
    assert (p.max_steps, p.batch_size, p.body_learning_rate, p.max_length, p.sampling_strategy, p.label_texts) == \
        (48, 16, 2e-5, 128, "oversampling", None)


@pytest.mark.slow
def test_a_label_text_teaches_a_class_without_human_examples():
    """Human labels for two classes only; the third class is learnt from its label text alone."""
    texts = ["the team won the match", "a late goal in the final", "shares fell on wall street",
             "the company posted record profits"]
    params = SetFitParams(max_steps=2, batch_size=8, label_texts=TEMPLATES, sampling_strategy="unique")
    clf = train_setfit(texts, np.array([0, 0, 1, 1]), LABELS, params=params, seed=0)
    P = clf.predict_proba(TEMPLATES)
    assert P.shape == (3, 3)
    assert P.argmax(axis=1).tolist() == [0, 1, 2]
    without = train_setfit(texts, np.array([0, 0, 1, 1]), LABELS, params=SetFitParams(max_steps=2, batch_size=8), seed=0)
    assert without.predict_proba(TEMPLATES)[:, 2].tolist() == [0.0, 0.0, 0.0]


def test_pairs_without_self_leave_out_only_the_self_pairs():
    from setfit.sampler import ContrastiveDataset

    texts = [f"text {i}" for i in range(7)]
    y = [0, 0, 0, 1, 1, 2, 2]  # 3 + 1 + 1 distinct positive pairs, 7 self-pairs
    setfit = ContrastiveDataset(texts, y, False, sampling_strategy="unique")
    ours = pairs_without_self(texts, y, False, sampling_strategy="unique")
    assert sum(p["sentence_1"] == p["sentence_2"] for p in setfit.pos_pairs) == 7
    assert len(setfit.pos_pairs) == 12 and len(ours.pos_pairs) == 5
    assert all(p["sentence_1"] != p["sentence_2"] for p in ours.pos_pairs)
    def key(pairs):
        return sorted((p["sentence_1"], p["sentence_2"]) for p in pairs)

    assert key(ours.neg_pairs) == key(setfit.neg_pairs)  # the same negatives (a text never differs from itself)
    multi = pairs_without_self(texts[:3], [[1, 0], [1, 1], [0, 1]], True, sampling_strategy="unique")
    assert sorted((p["sentence_1"], p["sentence_2"]) for p in multi.pos_pairs) == [
        ("text 0", "text 1"), ("text 1", "text 2")]
    import setfit.sampler

    assert setfit.sampler.shuffle_combinations.__name__ == "shuffle_combinations"  # restored
