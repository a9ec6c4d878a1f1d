import numpy as np
import pandas as pd
import pytest

from training.errors import TrainingError
from training.labels import data_fingerprint, load_labels
from training.trigger import check_threshold, threshold_message

from tests.training.data import LABELS, make_labels


def test_load_keeps_submitted_and_counts_skips(tmp_path):
    df = make_labels()
    extra = df.iloc[:4].copy()
    extra["id"] = ["d1", "d2", "n1", "e1"]
    extra["status"] = ["discarded", "discarded", "submitted", "submitted"]
    extra.loc[extra.index[2], "label"] = None
    extra.loc[extra.index[3], "text"] = "   "
    dup = df.iloc[:1].copy()
    dup["label"] = "tech"
    dup["submitted_at"] = pd.Timestamp("2030-01-01")
    path = tmp_path / "l.parquet"
    pd.concat([df, extra, dup]).to_parquet(path)
    t = load_labels(path, LABELS)
    assert len(t) == 30
    assert t.skipped == {"discarded (not submitted)": 2, "submitted without a label": 1, "empty text": 1, "older duplicate of an id": 1}
    assert t.df.set_index("id").loc["sports-0", "label"] == "tech"  # the latest answer wins
    assert "2 discarded" in t.skipped_message()


def test_missing_column_and_unknown_label_are_one_line_errors(labels_df):
    with pytest.raises(TrainingError, match="lacks column.*status") as e:
        load_labels(labels_df.drop(columns=["status"]), LABELS)
    assert "\n" not in str(e.value)
    # a label taken out of the config since it was answered: those answers are skipped, counted, never trained on
    bad = labels_df.copy()
    bad.loc[[0, 1], "label"] = "weather"
    t = load_labels(bad, LABELS)
    assert "weather" not in set(t.df["label"]) and len(t) == len(load_labels(labels_df, LABELS)) - 2
    assert t.skipped["labeled 'weather', no longer in the config (renamed? list the old name under the label's was:)"] == 2
    with pytest.raises(TrainingError, match="not found"):
        load_labels("/nonexistent/labels.parquet", LABELS)


def test_targets_and_fingerprint(labels_df):
    t = load_labels(labels_df, LABELS)
    y = t.targets()
    assert y.shape == (30,) and np.bincount(y).tolist() == [10, 10, 10]
    shuffled = labels_df.sample(frac=1, random_state=0)
    assert load_labels(shuffled, LABELS).fingerprint() == t.fingerprint()
    changed = labels_df.copy()
    changed.loc[0, "label"] = "tech"
    assert load_labels(changed, LABELS).fingerprint() != t.fingerprint()
    m = load_labels(make_labels(multi=True), LABELS, multi_label=True)
    Y = m.targets()
    assert Y.shape == (30, 3) and Y.sum(0).tolist() == [10, 10, 14]
    assert data_fingerprint(m.df, True) == m.fingerprint()


def test_threshold():
    df = make_labels(per_class=10)
    df = df[~((df["label"] == "tech") & (df.index % 10 >= 5))]  # tech keeps 5
    df.loc[df.index[:3], "status"] = "discarded"  # sports keeps 7
    ok, short = check_threshold(df, LABELS, min_per_class=8)
    assert not ok and short == {"sports": 1, "tech": 3}
    msg = threshold_message(short, 8)
    assert msg == "not enough labels to train (8 per class): tech needs 3 more, sports needs 1 more; label more or pass --force"
    assert check_threshold(df, LABELS, min_per_class=5) == (True, {})
    multi = make_labels(per_class=4, multi=True)
    ok, short = check_threshold(multi, LABELS, min_per_class=5, multi_label=True)
    assert short == {"sports": 1, "business": 1}  # tech gets 4 + 2 business rows that are also tech


def test_none_of_these_is_a_submitted_all_negative_row():
    """Multi-label "None of these" (issue 23): ``labeler pull`` writes a submitted row with ``labels == []``;
    it is kept (not "without a label") and trained on as an all-negative target row."""
    from training.head import LinearModel

    df = make_labels(multi=True)
    none = df.iloc[:3].copy()
    none["id"], none["labels"], none["status"] = ["none-0", "none-1", "none-2"], [[], [], []], \
        ["submitted", "submitted", "conflict"]
    t = load_labels(pd.concat([df, none]), LABELS, multi_label=True)
    assert len(t) == 32 and t.skipped == {"conflict (not submitted)": 1}
    Y = t.targets()
    rows = t.df.index[t.df["id"].str.startswith("none-")].tolist()
    assert Y[rows].tolist() == [[0, 0, 0], [0, 0, 0]] and Y.sum(0).tolist() == [10, 10, 14]
    changed = t.df.copy()
    changed.loc[rows[0], "labels"] = ["tech"]
    assert data_fingerprint(changed, True) != t.fingerprint()
    X = np.eye(3)[[0, 1, 2, 0]] * 3.0
    model = LinearModel(3, True, seed=0).fit(X, np.array([[1, 0, 0], [0, 1, 0], [0, 0, 0], [1, 0, 0]]))
    assert model.predict_proba(X[2:3])[0, 2] < 0.5  # a label seen only in "None of these" rows stays unlikely


def test_multi_label_answers_lose_only_the_labels_taken_out_of_the_config():
    df = pd.DataFrame({"id": ["a", "b", "c"], "text": ["t1", "t2", "t3"], "status": ["submitted"] * 3,
                       "label": [None] * 3, "labels": [["spa", "booking"], ["spa"], []]})
    t = load_labels(df, ["booking", "gym"], multi_label=True)
    assert t.df["labels"].tolist() == [["booking"], [], []]  # 'b' chose only spa: none of the others applies
    assert t.skipped_message() == ("skipped 2 labels no longer in the config ('spa'), dropped from their records "
                                   "(kept with their other labels; renamed? list the old name under the label's was:)")
