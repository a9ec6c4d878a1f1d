"""Multi-label "None of these" (issue 23): a reserved first option of the label question, read back as the
empty label set; a real label cannot take its value or its text; a dataset made before it keeps working with
a one-line note."""

from __future__ import annotations

import dataclasses
import uuid

import pytest

from labeler.argilla import rest
from labeler.argilla.connection import Connection
from labeler.argilla.pull import resolve_record
from labeler.argilla.push import PushRecord, push
from labeler.argilla.schema import (ANSWER_LABELS, ANSWER_LABELS_OVER_NONE, ANSWER_NONE, ANSWER_NONE_OVER_LABELS,
                                    ANSWER_NONE_WITH_LABELS, NONE_TEXT, NONE_VALUE, DatasetSpec, answer_labels)
from labeler.errors import LabelerError

LABELS = ["billing", "shipping", "refund"]


def test_answer_labels_by_hand():
    assert answer_labels([NONE_VALUE], LABELS) == ([], ANSWER_NONE)
    assert answer_labels(["refund", "billing"], LABELS) == (["billing", "refund"], ANSWER_LABELS)  # config order
    assert answer_labels([NONE_VALUE, "refund"], LABELS) == (None, ANSWER_NONE_WITH_LABELS)
    assert answer_labels(["refund", "gone"], LABELS) == (["refund"], ANSWER_LABELS)
    assert answer_labels(["refund", "gone"], None) == (["refund", "gone"], ANSWER_LABELS)  # every value kept
    assert answer_labels("shipping", LABELS) == (["shipping"], ANSWER_LABELS)
    # the form started with "None of these" selected: labels chosen beside it are the answer
    assert answer_labels([NONE_VALUE, "refund"], LABELS, [NONE_VALUE]) == (["refund"], ANSWER_LABELS_OVER_NONE)
    assert answer_labels([NONE_VALUE], LABELS, [NONE_VALUE]) == ([], ANSWER_NONE)
    # the form started with labels and the annotator added "None of these", leaving them as they were: none
    assert answer_labels([NONE_VALUE, "refund"], LABELS, ["refund"]) == ([], ANSWER_NONE_OVER_LABELS)
    assert answer_labels(["shipping", NONE_VALUE, "billing"], LABELS, ["billing", "shipping"]) == \
        ([], ANSWER_NONE_OVER_LABELS)
    # ... not where the pre-selection was changed too (one label taken away, or another added), nor with nothing
    assert answer_labels([NONE_VALUE, "refund"], LABELS, ["refund", "billing"]) == (None, ANSWER_NONE_WITH_LABELS)
    assert answer_labels([NONE_VALUE, "refund", "billing"], LABELS, ["refund"]) == (None, ANSWER_NONE_WITH_LABELS)
    assert answer_labels([NONE_VALUE, "refund"], LABELS, []) == (None, ANSWER_NONE_WITH_LABELS)
    assert answer_labels([NONE_VALUE, "refund"], LABELS, None) == (None, ANSWER_NONE_WITH_LABELS)


def test_resolve_none_answers_by_hand():
    sub = lambda v: {"value": v, "status": "submitted"}  # noqa: E731
    assert resolve_record([sub([])], True, LABELS) == ("submitted", [])
    assert resolve_record([sub([]), sub([]), sub(["billing"])], True, LABELS) == ("submitted", [])  # 2 of 3: none
    assert resolve_record([sub([]), sub(["billing"])], True, LABELS) == ("conflict", None)  # a tie on billing
    assert resolve_record([sub(None)], True, LABELS) == ("conflict", None)  # a contradictory answer
    assert resolve_record([sub(None), sub(["billing"]), sub(["billing"])], True, LABELS) == ("conflict", None)


def test_the_option_comes_first_only_for_multi_label_and_no_label_can_take_its_place():
    spec = DatasetSpec(name="x", labels=LABELS, multi_label=True, label_order="alphabetical")
    assert spec.question_options() == {NONE_VALUE: NONE_TEXT, "billing": "billing", "refund": "refund",
                                       "shipping": "shipping"}
    assert f'choose only "{NONE_TEXT}"' in spec.question_description()
    assert f"choose **{NONE_TEXT}** (first in the list)" in spec.guidelines()
    single = DatasetSpec(name="x", labels=LABELS)
    assert NONE_VALUE not in single.question_options() and NONE_TEXT not in single.guidelines()
    for bad in (NONE_VALUE, "none of these"):
        with pytest.raises(LabelerError, match="is reserved: a multi-label project has the built-in answer"):
            DatasetSpec(name="x", labels=[*LABELS, bad], multi_label=True).validate()
    DatasetSpec(name="x", labels=[*LABELS, "none of these"]).validate()  # single-label: an ordinary label
    assert DatasetSpec(name="x", labels=["spam"], multi_label=True).question_description().startswith(
        "1 label; the suggestion is pre-selected. If no label applies, choose only")  # a tagging task


class _OldSpec(DatasetSpec):
    """How datasets were made before the "None of these" option."""

    def question_options(self):
        return {lab: lab for lab in self.question_labels()}


@pytest.mark.server
def test_settings_on_the_server_and_an_older_dataset_gets_a_note(argilla_server):
    conn = Connection(argilla_server.url, argilla_server.api_key, "test")
    spec = DatasetSpec(name=f"none-{uuid.uuid4().hex[:6]}", labels=LABELS, multi_label=True)
    rec = PushRecord(id="n1", fields={"text": "t"}, value=["billing"], score=[0.6], agent="ensemble")
    report = push(conn, spec, [rec], progress=False)
    questions = rest.request(conn, "GET", f"/api/v1/datasets/{report.dataset_id}/questions").json()["items"]
    options = next(q for q in questions if q["name"] == "label")["settings"]["options"]
    assert options[0] == {"value": NONE_VALUE, "text": NONE_TEXT, "description": None}
    assert [o["value"] for o in options[1:]] == LABELS
    assert report.notes == []
    assert push(conn, dataclasses.replace(spec, label_order="alphabetical"), [rec], progress=False).notes == []

    old = _OldSpec(name=f"none-{uuid.uuid4().hex[:6]}", labels=LABELS, multi_label=True)
    push(conn, old, [rec], progress=False)
    again = push(conn, DatasetSpec(name=old.name, labels=LABELS, multi_label=True, label_order="alphabetical"),
                 [rec], progress=False)
    assert len(again.notes) == 1 and "\n" not in again.notes[0]
    assert f"without the {NONE_TEXT!r} option" in again.notes[0] and f"argilla.dataset={old.name}-v2" in again.notes[0]


@pytest.mark.server
def test_the_simulated_annotator_skips_none_answers_an_older_dataset_cannot_take(argilla_server):
    """A project upgraded from before the option: its dataset rejected every "None of these" answer (one 422 per
    record, "skipped 31 (rejected by Argilla)" on the walk-through); now they are skipped with the way out."""
    from labeler.argilla.annotate import NO_NONE_OPTION, answer_pending

    conn = Connection(argilla_server.url, argilla_server.api_key, "test")
    old = _OldSpec(name=f"none-{uuid.uuid4().hex[:6]}", labels=LABELS, multi_label=True)
    recs = [PushRecord(id=f"o{i}", fields={"text": f"t{i}"}, value=["billing"], score=[0.6], agent="ensemble",
                       metadata={"priority": i + 1}) for i in range(3)]
    push(conn, old, recs, progress=False)
    report = answer_pending(conn, old.name, None, {"o0": [], "o1": ["refund"], "o2": ["nothing_here"]}, 5, LABELS, True)
    reason = NO_NONE_OPTION.format(name=old.name)
    assert (report.answered, report.skipped, report.first_rejection) == (1, {reason: 2}, None)
    assert report.summary() == (f"simulated annotator: answered 1, skipped 2 ({reason}), dropped 1 held-back "
                                "label(s) outside the config's labels")
    assert f"argilla.dataset={old.name}-v2" in reason


@pytest.mark.server
def test_a_one_label_tagging_dataset_is_spam_or_none_of_these(argilla_server, tmp_path):
    """Multi-label with one label ("is it spam?"): the question's two options are "None of these" and the label.
    Push refused it ("Argilla needs at least 2 labels", after init and bootstrap had taken the config); a
    single-label question still needs two labels."""
    import pandas as pd

    from labeler.argilla.annotate import answer_pending
    from labeler.argilla.pull import pull

    with pytest.raises(LabelerError, match="needs at least 2 options"):
        DatasetSpec(name="x", labels=["spam"]).validate()
    conn = Connection(argilla_server.url, argilla_server.api_key, "test")
    spec = DatasetSpec(name=f"tag-{uuid.uuid4().hex[:6]}", labels=["spam"], multi_label=True)
    recs = [PushRecord(id=f"s{i}", fields={"text": f"t{i}"}, value=["spam"] if i else [], score=[0.7] if i else [],
                       agent="ensemble", metadata={"priority": i + 1}) for i in range(3)]
    report = push(conn, spec, recs, progress=False)
    questions = rest.request(conn, "GET", f"/api/v1/datasets/{report.dataset_id}/questions").json()["items"]
    assert [o["value"] for o in questions[0]["settings"]["options"]] == [NONE_VALUE, "spam"]
    assert answer_pending(conn, spec.name, None, {"s0": [], "s1": ["spam"], "s2": []}, 5, ["spam"], True).answered == 3
    pulled = pull(conn, spec, tmp_path)
    assert (pulled.submitted, pulled.none) == (3, 2)
    labels = pd.read_parquet(tmp_path / "labels.parquet").set_index("id")["labels"]
    assert {rid: list(v) for rid, v in labels.items()} == {"s0": [], "s1": ["spam"], "s2": []}


@pytest.mark.server
def test_none_of_these_pre_selected_and_an_older_dataset_starts_those_forms_empty(argilla_server):
    """A record the suggestion says has no label starts with "None of these" selected (one click, Submit, to
    answer it so); a dataset made before the option has nothing to select, so those forms start empty, counted."""
    conn = Connection(argilla_server.url, argilla_server.api_key, "test")
    recs = [PushRecord(id="s1", fields={"text": "thanks, bye"}, value=[NONE_VALUE], score=[0.93], agent="ensemble"),
            PushRecord(id="s2", fields={"text": "refund my bill"}, value=["refund", "billing"], score=[0.8, 0.6],
                       agent="ensemble")]

    def shown(report):
        return {rec["external_id"]: [s["value"] for s in rec.get("suggestions") or []]
                for rec in rest.iter_records(conn, report.dataset_id, include="suggestions")}

    spec = DatasetSpec(name=f"none-{uuid.uuid4().hex[:6]}", labels=LABELS, multi_label=True)
    report = push(conn, spec, recs, progress=False)
    assert report.notes == []
    assert shown(report) == {"s1": [[NONE_VALUE]], "s2": [["refund", "billing"]]}

    old = _OldSpec(name=f"none-{uuid.uuid4().hex[:6]}", labels=LABELS, multi_label=True)
    report = push(conn, old, recs, progress=False)
    assert report.notes[-1] == (f"1 record would have started with '{NONE_TEXT}' pre-selected; this dataset has no "
                                "such option, so their forms start empty")
    assert shown(report) == {"s1": [], "s2": [["refund", "billing"]]}


@pytest.mark.server
def test_pull_reads_an_answer_against_the_form_it_started_from(argilla_server, tmp_path):
    """Submitted through the server, pulled back: labels chosen beside a pre-selected "None of these" are those
    labels; "None of these" chosen beside exactly the pre-selected labels is none; chosen beside a changed
    pre-selection it stays a contradiction (a conflict, not trained on). Each kind counted in pull's line."""
    import pandas as pd

    from labeler.argilla.pull import pull
    from labeler.argilla.schema import QUESTION

    conn = Connection(argilla_server.url, argilla_server.api_key, "test")
    spec = DatasetSpec(name=f"none-{uuid.uuid4().hex[:6]}", labels=LABELS, multi_label=True)
    forms = {"a": [NONE_VALUE], "b": ["refund", "billing"], "c": ["refund", "billing"], "d": ["refund"]}
    answers = {"a": [NONE_VALUE, "billing"], "b": [NONE_VALUE, "billing", "refund"], "c": [NONE_VALUE, "refund"],
               "d": ["refund"]}
    dataset_id = push(conn, spec, [PushRecord(id=rid, fields={"text": f"text {rid}"}, value=value,
                                              score=[0.7] * len(value), agent="ensemble")
                                   for rid, value in forms.items()], progress=False).dataset_id
    ids = {rec["external_id"]: rec["id"] for rec in rest.iter_records(conn, dataset_id)}
    items = [{"record_id": ids[rid], "status": "submitted", "values": {QUESTION: {"value": value}}}
             for rid, value in answers.items()]
    assert not any(i.get("error") for i in rest.request(conn, "POST", "/api/v1/me/responses/bulk",
                                                        json={"items": items}).json()["items"])
    pulled = pull(conn, spec, tmp_path)
    rows = pd.read_parquet(tmp_path / "labels.parquet").set_index("id")
    assert {rid: (r["status"], list(r["labels"])) for rid, r in rows.iterrows() if r["status"] != "conflict"} == {
        "a": ("submitted", ["billing"]), "b": ("submitted", []), "d": ("submitted", ["refund"])}
    assert pulled.conflicts == ["c"]
    assert (pulled.labels_over_none, pulled.none_over_labels, pulled.none_with_labels, pulled.none) == (1, 1, 1, 1)
    assert ("1 answer(s) chose labels and left the pre-selected 'None of these': read as those labels; 1 answer(s) "
            "chose 'None of these' and left the pre-selected labels: read as none") in pulled.summary()
