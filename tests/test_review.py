"""Suspected label errors (issue 13.4): cleanlab's ranking on known flips, the verdict rules, the verdicts laid
over the label table, and the second review through the real server with two annotator accounts."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from labeler.quality.label_errors import (AMBIGUOUS, CHANGED, CONFIRMED, PENDING, apply_reviews, decide, oof_probabilities,
                            rank_labels, rankable, suspects_table, tally, write_reviews)

REPO = Path(__file__).resolve().parents[1]
LABELS = ["billing", "shipping", "refund"]


# -- ranking ---------------------------------------------------------------------------------------------
def test_rank_labels_on_a_hand_written_matrix():
    P = np.array([[0.90, 0.05, 0.05], [0.10, 0.80, 0.10], [0.70, 0.20, 0.10], [0.05, 0.05, 0.90],
                  [0.20, 0.70, 0.10], [0.05, 0.05, 0.90], [0.85, 0.10, 0.05], [0.10, 0.85, 0.05],
                  [0.10, 0.10, 0.80]])
    y = np.array([0, 1, 1, 2, 1, 0, 0, 1, 0])  # row 2 says 1 where the model says 0; rows 5 and 8 say 0, model 2
    r = rank_labels(P, y, multi_label=False)
    np.testing.assert_allclose(r.quality, [0.90, 0.80, 0.20, 0.90, 0.70, 0.05, 0.85, 0.85, 0.10])  # self-confidence
    assert r.order.tolist() == [5, 8, 2, 4, 1, 6, 7, 0, 3]  # ties: lower row first
    # confident learning: row 8's 0.80 for class 2 is under class 2's threshold (0.90, the mean over the
    # labels of class 2), so cleanlab does not count it as an issue, though its quality is low
    assert np.flatnonzero(r.flagged).tolist() == [2, 5]
    assert r.top(2).tolist() == [5, 8]


def test_a_label_is_flagged_only_where_the_model_clearly_prefers_another():
    # cleanlab counts row 9 (given 1 at 0.30, class 0 at 0.50, over class 0's threshold) as an issue; the model
    # prefers class 0 by 5:3 only, under PREFERRED_BY (2:1), so it is not flagged; rows 2 (7:2) and 5 (18:1) are
    P = np.array([[0.90, 0.05, 0.05], [0.10, 0.80, 0.10], [0.70, 0.20, 0.10], [0.05, 0.05, 0.90],
                  [0.20, 0.70, 0.10], [0.05, 0.05, 0.90], [0.85, 0.10, 0.05], [0.10, 0.85, 0.05],
                  [0.10, 0.10, 0.80], [0.50, 0.30, 0.20]])
    y = np.array([0, 1, 1, 2, 1, 0, 0, 1, 0, 1])
    import warnings

    from cleanlab.filter import find_label_issues

    with warnings.catch_warnings():  # "may not flag all label issues" in classes this small
        warnings.simplefilter("ignore")
        issues = find_label_issues(y, P, filter_by="prune_by_noise_rate", n_jobs=1)
    assert np.flatnonzero(issues).tolist() == [2, 5, 9]
    r = rank_labels(P, y, multi_label=False)
    assert np.flatnonzero(r.flagged).tolist() == [2, 5] and r.order[:4].tolist() == [5, 8, 2, 9]


def _clusters(seed=0):
    rng = np.random.default_rng(seed)
    centers = np.array([[5.0, 0.0], [0.0, 5.0], [-5.0, -5.0]])
    y = np.repeat([0, 1, 2], 10)
    return centers[y] + rng.normal(0, 1, (30, 2)), y


def test_out_of_fold_probabilities_find_exactly_the_flipped_labels():
    X, y = _clusters()
    flipped = y.copy()
    flipped[3], flipped[17] = 1, 2  # two labels flipped at known rows
    P = oof_probabilities(X, flipped, 3, multi_label=False, seed=0)
    assert P.shape == (30, 3) and np.allclose(P.sum(1), 1)
    r = rank_labels(P, flipped, multi_label=False)
    assert sorted(r.top(2).tolist()) == [3, 17]
    assert np.flatnonzero(r.flagged).tolist() == [3, 17]
    assert r.quality[[3, 17]].max() < 0.01 < 0.4 < np.delete(r.quality, [3, 17]).min()
    # the same labels unflipped: nothing flagged
    assert not rank_labels(oof_probabilities(X, y, 3, False), y, False).flagged.any()


def test_multi_label_ranking_uses_cleanlabs_multilabel_module():
    X, y = _clusters()
    Y = np.zeros((30, 3), dtype=int)
    Y[np.arange(30), y] = 1
    Y[4] = [0, 0, 1]  # a cluster-0 record labeled refund only
    P = oof_probabilities(X, Y, 3, multi_label=True, seed=0)
    r = rank_labels(P, Y, multi_label=True)
    assert r.order[0] == 4 and r.flagged[4]


def test_a_one_label_multi_label_task_is_ranked_as_two_classes():
    # "spam" or "None of these": cleanlab refuses a one-column multi-label matrix ("Labels must be in multi-label
    # format", a traceback from `labeler review` on a tagging project); it is ranked as the two-class label it is
    X, y = _clusters()
    Y = (y == 0).astype(int)[:, None]
    Y[[4, 15]] = [[0], [1]]  # a spam record answered "None of these", a "None of these" record answered spam
    P = oof_probabilities(X, Y, 1, multi_label=True, seed=0)
    r = rank_labels(P, Y, multi_label=True)
    both = rank_labels(np.column_stack([1 - P[:, 0], P[:, 0]]), Y[:, 0], multi_label=False)
    assert sorted(r.top(2).tolist()) == [4, 15] and np.flatnonzero(r.flagged).tolist() == [4, 15]
    np.testing.assert_array_equal(r.quality, both.quality)


def test_a_class_with_one_label_is_not_ranked():
    assert rankable(np.array([0, 0, 1, 2, 2]), 3, False).tolist() == [True, True, False, True, True]
    assert rankable(np.zeros((3, 2)), 2, True).all()


# -- verdicts --------------------------------------------------------------------------------------------
def test_decide_by_the_votes_of_first_second_and_third():
    assert decide("a", []) == (PENDING, None)
    assert decide("a", ["a"]) == (CONFIRMED, "a")
    assert decide("a", ["b"]) == (AMBIGUOUS, None)  # second disagrees, no third yet
    assert decide("a", ["b", "b"]) == (CHANGED, "b")  # the third sides with the second
    assert decide("a", ["b", "a"]) == (CONFIRMED, "a")  # the third sides with the first
    assert decide("a", ["b", "c"]) == (AMBIGUOUS, None)  # three different answers
    assert decide(["x", "y"], [["y", "x"]]) == (CONFIRMED, ["x", "y"])  # multi-label: sets
    assert decide(["x"], [["x", "y"], ["y", "x"]]) == (CHANGED, ["x", "y"])


def test_tally_ignores_the_first_annotator_repeats_drafts_and_discards():
    responses = [
        {"annotator": "ann", "status": "submitted", "value": "a", "updated_at": "1"},  # the first annotator
        {"annotator": "bob", "status": "submitted", "value": "b", "updated_at": "2"},
        {"annotator": "bob", "status": "submitted", "value": "a", "updated_at": "3"},  # bob again, on #2
        {"annotator": "cy", "status": "draft", "value": "b", "updated_at": "4"},
        {"annotator": "dee", "status": "discarded", "value": None, "updated_at": "5"},
        {"annotator": "eve", "status": "submitted", "value": "b", "updated_at": "6"},
    ]
    t = tally({"ann"}, responses)
    assert t.answers == [("bob", "b"), ("eve", "b")]
    assert (t.ignored_self, t.ignored_repeat, t.discarded) == (1, 1, 1)


def _project(tmp_path, multi_label=False):
    return SimpleNamespace(dir=tmp_path, config=SimpleNamespace(task=SimpleNamespace(multi_label=multi_label)))


def _review_rows(rows):
    base = {"first_annotator": "ann", "quality": 0.1, "suggested": None, "reason": "", "flagged": True,
            "pushed_at": "", "attempts": 1, "final_answer": None, "second_answer": None, "second_annotator": None,
            "third_answer": None, "third_annotator": None, "answers": "[]", "ignored": 0, "decided_at": None}
    return pd.DataFrame([{**base, **r} for r in rows])


def test_apply_reviews_changes_only_the_reviewed_label_and_is_idempotent(tmp_path):
    labels = pd.DataFrame({"id": ["r0", "r1", "r2", "r3", "r4", "r5"],
                           "label": ["billing", "billing", "shipping", "refund", "refund", "billing"],
                           "labels": [[]] * 6, "status": ["submitted"] * 6})
    write_reviews(tmp_path / "review.parquet", _review_rows([
        {"id": "r0", "first_answer": '"billing"', "status": CONFIRMED, "final_answer": '"billing"'},
        {"id": "r1", "first_answer": '"billing"', "status": CHANGED, "final_answer": '"refund"'},
        {"id": "r2", "first_answer": '"shipping"', "status": AMBIGUOUS},
        {"id": "r3", "first_answer": '"billing"', "status": CHANGED, "final_answer": '"shipping"'},  # label moved
        {"id": "r4", "first_answer": '"refund"', "status": PENDING},
    ]))
    out = apply_reviews(_project(tmp_path), labels)
    assert out["label"].tolist() == ["billing", "refund", "shipping", "refund", "refund", "billing"]
    assert out["status"].tolist() == ["submitted", "submitted", "ambiguous", "submitted", "submitted", "submitted"]
    assert out["review"].tolist() == [CONFIRMED, CHANGED, AMBIGUOUS, "stale", None, None]
    assert out["first_label"].tolist() == [None, '"billing"', None, None, None, None]
    assert labels["label"].tolist()[1] == "billing"  # the input is untouched
    again = apply_reviews(_project(tmp_path), out)
    pd.testing.assert_frame_equal(again, out)
    assert apply_reviews(_project(tmp_path / "none"), labels) is labels  # no review file: the table as it is


def test_apply_reviews_multi_label(tmp_path):
    labels = pd.DataFrame({"id": ["m0"], "label": [None], "labels": [np.array(["billing"])], "status": ["submitted"]})
    write_reviews(tmp_path / "review.parquet", _review_rows([
        {"id": "m0", "first_answer": '["billing"]', "status": CHANGED, "final_answer": '["billing", "refund"]'}]))
    out = apply_reviews(_project(tmp_path, multi_label=True), labels)
    assert list(out.at[0, "labels"]) == ["billing", "refund"] and out.at[0, "review"] == CHANGED


def test_suspects_table_reads_well_at_2_and_at_150():
    rows = [{"id": f"r{i}", "given": "card_payment_not_recognised_by_the_bank_today", "suggested": "refund",
             "p": 0.91, "quality": 0.01 * i, "flagged": i < 100} for i in range(150)]
    lines = suspects_table(rows, shown=10)
    assert len(lines) == 12 and lines[-1] == "and 140 more"
    assert lines[1].split() == ["r0", "card_payment_not_recognised…", "refund", "0.91", "0.000"]
    two = suspects_table(rows[:2])
    assert len(two) == 3 and "more" not in two[-1]
    assert suspects_table([]) == []


# -- the second review through the real server -----------------------------------------------------------
def _config(tmp_path, name):
    from labeler.config import load_config

    texts = ["I was charged twice this month", "Where is my parcel?", "Please refund my order",
             "My invoice shows the wrong amount", "The courier lost the package"]
    (tmp_path / "pool.jsonl").write_text("".join(json.dumps({"id": f"r{i}", "text": t}) + "\n"
                                                 for i, t in enumerate(texts)))
    (tmp_path / "review.yaml").write_text(
        "data: {path: pool.jsonl, text_fields: [text], id_field: id}\n"
        "task: {labels: [billing, shipping, refund]}\nsignals: [{type: embedding}]\n")
    return load_config(tmp_path / "review.yaml", [f"argilla.dataset={name}", f"project.dir={tmp_path / 'state'}"])


def _annotator(argilla_client, url, owner_key):
    import argilla as rg
    import httpx

    name = f"rev{uuid.uuid4().hex[:6]}"
    user = rg.User(username=name, password="pw-" + uuid.uuid4().hex, role="annotator", client=argilla_client).create()
    argilla_client.workspaces("argilla").add_user(user.username)
    key = httpx.get(f"{url}/api/v1/users/{user.id}", headers={"X-Argilla-Api-Key": owner_key}).json()["api_key"]
    return name, key


def _run(command, args) -> list[str]:
    """The command's standard output lines (progress bars go to standard error)."""
    from click.testing import CliRunner

    return CliRunner().invoke(command, args, catch_exceptions=False).stdout.splitlines()


def _answer(conn, dataset_name, api_key, answers: dict[str, str]):
    """Submit as the web UI does, one record at a time, as the user with ``api_key``."""
    import httpx

    from labeler.argilla import rest
    from labeler.argilla.datasets import find_dataset

    ds = find_dataset(conn, dataset_name)
    uuid_of = {r["external_id"]: r["id"] for r in rest.iter_records(conn, ds.id, include="")}
    for ext, value in answers.items():
        resp = httpx.post(f"{conn.url}/api/v1/records/{uuid_of[ext]}/responses", timeout=30,
                          json={"values": {"label": {"value": value}}, "status": "submitted"},
                          headers={"X-Argilla-Api-Key": api_key})
        assert resp.status_code == 201, resp.text


@pytest.mark.server
def test_second_review_round_trip_with_two_annotators(argilla_server, argilla_client, tmp_path):
    import httpx
    from labeler.argilla.annotate import answer_pending
    from labeler.argilla.push import PushRecord, push
    from labeler.argilla.datasets import find_dataset
    from labeler.argilla import rest
    from labeler.cli.review import command
    from labeler.loop.human_labels import label_matrix
    from labeler.loop.round import claim_dataset, connection, dataset_spec, pull_labels
    from labeler.project import Project
    from labeler.quality.second_review import pull_reviews, push_review
    from labeler.quality.suspects import Suspect

    name = f"rv-{uuid.uuid4().hex[:6]}"
    config = _config(tmp_path, name)
    conn = connection(config)
    first = {"r0": "billing", "r1": "shipping", "r2": "refund", "r3": "billing", "r4": "shipping"}
    # the first labels: the owner ("argilla") answers the main dataset, `labeler pull` writes labels.parquet
    records = [PushRecord(id=f"r{i}", fields={"text": f"t{i}"}, value="billing", score=0.5, agent="ensemble")
               for i in range(5)]
    pushed = push(conn, dataset_spec(config, [], None), records, progress=False)
    claim_dataset(config, pushed.dataset_id)  # pushed by hand, not by `labeler push`, which records it
    assert answer_pending(conn, name, None, first, 5, LABELS, False).answered == 5
    assert pull_labels(config).submitted == 5
    owner = argilla_client.me.username
    alice, alice_key = _annotator(argilla_client, argilla_server.url, argilla_server.api_key)
    bob, bob_key = _annotator(argilla_client, argilla_server.url, argilla_server.api_key)

    suspects = [Suspect(f"r{i}", first[f"r{i}"], "refund", 0.9, 0.01 * (i + 1), True, owner) for i in range(5)]
    out = push_review(config, suspects)
    assert (out.dataset, out.new, out.again, out.refreshed) == (f"{name}-review", 5, 0, 0)
    review = find_dataset(conn, f"{name}-review")
    recs = list(rest.iter_records(conn, review.id, include="suggestions"))
    assert [r["external_id"] for r in recs] == ["r0", "r1", "r2", "r3", "r4"]
    assert all(not r["suggestions"] for r in recs)  # blind: nothing pre-selected
    assert [r["metadata"]["priority"] for r in recs] == [1, 2, 3, 4, 5]
    assert recs[1]["metadata"]["first_answer"] == "shipping" and recs[1]["metadata"]["first_annotator"] == owner
    # an annotator sees the priority only: first answer, who gave it and why it is suspected stay hidden
    seen = httpx.post(f"{conn.url}/api/v1/me/datasets/{review.id}/records/search", json={"query": {}},
                      params={"limit": 10}, headers={"X-Argilla-Api-Key": alice_key}).json()["items"]
    assert len(seen) == 5 and all(set(s["record"]["metadata"]) == {"priority"} for s in seen)

    _answer(conn, f"{name}-review", alice_key, {"r0": "billing", "r1": "refund", "r2": "billing"})
    _answer(conn, f"{name}-review", argilla_server.api_key, {"r3": "billing"})  # the first annotator: ignored
    rep = pull_reviews(config)
    assert rep.counts == {CONFIRMED: 1, AMBIGUOUS: 2, PENDING: 2}
    assert (rep.ambiguous, rep.ignored_self, rep.changes) == (["r1", "r2"], 1, [])

    again = push_review(config, [])  # r1, r2 (ambiguous) and r3 (only its first annotator answered) go out again
    assert (again.new, again.again, again.refreshed) == (0, 3, 1)
    recs = {r["external_id"]: r for r in rest.iter_records(conn, review.id, include="")}
    assert sorted(recs) == ["r0", "r1", "r1#2", "r2", "r2#2", "r3", "r3#2", "r4"]
    assert [recs[k]["metadata"]["priority"] for k in ("r1#2", "r2#2", "r3#2", "r4")] == [1, 2, 3, 4]
    assert {recs[k]["status"] for k in ("r1#2", "r2#2", "r3#2", "r4")} == {"pending"}

    _answer(conn, f"{name}-review", bob_key, {"r1#2": "refund", "r2#2": "shipping", "r3#2": "billing"})
    _answer(conn, f"{name}-review", alice_key, {"r2#2": "shipping"})  # alice already answered r2: not counted
    lines = _run(command, ["-c", str(tmp_path / "review.yaml"), "--pull", "--set", f"argilla.dataset={name}",
                           "--set", f"project.dir={tmp_path / 'state'}"])
    assert lines[0] == ("second review: 2 confirmed, 1 changed, 1 ambiguous, 1 waiting for an answer; "
                        "new since the last pull: 1 changed, 1 confirmed")
    assert lines[1] == "labels changed by the second review (the first answer stays in review.parquet):"
    assert lines[2] == (f"  r1: shipping -> now refund (first {owner}; second {alice} said refund; "
                        f"third {bob} said refund)")
    assert lines[3].endswith(": r2")
    assert lines[4] == "answers not counted: 1 by the record's first annotator, 1 repeated by the same reviewer"

    reviews = pd.read_parquet(tmp_path / "state" / "review.parquet").set_index("id")
    assert reviews["status"].to_dict() == {"r0": CONFIRMED, "r1": CHANGED, "r2": AMBIGUOUS, "r3": CONFIRMED,
                                           "r4": PENDING}
    assert (reviews.at["r1", "first_answer"], reviews.at["r1", "final_answer"]) == ('"shipping"', '"refund"')
    assert (reviews.at["r1", "second_annotator"], reviews.at["r1", "third_annotator"]) == (alice, bob)
    assert (reviews.at["r2", "second_answer"], reviews.at["r2", "third_answer"]) == ('"billing"', '"shipping"')
    assert reviews["attempts"].tolist() == [1, 2, 2, 2, 1]

    labels = Project(config).load_labels().set_index("id")
    assert labels["label"].to_dict() == {"r0": "billing", "r1": "refund", "r2": "refund", "r3": "billing",
                                         "r4": "shipping"}
    assert labels["status"].to_dict()["r2"] == "ambiguous" and labels.at["r1", "first_label"] == '"shipping"'
    assert pd.read_parquet(tmp_path / "state" / "labels.parquet").set_index("id").at["r1", "label"] == "shipping"
    rows, y = label_matrix(Project(config).load_labels(), [f"r{i}" for i in range(5)], LABELS, False)
    assert rows.tolist() == [0, 1, 3, 4] and y.tolist() == [0, 2, 0, 1]  # r2 out, r1 corrected
    # the review dataset is the project's, recorded; a project with other records under the same name is refused
    from labeler.argilla.ownership import owned
    from labeler.data import load_pool
    from labeler.errors import LabelerError

    assert owned(Project(config).read_state(), conn.url, None, f"{name}-review") == str(review.id)
    (tmp_path / "other").mkdir()
    other = _config(tmp_path / "other", name)
    (tmp_path / "other" / "pool.jsonl").write_text("".join(json.dumps({"id": f"x{i}", "text": f"other {i}"}) + "\n"
                                                           for i in range(5)))
    load_pool(other)
    with pytest.raises(LabelerError, match=rf"^dataset '{name}-review' on .* already holds 5 records, 0 of them from "
                                           r"this project's pool: another project's dataset"):
        pull_reviews(other)


@pytest.mark.server
def test_pull_before_any_push_is_one_line(argilla_server, tmp_path):
    from labeler.errors import LabelerError
    from labeler.quality.second_review import pull_reviews

    config = _config(tmp_path, f"rv-{uuid.uuid4().hex[:6]}")
    with pytest.raises(LabelerError, match="no review dataset .*-review.*run `labeler review`"):
        pull_reviews(config)
    assert pull_reviews(config, missing_ok=True) is None


def _flipped_tickets(tmp_path):
    """60 demo tickets pushed to a fresh dataset on the real local server and answered with 3 labels flipped, then
    pulled: (CLI args, config, connection, dataset name, truth, the flipped answers)."""
    from labeler.argilla.annotate import answer_pending
    from labeler.argilla.push import PushRecord, push
    from labeler.config import load_config
    from labeler.loop.round import claim_dataset, connection, dataset_spec, pull_labels

    rows = [json.loads(line) for line in (REPO / "labeler/demo/tickets.jsonl").read_text().splitlines()][:60]
    (tmp_path / "tickets.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    cfg = tmp_path / "demo.yaml"
    cfg.write_text((REPO / "configs/demo.yaml").read_text().replace("../labeler/demo/tickets.jsonl",
                                                                       str(tmp_path / "tickets.jsonl")))
    name = f"rvd-{uuid.uuid4().hex[:6]}"
    sets = [f"argilla.dataset={name}", f"project.dir={tmp_path / 'state'}"]
    args = ["-c", str(cfg), "--set", sets[0], "--set", sets[1]]
    config = load_config(cfg, sets)
    truth = {r["id"]: r["label"] for r in rows}
    flips = {"T0006": "refund_request", "T0021": "billing", "T0042": "feature_request"}  # truth: shipping_delivery,
    conn = connection(config)  # technical_issue, account_access
    pushed = push(conn, dataset_spec(config, [], None), [PushRecord(id=r["id"], fields={"text": r["text"]},
                                                                    value="billing", score=0.5, agent="ensemble")
                                                         for r in rows], progress=False)
    claim_dataset(config, pushed.dataset_id)  # pushed by hand, not by `labeler push`, which records it
    assert answer_pending(conn, name, None, {**truth, **flips}, 60, config.label_names, False).answered == 60
    assert pull_labels(config).submitted == 60
    return args, config, conn, name, truth, flips


@pytest.mark.slow
@pytest.mark.server
def test_labeler_review_finds_flipped_labels_and_an_oracle_reviewer_corrects_them(argilla_server, argilla_client,
                                                                                  tmp_path):
    """60 demo tickets answered with 3 labels flipped; `labeler review` ranks them first (MiniLM embeddings,
    5-fold logistic head, cleanlab) and sends them; a second annotator answers the truth; --pull corrects."""
    from labeler.cli.review import command
    from labeler.project import Project

    args, config, conn, name, truth, flips = _flipped_tickets(tmp_path)
    # nothing to send and no review dataset yet: none is made (an empty '-review' dataset only cluttered the UI)
    assert _run(command, args + ["--budget", "0"])[-1] == "nothing pushed: no suspect to start the review dataset with"
    from labeler.argilla.datasets import find_dataset

    assert find_dataset(conn, f"{name}-review") is None
    out = _run(command, args + ["--budget", "3"])
    assert out[0].startswith("cleanlab flags 2 of 60 ranked human labels")
    assert out[1] == "the 2 labels cleanlab flags, then 1 more, lowest label quality first (budget 3)"
    assert sorted(line.split()[0] for line in out[3:6]) == ["T0006", "T0021", "T0042"]
    assert out[-1] == f"pushed to '{name}-review': 3 new suspects, 0 sent again for another opinion, 0 still open " \
                      "(priority refreshed)"

    alice, key = _annotator(argilla_client, argilla_server.url, argilla_server.api_key)
    _answer(conn, f"{name}-review", key, {rid: truth[rid] for rid in flips})  # the oracle second reviewer
    pulled = _run(command, args + ["--pull"])
    assert pulled[0].startswith("second review: 0 confirmed, 0 changed, 3 ambiguous")  # second disagrees, no third
    bob, bob_key = _annotator(argilla_client, argilla_server.url, argilla_server.api_key)
    again = _run(command, args + ["--budget", "0"])
    assert again[-1].startswith(f"pushed to '{name}-review': 0 new suspects, 3 sent again")
    _answer(conn, f"{name}-review", bob_key, {f"{rid}#2": truth[rid] for rid in flips})  # the third decides
    pulled = _run(command, args + ["--pull"])
    assert pulled[0].startswith("second review: 0 confirmed, 3 changed, 0 ambiguous")
    assert sorted(pulled[2:5]) == [
        f"  T0006: refund_request -> now shipping_delivery (first argilla; second {alice} said shipping_delivery; "
        f"third {bob} said shipping_delivery)",
        f"  T0021: billing -> now technical_issue (first argilla; second {alice} said technical_issue; "
        f"third {bob} said technical_issue)",
        f"  T0042: feature_request -> now account_access (first argilla; second {alice} said account_access; "
        f"third {bob} said account_access)"]
    labels = Project(config).load_labels()
    assert dict(zip(labels["id"], labels["label"])) == truth
    # the corrected labels are what a run trains on (its data fingerprint is the reviewed table's)
    from labeler.loop.runs import labels_unchanged, train_project
    from training.labels import load_labels

    run = train_project(config, backend="logreg", force=True)
    reviewed = load_labels(labels, config.label_names).fingerprint()
    raw = load_labels(Project(config).load_labels(reviewed=False), config.label_names).fingerprint()
    assert run.data_fingerprint == reviewed != raw
    assert labels_unchanged(config) == run.run_id


@pytest.mark.slow
@pytest.mark.server
def test_review_again_keeps_one_batch_open_on_the_real_server(argilla_server, tmp_path):
    """Against the real local server: a first `labeler review` sends one flagged label (queue.batch_size 1); run
    again, it sends no new suspect while that one waits; with a batch of 2 it tops up with the other flagged one."""
    from labeler.cli.review import command

    args, _, _, name, _, _ = _flipped_tickets(tmp_path)
    one = args + ["--set", "queue.batch_size=1"]
    out = _run(command, one)
    assert out[1] == "the 1 label cleanlab flags, lowest label quality first (budget 1; --budget to change)"
    assert out[-1] == f"pushed to '{name}-review': 1 new suspects, 0 sent again for another opinion, 0 still open " \
                      "(priority refreshed)"
    out = _run(command, one)
    assert out[0].startswith("second review: 0 confirmed, 0 changed, 0 ambiguous, 1 waiting for an answer")
    assert "no new suspects sent: 1 sent before still wait for an answer (a batch is queue.batch_size 1); --budget N " \
           "sends N more" in out
    assert out[-1] == f"pushed to '{name}-review': 0 new suspects, 0 sent again for another opinion, 1 still open " \
                      "(priority refreshed)"
    out = _run(command, args + ["--set", "queue.batch_size=2"])
    assert out[-1] == f"pushed to '{name}-review': 1 new suspects, 0 sent again for another opinion, 1 still open " \
                      "(priority refreshed)"


def test_too_few_labels_are_one_line_errors(tmp_path):
    from labeler.errors import LabelerError
    from labeler.quality.suspects import find_suspects

    config = _config(tmp_path, "rv-none")
    with pytest.raises(LabelerError, match="no human labels to check yet; .*`labeler pull`"):
        find_suspects(config)
    (tmp_path / "state").mkdir()
    pd.DataFrame({"id": ["r0", "r1", "r2"], "text": ["a", "b", "c"], "label": ["billing", "shipping", "billing"],
                  "labels": [[]] * 3, "status": ["submitted"] * 3, "annotator": ["ann"] * 3}
                 ).to_parquet(tmp_path / "state" / "labels.parquet")
    with pytest.raises(LabelerError, match="not enough labels to rank: 3 human labels; needs two classes"):
        find_suspects(config)


# -- early, sparse projects: fewer folds or leave-one-out, never a library error ---------------------------
def test_44_labels_over_150_classes_get_leave_one_out_probabilities():
    from labeler.quality.label_errors import fold_plan

    y = np.array([c for c in range(11) for _ in range(3)] + list(range(11, 22)))  # 44 labels, no class with 5
    keep = rankable(y, 150, False)
    assert keep.sum() == 33 and fold_plan(y[keep], False) == 33  # leave-one-out over the 33 rankable labels
    X = np.eye(150)[y[keep]] * 3 + np.random.default_rng(0).normal(0, 0.1, (33, 150))
    P = oof_probabilities(X, y[keep], 150, multi_label=False, seed=0)
    assert P.shape == (33, 150) and np.allclose(P.sum(1), 1)
    r = rank_labels(P, y[keep], multi_label=False)
    assert not r.flagged.any()  # clean clusters: each label's own class wins without it
    assert fold_plan(np.repeat(np.arange(3), 5), False) == 5
    assert fold_plan(np.repeat(np.arange(150), [4] * 75 + [2] * 75), False) == 4  # 450 labels: too many for LOO


def test_two_classes_with_two_labels_each_are_ranked():
    X = np.array([[3.0, 0.0], [3.1, 0.1], [0.0, 3.0], [0.2, 3.0]])
    y = np.array([0, 0, 1, 1])
    P = oof_probabilities(X, y, 2, multi_label=False)
    assert (P.argmax(1) == y).all()
    assert not rank_labels(P, y, multi_label=False).flagged.any()


def _sparse_project(tmp_path, n_classes, per_class):
    """A project with ``n_classes`` labels and human labels ``per_class`` (one count per labeled class)."""
    from labeler.config import load_config

    rows = [(f"r{c}-{j}", f"topic {c} example {j}", f"c{c:03d}") for c, m in enumerate(per_class) for j in range(m)]
    (tmp_path / "pool.jsonl").write_text("".join(json.dumps({"id": i, "text": t}) + "\n" for i, t, _ in rows))
    labels = ", ".join(f"c{c:03d}" for c in range(n_classes))
    (tmp_path / "review.yaml").write_text(
        "data: {path: pool.jsonl, text_fields: [text], id_field: id}\n"
        f"task: {{labels: [{labels}]}}\nsignals: [{{type: embedding}}]\n")
    config = load_config(tmp_path / "review.yaml", ["argilla.dataset=rv-sparse", f"project.dir={tmp_path / 'state'}"])
    (tmp_path / "state").mkdir()
    pd.DataFrame({"id": [i for i, _, _ in rows], "text": [t for _, t, _ in rows], "label": [lab for *_, lab in rows],
                  "labels": [[]] * len(rows), "status": ["submitted"] * len(rows), "annotator": ["ann"] * len(rows)}
                 ).to_parquet(tmp_path / "state" / "labels.parquet")
    return config


def test_review_of_44_labels_over_150_classes_says_what_it_left_out(tmp_path):
    from click.testing import CliRunner

    from labeler.cli.review import command

    _sparse_project(tmp_path, 150, [3] * 11 + [1] * 11)
    result = CliRunner().invoke(command, ["-c", str(tmp_path / "review.yaml"), "--set",
                                          f"project.dir={tmp_path / 'state'}", "--no-push"])
    assert result.exit_code == 0, result.output
    summary = next(line for line in result.stdout.splitlines() if line.startswith("cleanlab flags"))
    assert summary.startswith("cleanlab flags ") and " of 33 ranked human labels" in summary
    assert ("(leave-one-out out-of-fold probabilities of the queue model: 11 of 11 classes have fewer than 5 labels)"
            in summary)
    assert summary.endswith("of 44 labels: 11 not ranked (the only label of their class: 11 classes with 1 label)")
    assert "ValueError" not in result.output


def test_review_at_two_classes(tmp_path):
    from labeler.quality.suspects import find_suspects

    s = find_suspects(_sparse_project(tmp_path, 2, [2, 3]))
    assert (s.n_ranked, s.folds, s.unranked) == (5, "leave-one-out", 0)
    assert "2 of 2 classes have fewer than 5 labels" in s.summary()


def test_the_budget_goes_to_cleanlabs_label_issues_first():
    # a label issue is judged against its class's noise rate, so an unflagged label can rank below a flagged one
    from labeler.quality.suspects import Suspect, Suspects

    def s(rid, quality, flagged):
        return Suspect(rid, "a", "b", 0.9, quality, flagged, "ann")

    items = [s("u1", 0.10, False), s("f1", 0.20, True), s("u2", 0.25, False), s("f2", 0.30, True)]
    sus = Suspects(items=items, n_labels=4, n_ranked=4, n_flagged=2)
    assert [x.id for x in sus.to_send(2)] == ["f1", "f2"]
    assert sus.sending(sus.to_send(2), 2, True) == \
        "the 2 labels cleanlab flags, lowest label quality first (budget 2; --budget to change)"
    assert [x.id for x in sus.to_send(3)] == ["f1", "f2", "u1"]
    assert sus.sending(sus.to_send(3), 3, False) == \
        "the 2 labels cleanlab flags, then 1 more, lowest label quality first (budget 3)"
    none = Suspects(items=[s("u1", 0.1, False)], n_labels=1, n_ranked=1, n_flagged=0)
    assert none.sending(none.to_send(5), 5, False) == "the 1 lowest label quality first (budget 5)"


def test_more_flags_than_annotators_plausibly_get_wrong_come_with_a_note():
    # multi-label early on, cleanlab flags half of the correct answers (BENCHMARKS.md "Suspected label errors")
    from labeler.quality.suspects import Suspects

    many = Suspects(items=[], n_labels=450, n_ranked=450, n_flagged=243)
    assert many.summary().splitlines()[1] == (
        "note: 54% flagged is more than annotators plausibly get wrong: most flags are likely correct labels that a "
        "model fitted on 450 labels cannot yet tell from errors; the likeliest errors still come first (--budget sets "
        "how many are sent)")
    assert "\n" not in Suspects(items=[], n_labels=450, n_ranked=450, n_flagged=112).summary()  # a quarter: no note
    assert "\n" not in Suspects(items=[], n_labels=10, n_ranked=10, n_flagged=6).summary()  # too few to judge


def test_a_multi_label_model_that_puts_nothing_over_the_cut_suggests_none_of_these():
    from labeler.quality.label_errors import model_label, show

    assert model_label(np.array([0.08, 0.3]), ["gratitude", "anger"], True, 0.5) == ([], pytest.approx(0.7))
    assert show(model_label(np.array([0.08, 0.3]), ["gratitude", "anger"], True, 0.5)[0]) == "(none)"
    assert model_label(np.array([0.6, 0.9]), ["gratitude", "anger"], True, 0.5) == (["gratitude", "anger"], 0.6)


def test_review_again_tops_up_one_batch_instead_of_sending_another(tmp_path, monkeypatch):
    """`labeler review` run twice sent a second batch of suspects while the first still waited (on a 43,000-text
    project: 50, then 100 open); now the default budget keeps one batch (``queue.batch_size``) open, as ``push``
    does, and ``--budget N`` still sends N."""
    from labeler.cli import review
    from labeler.quality import second_review, suspects
    from labeler.quality.second_review import ReviewPush, ReviewReport
    from labeler.quality.suspects import Suspect, Suspects, default_budget

    config = _config(tmp_path, "rv-topup")
    flagged = [Suspect(f"r{i}", "billing", "refund", 0.9, 0.1 + i / 100, True, "ann") for i in range(5)]
    sus = Suspects(items=flagged, n_labels=5, n_ranked=5, n_flagged=5)
    config.queue.batch_size = 4
    assert [default_budget(config, sus, w) for w in (0, 1, 3, 4, 9)] == [4, 3, 1, 0, 0]
    sent = []
    monkeypatch.setattr(suspects, "find_suspects", lambda config: sus)
    monkeypatch.setattr(second_review, "pull_reviews", lambda config, missing_ok=False: ReviewReport(
        counts={PENDING: 3, AMBIGUOUS: 1}))
    monkeypatch.setattr(second_review, "push_review", lambda config, picked: sent.append(len(picked)) or ReviewPush(
        dataset="rv-topup-review", refreshed=4, pulled=ReviewReport()))
    args = ["-c", str(tmp_path / "review.yaml"), "--set", f"project.dir={tmp_path / 'state'}",
            "--set", "queue.batch_size=4"]
    out = _run(review.command, args)
    assert "no new suspects sent: 4 sent before still wait for an answer (a batch is queue.batch_size 4); " \
           "--budget N sends N more" in out and sent == [0]
    out = _run(review.command, args + ["--budget", "2"])
    assert "the 2 labels cleanlab flags, lowest label quality first (budget 2)" in out and sent == [0, 2]
