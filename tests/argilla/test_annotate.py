"""The simulated annotator through the real server: review order, held-back labels mapped to the config's
label set (issue 15: a multi-label answer with a label outside the set used to fail with a 422)."""

from __future__ import annotations

import uuid

import pandas as pd
import pytest

from labeler.argilla.annotate import NO_TRUTH, OUTSIDE, answer_pending, map_truth
from labeler.argilla.connection import Connection
from labeler.argilla.datasets import delete_dataset, find_dataset, server_view
from labeler.argilla.pull import pull
from labeler.argilla.push import PushRecord, push
from labeler.argilla.schema import DatasetSpec
from labeler.errors import LabelerError

pytestmark = pytest.mark.server

LABELS = ["billing", "shipping", "refund"]


def _push(conn, name, multi_label, ids):
    spec = DatasetSpec(name=name, labels=LABELS, multi_label=multi_label)
    value, score = (["billing"], [0.6]) if multi_label else ("billing", 0.6)
    # priority follows the order of ``ids`` (1 first), which runs opposite to id order
    records = [PushRecord(id=rid, fields={"text": f"text of {rid}"}, value=value, score=score, agent="ensemble",
                          metadata={"priority": k + 1}) for k, rid in enumerate(ids)]
    push(conn, spec, records, progress=False)
    return spec


def test_map_truth_by_hand():
    assert map_truth(["refund", "request_info", "billing"], LABELS, True) == (["billing", "refund"], 1)
    assert map_truth(["request_info"], LABELS, True) == (None, 1)
    assert map_truth("shipping", LABELS, True) == (["shipping"], 0)
    assert map_truth("shipping", LABELS, False) == ("shipping", 0)
    assert map_truth("request_info", LABELS, False) == (None, 0)
    assert map_truth(["refund"], LABELS, False) == ("refund", 0)


def test_multi_label_answers_drop_labels_outside_the_set_and_skip_records_left_with_none(argilla_server, tmp_path):
    conn = Connection(argilla_server.url, argilla_server.api_key, "test")
    name = f"ann-{uuid.uuid4().hex[:6]}"
    ids = ["r5", "r4", "r3", "r2", "r1", "r0"]  # priorities 1..6: r5 first, r0 last
    spec = _push(conn, name, True, ids)
    truth = {
        "r5": ["billing", "request_info"],  # -> ["billing"], 1 dropped
        "r4": ["request_info"],  # nothing left: skipped
        "r3": ["refund", "shipping"],  # -> ["shipping", "refund"] (config order)
        "r2": [],  # no held-back label: skipped
        "r1": ["x", "y"],  # nothing left: skipped, 2 dropped
        "r0": ["refund"],
    }
    report = answer_pending(conn, name, None, truth, 3, LABELS, True)
    assert report.answered == 3
    assert report.skipped == {OUTSIDE: 2, NO_TRUTH: 1}
    assert report.labels_dropped == 4
    assert "answered 3" in report.summary() and "skipped 2 (held-back label outside" in report.summary()

    pull(conn, spec, tmp_path)
    labels = pd.read_parquet(tmp_path / "labels.parquet").set_index("id")
    assert sorted(labels.index) == ["r0", "r3", "r5"]
    assert list(labels.loc["r5", "labels"]) == ["billing"]
    assert list(labels.loc["r3", "labels"]) == ["shipping", "refund"]
    assert list(labels.loc["r0", "labels"]) == ["refund"]

    again = answer_pending(conn, name, None, truth, 10, LABELS, True)  # only unanswerable records are left
    assert (again.answered, again.skipped, again.labels_dropped) == (0, {OUTSIDE: 2, NO_TRUTH: 1}, 3)
    present, answered = server_view(conn, name, None)
    assert present == set(ids) and answered == {"r0", "r3", "r5"}


def test_single_label_answers_in_review_order_and_skip_labels_outside_the_set(argilla_server):
    conn = Connection(argilla_server.url, argilla_server.api_key, "test")
    name = f"ann-{uuid.uuid4().hex[:6]}"
    ids = ["a3", "a2", "a1", "a0"]  # priorities 1..4
    _push(conn, name, False, ids)
    truth = {"a3": "shipping", "a2": "request_info", "a1": "billing", "a0": "refund"}
    first = answer_pending(conn, name, None, truth, 1, LABELS, False)
    assert (first.answered, first.skipped) == (1, {})
    assert server_view(conn, name, None)[1] == {"a3"}  # priority 1 first, not the smallest id
    rest = answer_pending(conn, name, None, truth, 10, LABELS, False)
    assert (rest.answered, rest.skipped, rest.labels_dropped) == (2, {OUTSIDE: 1}, 0)
    assert server_view(conn, name, None)[1] == {"a3", "a1", "a0"}


def test_dataset_lookup_delete_and_one_line_errors(argilla_server):
    conn = Connection(argilla_server.url, argilla_server.api_key, "test")
    name = f"ann-{uuid.uuid4().hex[:6]}"
    assert find_dataset(conn, name) is None and server_view(conn, name) == (set(), set())
    assert delete_dataset(conn, name) is False
    with pytest.raises(LabelerError, match="push first"):
        answer_pending(conn, name, None, {"a": "billing"}, 1, LABELS, False)
    _push(conn, name, False, ["a"])
    with pytest.raises(LabelerError, match="needs held-back labels"):
        answer_pending(conn, name, None, {"a": None}, 1, LABELS, False)
    with pytest.raises(LabelerError, match="workspace 'nope' not found"):
        find_dataset(conn, name, "nope")
    assert find_dataset(conn, name).name == name
    assert delete_dataset(conn, name) is True
    assert find_dataset(conn, name) is None
