"""Candidate cascade (issue 18): NLI scores only each text's top-k labels of a cheaper signal.

Pure functions on hand-written matrices, then the NLI signal on the tiny random-weight models against a
full NLI pass, then ``registry.build_signals`` (binding, one-line errors, fingerprints, the cache)."""

from __future__ import annotations

from typing import ClassVar

import numpy as np
import pytest

from labeler.errors import LabelerError
from labeler.signals.base import Signal, SignalParams
from labeler.signals.cascade import candidate_sets, merge_scores, suggest_k, topk_recall
from labeler.signals.nli import NLISignal
from labeler.signals.catalog import build_signals

from .conftest import SENTENCES

LABELS = ["sports", "business news", "war", "a new planet", "science", "movies"]


class TableParams(SignalParams):
    seed: int = 0
    power: float = 1.0  # p ** power, renormalised: same ranking, other probabilities (like a new temperature)


class TableSignal(Signal):
    """A candidate signal with fixed random rows per text (NaN for texts containing 'zzz'); counts calls."""

    type_name: ClassVar[str] = "table"
    Params: ClassVar[type[SignalParams]] = TableParams

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.calls = 0

    def _predict(self, texts):
        self.calls += len(texts)
        rows = []
        for t in texts:
            rng = np.random.RandomState(abs(hash((t, self.params.seed))) % 2**31)
            p = rng.dirichlet(np.ones(len(self.labels))) if not self.multi_label else rng.uniform(0, 0.5, len(self.labels))
            p = p ** self.params.power
            rows.append(np.full(len(self.labels), np.nan) if "zzz" in t else p / (1 if self.multi_label else p.sum()))
        return np.array(rows)


def nli(model_dir, multi_label=False, candidates=None, name="nli", labels=LABELS, **extra):
    params = {"model": str(model_dir), "batch_size": 4, "device": "cpu", **extra}
    if candidates is not None:
        params["candidates"] = candidates
    return NLISignal(name, labels, multi_label, params)


def cascade(model_dir, multi_label=False, cache_dir=None, **cand):
    cand = {"from": "table", **cand}
    sig = nli(model_dir, multi_label, cand)
    sig.cache_dir = cache_dir
    table = TableSignal("table", LABELS, multi_label)
    sig.bind({"table": table, "nli": sig})
    return sig, table


# -- pure functions ----------------------------------------------------------------------------------
def test_candidate_sets_single_multi_and_abstain():
    Q = np.array([[0.1, 0.5, 0.3, 0.1], [0.25, 0.25, 0.25, 0.25], [np.nan] * 4])
    sets = candidate_sets(Q, 2)
    assert [s.tolist() for s in sets] == [[1, 2], [0, 1], [0, 1, 2, 3]]
    M = np.array([[0.05, 0.6, 0.2, 0.15], [0.01, 0.02, 0.03, 0.04]])
    assert [s.tolist() for s in candidate_sets(M, 2, multi_label=True, threshold=0.1)] == [[1, 2], [3]]
    assert [s.tolist() for s in candidate_sets(M, 9, multi_label=True, threshold=0.1)] == [[1, 2, 3], [3]]


def test_merge_scaled_and_zero():
    Q = np.array([[0.1, 0.5, 0.3, 0.1]])
    sets, scores = [np.array([1, 2])], [np.array([0.25, 0.75])]
    np.testing.assert_allclose(merge_scores(Q, sets, scores), [[0.1, 0.2, 0.6, 0.1]])
    np.testing.assert_allclose(merge_scores(Q, sets, scores, rest="zero"), [[0, 0.25, 0.75, 0]])
    np.testing.assert_allclose(merge_scores(Q, sets, scores, multi_label=True), [[0.1, 0.25, 0.75, 0.1]])
    np.testing.assert_allclose(merge_scores(Q, sets, scores, multi_label=True, rest="zero"), [[0, 0.25, 0.75, 0]])
    nan = np.full((1, 3), np.nan)
    np.testing.assert_allclose(merge_scores(nan, [np.arange(3)], [np.array([0.2, 0.3, 0.5])]), [[0.2, 0.3, 0.5]])


def test_topk_recall_and_suggest_k_single_label():
    P = np.array([[0.6, 0.3, 0.1], [0.2, 0.5, 0.3], [0.1, 0.2, 0.7], [0.5, 0.4, 0.1], [np.nan] * 3])
    y = np.array([0, 2, 0, 1, 2])  # ranks 0, 1, 2, 1; the NaN row is left out
    assert topk_recall(P, y, [1, 2, 3]) == {1: 0.25, 2: 0.75, 3: 1.0}
    assert suggest_k(P, y, target=0.75) == 2
    assert suggest_k(P, y, target=0.95) == 3
    assert suggest_k(P, y, target=0.2) == 2  # single-label: never below 2
    assert suggest_k(P, y, target=0.2, min_k=1) == 1


def test_topk_recall_multi_label_micro_and_threshold():
    P = np.array([[0.9, 0.05, 0.3], [0.2, 0.6, 0.08]])
    y = np.array([[1, 1, 0], [0, 1, 1]])  # true-label ranks 0, 2 | 0, 2
    assert topk_recall(P, y, [1, 2, 3]) == {1: 0.5, 2: 0.5, 3: 1.0}
    assert topk_recall(P, y, [3], threshold=0.06) == {3: 0.75}  # 0.05 falls under the threshold
    assert suggest_k(P, y, target=0.75) == 3
    assert suggest_k(P, y, target=1.0, threshold=0.06) == 3  # unreachable: K
    with pytest.raises(LabelerError, match="shape"):
        topk_recall(P, np.array([[1, 0], [0, 1]]), [1])
    with pytest.raises(LabelerError, match="no labelled rows"):
        topk_recall(np.full((1, 3), np.nan), [0], [1])


# -- the NLI cascade against a full pass ------------------------------------------------------------------
@pytest.mark.parametrize("model_fixture", ["tiny_bart_nli", "tiny_bert_nli"])
def test_single_label_candidates_equal_full_pass(request, model_fixture):
    model_dir = request.getfixturevalue(model_fixture)
    texts = SENTENCES + ["zzz abstained by the candidate signal"]
    full = nli(model_dir).predict_proba(texts)
    full_logits = nli(model_dir).logits(texts)
    sig, table = cascade(model_dir, k=3)
    P = sig.predict_proba(texts)
    Q = table.predict_proba(texts)
    sets = candidate_sets(Q, 3)
    assert sig.pairs_scored == 3 * len(SENTENCES) + len(LABELS)  # the abstained text: every label
    np.testing.assert_allclose(P.sum(axis=1), 1.0, atol=1e-12)
    rows = np.repeat(np.arange(len(texts)), [len(c) for c in sets])
    cols = np.concatenate(sets)
    np.testing.assert_allclose(sig.pair_logits(texts, rows, cols), full_logits[rows, cols], atol=1e-6)
    for i, cols_i in enumerate(sets[:-1]):
        rest = np.setdiff1d(np.arange(len(LABELS)), cols_i)
        # on the candidates: the full pass's scores renormalised over them, sharing the candidate mass
        np.testing.assert_allclose(P[i, cols_i] / P[i, cols_i].sum(), full[i, cols_i] / full[i, cols_i].sum(), atol=1e-6)
        assert P[i, cols_i].sum() == pytest.approx(Q[i, cols_i].sum(), abs=1e-12)
        np.testing.assert_allclose(P[i, rest], Q[i, rest], atol=1e-15)
        assert P[i].argmax() in cols_i
    np.testing.assert_allclose(P[-1], full[-1], atol=1e-6)


def test_rest_zero_puts_zeros(tiny_bart_nli):
    full = nli(tiny_bart_nli).predict_proba(SENTENCES)
    sig, table = cascade(tiny_bart_nli, k=2, rest="zero")
    P = sig.predict_proba(SENTENCES)
    sets = candidate_sets(table.predict_proba(SENTENCES), 2)
    np.testing.assert_allclose(P.sum(axis=1), 1.0, atol=1e-12)
    for i, cols in enumerate(sets):
        rest = np.setdiff1d(np.arange(len(LABELS)), cols)
        assert (P[i, rest] == 0).all()
        np.testing.assert_allclose(P[i, cols], full[i, cols] / full[i, cols].sum(), atol=1e-6)


@pytest.mark.parametrize("multi_label", [False, True])
def test_k_equal_to_label_count_is_the_full_signal_exactly(tiny_bart_nli, multi_label):
    full = nli(tiny_bart_nli, multi_label).predict_proba(SENTENCES)
    sig, table = cascade(tiny_bart_nli, multi_label, k=len(LABELS), threshold=0.0)
    P = sig.predict_proba(SENTENCES)
    assert np.array_equal(P, full)
    assert sig.pairs_scored == len(SENTENCES) * len(LABELS) and table.calls == 0


def test_multi_label_candidates_equal_full_pass(tiny_bert_nli):
    full = nli(tiny_bert_nli, True).predict_proba(SENTENCES)
    sig, table = cascade(tiny_bert_nli, True, k=3, threshold=0.2)
    P = sig.predict_proba(SENTENCES)
    Q = table.predict_proba(SENTENCES)
    sets = candidate_sets(Q, 3, multi_label=True, threshold=0.2)
    assert sig.pairs_scored == sum(len(c) for c in sets) <= 3 * len(SENTENCES)  # the cap k; how many the threshold
    # prunes depends on the random weights, so it is not asserted here (test_candidate_report covers thresholds)
    for i, cols in enumerate(sets):
        rest = np.setdiff1d(np.arange(len(LABELS)), cols)
        np.testing.assert_allclose(P[i, cols], full[i, cols], atol=1e-6)
        np.testing.assert_allclose(P[i, rest], Q[i, rest], atol=1e-15)
    zero, _ = cascade(tiny_bert_nli, True, k=3, threshold=0.2, rest="zero")
    Z = zero.predict_proba(SENTENCES)
    assert all((Z[i, np.setdiff1d(np.arange(len(LABELS)), c)] == 0).all() for i, c in enumerate(sets))


def test_single_label_k1_and_unbound_are_one_line(tiny_bart_nli):
    with pytest.raises(LabelerError, match="k >= 2"):
        nli(tiny_bart_nli, candidates={"from": "emb", "k": 1})
    sig = nli(tiny_bart_nli, candidates={"from": "emb", "k": 2})
    with pytest.raises(LabelerError, match="not bound"):
        sig.predict_proba(["x"])
    with pytest.raises(LabelerError, match="not bound"):
        sig.fingerprint()


# -- registry.build_signals ---------------------------------------------------------------------------
KEYWORDS = {"keywords": {"sports": [r"\bteam\b", r"\bgame\b"], "war": [r"\bwar\b"], "business news": [r"stocks?"]}}


def specs(model_dir, candidates=None, kw=KEYWORDS):
    nli_params = {"model": str(model_dir), "device": "cpu"}
    if candidates is not None:
        nli_params["candidates"] = candidates
    return [{"type": "keywords", "name": "kw", "params": kw}, {"type": "nli", "name": "nli", "params": nli_params}]


def test_build_signals_binds_and_fingerprints_follow_the_candidates(tiny_bart_nli):
    kw, sig = build_signals(specs(tiny_bart_nli, {"from": "kw", "k": 2}), LABELS)
    assert sig.candidate_signal() is kw
    plain = build_signals(specs(tiny_bart_nli), LABELS)[1]
    fp = sig.fingerprint()
    assert fp != plain.fingerprint()
    assert fp == build_signals(specs(tiny_bart_nli, {"from": "kw", "k": 2}), LABELS)[1].fingerprint()
    assert fp != build_signals(specs(tiny_bart_nli, {"from": "kw", "k": 3}), LABELS)[1].fingerprint()
    assert fp != build_signals(specs(tiny_bart_nli, {"from": "kw", "k": 2, "rest": "zero"}), LABELS)[1].fingerprint()
    other_kw = {"keywords": KEYWORDS["keywords"], "ignore_case": False}
    assert fp != build_signals(specs(tiny_bart_nli, {"from": "kw", "k": 2}, kw=other_kw), LABELS)[1].fingerprint()
    assert sig.params.model_dump(mode="json")["candidates"] == {"from": "kw", "k": 2, "rest": "scaled", "threshold": 0.01}
    assert "candidates" not in plain.params.model_dump(mode="json")  # old NLI fingerprints stay valid
    # the keyword signal abstains on most texts: those get a full NLI row, the others only 2 pairs
    P = sig.predict_proba(SENTENCES)
    np.testing.assert_allclose(P.sum(axis=1), 1.0, atol=1e-12)
    abstain = np.isnan(kw.predict_proba(SENTENCES)).any(axis=1)
    assert sig.pairs_scored == 2 * (~abstain).sum() + len(LABELS) * abstain.sum() and 0 < abstain.sum() < len(SENTENCES)


@pytest.mark.parametrize("cands, error", [
    ({"from": "nope"}, "candidates.from 'nope' names no configured signal"),
    ({"from": "nli"}, "names the signal itself"),
])
def test_build_signals_bad_source_is_one_line(tiny_bart_nli, cands, error):
    with pytest.raises(LabelerError, match=error) as err:
        build_signals(specs(tiny_bart_nli, cands), LABELS)
    assert "\n" not in str(err.value)


def test_build_signals_cycle_and_duplicates(tiny_bart_nli):
    a = {"type": "nli", "name": "a", "params": {"model": str(tiny_bart_nli), "candidates": {"from": "b"}}}
    b = {"type": "nli", "name": "b", "params": {"model": str(tiny_bart_nli), "candidates": {"from": "a"}}}
    with pytest.raises(LabelerError, match="cycle: a -> b -> a"):
        build_signals([a, b], LABELS)
    with pytest.raises(LabelerError, match="duplicate signal name 'kw'"):
        build_signals(specs(tiny_bart_nli)[:1] * 2, LABELS)
    with pytest.raises(LabelerError, match="unknown key 'candidates.bogus'"):
        build_signals(specs(tiny_bart_nli, {"from": "kw", "bogus": 1}), LABELS)


def test_candidate_matrix_comes_through_the_prediction_cache(tiny_bart_nli, tmp_path):
    from labeler.signals.cache import open_cache, score_cached

    sig, table = cascade(tiny_bart_nli, k=2, cache_dir=tmp_path)
    ids = [f"r{i}" for i in range(len(SENTENCES))]
    first = score_cached(sig, ids, SENTENCES, tmp_path, batch_size=3, progress=False)
    assert table.calls == len(SENTENCES)
    store = open_cache(tmp_path, table)
    assert store.count() == len(SENTENCES)  # keyed by text, under the candidate's own fingerprint
    store.close()
    again = nli(tiny_bart_nli, candidates={"from": "table", "k": 2})
    again.cache_dir = tmp_path
    again.bind({"table": table})
    np.testing.assert_allclose(again.predict_proba(SENTENCES[::-1]), first[::-1], atol=1e-6)
    assert table.calls == len(SENTENCES)  # the candidate signal was not asked again


def test_summarize_inner_cascade_is_bound(tiny_bart_nli):
    inner = {"type": "nli", "params": {"model": str(tiny_bart_nli), "candidates": {"from": "kw", "k": 2}}}
    kw, summ = build_signals([specs(tiny_bart_nli)[0], {"type": "summarize", "name": "s", "params": {"inner": inner}}],
                             LABELS)
    assert summ.inner.candidate_signal() is kw
    assert summ.predict_proba(SENTENCES[:2]).shape == (2, len(LABELS))


def test_pair_logits_are_cached_so_a_reranked_candidate_signal_rescores_nothing(tiny_bart_nli, tmp_path):
    sig, table = cascade(tiny_bart_nli, k=3, cache_dir=tmp_path)
    first = sig.predict_proba(SENTENCES)
    assert sig.pairs_scored == 3 * len(SENTENCES)
    sharper = TableSignal("table", LABELS, False, {"power": 2.0})  # a refitted temperature: same top 3
    again = nli(tiny_bart_nli, candidates={"from": "table", "k": 3})
    again.cache_dir = tmp_path
    again.bind({"table": sharper})
    assert again.fingerprint() != sig.fingerprint()
    P = again.predict_proba(SENTENCES)
    assert again.pairs_scored == 0
    Q = sharper.predict_proba(SENTENCES)
    for i, cols in enumerate(candidate_sets(Q, 3)):
        np.testing.assert_allclose(P[i, cols] / P[i, cols].sum(), first[i, cols] / first[i, cols].sum(), atol=1e-12)
        assert P[i, cols].sum() == pytest.approx(Q[i, cols].sum(), abs=1e-12)
    more = nli(tiny_bart_nli, candidates={"from": "table", "k": 4})
    more.cache_dir = tmp_path
    more.bind({"table": table})
    more.predict_proba(SENTENCES)
    assert more.pairs_scored == len(SENTENCES)  # only each text's 4th candidate is new
