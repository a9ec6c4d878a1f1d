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
from labeler.argilla.schema import NONE_VALUE, DatasetSpec
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
    assert map_truth(["request_info"], LABELS, True) == ([NONE_VALUE], 1)  # nothing left: "None of these"
    assert map_truth([], LABELS, True) == ([NONE_VALUE], 0)
    assert map_truth(None, LABELS, True) == (None, 0)  # no held-back label at all
    assert map_truth("shipping", LABELS, True) == (["shipping"], 0)
    assert map_truth("shipping", LABELS, False) == ("shipping", 0)
    assert map_truth("request_info", LABELS, False) == (None, 0)
    assert map_truth(["refund"], LABELS, False) == ("refund", 0)


def test_multi_label_answers_none_of_these_for_empty_sets_and_pull_reads_it_back_empty(argilla_server, tmp_path):
    """Issue 23: a record with no label is answered "None of these" and pulled as an empty set (trained on as
    all-negative); "None of these" with a label is a contradiction, a counted conflict."""
    from labeler.argilla import rest

    conn = Connection(argilla_server.url, argilla_server.api_key, "test")
    name = f"ann-{uuid.uuid4().hex[:6]}"
    ids = ["r7", "r6", "r5", "r4", "r3", "r2", "r1", "r0"]  # priorities 1..8: r7 first, r0 last
    spec = _push(conn, name, True, ids)
    truth = {
        "r6": None,  # no held-back label at all: skipped
        "r5": ["billing", "request_info"],  # -> ["billing"], 1 dropped
        "r4": ["request_info"],  # nothing left: "None of these", 1 dropped
        "r3": ["refund", "shipping"],  # -> ["shipping", "refund"] (config order)
        "r2": [],  # an empty set: "None of these"
        "r1": ["x", "y"],  # nothing left: "None of these", 2 dropped
        "r0": ["refund"],
    }  # r7: not in the truth at all
    report = answer_pending(conn, name, None, truth, 4, LABELS, True)
    assert report.answered == 4
    assert report.skipped == {NO_TRUTH: 2}
    assert report.labels_dropped == 2
    assert report.summary() == ("simulated annotator: answered 4, skipped 2 (no held-back label), "
                                "dropped 2 held-back label(s) outside the config's labels")
    # a human picks "None of these" and a label on r7: a contradiction
    dataset = find_dataset(conn, name)
    r7 = next(r for r in rest.iter_records(conn, dataset.id) if r["external_id"] == "r7")
    rest.request(conn, "POST", "/api/v1/me/responses/bulk", json={"items": [
        {"record_id": r7["id"], "status": "submitted", "values": {"label": {"value": [NONE_VALUE, "refund"]}}}]})

    pulled = pull(conn, spec, tmp_path)
    assert (pulled.submitted, pulled.none, pulled.none_with_labels, pulled.conflicts) == (4, 2, 1, ["r7"])
    assert pulled.summary().startswith("4 labeled (2 'None of these'), 0 discarded, 1 conflicts (ties, of which 1 "
                                       "answer(s) chose 'None of these' together with labels)")
    labels = pd.read_parquet(tmp_path / "labels.parquet").set_index("id")
    assert sorted(labels.index) == ["r2", "r3", "r4", "r5", "r7"]
    assert list(labels.loc["r5", "labels"]) == ["billing"]
    assert list(labels.loc["r3", "labels"]) == ["shipping", "refund"]
    assert list(labels.loc["r4", "labels"]) == [] and list(labels.loc["r2", "labels"]) == []
    assert (labels.loc["r2", "status"], labels.loc["r7", "status"]) == ("submitted", "conflict")
    from labeler.loop.human_labels import label_matrix

    rows, Y = label_matrix(labels.reset_index(), ["r2", "r3", "r7"], LABELS, True)
    assert dict(zip(rows.tolist(), Y.tolist())) == {0: [0, 0, 0], 1: [0, 1, 1]}  # "None of these": all-negative

    again = answer_pending(conn, name, None, truth, 10, LABELS, True)  # r1 and r0 are left, r6 has no truth
    assert (again.answered, again.skipped, again.labels_dropped) == (2, {NO_TRUTH: 1}, 2)
    present, answered = server_view(conn, name, None)
    assert present == set(ids) and answered == set(ids) - {"r6"}


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
    assert answer_pending(conn, name, None, {"a": "billing"}, 1, LABELS, False).not_pushed == name  # nothing yet
    with pytest.raises(LabelerError, match="needs held-back labels"):  # said before the server is asked
        answer_pending(conn, name, None, {"a": None}, 1, LABELS, False)
    _push(conn, name, False, ["a"])
    with pytest.raises(LabelerError, match="needs held-back labels"):
        answer_pending(conn, name, None, {"a": None}, 1, LABELS, False)
    with pytest.raises(LabelerError, match="workspace 'nope' not found"):
        find_dataset(conn, name, "nope")
    assert find_dataset(conn, name).name == name
    assert delete_dataset(conn, name) is True
    assert find_dataset(conn, name) is None
