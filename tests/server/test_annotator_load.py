"""What issue 13.6 (annotators under load) changed in the local server: the queue index, Pending-tab leases that
give annotators working together different records, the argilla-server speed-ups on the UI's requests, and
``LABELER_API_WORKERS``. Unit tests run over a miniature of argilla's tables; the server tests use the real one."""

from __future__ import annotations

import asyncio
import json
import sqlite3
import time
import uuid
from types import SimpleNamespace

import httpx
import pytest
from argilla_server.search_engine.base import AndFilter, RecordFilterScope, ResponseFilterScope, TermsFilter

from labeler.server import argilla_speedups, search_index, search_leases, search_query

DS = uuid.uuid4().hex
ANA, BO, CY = (uuid.UUID(int=i) for i in (101, 102, 103))
# p1..p9 in queue order; "px" has no priority (last); "done" is completed
RECORDS = [(f"p{i}", i, "pending") for i in range(1, 10)] + [("px", None, "pending"), ("done", 0, "completed")]
HEX = {name: uuid.UUID(int=i + 1).hex for i, (name, _, _) in enumerate(RECORDS)}
NAME = {v: k for k, v in HEX.items()}


@pytest.fixture()
def mini(tmp_path):
    """A miniature of argilla's database (file), the side index beside it: the search engine's two paths."""
    db = tmp_path / "argilla.db"
    conn = sqlite3.connect(db)
    conn.executescript(
        """
        CREATE TABLE datasets (id CHAR(32), distribution JSON);
        CREATE TABLE questions (id CHAR(32), dataset_id CHAR(32), name VARCHAR);
        CREATE TABLE metadata_properties (id CHAR(32), dataset_id CHAR(32), name VARCHAR, settings JSON);
        CREATE TABLE records (id CHAR(32) PRIMARY KEY, dataset_id CHAR(32), status VARCHAR, external_id VARCHAR,
                              metadata JSON, inserted_at DATETIME, updated_at DATETIME);
        CREATE TABLE responses (id CHAR(32), record_id CHAR(32), user_id CHAR(32), status VARCHAR, "values" JSON,
                                UNIQUE (record_id, user_id));
        """
    )
    conn.execute("INSERT INTO datasets VALUES (?, '{\"strategy\": \"overlap\", \"min_submitted\": 1}')", (DS,))
    conn.execute("INSERT INTO metadata_properties VALUES (?, ?, 'priority', '{\"type\": \"integer\"}')",
                 (uuid.uuid4().hex, DS))
    for name, prio, status in RECORDS:
        meta = json.dumps({} if prio is None else {"priority": prio})
        conn.execute("INSERT INTO records VALUES (?, ?, ?, ?, ?, '2024-01-01', '2024-01-01')",
                     (HEX[name], DS, status, name, meta))
    conn.commit()
    conn.close()
    search_index.create_argilla_indexes(str(db))
    return str(db), str(tmp_path / "search.db")


def pending_tab(user_id) -> AndFilter:
    """The filter argilla builds from the UI's Pending-tab body for ``user_id``."""
    user = SimpleNamespace(id=user_id)
    return AndFilter(filters=[TermsFilter(scope=ResponseFilterScope(property="status", user=user), values=["pending"]),
                              TermsFilter(scope=RecordFilterScope(property="status"), values=["pending"])])


def page(paths, user_id, offset=0, limit=3, flt="pending"):
    flt = pending_tab(user_id) if flt == "pending" else flt
    result = search_query.search(paths, DS, None, flt, None, offset, limit, user_id)
    return [NAME[item.record_id.hex] for item in result.items], result.total


def answer(paths, record, user_id, status="submitted"):
    with sqlite3.connect(paths[0]) as conn:
        conn.execute("INSERT INTO responses VALUES (?, ?, ?, ?, '{}')", (uuid.uuid4().hex, HEX[record], user_id.hex, status))


def min_submitted(paths, n):
    with sqlite3.connect(paths[0]) as conn:
        conn.execute("UPDATE datasets SET distribution = json_set(distribution, '$.min_submitted', ?)", (n,))


def test_annotators_asking_together_get_different_records_in_queue_order(mini):
    assert page(mini, ANA) == (["p1", "p2", "p3"], 10)
    assert page(mini, BO) == (["p4", "p5", "p6"], 10)  # p1-p3 are leased to ana
    assert page(mini, ANA) == (["p1", "p2", "p3"], 10)  # her own leases do not push them back
    # a short queue stays visible: what others lease comes after the rest, each part in queue order
    assert page(mini, CY, limit=10) == (["p7", "p8", "p9", "px", "p1", "p2", "p3", "p4", "p5", "p6"], 10)
    assert page(mini, CY, offset=2, limit=3) == (["p9", "px", "p1"], 10)


def test_a_lease_ends_when_its_holder_answers_or_it_expires(mini, monkeypatch):
    assert page(mini, ANA)[0] == ["p1", "p2", "p3"]
    answer(mini, "p1", ANA)  # min_submitted 1: argilla marks p1 completed next; until then it stays ana's
    answer(mini, "p2", ANA, "draft")  # still hers
    assert page(mini, BO)[0] == ["p4", "p5", "p6"]
    min_submitted(mini, 2)  # overlap: p1 goes on to the next annotator
    assert page(mini, BO)[0] == ["p1", "p4", "p5"]
    answer(mini, "p3", ANA, "discarded")  # she passed on p3: free for others
    assert page(mini, CY, limit=4)[0] == ["p3", "p7", "p8", "p9"]  # p1 leased to bo now, p4-p6 bo's
    later = search_leases.time.time() + search_leases.LEASE_SECONDS + 1
    monkeypatch.setattr(search_leases.time, "time", lambda: later)
    assert page(mini, CY)[0] == ["p1", "p2", "p3"]  # every lease has expired
    rows = sqlite3.connect(mini[1]).execute("SELECT record_id, user_id FROM leases ORDER BY record_id").fetchall()
    assert rows == [(HEX[r], CY.hex) for r in ("p1", "p2", "p3")]  # expired ones were dropped


def test_only_the_pending_tab_leases(mini):
    submitted = AndFilter(filters=[TermsFilter(scope=ResponseFilterScope(property="status",
                                                                         user=SimpleNamespace(id=ANA)),
                                               values=["submitted"])])
    assert page(mini, ANA, flt=submitted) == ([], 0)
    assert page(mini, ANA, flt=None, limit=4) == (["done", "p1", "p2", "p3"], 11)  # queue order, no lease
    assert page(mini, BO, flt=pending_tab(ANA))[0] == ["p1", "p2", "p3"]  # ana's tab, asked by bo: no lease
    assert sqlite3.connect(mini[1]).execute("SELECT COUNT(*) FROM leases").fetchone() == (0,)
    assert not search_leases.is_pending_tab(None, ANA)


def test_arrange_asks_the_database_for_free_rows_then_leased_ones():
    rows = [(f"r{i}", 0.5) for i in range(1, 9)]
    asked = []

    def first_rows(n, ids, inside):
        asked.append((n, inside))
        return [row for row in rows if (row[0] in ids) == inside][:n]

    assert [r for r, _ in search_leases.arrange(first_rows, 0, 3, {"r1", "r3"})] == ["r2", "r4", "r5"]
    assert [r for r, _ in search_leases.arrange(first_rows, 5, 3, {"r1", "r3"})] == ["r8", "r1", "r3"]
    assert [r for r, _ in search_leases.arrange(first_rows, 0, 3, set())] == ["r1", "r2", "r3"]
    assert asked == [(3, False), (8, False), (2, True), (3, False)]  # never more rows than the page needs


def test_the_pending_page_walks_the_queue_index(mini):
    where = "r.dataset_id = ? AND r.status = 'pending'"
    plan = sqlite3.connect(mini[0]).execute(
        f"EXPLAIN QUERY PLAN SELECT r.id FROM records r WHERE {where} "
        f"ORDER BY {search_index.QUEUE_KEY} ASC, r.rowid LIMIT 10", (DS,)).fetchall()
    details = [row[3] for row in plan]
    assert any("USING INDEX labeler_records_queue (dataset_id=? AND status=?)" in d for d in details), details
    assert not any(d == "USE TEMP B-TREE FOR ORDER BY" for d in details), details  # no sort of the whole dataset


def test_membership_and_the_request_user_are_asked_once():
    calls = []

    async def is_member(self, workspace):
        calls.append(workspace)
        return workspace == "ws1"

    remembered = argilla_speedups.remember_per_instance(is_member)
    user, other = SimpleNamespace(), SimpleNamespace()
    answers = [asyncio.run(remembered(u, ws)) for u, ws in [(user, "ws1"), (user, "ws1"), (user, "ws2"),
                                                             (user, "ws2"), (other, "ws1")]]
    assert answers == [True, True, False, False, True] and calls == ["ws1", "ws2", "ws1"]

    queries = []
    ana = SimpleNamespace(username="ana")

    async def by_name(db, name):
        queries.append(name)
        return ana if name == "ana" else None

    async def by_key(db, key):
        queries.append(key)
        return ana if key == "key-ana" else None

    get_by_name, get_by_key = argilla_speedups.found_once_per_session(by_name, by_key)

    class Session:  # stands in for an AsyncSession (hashable, weak-referenceable)
        pass

    db, db2 = Session(), Session()

    async def lookups():
        return [await get_by_name(db, "ana"), await get_by_name(db, "ana"), await get_by_name(db, "ana"),
                await get_by_name(db2, "ana"), await get_by_name(db, "bo"), await get_by_name(db, "bo"),
                await get_by_key(db, "key-ana"), await get_by_name(db, "ana")]

    assert asyncio.run(lookups()) == [ana, ana, ana, ana, None, None, ana, ana]
    # the second lookup of a pair is free; nothing found is never kept; sessions do not share
    assert queries == ["ana", "ana", "ana", "bo", "bo", "key-ana"]


def test_response_events_are_skipped_unless_a_webhook_listens(monkeypatch):
    from argilla_server.contexts import datasets, webhooks
    from argilla_server.webhooks.v1 import responses as response_webhooks

    import labeler.server.search_engine  # noqa: F401  applies the speed-ups

    assert datasets.notify_response_event_v1 is response_webhooks.notify_response_event
    assert response_webhooks.notify_response_event._labeler_wrapped
    enabled = []

    async def list_enabled(db):
        return enabled

    monkeypatch.setattr(webhooks, "list_enabled_webhooks", list_enabled)

    class Session:
        pass

    notify = response_webhooks.notify_response_event
    assert asyncio.run(notify(Session(), "response.created", object())) == []
    enabled.append(SimpleNamespace(events=["response.created"]))
    with pytest.raises(AttributeError):  # a listener: the original builds the event (and fails on object())
        asyncio.run(notify(Session(), "response.created", object()))


def test_api_workers_setting(monkeypatch):
    from labeler.server import run_api

    monkeypatch.delenv("LABELER_API_WORKERS", raising=False)
    assert run_api.api_workers() == 1
    monkeypatch.setenv("LABELER_API_WORKERS", "3")
    assert run_api.api_workers() == 3
    for bad in ("0", "two", "65"):
        monkeypatch.setenv("LABELER_API_WORKERS", bad)
        with pytest.raises(SystemExit, match=f"LABELER_API_WORKERS must be a whole number from 1 to 64; got '{bad}'"):
            run_api.api_workers()
    monkeypatch.setenv("LABELER_API_WORKERS", "2")
    monkeypatch.setenv("LABELER_SQLITE_SYNCHRONOUS", "normal")
    run_api.check_settings()
    monkeypatch.setenv("LABELER_SQLITE_SYNCHRONOUS", "OFF")
    with pytest.raises(SystemExit, match="LABELER_SQLITE_SYNCHRONOUS must be FULL or NORMAL; got 'OFF'"):
        run_api.check_settings()


# ---------------------------------------------------------------------------------------------------------------
# the real server


def _token(url: str, name: str, password: str) -> dict:
    resp = httpx.post(f"{url}/api/v1/token", data={"username": name, "password": password})
    resp.raise_for_status()
    return {"Authorization": f"Bearer {resp.json()['access_token']}"}


@pytest.mark.server
def test_two_annotators_in_the_ui_get_different_records_then_answers_complete_them(argilla_server, tmp_path):
    from labeler.argilla.connection import Connection
    from labeler.argilla.push import PushRecord, push
    from labeler.argilla.schema import DatasetSpec
    from labeler.argilla.users import add_user

    conn = Connection(argilla_server.url, argilla_server.api_key, "local server")
    spec = DatasetSpec(name=f"leases-{tmp_path.name[-8:].lower()}", labels=["a", "b"])
    records = [PushRecord(id=f"q{i}", fields={"text": f"text {i}"}, value="a", score=0.6, agent="m",
                          metadata={"priority": i}) for i in range(1, 7)]
    dataset_id = push(conn, spec, records, progress=False).dataset_id
    heads = [_token(argilla_server.url, acc.name, acc.password)
             for acc in (add_user(conn, f"lease-a-{tmp_path.name[-6:]}"), add_user(conn, f"lease-b-{tmp_path.name[-6:]}"))]
    body = {"query": {}, "filters": {"and": [
        {"type": "terms", "scope": {"entity": "response", "property": "status"}, "values": ["pending"]},
        {"type": "terms", "scope": {"entity": "record", "property": "status"}, "values": ["pending"]}]}}

    def pending(headers, limit=2):
        resp = httpx.post(f"{argilla_server.url}/api/v1/me/datasets/{dataset_id}/records/search", json=body,
                          params=[("include", "responses"), ("include", "suggestions"), ("offset", 0),
                                  ("limit", limit)], headers=headers)
        assert resp.status_code == 200, resp.text
        return [item["record"] for item in resp.json()["items"]], resp.json()["total"]

    first, total = pending(heads[0])
    assert [r["external_id"] for r in first] == ["q1", "q2"] and total == 6
    second, _ = pending(heads[1])
    assert [r["external_id"] for r in second] == ["q3", "q4"]
    assert [r["metadata"]["priority"] for r in second] == [3, 4]  # metadata still reaches annotators
    resp = httpx.post(f"{argilla_server.url}/api/v1/records/{first[0]['id']}/responses", headers=heads[0],
                      json={"values": {"label": {"value": "b"}}, "status": "submitted"})
    assert resp.status_code == 201, resp.text
    again, total = pending(heads[1], limit=6)  # q1 is completed (min_submitted 1); q2 is still ana's
    assert [r["external_id"] for r in again] == ["q3", "q4", "q5", "q6", "q2"] and total == 5

    with sqlite3.connect(argilla_server.home / "server" / "argilla.db") as db:
        names = {name for (name,) in db.execute("SELECT name FROM sqlite_master WHERE tbl_name = 'records'")}
    assert set(search_index.ARGILLA_INDEXES) <= names


@pytest.mark.slow
@pytest.mark.server
def test_two_api_workers_serve_stop_together_and_follow_a_crashed_supervisor(tmp_path, monkeypatch):
    import os
    import signal

    import psutil

    from labeler.server import process
    from labeler.server.paths import ServerPaths
    from tests.conftest import free_port

    def workers():
        api = psutil.Process(process.read_state(paths).processes["api"].pid)
        return api, [p for p in api.children(recursive=True) if "spawn" in " ".join(p.cmdline())]

    def gone(procs) -> bool:
        psutil.wait_procs(procs, timeout=20)
        return not any(p.is_running() and p.status() != psutil.STATUS_ZOMBIE for p in procs)

    monkeypatch.setenv("LABELER_API_WORKERS", "2")
    paths, port = ServerPaths(tmp_path / "home"), free_port()
    started = process.start(paths, port=port)
    try:
        api, procs = workers()
        assert len(procs) == 2
        key = {"X-Argilla-Api-Key": started.credentials.api_key}
        for _ in range(6):  # each request may land on either worker
            assert httpx.get(f"{started.url}/api/v1/me", headers=key, timeout=10).status_code == 200
        os.kill(api.pid, signal.SIGKILL)  # a crash: the workers shut down by themselves, the port is freed
        assert gone(procs)
        restarted = process.start(paths, port=port)
        assert restarted.cleaned_stale and httpx.get(f"{started.url}/api/v1/me", headers=key).status_code == 200
        _, procs = workers()
    finally:
        process.stop(paths)
    assert gone(procs)


@pytest.mark.server
def test_record_status_follows_answers_with_and_without_record_webhooks(argilla_server, tmp_path):
    """The one-UPDATE record status (argilla_speedups 7) and argilla's own path (a webhook listens) agree."""
    from labeler.argilla.connection import Connection
    from labeler.argilla.push import PushRecord, push
    from labeler.argilla.schema import DatasetSpec
    from labeler.argilla.users import add_user

    url, owner = argilla_server.url, {"X-Argilla-Api-Key": argilla_server.api_key}
    conn = Connection(url, argilla_server.api_key, "local server")
    tag = tmp_path.name[-6:].lower()
    spec = DatasetSpec(name=f"status-{tag}", labels=["a", "b"], min_submitted=2)
    push(conn, spec, [PushRecord(id=f"s{i}", fields={"text": f"t{i}"}, value="a", score=0.5, agent="m",
                                 metadata={"priority": i}) for i in range(2)], progress=False)
    ana, bo = (_token(url, acc.name, acc.password) for acc in (add_user(conn, f"st-a-{tag}"), add_user(conn, f"st-b-{tag}")))
    ds_id = httpx.get(f"{url}/api/v1/me/datasets", headers=owner).json()["items"]
    ds_id = next(d["id"] for d in ds_id if d["name"] == spec.name)
    records = httpx.get(f"{url}/api/v1/datasets/{ds_id}/records", headers=owner).json()["items"]
    ids = {r["external_id"]: r["id"] for r in sorted(records, key=lambda r: r["external_id"])}

    def answer(headers, rid, status="submitted"):
        resp = httpx.post(f"{url}/api/v1/records/{rid}/responses", headers=headers,
                          json={"values": {"label": {"value": "a"}}, "status": status})
        assert resp.status_code == 201, resp.text
        return resp.json()["id"]

    def status(rid):
        return httpx.get(f"{url}/api/v1/records/{rid}", headers=owner).json()["status"]

    hook = httpx.post(f"{url}/api/v1/webhooks", headers=owner,
                      json={"url": "http://127.0.0.1:9/none", "events": ["record.completed"]}).json()["id"]
    try:
        for rid, with_hook in ((ids["s0"], True), (ids["s1"], False)):
            if not with_hook:
                assert httpx.delete(f"{url}/api/v1/webhooks/{hook}", headers=owner).status_code == 200
            first = answer(ana, rid)
            assert status(rid) == "pending"  # 1 of 2
            answer(bo, rid, "discarded")
            assert status(rid) == "pending"  # a discard is not a submission
            assert httpx.put(f"{url}/api/v1/responses/{first}", headers=ana,
                             json={"values": {"label": {"value": "b"}}, "status": "submitted"}).status_code == 200
            assert status(rid) == "pending"
            bo_response = next(r["id"] for r in httpx.get(f"{url}/api/v1/records/{rid}?include=responses",
                                                            headers=owner).json()["responses"] if r["status"] == "discarded")
            assert httpx.put(f"{url}/api/v1/responses/{bo_response}", headers=bo,
                             json={"values": {"label": {"value": "a"}}, "status": "submitted"}).status_code == 200
            assert status(rid) == "completed"  # 2 of 2
            assert httpx.delete(f"{url}/api/v1/responses/{first}", headers=ana).status_code == 200
            assert status(rid) == "pending"  # back to 1 of 2
    finally:
        httpx.delete(f"{url}/api/v1/webhooks/{hook}", headers=owner)


@pytest.mark.server
def test_an_idle_connection_stays_open_longer_than_an_annotators_pause(argilla_server):
    """uvicorn's default closes idle connections after 5 s, racing clients that reuse them (RemoteProtocolError
    at human pace); the API keeps them for ``KEEP_ALIVE_SECONDS``."""
    import http.client
    from urllib.parse import urlparse

    from labeler.server.run_api import KEEP_ALIVE_SECONDS

    assert KEEP_ALIVE_SECONDS == 75
    url = urlparse(argilla_server.url)
    conn = http.client.HTTPConnection(url.hostname, url.port, timeout=10)
    try:
        for pause in (6.5, 0):  # longer than uvicorn's default keep-alive (5 s)
            conn.request("GET", "/api/v1/me", headers={"X-Argilla-Api-Key": argilla_server.api_key})
            response = conn.getresponse()  # RemoteDisconnected when the server had closed the connection
            assert (response.status, response.will_close) == (200, False)
            response.read()
            sock = conn.sock
            time.sleep(pause)
        assert conn.sock is sock  # the same connection both times
    finally:
        conn.close()
