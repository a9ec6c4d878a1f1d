"""Label handling, keyword rules and the registry: no models needed."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from labeler.errors import LabelerError
from labeler.signals.base import LabelInfo, as_label_infos, resolve_device, stable_hash
from labeler.signals.embedding import label_prompt
from labeler.signals.catalog import SIGNAL_TYPES, build_signal, validate_params
from labeler.signals.rules import KeywordSignal, counts_to_proba


@dataclass
class CfgLabel:  # what the config engineer's label objects look like
    name: str
    description: str | None = None


def test_as_label_infos_accepts_strings_objects_and_dicts():
    infos = as_label_infos(["a", CfgLabel("b", "bee"), {"name": "c", "description": " "}, LabelInfo("d")])
    assert infos == [LabelInfo("a"), LabelInfo("b", "bee"), LabelInfo("c"), LabelInfo("d")]
    with pytest.raises(LabelerError, match="duplicate"):
        as_label_infos(["a", "a"])
    with pytest.raises(LabelerError):
        as_label_infos([])


def test_label_prompt_falls_back_to_name_without_description():
    assert label_prompt(LabelInfo("Sports", "games and teams"), "{name}: {description}") == "Sports: games and teams"
    assert label_prompt(LabelInfo("Sports"), "{name}: {description}") == "Sports"
    assert label_prompt(LabelInfo("card_arrival"), "A question about {name} ({description})") == "A question about card arrival"
    assert label_prompt(LabelInfo("card_arrival"), "{name}", humanize=False) == "card_arrival"


def test_resolve_device_keeps_a_choice_and_picks_cuda_then_mps_then_cpu(monkeypatch):
    import torch

    assert resolve_device("cpu") == "cpu" and resolve_device("cuda:1") == "cuda:1"
    for cuda, mps, want in ((True, True, "cuda"), (False, True, "mps"), (False, False, "cpu")):
        monkeypatch.setattr(torch.cuda, "is_available", lambda cuda=cuda: cuda)
        monkeypatch.setattr(torch.backends.mps, "is_available", lambda mps=mps: mps)
        assert resolve_device("auto") == want


def test_stable_hash_ignores_key_order():
    assert stable_hash({"a": 1, "b": [1, 2]}) == stable_hash({"b": [1, 2], "a": 1})


def kw(labels=("spam", "ham", "other"), multi_label=False, **params):
    params.setdefault("keywords", {"spam": [r"\bfree\b", r"win+er"], "ham": [r"\bsee you\b"]})
    return KeywordSignal("kw", list(labels), multi_label, params)


def test_keywords_abstain_and_share_by_count():
    P = kw().predict_proba(["FREE entry, free prize, see you", "nothing here", "winner! see you", "free"])
    np.testing.assert_allclose(P[0], [2 / 3, 1 / 3, 0])
    assert np.isnan(P[1]).all()
    np.testing.assert_allclose(P[2], [0.5, 0.5, 0])
    np.testing.assert_allclose(P[3], [1, 0, 0])


def test_keywords_case_sensitive_and_multi_label():
    assert np.isnan(kw(ignore_case=False).predict_proba(["FREE"])).all()
    P = kw(multi_label=True).predict_proba(["free, see you", "zzz"])
    np.testing.assert_array_equal(P[0], [1, 1, 0])
    assert np.isnan(P[1]).all()


def test_keywords_bad_regex_names_label_and_pattern():
    with pytest.raises(LabelerError, match=r"bad regex '\(unclosed' for label 'ham'"):
        kw(keywords={"ham": ["(unclosed"]})
    with pytest.raises(LabelerError, match="unknown labels"):
        kw(keywords={"hm": ["x"]})


@settings(max_examples=50, deadline=None)
@given(st.lists(st.lists(st.integers(0, 5), min_size=3, max_size=3), min_size=1, max_size=20))
def test_counts_to_proba_rows_sum_to_one_or_abstain(rows):
    P = counts_to_proba(np.array(rows, dtype=float), multi_label=False)
    for counts, p in zip(rows, P):
        if sum(counts) == 0:
            assert np.isnan(p).all()
        else:
            assert p.sum() == pytest.approx(1.0)
            assert np.argmax(p) == np.argmax(counts)


def test_registry_lists_types_and_validates():
    assert {"embedding", "nli", "keywords", "entities", "summarize"} <= set(SIGNAL_TYPES)
    assert all(cls.Params.model_config.get("extra") == "forbid" for cls in SIGNAL_TYPES.values())
    with pytest.raises(ValueError, match="unknown signal type 'embeding'.*embedding"):
        validate_params("embeding", {})
    with pytest.raises(ValueError, match="unknown key 'temprature'.*temperature"):
        validate_params("embedding", {"temprature": 0.1})
    with pytest.raises(ValueError, match="model"):
        validate_params("nli", {})
    with pytest.raises(ValueError, match="batch_sise"):  # inner params of summarize are checked too
        validate_params("summarize", {"inner": {"type": "nli", "params": {"model": "m", "batch_sise": 2}}})
    with pytest.raises(ValueError, match="abstractive"):
        validate_params("summarize", {"inner": {"type": "embedding"}, "method": "abstractive"})
    got = validate_params("nli", {"model": "facebook/bart-large-mnli"})
    assert got["hypothesis_template"] == "This example is {}." and got["batch_size"] == 16 and got["device"] == "auto"
    assert validate_params("keywords", {"keywords": {"a": ["x"]}}) == {"keywords": {"a": ["x"]}, "ignore_case": True}


def test_build_signal_is_lazy_and_light():
    import sys

    sig = build_signal("nli", "zs", [CfgLabel("a", "about a"), "b"], True, {"model": "/nonexistent/model"})
    assert sig.name == "zs" and sig.labels == ["a", "b"] and sig.multi_label
    assert sig.fingerprint() != build_signal("nli", "zs", ["a", "b"], True, {"model": "/nonexistent/model"}).fingerprint()
    sig = build_signal("keywords", "kw", ["a"], params={"keywords": {"a": ["x"]}})
    assert sig.predict_proba(["x", "y"]).shape == (2, 1)
    assert sig.predict_proba([]).shape == (0, 1)
    _ = sys  # building signals must not load models; the contract test checks predictions


def test_vote_lines_say_what_each_abstaining_signal_reaches():
    from labeler.signals.rules import vote_lines

    nan = [np.nan] * 3
    kw = np.array([[1, 0, 0], [0.5, 0.5, 0], nan, [0, 1, 0], nan, [1, 0, 0]], dtype=float)
    zero_shot = np.full((6, 3), 1 / 3)
    silent = np.full((6, 3), np.nan)
    lines = vote_lines({"embedding": zero_shot, "kw": kw, "silent": silent}, ["a", "b", "c"], multi_label=False)
    assert lines == [
        "kw votes on 4 of 6 records (67%): a 3, b 1; never for 'c'; abstains on the rest",
        "silent votes on no record of 6: check its patterns or rules against the texts",
    ]
    # multi-label: every label at 0.5 or more is a vote; many labels are summed up, not listed
    labels = [f"l{k}" for k in range(14)]
    ml = np.full((4, 14), np.nan)
    ml[0] = ml[1] = 0.0
    ml[0, :7] = 1.0
    ml[1, 0] = 1.0
    assert vote_lines({"ents": ml}, labels, multi_label=True) == [
        "ents votes on 2 of 4 records (50%): l0 2, l1 1, l2 1, l3 1, l4 1, and 2 more labels; never for 7 of 14 "
        "labels; abstains on the rest"]
