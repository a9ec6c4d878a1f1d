"""Query strategies on hand-written matrices (exact values and rankings) and batch selection."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from labeler.errors import LabelerError
from labeler.loop.queue import select_batch
from labeler.loop.strategies import (
    MULTI_LABEL_STRATEGIES,
    SINGLE_LABEL_STRATEGIES,
    STRATEGIES,
    cardinality_distance,
    disagreement,
    entropy,
    get_strategy,
    least_confidence,
    margin,
    max_loss,
    rare_label_distance,
    threshold_distance,
    uncertainty,
)

NAN = math.nan
# Five rows on which the three single-label strategies rank differently.
P = np.array([
    [0.45, 0.45, 0.10],  # A: lc .55  margin 1.00  H .949
    [0.40, 0.30, 0.30],  # B: lc .60  margin 0.90  H 1.089
    [0.50, 0.25, 0.25],  # C: lc .50  margin 0.75  H 1.040
    [0.80, 0.10, 0.10],  # D: lc .20  margin 0.30  H 0.639
    [0.55, 0.44, 0.01],  # E: lc .45  margin 0.89  H 0.736
])


def H(*p):
    return -sum(x * math.log(x) for x in p if x > 0)


def ranking(scores):
    return list(np.lexsort((np.arange(len(scores)), -np.asarray(scores))))


def test_least_confidence_exact():
    assert least_confidence(P) == pytest.approx([0.55, 0.60, 0.50, 0.20, 0.45])
    assert ranking(least_confidence(P)) == [1, 0, 2, 4, 3]


def test_margin_exact():
    assert margin(P) == pytest.approx([1.00, 0.90, 0.75, 0.30, 0.89])
    assert ranking(margin(P)) == [0, 1, 4, 2, 3]


def test_entropy_exact_in_nats():
    assert entropy(P) == pytest.approx([H(*row) for row in P.tolist()])
    assert entropy(np.array([[1.0, 0.0], [0.5, 0.5]])) == pytest.approx([0.0, math.log(2)])
    assert ranking(entropy(P)) == [1, 2, 0, 4, 3]


def test_disagreement_is_mean_kl_to_the_mean_of_voting_signals():
    a = np.array([[1.0, 0.0], [1.0, 0.0], [0.5, 0.5], [0.8, 0.2]])
    b = np.array([[1.0, 0.0], [0.0, 1.0], [NAN, NAN], [0.4, 0.6]])
    P2 = np.full((4, 2), 0.5)
    kl = lambda p, q: sum(x * math.log(x / y) for x, y in zip(p, q) if x > 0)  # noqa: E731
    row3 = (kl([0.8, 0.2], [0.6, 0.4]) + kl([0.4, 0.6], [0.6, 0.4])) / 2
    expected = [0.0, math.log(2), 0.0, row3]  # row 2: one voter -> 0
    assert disagreement(P2, {"a": a, "b": b}) == pytest.approx(expected)
    assert ranking(disagreement(P2, {"a": a, "b": b})) == [1, 3, 0, 2]
    assert uncertainty(P2, "disagreement", {"a": a, "b": b}) == pytest.approx(expected)


def test_disagreement_multi_label_uses_bernoulli_kl_per_label():
    a = np.array([[0.9, 0.5]])
    b = np.array([[0.1, 0.5]])
    kl = lambda p, q: p * math.log(p / q) + (1 - p) * math.log((1 - p) / (1 - q))  # noqa: E731
    expected = (kl(0.9, 0.5) + kl(0.1, 0.5)) / 2 / 2  # mean over signals, then over labels
    assert disagreement(np.full((1, 2), 0.5), {"a": a, "b": b}, multi_label=True) == pytest.approx([expected])


def test_disagreement_needs_signal_matrices():
    with pytest.raises(ValueError, match="signal_probas"):
        disagreement(P)
    with pytest.raises(ValueError, match="shape"):
        disagreement(P, {"a": np.zeros((2, 3))})


def test_threshold_distance_exact():
    M = np.array([[0.5, 0.9], [0.1, 0.95], [0.7, 0.2]])
    assert threshold_distance(M) == pytest.approx([1.0, 0.2, 0.6])
    assert ranking(threshold_distance(M)) == [0, 2, 1]
    # t = 0.7: distances scaled by max(t, 1 - t) = 0.7
    assert threshold_distance(M, 0.7) == pytest.approx([1 - 0.2 / 0.7, 1 - 0.25 / 0.7, 1.0])
    assert threshold_distance(np.array([[0.0, 1.0]])) == pytest.approx([0.0])


# Four multi-label rows: 1, 2, 0 and 3 labels at or over 0.5 (pool mean 1.5, so MMC's c = 2).
ML = np.array([[0.9, 0.2, 0.1], [0.6, 0.55, 0.1], [0.1, 0.2, 0.3], [0.5, 0.5, 0.5]])


def test_max_loss_sizes_the_predicted_set_by_the_pools_cardinality():
    # row 0: f = (.8, -.6, -.8), top two +1: (1-.8)/2 + (1+.6)/2 + (1-.8)/2 = 1.0
    assert max_loss(ML) == pytest.approx([1.0, 0.95, 1.6, 1.5])
    # per-label cuts (.5, .4, .25): rows hold 1, 2, 1, 3 labels over them, c = 2; row 0 f = (.8, -1/3, -.2),
    # its top two are labels 0 and 2: .1 + (1 - 1/3)/2 + (1 + .2)/2
    assert max_loss(ML, np.array([0.5, 0.4, 0.25])) == pytest.approx([0.1 + 1 / 3 + 0.6, 1.175, 37 / 30, 1.25])
    assert ranking(max_loss(ML)) == [2, 3, 0, 1]


def test_cardinality_distance_mixes_threshold_distance_with_the_count_gap():
    # threshold distance (.4, .9, .6, 1); |n - 1.5| capped at 1: (.5, .5, 1, 1)
    assert cardinality_distance(ML) == pytest.approx([0.45, 0.7, 0.8, 1.0])


def test_rare_label_distance_weights_labels_the_pool_rarely_predicts():
    # labels over 0.5 in the pool: 3, 2, 1 -> w = 1/2, 1/sqrt(3), 1/sqrt(2); row 0: max(.1, .4/sqrt 3, .2/sqrt 2) / (1/sqrt 2)
    assert rare_label_distance(ML) == pytest.approx([0.4 / math.sqrt(3) * math.sqrt(2), 0.734847, 0.6, 1.0], abs=1e-6)
    # threshold distance would rank rows 1 (label 0 at .6) and 3 equally high; the rare label 2 decides
    assert ranking(rare_label_distance(ML)) == [3, 1, 2, 0]


def test_registry_and_unknown_names():
    assert set(STRATEGIES) == {"least_confidence", "margin", "entropy", "disagreement", "threshold_distance",
                               "max_loss", "cardinality_distance", "rare_label_distance"}
    assert set(SINGLE_LABEL_STRATEGIES) | set(MULTI_LABEL_STRATEGIES) == set(STRATEGIES)
    assert get_strategy("margin") is margin
    with pytest.raises(LabelerError) as info:
        get_strategy("random")
    assert all(name in str(info.value) for name in STRATEGIES)
    with pytest.raises(LabelerError, match="does not fit multi-label"):
        uncertainty(P, "margin", multi_label=True)
    with pytest.raises(LabelerError, match="does not fit single-label"):
        uncertainty(P, "threshold_distance")


@pytest.mark.parametrize("bad", [np.array([0.5, 0.5]), np.array([[NAN, 1.0]]), np.array([[1.5, -0.5]])])
def test_bad_matrices_are_refused(bad):
    with pytest.raises(ValueError):
        least_confidence(bad)


def test_every_strategy_handles_an_empty_pool():
    empty = np.zeros((0, 3))
    for name in ("least_confidence", "margin", "entropy", "threshold_distance", "max_loss", "cardinality_distance",
                 "rare_label_distance"):
        assert STRATEGIES[name](empty).shape == (0,)


# -- select_batch -------------------------------------------------------------------------------------
def test_plain_batch_is_the_top_of_the_ranking():
    sel = select_batch(P, 3, "margin", exploration=0, diversity=0)
    assert sel.indices.tolist() == [0, 1, 4]
    assert sel.priority.tolist() == [1, 2, 3]
    assert sel.scores == pytest.approx([1.0, 0.9, 0.89])
    assert sel.reasons == ["uncertain"] * 3
    assert sel.all_scores == pytest.approx(margin(P))
    assert select_batch(P, 3, "entropy", exploration=0, diversity=0).indices.tolist() == [1, 2, 0]


def test_ties_are_broken_by_index():
    same = np.tile([0.5, 0.3, 0.2], (6, 1))
    assert select_batch(same, 4, "margin", exploration=0, diversity=0).indices.tolist() == [0, 1, 2, 3]


def test_exclude_as_mask_indices_or_ids():
    mask = np.array([True, False, False, False, True])
    assert select_batch(P, 2, exploration=0, exclude=mask).indices.tolist() == [1, 2]
    assert select_batch(P, 2, exploration=0, exclude=[0, 1]).indices.tolist() == [4, 2]
    ids = ["a", "b", "c", "d", "e"]
    assert select_batch(P, 2, exploration=0, exclude={"a", "e"}, ids=ids).indices.tolist() == [1, 2]
    assert select_batch(P, 10, exploration=0, exclude=[0, 1, 2]).indices.tolist() == [4, 3]
    assert len(select_batch(P, 3, exclude=np.ones(5, bool))) == 0
    with pytest.raises(ValueError, match="ids"):
        select_batch(P, 2, exclude=["a"])
    with pytest.raises(ValueError):
        select_batch(P, 2, exclude=[7])


def test_exploration_draws_seeded_random_picks_from_the_rest():
    rng = np.random.default_rng(1)
    big = rng.dirichlet([1, 1, 1], size=200)
    sel = select_batch(big, 10, "margin", exploration=0.3, diversity=0, seed=3)
    assert sel.reasons.count("explore") == 3 and sel.reasons.count("uncertain") == 7
    top7 = ranking(margin(big))[:7]
    assert sorted(i for i, r in zip(sel.indices, sel.reasons) if r == "uncertain") == sorted(top7)
    assert len(set(sel.indices.tolist())) == 10
    again = select_batch(big, 10, "margin", exploration=0.3, diversity=0, seed=3)
    assert again.indices.tolist() == sel.indices.tolist()
    other = select_batch(big, 10, "margin", exploration=0.3, diversity=0, seed=4)
    assert other.indices.tolist() != sel.indices.tolist()
    # review order: by uncertainty, highest first
    assert list(sel.scores) == sorted(sel.scores, reverse=True)


def test_diversity_takes_the_most_uncertain_record_of_each_cluster():
    # uncertainty falls with the index; rows 0-2 sit together, rows 3-5 elsewhere
    M = np.array([[0.5, 0.5], [0.55, 0.45], [0.6, 0.4], [0.65, 0.35], [0.7, 0.3], [0.75, 0.25]])
    emb = np.array([[1, 0], [1, 0.01], [1, -0.01], [0, 1], [0.01, 1], [-0.01, 1]], dtype=float)
    plain = select_batch(M, 2, "margin", exploration=0, diversity=0, embeddings=emb)
    assert plain.indices.tolist() == [0, 1]
    diverse = select_batch(M, 2, "margin", exploration=0, diversity=1.0, embeddings=emb)
    assert diverse.indices.tolist() == [0, 3]
    assert diverse.reasons == ["diverse", "diverse"]
    half = select_batch(M, 4, "margin", exploration=0, diversity=0.5, embeddings=emb)
    assert sorted(half.indices.tolist()) == [0, 1, 2, 3]
    assert sorted(half.reasons) == ["diverse", "diverse", "uncertain", "uncertain"]


def test_diversity_without_embeddings_falls_back_to_uncertainty():
    assert select_batch(P, 2, exploration=0, diversity=1.0).reasons == ["uncertain", "uncertain"]
    with pytest.raises(ValueError, match="embeddings"):
        select_batch(P, 2, embeddings=np.zeros((4, 2)))


def test_cold_start_takes_the_most_confident_record_per_predicted_class_first():
    M = np.array([
        [0.9, 0.05, 0.05],  # class 0, conf .9
        [0.6, 0.2, 0.2],    # class 0
        [0.1, 0.7, 0.2],    # class 1, conf .7
        [0.2, 0.75, 0.05],  # class 1, conf .75
        [0.34, 0.33, 0.33], # the most uncertain
        [0.3, 0.3, 0.4],    # class 2, conf .4
    ])
    sel = select_batch(M, 4, "least_confidence", exploration=0, diversity=0, cold_start=True)
    assert sel.indices.tolist() == [0, 3, 5, 4]
    assert sel.reasons == ["cold_start"] * 3 + ["uncertain"]
    assert select_batch(M, 2, "least_confidence", exploration=0, cold_start=True).indices.tolist() == [0, 3]
    # already-labeled records are skipped
    assert select_batch(M, 1, exploration=0, cold_start=True, exclude=[0]).indices.tolist() == [3]


def test_cold_start_multi_label_takes_the_top_record_per_label():
    M = np.array([[0.9, 0.1], [0.8, 0.95], [0.5, 0.5]])
    sel = select_batch(M, 3, "threshold_distance", exploration=0, cold_start=True, multi_label=True)
    assert sel.indices.tolist() == [1, 0, 2]
    assert sel.reasons == ["cold_start", "cold_start", "uncertain"]


def test_selection_validates_arguments():
    with pytest.raises(ValueError):
        select_batch(P, 0)
    with pytest.raises(ValueError):
        select_batch(P, 2, exploration=1.5)
    with pytest.raises(LabelerError):
        select_batch(P, 2, strategy="nope")


@settings(max_examples=60, deadline=None)
@given(
    data=st.data(),
    n=st.integers(0, 40),
    k=st.integers(2, 5),
    batch=st.integers(1, 50),
    exploration=st.floats(0, 1),
    diversity=st.floats(0, 1),
    cold=st.booleans(),
    use_emb=st.booleans(),
    seed=st.integers(0, 1000),
)
def test_batches_are_valid_and_deterministic(data, n, k, batch, exploration, diversity, cold, use_emb, seed):
    raw = data.draw(hnp.arrays(np.float64, (n, k), elements=st.floats(0.01, 1.0)))
    M = raw / raw.sum(axis=1, keepdims=True)
    exclude = data.draw(hnp.arrays(np.bool_, (n,)))
    emb = data.draw(hnp.arrays(np.float64, (n, 3), elements=st.floats(-1, 1))) if use_emb else None
    args = dict(strategy="margin", exploration=exploration, diversity=diversity, embeddings=emb, exclude=exclude,
                seed=seed, cold_start=cold)
    sel = select_batch(M, batch, **args)
    chosen = sel.indices.tolist()
    assert len(chosen) == min(batch, int((~exclude).sum()))
    assert len(set(chosen)) == len(chosen)
    assert not exclude[chosen].any()
    assert sel.priority.tolist() == list(range(1, len(chosen) + 1))
    assert set(sel.reasons) <= {"cold_start", "diverse", "uncertain", "explore"}
    assert select_batch(M, batch, **args).indices.tolist() == chosen
