"""Network and auth faults against the real server: 5xx and stalls through a proxy that fails on purpose,
a wrong URL, a stopped server, a bad key. Transient faults are retried with backoff; the rest end in one line;
a failed push never leaves a record claimed as pushed (labeler reads "pushed" from the server only)."""

from __future__ import annotations

import uuid

import pytest

from labeler.argilla import rest
from labeler.argilla.client import Connection, connect
from labeler.argilla.pull import pull
from labeler.argilla.push import push
from labeler.errors import LabelerError
from tests.reliability.faults import (FaultProxy, annotate, dataset_id, figures_of, make_records, make_spec,
                                      record_figures, snapshot)

pytestmark = pytest.mark.server

BULK = "/records/bulk"


@pytest.fixture(autouse=True)
def fast_backoff(monkeypatch):
    monkeypatch.setattr(rest, "BACKOFF", 0.05)


def test_5xx_on_every_kind_of_call_is_retried_and_the_push_completes(argilla_server, tmp_path):
    direct = Connection(argilla_server.url, argilla_server.api_key, "test")
    name = f"net-{uuid.uuid4().hex[:6]}"
    records = make_records(120)
    with FaultProxy(argilla_server.url) as proxy:
        conn = Connection(proxy.url, argilla_server.api_key, "test")
        proxy.fail(2, match="/api/v1/me")  # the connection check
        proxy.fail(1, match="/api/v1/me/datasets")  # the SDK's dataset lookup
        proxy.fail(3, match=BULK)  # the upserts: 503, 503, 503, then through
        proxy.fail(1, match=BULK, status=502)
        proxy.fail(2, match="/records?")  # paging records (answered ids)
        report = push(conn, make_spec(name), records, batch_size=40, progress=False)
        assert report.created == 120
        injected = proxy.faults
        assert injected == 9
        proxy.fail(2, match="/records?")
        annotate(direct, name, [r.id for r in records[:10]])
        pulled = pull(conn, make_spec(name), tmp_path)
        assert pulled.submitted == 10
        injected = proxy.faults
    snap = snapshot(direct, dataset_id(direct, name))
    assert snap["rows"] == 120 and len(set(snap["ids"])) == 120
    record_figures("5xx (502/503) injected on connect, lookup, upsert and paging calls", faults=injected,
                   records=120, **figures_of(snap, snap, {r.id for r in records}))


def test_a_stalled_upsert_times_out_and_is_resent_without_duplicates(argilla_server, monkeypatch):
    monkeypatch.setenv("LABELER_ARGILLA_TIMEOUT", "2")
    direct = Connection(argilla_server.url, argilla_server.api_key, "test")
    name = f"net-{uuid.uuid4().hex[:6]}"
    records = make_records(60)
    with FaultProxy(argilla_server.url) as proxy:
        conn = Connection(proxy.url, argilla_server.api_key, "test")
        proxy.stall(1, 3.0, match=BULK)  # the first batch lands late: the client has given up and resends
        report = push(conn, make_spec(name), records, batch_size=30, progress=False)
        injected = proxy.faults
    assert report.created == 60 and injected == 1
    snap = snapshot(direct, dataset_id(direct, name))
    figs = figures_of(snap, snap, {r.id for r in records})
    assert figs["records_lost"] == 0 and figs["records_duplicated"] == 0
    record_figures("upsert stalled past the client timeout, then resent", faults=injected, records=60, **figs)


def test_persistent_5xx_ends_in_one_line_and_claims_nothing(argilla_server):
    """The server keeps failing the upserts: bounded retries, one line, and the records that never landed are
    not pushed as far as labeler can tell (the server is the only source of "pushed")."""
    direct = Connection(argilla_server.url, argilla_server.api_key, "test")
    name = f"net-{uuid.uuid4().hex[:6]}"
    spec, records = make_spec(name), make_records(90)
    push(direct, spec, records[:30], progress=False)  # 30 already there
    annotate(direct, name, ["r00000", "r00001"])
    before = snapshot(direct, dataset_id(direct, name))
    with FaultProxy(argilla_server.url) as proxy:
        conn = Connection(proxy.url, argilla_server.api_key, "test")
        proxy.fail(1000, match=BULK, status=503)
        with pytest.raises(LabelerError) as err:
            push(conn, spec, records, batch_size=30, progress=False)
        injected = proxy.faults
    msg = str(err.value)
    assert "\n" not in msg and "503" in msg and f"after {rest.RETRIES + 1} tries" in msg
    assert "0 of 88 were sent" in msg and argilla_server.api_key not in msg
    assert injected == rest.RETRIES + 1
    from labeler.argilla.push import answered_ids

    present, answered = answered_ids(direct, dataset_id(direct, name))
    assert present == {r.id for r in records[:30]} and answered == {"r00000", "r00001"}
    after = snapshot(direct, dataset_id(direct, name))
    figs = figures_of(before, after, {r.id for r in records[:30]})
    assert figs == {"records_lost": 0, "records_duplicated": 0, "responses_changed": 0}
    # the next push, with the server healthy again, sends exactly the missing 60 and refreshes 28
    report = push(direct, spec, records, progress=False)
    assert (report.created, report.refreshed, report.skipped_answered) == (60, 28, 2)
    record_figures("upserts failing with 503 beyond the retry budget", faults=injected, records=90, **figs)


def test_wrong_url_stopped_server_and_bad_key_are_one_line_errors(argilla_server, tmp_path):
    from tests.conftest import free_port

    spec = make_spec("never-created")
    cases = {
        "wrong url": Connection(f"http://127.0.0.1:{free_port()}", argilla_server.api_key, "test"),
        "not argilla": None,
        "bad key": Connection(argilla_server.url, "lbl.not-the-key", "test"),
    }
    # a stopped server: a proxy whose upstream is gone answers 502 (a gateway in front of a dead server)
    with FaultProxy(f"http://127.0.0.1:{free_port()}") as dead:
        cases["not argilla"] = Connection(dead.url, argilla_server.api_key, "test")
        messages = {}
        for what, conn in cases.items():
            for action in (lambda c: push(c, spec, make_records(3), progress=False),
                           lambda c: pull(c, spec, tmp_path)):
                with pytest.raises(LabelerError) as err:
                    action(conn)
                messages[what] = str(err.value)
                assert "\n" not in messages[what] and argilla_server.api_key not in messages[what]
    assert "cannot reach Argilla" in messages["wrong url"] and "ConnectError" in messages["wrong url"]
    assert "cannot reach Argilla" in messages["not argilla"] and "HTTP 502" in messages["not argilla"]
    assert "rejected the API key (401)" in messages["bad key"]
    record_figures("wrong URL, stopped upstream, bad API key", faults=6, records=0, records_lost=0,
                   records_duplicated=0, responses_changed=0)


def test_connect_waits_out_a_short_outage(argilla_server):
    """A server that answers 503 for a moment (restarting) is waited for, not reported."""
    with FaultProxy(argilla_server.url) as proxy:
        proxy.fail(2, match="/api/v1/me")
        client = connect(Connection(proxy.url, argilla_server.api_key, "test"))
        assert client.me.username == argilla_server.username
        assert proxy.faults == 2
