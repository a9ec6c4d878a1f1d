import json
import tempfile
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from training.errors import TrainingError
from training.splits import CALIB, GOLD, TRAIN, assign_splits, hash_unit


def _table(n_per_class: dict[str, int]) -> pd.DataFrame:
    rows = [{"id": f"{lab}-{i}", "label": lab} for lab, n in n_per_class.items() for i in range(n)]
    return pd.DataFrame(rows)


def test_hash_unit_is_fixed_and_seeded():
    assert hash_unit(0, "a") == hash_unit(0, "a")
    assert hash_unit(0, "a") != hash_unit(1, "a")
    assert 0 <= hash_unit(3, "xyz") < 1


def test_membership_stable_as_labels_grow(tmp_path):
    path = tmp_path / "splits.json"
    first = assign_splits(_table({"a": 10, "b": 30}), False, path)
    before = dict(first.assignment)
    grown = assign_splits(_table({"a": 60, "b": 90, "c": 40}), False, path)
    assert all(grown.assignment[i] == s for i, s in before.items())
    # relabelled records keep their split too
    relabelled = _table({"a": 60, "b": 90, "c": 40})
    relabelled["label"] = relabelled["label"].map({"a": "b", "b": "c", "c": "a"})
    again = assign_splits(relabelled, False, path)
    assert again.assignment == grown.assignment
    data = json.loads(path.read_text())
    assert data["seed"] == 0 and len(data["assignment"]) == 190


def test_fraction_per_class_roughly_right(tmp_path):
    path = tmp_path / "s.json"
    splits = None
    for n in (8, 20, 45, 100):  # four rounds of labelling
        splits = assign_splits(_table({"a": n, "b": 2 * n, "c": n // 2}), False, path, gold_fraction=0.2, calib_fraction=0.1)
    which = splits.of([f"a-{i}" for i in range(100)])
    assert 17 <= (which == GOLD).sum() <= 23
    assert 7 <= (which == CALIB).sum() <= 13
    which_b = splits.of([f"b-{i}" for i in range(200)])
    assert 36 <= (which_b == GOLD).sum() <= 44


def test_changed_parameters_are_an_error(tmp_path):
    path = tmp_path / "s.json"
    assign_splits(_table({"a": 10}), False, path, seed=0)
    with pytest.raises(TrainingError, match="delete the file to re-split"):
        assign_splits(_table({"a": 10}), False, path, seed=1)


def test_multi_label_stratifies_by_rarest_label():
    df = pd.DataFrame({"id": [str(i) for i in range(50)], "labels": [["x", "rare"] if i < 10 else ["x"] for i in range(50)]})
    s = assign_splits(df, True, None, gold_fraction=0.2, calib_fraction=0.0)
    assert sum(s.assignment[str(i)] == GOLD for i in range(10)) == 2
    assert sum(s.assignment[str(i)] == GOLD for i in range(10, 50)) == 8


@settings(max_examples=25, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 3), st.integers(1, 25)), min_size=1, max_size=5))
def test_never_moves_an_existing_member(batches):
    """Labels arrive in batches of one class at a time; no record ever changes split."""
    with tempfile.TemporaryDirectory() as tmp:
        path, seen, before = Path(tmp) / "s.json", {}, {}
        for cls, k in batches:
            seen.update({f"r{len(seen) + i}": f"c{cls}" for i in range(k)})
            splits = assign_splits(pd.DataFrame({"id": list(seen), "label": list(seen.values())}), False, path)
            assert all(splits.assignment[i] == s for i, s in before.items())
            assert set(splits.assignment.values()) <= {GOLD, CALIB, TRAIN}
            before = dict(splits.assignment)
