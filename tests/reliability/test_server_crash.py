"""kill -9 every process of a local server in the middle of a 2,000-record push; start it again; re-run the
push: every record present exactly once, suggestions current, every existing response unchanged, and the
search engine's view (totals, text queries) agrees with the database. Runs on its own server (own home, own
port), so the session server is not disturbed."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import threading
import time
import uuid
from dataclasses import replace

import httpx
import pytest

from labeler.argilla import rest
from labeler.argilla.client import Connection
from labeler.argilla.push import push
from labeler.errors import LabelerError
from labeler.server import process
from labeler.server.paths import ServerPaths
from tests.conftest import free_port
from tests.reliability.faults import annotate, dataset_id, figures_of, make_records, make_spec, record_figures, snapshot

N, FIRST, BATCH = 2000, 200, 200


def _db_count(paths: ServerPaths) -> int:
    try:
        with sqlite3.connect(f"file:{paths.database}?mode=ro", uri=True, timeout=5) as db:
            return db.execute("SELECT COUNT(*) FROM records").fetchone()[0]
    except sqlite3.Error:
        return -1


def _kill_all(paths: ServerPaths) -> int:
    state = json.loads(paths.state_file.read_text())
    for info in state["processes"].values():
        os.kill(info["pid"], signal.SIGKILL)
    return len(state["processes"])


def _search(conn, ds_id, body) -> tuple[list[str], int]:
    resp = httpx.post(f"{conn.url}/api/v1/datasets/{ds_id}/records/search", json=body,
                      params={"offset": 0, "limit": 50}, headers={"X-Argilla-Api-Key": conn.api_key}, timeout=30)
    assert resp.status_code == 200, resp.text
    data = resp.json()
    return [item["record"]["external_id"] for item in data["items"]], data["total"]


def _search_agrees_with_db(conn, ds_id, paths, ids: list[str]) -> None:
    _, total = _search(conn, ds_id, {"query": {"text": {"q": "ticket"}}})  # every text has "ticket"
    assert total == _db_count(paths)
    for rid in ids:  # each record's unique token finds exactly that record
        found, total = _search(conn, ds_id, {"query": {"text": {"q": f"number{rid[1:]}"}}})
        assert found == [rid] and total == 1, rid


@pytest.mark.slow
@pytest.mark.server
def test_kill_9_during_push_then_restart_and_repush_loses_and_duplicates_nothing(tmp_path, monkeypatch):
    monkeypatch.setattr(rest, "BACKOFF", 0.05)
    paths = ServerPaths(tmp_path / "home")
    port = free_port()
    started = process.start(paths, port=port)
    try:
        conn = Connection(started.url, started.credentials.api_key, "crash")
        name = f"crash-{uuid.uuid4().hex[:6]}"
        spec = make_spec(name)
        push(conn, spec, make_records(FIRST), progress=False)
        answered = [f"r{i:05d}" for i in range(0, FIRST, 5)]  # 40 answers before the crash
        annotate(conn, name, answered)
        ds_id = dataset_id(conn, name)
        before = snapshot(conn, ds_id)

        records = make_records(N, agent="v2")  # new suggestions for every record
        outcome: dict = {}

        def run_push():
            try:
                outcome["report"] = push(conn, spec, records, batch_size=BATCH, progress=False)
            except LabelerError as exc:
                outcome["error"] = str(exc)

        worker = threading.Thread(target=run_push)
        worker.start()
        deadline = time.monotonic() + 120
        while _db_count(paths) < FIRST + 2 * BATCH and time.monotonic() < deadline:
            time.sleep(0.05)
        landed = _db_count(paths)
        killed = _kill_all(paths)
        worker.join(120)
        assert not worker.is_alive()
        assert "error" in outcome, f"the push finished before the kill ({landed} records had landed)"
        assert "\n" not in outcome["error"] and started.credentials.api_key not in outcome["error"]
        assert FIRST < landed < N

        restarted = process.start(paths, port=port)
        assert restarted.cleaned_stale and not restarted.new_credentials
        crashed = snapshot(conn, ds_id)
        assert crashed["rows"] == len(set(crashed["ids"])) == _db_count(paths)
        newest = sorted(crashed["ids"])[-3:]
        _search_agrees_with_db(conn, ds_id, paths, newest)  # the side index caught up (or was rebuilt)

        report = push(conn, spec, records, batch_size=BATCH, progress=False)
        assert report.skipped_answered == len(answered)
        assert report.created == N - len(crashed["ids"])
        after = snapshot(conn, ds_id)
        figs = figures_of(before, after, {r.id for r in records})
        assert figs == {"records_lost": 0, "records_duplicated": 0, "responses_changed": 0}
        assert after["rows"] == N
        assert after["responses"] == {rid: before["responses"].get(rid, []) for rid in after["ids"]}
        stale = [rid for rid, s in after["suggestions"].items() if rid not in answered and s[1] != "v2"]
        assert stale == []
        assert all(after["suggestions"][rid] == before["suggestions"][rid] for rid in answered)
        _search_agrees_with_db(conn, ds_id, paths, ["r00000", f"r{N - 1:05d}", newest[-1]])
        _, total = _search(conn, ds_id, {"query": {"text": {"q": "ticket"}}})
        assert total == N
        record_figures("kill -9 of redis+api+worker during a 2,000-record push, restart, re-push",
                       faults=killed, records=N, landed_before_kill=landed, **figs)
    finally:
        process.stop(paths)
