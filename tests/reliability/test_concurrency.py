"""Two labeler commands on one project, and two annotators answering while a push refreshes suggestions."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
import uuid

import pytest

from labeler.argilla.client import Connection
from labeler.argilla.push import push
from labeler.errors import LabelerError
from labeler.locking import project_lock
from tests.reliability.faults import LABELS, dataset_id, figures_of, make_records, make_spec, record_figures, snapshot

HOLD = ("import sys, time; from labeler.locking import project_lock\n"
        "with project_lock(sys.argv[1], what='push'):\n    print('held', flush=True); time.sleep(float(sys.argv[2]))\n")


def _holder(project, seconds):
    proc = subprocess.Popen([sys.executable, "-c", HOLD, str(project), str(seconds)], stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "held"
    return proc


def test_a_second_push_refuses_with_the_holders_pid_then_runs_once_free(tmp_path):
    other = _holder(tmp_path, 30)
    try:
        with pytest.raises(LabelerError) as err:
            with project_lock(tmp_path, what="push"):
                pass
        msg = str(err.value)
        assert f"pid {other.pid}" in msg and str(tmp_path) in msg and "retry" in msg and "\n" not in msg
        with pytest.raises(LabelerError):  # a bounded wait gives up too
            with project_lock(tmp_path, what="round", wait=0.3):
                pass
    finally:
        other.kill()
        other.wait()
    with project_lock(tmp_path, what="push"):  # kill -9 of the holder released it: no stale lock
        assert (tmp_path / ".labeler.lock").read_text() == f"push, pid {os.getpid()}"


def test_waiting_for_the_lock_serialises_two_commands(tmp_path):
    other = _holder(tmp_path, 0.8)
    start = time.monotonic()
    with project_lock(tmp_path, what="push", wait=True):
        waited = time.monotonic() - start
    other.wait()
    assert waited >= 0.5
    record_figures("two pushes on one project (lock)", faults=2, records=0, records_lost=0,
                   records_duplicated=0, responses_changed=0)


@pytest.mark.server
def test_two_annotators_submit_while_a_push_refreshes_suggestions(argilla_server, argilla_client):
    """The owner and a second annotator answer the same 60 records, in threads, while pushes re-send every
    record: every response submitted is on the server afterwards, unchanged."""
    import argilla as rg

    conn = Connection(argilla_server.url, argilla_server.api_key, "test")
    name = f"conc-{uuid.uuid4().hex[:6]}"
    spec, records = make_spec(name), make_records(150)
    push(conn, spec, records, progress=False)
    username, password = f"ann{uuid.uuid4().hex[:6]}", "pw-" + uuid.uuid4().hex
    user = rg.User(username=username, password=password, role="annotator", client=argilla_client).create()
    argilla_client.workspaces("argilla").add_user(user.username)
    import httpx

    key = httpx.get(f"{argilla_server.url}/api/v1/users/{user.id}", headers={"X-Argilla-Api-Key": conn.api_key}
                    ).json().get("api_key") or user.api_key
    targets = [r.id for r in records[:60]]
    errors: list[BaseException] = []

    from labeler.argilla import rest

    uuid_of = {rec["external_id"]: rec["id"] for rec in rest.iter_records(conn, dataset_id(conn, name), include="")}

    def annotator(api_key, offset):
        """Submit as the web UI does: POST /api/v1/records/{id}/responses, one record at a time."""
        try:
            with httpx.Client(base_url=argilla_server.url, headers={"X-Argilla-Api-Key": api_key}, timeout=60) as http:
                for rid in targets:
                    body = {"values": {"label": {"value": LABELS[(int(rid[1:]) + offset) % 3]}}, "status": "submitted"}
                    resp = http.post(f"/api/v1/records/{uuid_of[rid]}/responses", json=body)
                    assert resp.status_code == 201, resp.text
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    def pusher():
        try:
            for i in range(3):
                push(conn, spec, make_records(150, agent=f"refresh-{i}"), batch_size=50, progress=False)
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=annotator, args=(conn.api_key, 0)),
               threading.Thread(target=annotator, args=(key, 1)), threading.Thread(target=pusher)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not errors, errors
    snap = snapshot(conn, dataset_id(conn, name))
    users = {conn_user for conn_user in (argilla_client.me.id, user.id)}
    for rid in targets:
        got = {(uid, status) for uid, status, _, _ in snap["responses"][rid]}
        assert got == {(str(u), "submitted") for u in users}, rid
        values = {uid: json.loads(v)["label"]["value"] for uid, _, v, _ in snap["responses"][rid]}
        assert values[str(argilla_client.me.id)] == LABELS[int(rid[1:]) % 3]
        assert values[str(user.id)] == LABELS[(int(rid[1:]) + 1) % 3]
    assert snap["rows"] == 150 and len(set(snap["ids"])) == 150
    figs = figures_of(snap, snap, {r.id for r in records})
    record_figures("2 annotators x 60 records submitted during 3 concurrent re-pushes", faults=0,
                   records=150, responses_submitted=120, responses_found=sum(len(snap["responses"][r]) for r in targets),
                   **figs)
