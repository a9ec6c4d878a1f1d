"""Long label sets through the real server: the top-guesses field (refreshed with the suggestion), label order
and visible labels (updated in place on an existing dataset), guidelines, and an older dataset without the
field that keeps working."""

from __future__ import annotations

import uuid

import pytest

from labeler.argilla import rest
from labeler.argilla.candidates import candidates_markdown
from labeler.argilla.connection import Connection
from labeler.argilla.datasets import find_dataset
from labeler.argilla.push import PushRecord, push
from labeler.argilla.schema import CANDIDATES, CANDIDATES_TITLE, DatasetSpec

pytestmark = pytest.mark.server

LABELS = [f"intent_{i:03d}" for i in range(150)][::-1]  # config order: intent_149 first


def _conn(server):
    return Connection(server.url, server.api_key, "test")


def _question(conn, dataset_id) -> dict:
    items = rest.request(conn, "GET", f"/api/v1/datasets/{dataset_id}/questions").json()["items"]
    return next(q for q in items if q["name"] == "label")


def _fields(conn, dataset_id) -> dict[str, dict]:
    items = rest.request(conn, "GET", f"/api/v1/datasets/{dataset_id}/fields").json()["items"]
    return {f["name"]: f for f in items}


def _record_fields(conn, dataset_id) -> dict[str, dict]:
    return {r["external_id"]: r["fields"] for r in rest.iter_records(conn, dataset_id, include="")}


def _rec(rid, cands, value="intent_007"):
    return PushRecord(id=rid, fields={"text": f"text {rid}"}, value=value, score=0.8, agent="ensemble",
                      metadata={"priority": 1}, candidates=cands)


def test_many_labels_candidates_order_visible_labels_and_refresh(argilla_server):
    conn = _conn(argilla_server)
    name = f"many-{uuid.uuid4().hex[:6]}"
    counts = {"intent_010": 5, "intent_020": 9}
    spec = DatasetSpec(name=name, labels=LABELS, candidates=3, label_order="frequency", visible_labels=12,
                       label_counts=counts, descriptions={"intent_007": "Setting an alarm"})
    first = [("intent_007", 0.83, ""), ("intent_008", 0.05, ""), ("intent_100", 0.03, "")]
    report = push(conn, spec, [_rec("r1", first), _rec("r2", [])], progress=False)
    assert (report.created, report.notes) == (2, [])

    fields = _fields(conn, report.dataset_id)
    assert list(fields) == ["text", CANDIDATES]
    assert fields[CANDIDATES]["title"] == CANDIDATES_TITLE and fields[CANDIDATES]["required"] is False
    assert fields[CANDIDATES]["settings"]["use_markdown"] is True
    question = _question(conn, report.dataset_id)
    order = [o["value"] for o in question["settings"]["options"]]
    assert order[:3] == ["intent_020", "intent_010", "intent_149"] and sorted(order) == sorted(LABELS)
    assert question["settings"]["visible_options"] == 12
    recs = _record_fields(conn, report.dataset_id)
    assert recs["r1"][CANDIDATES] == "**Suggested:** intent_007 0.83 · intent_008 0.05 · intent_100 0.03"
    assert CANDIDATES not in recs["r2"]  # no candidates given: the optional field is left out
    dataset = find_dataset(conn, name)
    assert "- **intent_007**: Setting an alarm" in dataset.settings.guidelines

    # the next push: new guesses, new counts, another order and visible count; the dataset follows in place
    spec2 = DatasetSpec(name=name, labels=LABELS, candidates=3, label_order="alphabetical", visible_labels=5,
                        descriptions={"intent_007": "Setting or changing an alarm"})
    second = [("intent_100", 0.6, "keywords"), ("intent_007", 0.3, "nli")]
    again = push(conn, spec2, [_rec("r1", second, "intent_100")], progress=False)
    assert (again.created, again.refreshed, again.notes) == (0, 1, [])
    assert _record_fields(conn, report.dataset_id)["r1"][CANDIDATES] == candidates_markdown(second)
    question = _question(conn, report.dataset_id)
    assert [o["value"] for o in question["settings"]["options"]] == sorted(LABELS)
    assert question["settings"]["visible_options"] == 5
    assert "Setting or changing an alarm" in find_dataset(conn, name).settings.guidelines


def test_multi_label_long_list_puts_suggestions_first(argilla_server):
    conn = _conn(argilla_server)
    spec = DatasetSpec(name=f"many-{uuid.uuid4().hex[:6]}", labels=LABELS, multi_label=True, visible_labels=8)
    rec = PushRecord(id="m1", fields={"text": "t"}, value=["intent_001", "intent_002"], score=[0.9, 0.7],
                     agent="ensemble")
    report = push(conn, spec, [rec], progress=False)
    settings = _question(conn, report.dataset_id)["settings"]
    assert (settings["options_order"], settings["visible_options"]) == ("suggestion", 8)


def test_a_dataset_made_without_the_field_keeps_working_with_a_one_line_note(argilla_server):
    conn = _conn(argilla_server)
    name = f"many-{uuid.uuid4().hex[:6]}"
    old = DatasetSpec(name=name, labels=LABELS[:6])
    push(conn, old, [_rec("r1", [], "intent_149")], progress=False)
    new = DatasetSpec(name=name, labels=LABELS[:6], candidates=3)
    report = push(conn, new, [_rec("r1", [("intent_149", 0.9, "")], "intent_149"), _rec("r2", [], "intent_148")],
                  progress=False)
    assert (report.created, report.refreshed) == (1, 1)
    assert len(report.notes) == 1 and "\n" not in report.notes[0]
    assert "without the top-guesses field" in report.notes[0] and f"argilla.dataset={name}-v2" in report.notes[0]
    assert report.summary().splitlines()[1] == "note: " + report.notes[0]
    assert all(CANDIDATES not in f for f in _record_fields(conn, report.dataset_id).values())
