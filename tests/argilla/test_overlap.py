"""Overlap through the real server: three annotators made with ``labeler users add`` answer with their own
keys on a dataset whose task distribution follows ``argilla.min_submitted``; ``pull`` resolves the labels
(majority, ties as conflicts, records short of min_submitted awaiting) and ``labeler quality`` reports the
exact agreement of the answers chosen (the same ones tests/test_quality.py works out by hand)."""

from __future__ import annotations

import dataclasses
import json
import re
import uuid

import pandas as pd
import pytest

from labeler.argilla import rest
from labeler.argilla.connection import Connection
from labeler.argilla.datasets import find_dataset
from labeler.argilla.push import PushRecord, push
from labeler.argilla.sync import _sync_distribution
from labeler.loop.round import claim_dataset, connection, dataset_spec, pull_labels
from labeler.project import Project
from tests.argilla.test_users import cli
from tests.test_quality import ANSWERS, LABELS, MODEL, make_config, write_scores

pytestmark = pytest.mark.server


def _distribution(conn, dataset_id) -> dict:
    return rest.request(conn, "GET", f"/api/v1/datasets/{dataset_id}").json()["distribution"]


def test_three_annotators_overlap_pull_and_quality(argilla_server, tmp_path, capsys):
    config = make_config(tmp_path, min_submitted=2, dataset=f"ov-{uuid.uuid4().hex[:6]}")
    cfg = str(tmp_path / "q.yaml")
    owner = connection(config)
    suffix = uuid.uuid4().hex[:4]
    names = {short: f"ann-{short}-{suffix}" for short in ("a", "b", "c")}
    for name in names.values():
        code, out, err = cli(["users", "add", name, "-c", cfg], capsys)
        assert code == 0 and "to workspace 'argilla'" in out, err
    keys = {u["username"]: u["api_key"] for u in rest.request(owner, "GET", "/api/v1/users").json()["items"]}

    # Created with the default distribution, then brought up to min_submitted 2 by the next push.
    spec = dataset_spec(config, [], None)
    assert spec.min_submitted == 2
    records = [PushRecord(id=f"r{i}", fields={"text": f"ticket {i}"}, value="billing", score=0.5, agent="ensemble",
                          metadata={"priority": i + 1}) for i in range(8)]
    push(owner, dataclasses.replace(spec, min_submitted=1), records, progress=False)
    dataset = find_dataset(owner, spec.name)
    claim_dataset(config, dataset.id)  # pushed by hand, not by `labeler push`, which records it
    assert _distribution(owner, dataset.id) == {"strategy": "overlap", "min_submitted": 1}
    report = push(owner, spec, records, progress=False)
    assert report.notes == [f"argilla.min_submitted 1 -> 2 on {spec.name!r}: 0 completed records went back to "
                            "pending, each waiting for 2 submitted answers from different annotators (`pull` trains "
                            "on a record once it has them)"]
    assert _distribution(owner, dataset.id) == {"strategy": "overlap", "min_submitted": 2}

    # Each annotator answers with their own key: the hand-worked answers, ann-c discards r5, ann-a drafts r7.
    argilla_ids = {rec["external_id"]: rec["id"] for rec in rest.iter_records(owner, dataset.id, include="")}
    plan = {short: [] for short in names}
    for rid, answers in ANSWERS.items():
        for who, value in answers.items():
            plan[who[-1]].append((rid, "submitted", value))
    plan["c"].append(("r5", "discarded", None))
    plan["a"].append(("r7", "draft", "billing"))
    for short, items in plan.items():
        own = Connection(argilla_server.url, keys[names[short]], "test")
        me = rest.request(own, "GET", "/api/v1/me").json()
        assert (me["username"], me["role"]) == (names[short], "annotator")
        body = {"items": [{"record_id": argilla_ids[rid], "status": status,
                           **({"values": {"label": {"value": value}}} if value else {})} for rid, status, value in items]}
        result = rest.request(own, "POST", "/api/v1/me/responses/bulk", json=body).json()["items"]
        assert [item.get("error") for item in result] == [None] * len(items)
    status = {rec["external_id"]: rec["status"] for rec in rest.iter_records(owner, dataset.id, include="")}
    assert status == {"r0": "completed", "r1": "completed", "r2": "completed", "r3": "completed", "r4": "pending",
                      "r5": "pending", "r6": "completed", "r7": "pending"}

    # A refused change (here: an annotator's key may not edit the dataset) is one note; the push goes on.
    note = _sync_distribution(Connection(argilla_server.url, keys[names["a"]], "test"), find_dataset(owner, spec.name),
                              dataclasses.replace(spec, min_submitted=3))
    assert note == (f"argilla.min_submitted is 3 but dataset {spec.name!r} keeps 2: the server refused the change "
                    f"(HTTP 403 Operation not allowed); use a new dataset name (--set argilla.dataset={spec.name}-v2) "
                    "for overlap, or set argilla.min_submitted: 2")

    pulled = pull_labels(config)
    assert (pulled.submitted, pulled.discarded, pulled.conflicts, pulled.awaiting, pulled.drafts_only) == \
        (4, 0, ["r2"], 2, 1)
    assert pulled.summary() == ("4 labeled, 0 discarded, 1 conflicts (ties), 2 awaiting overlap (fewer than 2 answers), "
                                "1 drafts only; Fleiss' kappa 0.455 over 5 records with 2+ answers")
    labels = pd.read_parquet(Project(config).labels).set_index("id")
    assert labels["status"].to_dict() == {"r0": "submitted", "r1": "submitted", "r2": "conflict", "r3": "submitted",
                                          "r4": "awaiting", "r5": "awaiting", "r6": "submitted"}
    assert labels["label"].dropna().to_dict() == {"r0": "billing", "r1": "shipping", "r3": "refund", "r6": "billing"}
    assert labels.loc["r1", "n_annotators"] == 3 and labels.loc["r1", "agreement"] == pytest.approx(2 / 3)
    responses = pd.read_parquet(Project(config).responses)
    assert len(responses) == 15  # every individual answer, the draft and the discard included
    got = {(r.id, r.annotator): (r.status, json.loads(r.value)) for r in responses.itertuples()}
    assert got[("r1", names["c"])] == ("submitted", "refund") and got[("r5", names["c"])] == ("discarded", None)
    assert got[("r7", names["a"])] == ("draft", "billing")

    write_scores(config, MODEL)
    code, out, err = cli(["quality", "-c", cfg, "--min-shared", "2"], capsys)
    assert code == 0, err
    line = "agreement: alpha 0.50, kappa 0.45 over 5 records with 2+ answers, 3 annotators"
    assert out.splitlines()[0] == line
    assert out.splitlines()[1] == f"worst pair: {names['a']} / {names['c']}, Cohen's kappa 0.33 on 2 shared records"
    data = json.loads(next(Project(config).reports.glob("quality-*/quality.json")).read_text())
    assert data["alpha"] == pytest.approx(0.5, abs=1e-12) and data["fleiss"] == pytest.approx(5 / 11, abs=1e-12)
    assert [p["kappa"] for p in data["pairs"]] == pytest.approx([1 / 3, 2 / 5, 7 / 11], abs=1e-12)
    assert {r["name"][4]: (r["consensus"], r["model"]) for r in data["annotators"]} == \
        {"a": ([2, 3], [4, 5]), "b": ([3, 4], [2, 5]), "c": ([2, 3], [1, 3])}

    # A user with answers is not removed by accident: Argilla would delete the answers with the account.
    code, _, err = cli(["users", "remove", names["c"], "-c", cfg], capsys)
    assert code == 1 and re.match(rf"Error: user '{names['c']}' has 4 answers \({spec.name} \(4\)\); removing", err)
    code, out, _ = cli(["users", "remove", names["c"], "-c", cfg, "--force"], capsys)
    assert code == 0 and out.strip() == f"removed {names['c']} and their 4 answers"
    assert LABELS == ["billing", "shipping", "refund"]


def test_a_push_that_changes_min_submitted_says_how_many_records_it_moved(argilla_server, tmp_path):
    config = make_config(tmp_path, min_submitted=1, dataset=f"ms-{uuid.uuid4().hex[:6]}")
    owner = connection(config)
    spec = dataset_spec(config, [], None)
    records = [PushRecord(id=f"r{i}", fields={"text": f"ticket {i}"}, value="billing", score=0.5, agent="ensemble",
                          metadata={"priority": i + 1}) for i in range(6)]
    report = push(owner, spec, records, progress=False)
    assert report.notes == []
    dataset = find_dataset(owner, spec.name)
    ids = {rec["external_id"]: rec["id"] for rec in rest.iter_records(owner, dataset.id, include="")}
    body = {"items": [{"record_id": ids[f"r{i}"], "status": "submitted", "values": {"label": {"value": "billing"}}}
                      for i in range(3)] + [{"record_id": ids["r3"], "status": "draft",
                                             "values": {"label": {"value": "billing"}}}]}
    rest.request(owner, "POST", "/api/v1/me/responses/bulk", json=body)
    report = push(owner, dataclasses.replace(spec, min_submitted=2), records, progress=False)
    assert report.notes == [f"argilla.min_submitted 1 -> 2 on {spec.name!r}: 3 completed records went back to "
                            "pending, each waiting for 2 submitted answers from different annotators (`pull` trains "
                            "on a record once it has them)"]
    assert f"note: argilla.min_submitted 1 -> 2 on {spec.name!r}: 3 completed" in report.summary()
    assert push(owner, dataclasses.replace(spec, min_submitted=2), records, progress=False).notes == []
    report = push(owner, spec, records, progress=False)
    assert report.notes == [f"argilla.min_submitted 2 -> 1 on {spec.name!r}: 3 pending records with 1+ answers are "
                            "complete now (`pull` takes them)"]
