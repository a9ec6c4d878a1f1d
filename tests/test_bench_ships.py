"""Issue 26.2 bookkeeping of the label-efficiency and peers benches: "what ships" against plain margin and
against small-text's best strategy, on hand-made summaries (no simulation)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))
from bench_label_efficiency import ships_vs_plain  # noqa: E402


def summary(x, **curves):
    """A ``summarize``-shaped dict: per metric its mean curve, AUC and labels-to-95 at target 0.9."""
    out = {"n_labels": list(x), "seeds": [0]}
    for m, mean in curves.items():
        l95 = next((n for n, v in zip(x, mean) if v >= 0.9), None)
        out[m] = {"mean": list(mean), "auc": sum(mean) / len(mean), "labels_to_95": l95}
    return out


def test_ships_against_plain_margin():
    x = [16, 32, 48]
    mine = summary(x, accuracy=[0.80, 0.86, 0.91], ships_accuracy=[0.82, 0.90, 0.92])
    plain = summary(x, accuracy=[0.85, 0.88, 0.91])
    c = ships_vs_plain(mine, plain, "accuracy")
    assert (c["ships_labels_to_95"], c["plain_labels_to_95"], c["ships_no_more_than_plain"]) == (32, 48, True)
    assert c["ships_worst_gap_vs_plain"] == pytest.approx(-0.03) and c["ships_worst_gap_vs_plain_at"] == 16
    late = summary(x, accuracy=[0.8, 0.8, 0.8], ships_accuracy=[0.8, 0.8, 0.8])
    assert ships_vs_plain(late, plain, "accuracy")["ships_no_more_than_plain"] is False  # never vs 48
    assert ships_vs_plain(late, late, "accuracy")["ships_no_more_than_plain"] is None  # neither reaches 95%
    with pytest.raises(SystemExit):
        ships_vs_plain(mine, summary([16, 32, 64], accuracy=[0.8, 0.9, 0.9]), "accuracy")


def test_peers_compare_reports_what_ships_against_the_best_peer():
    pytest.importorskip("small_text")
    from bench_peers import LABELER, compare

    x = [10, 20, 30, 40]
    rows = {
        LABELER: {"summary": summary(x, accuracy=[0.5, 0.7, 0.85, 0.9], ships_accuracy=[0.6, 0.9, 0.92, 0.93]),
                  "n_train": [8, 16, 24, 32]},
        "labeler gold 0.1": {"summary": summary(x, accuracy=[0.5, 0.8, 0.9, 0.9], ships_accuracy=[0.5, 0.8, 0.9, 0.95]),
                             "n_train": [9, 18, 27, 36]},
        "breaking_ties": {"summary": summary(x, accuracy=[0.6, 0.8, 0.9, 0.95])},
        "random": {"summary": summary(x, accuracy=[0.6, 0.7, 0.8, 0.9])},
    }
    c = compare(rows, "accuracy")
    assert (c["best_peer"], c["labeler_l95"], c["best_l95"], c["ratio"]) == ("breaking_ties", 40, 30, 40 / 30)
    ships = c["ships"]
    assert (ships["metric"], ships["labeler_l95"], ships["best_l95"], ships["ratio"]) == ("ships_accuracy", 20, 30, 20 / 30)
    assert ships["worst_gap_vs_best"] == pytest.approx(-0.02) and ships["worst_gap_vs_best_at"] == 40
    assert ships["worst_gap_vs_best_same_trained"] == ships["worst_gap_vs_best"]  # what ships trains on every label
    gold = c["ships labeler gold 0.1"]
    assert (gold["labeler_l95"], gold["ratio"]) == (30, 1.0)
    assert "labeler gold 0.1" not in {c["best_peer"], ships["best_peer"]}  # labeler rows are never the peer
