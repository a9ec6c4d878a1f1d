"""Push and pull through the real local Argilla server: idempotency, untouched answers, majority, kappa."""

from __future__ import annotations

import dataclasses
import uuid

import pandas as pd
import pytest

from labeler.argilla.client import Connection
from labeler.argilla.pull import fleiss_kappa, pull, resolve_record
from labeler.argilla.push import PushRecord, push
from labeler.argilla.schema import DatasetSpec
from labeler.errors import LabelerError

pytestmark = pytest.mark.server

LABELS = ["billing", "tech, support", "Zahlung ü"]  # commas, spaces and unicode in label values


def _records(agent="ensemble", value=None):
    texts = ["Charged twice for May", "App crashes on login", "Rechnung falsch", "Where is my invoice?"]
    return [PushRecord(id=f"r{i}", fields={"text": t}, value=value or LABELS[i % 3], score=0.5 + i / 10,
                       agent=agent, metadata={"uncertainty": 0.5 - i / 10, "priority": i + 1, "round": 1},
                       vector=[1.0, float(i), 0.0, 0.5])
            for i, t in enumerate(texts)]


def _spec(name):
    return DatasetSpec(name=name, labels=LABELS, signal_names=["keywords"], vector_dim=4,
                       descriptions={"billing": "Money matters"})


def _suggestions(client, name):
    ds = client.datasets(name=name)
    return {r.id: (r.suggestions["label"].value, r.suggestions["label"].agent)
            for r in ds.records(with_suggestions=True)}


def test_push_is_idempotent_and_never_touches_answered_records(argilla_server, argilla_client, tmp_path):
    import argilla as rg

    conn = Connection(argilla_server.url, argilla_server.api_key, "test")
    name = f"pp-{uuid.uuid4().hex[:6]}"
    first = push(conn, _spec(name), _records(), progress=False)
    assert (first.created, first.refreshed, first.skipped_answered) == (4, 0, 0)

    # The owner answers r0 (submitted) and r1 (discarded); r2 gets only a draft.
    ds = argilla_client.datasets(name=name)
    me = argilla_client.me.id
    answers = {"r0": ("billing", "submitted"), "r1": ("tech, support", "discarded"), "r2": ("Zahlung ü", "draft")}
    recs = [r for r in ds.records() if r.id in answers]
    for rec in recs:
        value, status = answers[rec.id]
        rec.responses.add(rg.Response("label", value, user_id=me, status=status))
    ds.records.log(recs)

    for _ in range(3):  # re-push with a new agent and value: only r3 (never answered) changes
        again = push(conn, _spec(name), _records(agent="run-2", value="billing"), progress=False)
        assert (again.created, again.refreshed, again.skipped_answered) == (0, 1, 3)
    assert len(list(argilla_client.datasets(name=name).records())) == 4
    sugg = _suggestions(argilla_client, name)
    assert sugg["r3"] == ("billing", "run-2")
    assert sugg["r0"] == ("billing", "ensemble") and sugg["r1"] == ("tech, support", "ensemble")
    assert sugg["r2"] == ("Zahlung ü", "ensemble")

    reports = [pull(conn, _spec(name), tmp_path / f"pull{i}") for i in range(3)]
    frames = [pd.read_parquet(tmp_path / f"pull{i}" / "labels.parquet") for i in range(3)]
    for frame in frames[1:]:
        pd.testing.assert_frame_equal(frame, frames[0])
    labels = frames[0].set_index("id")
    assert sorted(labels.index) == ["r0", "r1"]  # r2 has a draft only: not a label
    assert labels.loc["r0", "status"] == "submitted" and labels.loc["r0", "label"] == "billing"
    assert labels.loc["r0", "text"] == "Charged twice for May" and labels.loc["r0", "round"] == 1
    assert labels.loc["r1", "status"] == "discarded" and pd.isna(labels.loc["r1", "label"])
    assert reports[0].submitted == 1 and reports[0].discarded == 1 and reports[0].drafts_only == 1
    assert reports[0].per_class == {"billing": 1}


def test_incompatible_label_set_names_the_difference(argilla_server):
    conn = Connection(argilla_server.url, argilla_server.api_key, "test")
    name = f"pp-{uuid.uuid4().hex[:6]}"
    push(conn, _spec(name), _records()[:1], progress=False)
    other = DatasetSpec(name=name, labels=["billing", "other"], vector_dim=4)
    with pytest.raises(LabelerError) as err:
        push(conn, other, _records()[:1], progress=False)
    msg = str(err.value)
    assert "['other']" in msg and "not in the config" in msg and f"{name}-v2" in msg
    # a project switched to multi-label: the same way out, and its answers are kept (pull keeps another dataset's)
    multi = dataclasses.replace(_spec(name), multi_label=True)
    with pytest.raises(LabelerError) as err:
        push(conn, multi, _records()[:1], progress=False)
    assert str(err.value) == (f"dataset {name!r} exists as single-label and the config is multi-label (Argilla cannot "
                              "change a published question's kind); set a new dataset name in the config "
                              f"(argilla.dataset: {name}-v2): the answers given in {name!r} stay in the project's labels")


def test_a_new_dataset_after_the_labels_changed_keeps_the_answers_given_in_the_old_one(argilla_server, argilla_client,
                                                                                      tmp_path):
    """Argilla cannot change a published question's labels, so a label added mid-project means a new dataset
    (push's error says so); pulling from it used to rewrite labels.parquet with its answers alone, dropping every
    label answered before. Records the new dataset does not hold keep their labels; its own are read from it."""
    import argilla as rg

    conn = Connection(argilla_server.url, argilla_server.api_key, "test")
    old, new = f"pp-{uuid.uuid4().hex[:6]}", f"pp-{uuid.uuid4().hex[:6]}"
    push(conn, _spec(old), _records(), progress=False)
    me = argilla_client.me.id

    def answer(name, values):
        ds = argilla_client.datasets(name=name)
        recs = [r for r in ds.records() if r.id in values]
        for rec in recs:
            rec.responses.add(rg.Response("label", values[rec.id], user_id=me, status="submitted"))
        ds.records.log(recs)

    answer(old, {"r0": "billing", "r1": "tech, support"})
    pull(conn, _spec(old), tmp_path)
    more = DatasetSpec(name=old, labels=LABELS + ["refund"], vector_dim=4)
    with pytest.raises(LabelerError, match=rf"config adds \['refund'\] .*argilla.dataset: {old}-v2\): the answers "
                                           rf"given in '{old}' stay in the project's labels"):
        push(conn, more, _records()[2:], progress=False)
    more = DatasetSpec(name=new, labels=LABELS + ["refund"], vector_dim=4)
    push(conn, more, _records()[2:], progress=False)  # r2, r3: the records not answered yet
    report = pull(conn, more, tmp_path)  # nothing answered in the new dataset yet
    labels = pd.read_parquet(tmp_path / "labels.parquet").set_index("id")
    assert labels["label"].to_dict() == {"r0": "billing", "r1": "tech, support"} and report.kept == 2
    answer(new, {"r2": "refund"})
    report = pull(conn, more, tmp_path)
    labels = pd.read_parquet(tmp_path / "labels.parquet").set_index("id")
    assert labels["label"].to_dict() == {"r2": "refund", "r0": "billing", "r1": "tech, support"}
    assert report.summary().endswith(f"; 2 more kept from the last pull: answered in another dataset, not in {new!r}")
    assert sorted(pd.read_parquet(tmp_path / "responses.parquet")["id"]) == ["r0", "r1", "r2"]
    # back to the old dataset, where r2 still waits unanswered: its answer from the new one stays (it was dropped,
    # silently, on an upgrade walk-through that went back), while an answer withdrawn there is gone
    from labeler.argilla import rest
    from labeler.argilla.datasets import find_dataset

    dataset = find_dataset(conn, old)
    r0 = next(r for r in rest.iter_records(conn, dataset.id, include="responses") if r["external_id"] == "r0")
    rest.request(conn, "DELETE", f"/api/v1/responses/{r0['responses'][0]['id']}")
    report = pull(conn, _spec(old), tmp_path)
    labels = pd.read_parquet(tmp_path / "labels.parquet").set_index("id")
    assert labels["label"].to_dict() == {"r1": "tech, support", "r2": "refund"} and report.kept == 1
    assert labels["dataset"].to_dict() == {"r1": old, "r2": new}


def test_wrong_key_and_wrong_url_are_one_line_errors(argilla_server):
    spec = _spec("never-created")
    with pytest.raises(LabelerError, match="rejected the API key"):
        push(Connection(argilla_server.url, "nope", "test"), spec, [], progress=False)
    with pytest.raises(LabelerError, match="cannot reach Argilla"):
        push(Connection("http://127.0.0.1:9", "k", "test"), spec, [], progress=False)


def test_majority_conflicts_and_fleiss_kappa_by_hand():
    sub = lambda v: {"value": v, "status": "submitted"}  # noqa: E731
    assert resolve_record([sub("a"), sub("a"), sub("b")], False, ["a", "b"]) == ("submitted", "a")
    assert resolve_record([sub("a"), sub("b")], False, ["a", "b"]) == ("conflict", None)
    assert resolve_record([sub("a"), {"value": None, "status": "discarded"},
                           {"value": None, "status": "discarded"}], False, ["a"]) == ("discarded", None)
    assert resolve_record([sub(["a", "b"]), sub(["a"]), sub(["a", "b"])], True, ["a", "b"]) == ("submitted", ["a", "b"])
    from collections import Counter

    # Two raters, 4 items: agree on 3 (a,a / b,b / a,a), disagree on 1. p_a = 5/8, p_b = 3/8.
    tables = [Counter({"a": 2}), Counter({"b": 2}), Counter({"a": 2}), Counter({"a": 1, "b": 1})]
    p_e = (5 / 8) ** 2 + (3 / 8) ** 2
    assert fleiss_kappa(tables, ["a", "b"]) == pytest.approx((0.75 - p_e) / (1 - p_e))
    assert fleiss_kappa([Counter({"a": 1})], ["a", "b"]) is None
