"""The Signal contract, over every signal type: shape, label order, rows sum to 1 or abstain,
multi-label probabilities in [0, 1], fingerprints that follow the params."""

from __future__ import annotations

import numpy as np
import pytest

from labeler.signals.catalog import SIGNAL_TYPES, build_signal

LABELS = [{"name": "Sports", "description": "games, teams and players"},
          {"name": "Business", "description": "companies and markets"},
          {"name": "Sci/Tech"}]
TEXTS = ["The team won the game.", "Stocks fell; Microsoft paid $2 billion.", "", "zzz",
         "NASA launched a probe to Mars. " * 40]


def cases(nli_dir: str) -> dict[str, tuple[dict, dict]]:
    """type -> (params, the same params with one value changed)."""
    keywords = {"Sports": [r"\bgame\b"], "Business": [r"stocks?", r"\$\d"]}
    return {
        "embedding": ({}, {"temperature": 0.2}),
        "nli": ({"model": nli_dir}, {"model": nli_dir, "hypothesis_template": "It is about {}."}),
        "keywords": ({"keywords": keywords}, {"keywords": keywords, "ignore_case": False}),
        "entities": ({"rules": [{"label": "Business", "entity_types": ["MONEY"]}, {"label": "Sci/Tech", "texts": ["NASA"]}]},
                     {"rules": [{"label": "Business", "entity_types": ["MONEY", "ORG"]}]}),
        "summarize": ({"inner": {"type": "embedding"}, "max_tokens": 32},
                      {"inner": {"type": "embedding"}, "max_tokens": 64}),
    }


CORE = ["embedding", "nli", "keywords", "entities", "summarize"]


def test_every_registered_type_is_covered():
    assert set(CORE) <= set(SIGNAL_TYPES)
    # finetuned (the training package's run-as-signal) needs a trained run; its own tests cover it


@pytest.mark.parametrize("multi_label", [False, True])
@pytest.mark.parametrize("type_name", CORE)
def test_contract(type_name, multi_label, tiny_bart_nli):
    if type_name == "entities":
        pytest.importorskip("spacy")
    params, changed = cases(str(tiny_bart_nli))[type_name]
    sig = build_signal(type_name, f"{type_name}-sig", LABELS, multi_label, params)
    assert sig.name == f"{type_name}-sig" and sig.labels == ["Sports", "Business", "Sci/Tech"]
    assert sig.multi_label is multi_label
    P = sig.predict_proba(TEXTS)
    assert isinstance(P, np.ndarray) and P.shape == (len(TEXTS), 3) and P.dtype == np.float64
    for row in P:
        if np.isnan(row).any():
            assert np.isnan(row).all(), "abstain with a whole NaN row"
        elif multi_label:
            assert ((row >= 0) & (row <= 1)).all()
        else:
            assert row.sum() == pytest.approx(1.0, abs=1e-6) and (row >= 0).all()
    assert sig.predict_proba([]).shape == (0, 3)
    # label order: reversing the labels reverses the columns
    rev = build_signal(type_name, "rev", LABELS[::-1], multi_label, params)
    np.testing.assert_allclose(rev.predict_proba(TEXTS[:2]), P[:2, ::-1], atol=1e-5)
    fp = sig.fingerprint()
    assert isinstance(fp, str) and fp == build_signal(type_name, "other-name", LABELS, multi_label, params).fingerprint()
    assert fp != build_signal(type_name, sig.name, LABELS, multi_label, changed).fingerprint()
    assert fp != build_signal(type_name, sig.name, LABELS, not multi_label, params).fingerprint()
    assert fp != build_signal(type_name, sig.name, LABELS + ["World"], multi_label, params).fingerprint()
