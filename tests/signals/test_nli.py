"""NLI zero-shot: the same numbers as transformers' zero-shot pipeline, batched; one-line load errors."""

from __future__ import annotations

import numpy as np
import pytest

from labeler.errors import LabelerError
from labeler.signals.nli import NLISignal, contenders, entailment_ids, nli_scores

from .conftest import SENTENCES

LABELS = ["sports", "business news", "war", "a new planet"]


def pipeline_scores(model_dir, texts, labels, multi_label, template="This example is {}."):
    from transformers import pipeline

    pipe = pipeline("zero-shot-classification", model=str(model_dir), device="cpu")
    rows = []
    for text in texts:  # the classic per-text recipe
        out = pipe(text, candidate_labels=labels, multi_label=multi_label, hypothesis_template=template)
        by_label = dict(zip(out["labels"], out["scores"]))
        rows.append([by_label[label] for label in labels])
    return np.array(rows)


@pytest.mark.parametrize("multi_label", [False, True])
@pytest.mark.parametrize("model_fixture", ["tiny_bart_nli", "tiny_bert_nli", "tiny_bert_nli_entail_first"])
def test_equals_zero_shot_pipeline(request, model_fixture, multi_label):
    model_dir = request.getfixturevalue(model_fixture)
    sig = NLISignal("nli", LABELS, multi_label, {"model": str(model_dir), "batch_size": 3, "device": "cpu"})
    P = sig.predict_proba(SENTENCES)
    ref = pipeline_scores(model_dir, SENTENCES, LABELS, multi_label)
    np.testing.assert_allclose(P, ref, atol=1e-4)
    assert P.shape == (len(SENTENCES), len(LABELS))
    if not multi_label:
        np.testing.assert_allclose(P.sum(axis=1), 1.0, atol=1e-9)
    assert np.ptp(P, axis=1).max() > 1e-3  # the tiny model really separates labels


def test_one_label_uses_entailment_vs_contradiction_like_the_pipeline(tiny_bart_nli):
    sig = NLISignal("nli", ["sports"], False, {"model": str(tiny_bart_nli)})
    np.testing.assert_allclose(sig.predict_proba(SENTENCES[:3]),
                               pipeline_scores(tiny_bart_nli, SENTENCES[:3], ["sports"], False), atol=1e-4)


def test_batch_size_and_order_do_not_change_results(tiny_bart_nli):
    texts = SENTENCES + [SENTENCES[0] + " " + SENTENCES[1] * 3]
    a = NLISignal("nli", LABELS, False, {"model": str(tiny_bart_nli), "batch_size": 1}).predict_proba(texts)
    b = NLISignal("nli", LABELS, False, {"model": str(tiny_bart_nli), "batch_size": 64}).predict_proba(texts[::-1])
    np.testing.assert_allclose(a, b[::-1], atol=1e-5)


def test_descriptions_and_templates(tiny_bart_nli):
    labels = [{"name": "sports", "description": "about a game"}, {"name": "war"}]
    plain = NLISignal("nli", labels, False, {"model": str(tiny_bart_nli)})
    described = NLISignal("nli", labels, False, {"model": str(tiny_bart_nli), "use_descriptions": True})
    named = NLISignal("nli", labels, False, {"model": str(tiny_bart_nli),
                                             "hypothesis_template": "Topic: {name} ({description})."})
    assert plain.hypotheses == ["This example is sports.", "This example is war."]
    assert described.hypotheses == ["This example is about a game.", "This example is war."]
    assert named.hypotheses == ["Topic: sports (about a game).", "Topic: war (war)."]
    assert plain.fingerprint() != described.fingerprint()
    assert not np.allclose(plain.predict_proba(SENTENCES), described.predict_proba(SENTENCES))
    with pytest.raises(LabelerError, match="needs a"):
        NLISignal("nli", labels, False, {"model": str(tiny_bart_nli), "hypothesis_template": "no slot"})


def test_quantized_runs_and_mostly_agrees(tiny_bart_nli):
    base = NLISignal("nli", LABELS, False, {"model": str(tiny_bart_nli)}).predict_proba(SENTENCES)
    q = NLISignal("nli", LABELS, False, {"model": str(tiny_bart_nli), "quantize": True}).predict_proba(SENTENCES)
    assert q.shape == base.shape and np.abs(q - base).max() < 0.1


def test_near_ties_single_and_multi_label():
    def near_ties(probs, gap, multi_label):  # the texts with a contending label
        return contenders(probs, gap, multi_label).any(axis=1)

    P = np.array([[0.50, 0.45, 0.05], [0.80, 0.15, 0.05], [0.34, 0.33, 0.33]])
    assert near_ties(P, 0.1, False).tolist() == [True, False, True]
    assert near_ties(P, 0.0, False).tolist() == [False, False, False]
    M = np.array([[0.52, 0.9], [0.1, 0.9], [0.2, 0.44]])
    assert near_ties(M, 0.1, True).tolist() == [True, False, False]
    assert near_ties(M, 0.2, True).tolist() == [True, False, True]
    assert near_ties(np.array([[0.53], [0.7]]), 0.1, False).tolist() == [True, False]  # one label: vs 0.5
    # the pairs scored again: the labels within the gap of the top one (two at least); multi-label, near 0.5
    assert contenders(P, 0.1, False).tolist() == [[True, True, False], [False, False, False], [True, True, True]]
    assert contenders(M, 0.2, True).tolist() == [[True, False], [False, False], [False, True]]


@pytest.mark.parametrize("multi_label", [False, True])
def test_int8_near_ties_are_rescored_in_fp32(tiny_bart_nli, multi_label):
    def sig(**extra):
        return NLISignal("nli", LABELS, multi_label, {"model": str(tiny_bart_nli), "batch_size": 3, **extra})

    fp32 = sig().predict_proba(SENTENCES)
    int8 = sig(quantize=True, rescore_below=0).predict_proba(SENTENCES)
    assert np.abs(int8 - fp32).max() > 1e-6  # int8 really differs
    everything = sig(quantize=True, rescore_below=1.0)
    np.testing.assert_allclose(everything.predict_proba(SENTENCES), fp32, atol=1e-6)
    assert everything.texts_rescored == len(SENTENCES)
    default = sig(quantize=True)  # rescore_below 0.1
    P = default.predict_proba(SENTENCES)
    mask = contenders(int8, 0.1, multi_label)  # (text, label) pairs int8 left contending
    logits = sig(quantize=True, rescore_below=0).logits(SENTENCES)
    logits[mask] = sig().logits(SENTENCES)[mask]
    ent, contra = entailment_ids(default.load()[1].config.label2id)
    np.testing.assert_allclose(P, nli_scores(logits, ent, contra, multi_label), atol=1e-6)
    assert (default.texts_rescored, default.pairs_rescored) == (mask.any(axis=1).sum(), mask.sum())
    assert 0 < mask.sum() < mask.size  # the tiny model has both kinds at this gap


def test_rescore_in_the_candidate_cascade_and_params(tiny_bart_nli):
    from labeler.signals.base import Signal
    from labeler.signals.nli import NLIParams

    class Fixed(Signal):
        type_name = "fixed"

        def _predict(self, texts):
            return np.tile(np.array([0.4, 0.3, 0.2, 0.1]), (len(texts), 1))

    def cascade(**extra):
        s = NLISignal("nli", LABELS, False, {"model": str(tiny_bart_nli), "candidates": {"from": "fixed", "k": 2}, **extra})
        s.bind({"fixed": Fixed("fixed", LABELS, False), "nli": s})
        return s

    exact = cascade(quantize=True, rescore_below=1.0)
    np.testing.assert_allclose(exact.predict_proba(SENTENCES), cascade().predict_proba(SENTENCES), atol=1e-6)
    assert exact.texts_rescored == len(SENTENCES)
    assert cascade(quantize=True, rescore_below=0).texts_rescored == 0
    with pytest.raises(LabelerError, match="rescore_below re-scores int8's near-ties in fp32: it needs quantize: true"):
        NLISignal("nli", LABELS, False, {"model": str(tiny_bart_nli), "rescore_below": 0.1})
    assert "rescore_below" not in NLIParams(model="m").model_dump()  # old fingerprints unchanged
    assert NLIParams(model="m", quantize=True).model_dump()["rescore_below"] == 0.1
    assert NLIParams(model="m", quantize=True, rescore_below=0).rescore_gap == 0.0


def test_missing_model_is_one_line(tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    sig = NLISignal("nli", LABELS, False, {"model": "facebook/bart-large-mnli-not-here"})
    with pytest.raises(LabelerError) as err:
        sig.predict_proba(["x"])
    msg = str(err.value)
    assert "\n" not in msg and "cannot load NLI model 'facebook/bart-large-mnli-not-here'" in msg
    assert "not found locally" in msg
    assert err.value.__suppress_context__
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "config.json").write_text("{not json")
    with pytest.raises(LabelerError, match="cannot load NLI model") as err:
        NLISignal("nli", LABELS, False, {"model": str(broken)}).predict_proba(["x"])
    assert "\n" not in str(err.value)


def test_entailment_ids_and_scores():
    assert entailment_ids({"contradiction": 0, "neutral": 1, "entailment": 2}) == (2, 0)
    assert entailment_ids({"ENTAILMENT": 0, "neutral": 1, "contradiction": 2}) == (0, -1)
    with pytest.raises(LabelerError, match="entailment"):
        entailment_ids({"LABEL_0": 0, "LABEL_1": 1})
    logits = np.array([[[0.0, 0.0, 1000.0], [0.0, 0.0, 0.0]]])  # no overflow, unlike a naive exp
    np.testing.assert_allclose(nli_scores(logits, 2, 0, False), [[1.0, 0.0]])
    np.testing.assert_allclose(nli_scores(logits, 2, 0, True), [[1.0, 0.5]])
