"""Secrets stay secret, the server is local, search queries are parameterised, Argilla's access rules hold."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import uuid
from pathlib import Path

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.reliability.faults import record_figures

pytestmark = pytest.mark.server
REPO = Path(__file__).resolve().parents[2]
# argilla-server's own user table holds the owner's API key (that is how it checks it); Redis may hold jobs
# that carry it. Those files live in the mode-700 server folder and are the server's, not labeler's output.
SERVER_STORES = {"argilla.db", "argilla.db-wal", "argilla.db-shm", "dump.rdb"}


def _labeler(args, env, cwd):
    return subprocess.run([sys.executable, "-m", "labeler.cli.__main__", *args], env=env, cwd=cwd,
                          capture_output=True, text=True, timeout=300)


@pytest.mark.slow
def test_a_demo_flow_never_writes_the_key_or_password_anywhere(argilla_server, tmp_path):
    rows = [json.loads(line) for line in (REPO / "labeler/demo/tickets.jsonl").read_text().splitlines()][:30]
    data = tmp_path / "tickets.jsonl"
    data.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    cfg = tmp_path / "demo.yaml"
    cfg.write_text((REPO / "configs/demo.yaml").read_text().replace("../labeler/demo/tickets.jsonl", str(data)))
    project = tmp_path / "project"
    sets = ["--set", f"project.dir={project}", "--set", f"argilla.dataset=sec-{uuid.uuid4().hex[:6]}",
            "--set", "queue.batch_size=10"]
    env = dict(os.environ, LABELER_HOME=str(argilla_server.home), HF_HUB_OFFLINE="1")
    env.pop("ARGILLA_API_URL", None)
    outputs = []
    for cmd in (["bootstrap", "-q"], ["push", "-q"], ["pull"], ["status"]):
        out = _labeler([*cmd, "-c", str(cfg), *sets], env, tmp_path)
        assert out.returncode == 0, out.stderr[-2000:]
        outputs.append(out.stdout + out.stderr)
    for cmd in (["server", "status"], ["server", "logs", "api", "-n", "500"], ["server", "start"]):
        out = _labeler(cmd, env, tmp_path)
        outputs.append(out.stdout + out.stderr)
    # errors quote neither: a wrong key given through the environment, and an unreachable configured URL
    bad = dict(env, ARGILLA_API_URL=argilla_server.url, ARGILLA_API_KEY="lbl.wrong-" + argilla_server.api_key[-6:])
    out = _labeler(["push", "-q", "-c", str(cfg), *sets], bad, tmp_path)
    assert out.returncode == 1 and out.stderr.startswith("Error:") and "Traceback" not in out.stderr
    assert bad["ARGILLA_API_KEY"] not in out.stderr
    outputs.append(out.stdout + out.stderr)

    secrets = {"api key": argilla_server.api_key, "password": argilla_server.password}
    creds = json.loads((argilla_server.home / "credentials.json").read_text())
    secrets["auth secret"] = creds["auth_secret"]
    checked, leaks = 0, []
    for root in (project, argilla_server.home, tmp_path):
        for path in root.rglob("*"):
            if not path.is_file() or path.name == "credentials.json" or path.name in SERVER_STORES:
                continue
            blob = path.read_bytes()
            checked += 1
            leaks += [f"{what} in {path}" for what, value in secrets.items() if value.encode() in blob]
    leaks += [f"{what} in CLI output" for what, value in secrets.items() for text in outputs if value in text]
    assert checked > 10 and leaks == []
    mode = stat.S_IMODE(os.stat(argilla_server.home / "credentials.json").st_mode)
    assert mode == 0o600
    record_figures("secrets grep over a demo flow", faults=0, records=30, files_checked=checked, leaks=len(leaks),
                   records_lost=0, records_duplicated=0, responses_changed=0)


def test_the_server_listens_on_loopback_only(argilla_server):
    import psutil

    state = json.loads((argilla_server.home / "server" / "state.json").read_text())
    listening = []
    for name, info in state["processes"].items():
        proc = psutil.Process(info["pid"])
        for child in [proc, *proc.children(recursive=True)]:
            conns = getattr(child, "net_connections", None) or child.connections  # psutil < 6 spelling
            listening += [(name, c.laddr.ip, c.laddr.port) for c in conns(kind="inet")
                          if c.status == psutil.CONN_LISTEN]
    assert ("api", "127.0.0.1", argilla_server.port) in listening
    assert all(ip == "127.0.0.1" for _, ip, _ in listening), listening  # redis: Unix socket only, no TCP
    assert not any(name == "redis" for name, _, _ in listening)


# --- the search engine under hostile queries -----------------------------------------------------------------

HOSTILE = st.one_of(
    st.sampled_from(["'", '"', "''", "\"'", "'; DROP TABLE records; --", "\" OR 1=1 --", "*", "NEAR(a b)",
                     "a AND b", "NOT x", "(", ")", "^", "text:fox", "%", "_", "\\", "\x00", "fox OR 1=1",
                     "1) UNION SELECT id, api_key FROM users --", "]]", "{", "ü*", "日本", "-", "+fox"]),
    st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=40),
    st.lists(st.sampled_from(["'", '"', "*", "(", ")", "OR", "AND", "NOT", "NEAR", "--", ";", "fox", "ticket",
                              "SELECT", "records", ":", "^", "%"]), max_size=8).map(" ".join),
)


@pytest.fixture(scope="module")
def fuzz_dataset(argilla_server):
    import uuid as _uuid

    from labeler.argilla.client import Connection
    from labeler.argilla.push import push
    from tests.reliability.faults import dataset_id, make_records, make_spec

    conn = Connection(argilla_server.url, argilla_server.api_key, "test")
    name = f"fuzz-{_uuid.uuid4().hex[:6]}"
    push(conn, make_spec(name), make_records(12), progress=False)
    return conn, dataset_id(conn, name)


def _post(conn, ds_id, body):
    return httpx.post(f"{conn.url}/api/v1/datasets/{ds_id}/records/search", json=body,
                      params={"offset": 0, "limit": 50}, headers={"X-Argilla-Api-Key": conn.api_key}, timeout=30)


def _intact(conn, ds_id):
    resp = _post(conn, ds_id, {"query": {"text": {"q": "ticket"}}})
    assert resp.status_code == 200 and resp.json()["total"] == 12


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(q=HOSTILE)
def test_text_queries_are_parameterised(fuzz_dataset, q):
    conn, ds_id = fuzz_dataset
    resp = _post(conn, ds_id, {"query": {"text": {"q": q}}})
    assert resp.status_code == 200, resp.text  # any string is a valid q: a hostile one finds text, never SQL
    data = resp.json()
    ids = [it["record"]["external_id"] for it in data["items"]]
    assert data["total"] == len(ids) <= 12 and all(i.startswith("r000") for i in ids)
    _intact(conn, ds_id)


@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
@given(value=HOSTILE, number=st.floats(allow_nan=False, allow_infinity=False, width=32))
def test_metadata_filters_and_sorts_are_parameterised(fuzz_dataset, value, number):
    conn, ds_id = fuzz_dataset
    scope = {"entity": "metadata", "metadata_property": "top_keywords"}
    body = {"filters": {"and": [{"type": "terms", "scope": scope, "values": [value]}]}}
    resp = _post(conn, ds_id, body)
    assert resp.status_code == 200, resp.text
    assert resp.json()["total"] == 0  # no record has top_keywords set
    body = {"filters": {"and": [{"type": "range", "scope": {"entity": "metadata", "metadata_property": "uncertainty"},
                                 "ge": number}]},
            "sort": [{"scope": {"entity": "metadata", "metadata_property": "priority"}, "order": "desc"}]}
    resp = _post(conn, ds_id, body)
    assert resp.status_code == 200, resp.text
    ids = [it["record"]["external_id"] for it in resp.json()["items"]]
    expected = [f"r{i:05d}" for i in range(11, -1, -1) if (i % 7) / 7 >= number]  # make_records' uncertainty
    assert ids == expected and resp.json()["total"] == len(expected)  # exactly those, highest priority first
    _intact(conn, ds_id)


def test_an_annotator_outside_the_workspace_cannot_read_its_datasets(argilla_server, argilla_client, fuzz_dataset):
    import argilla as rg

    conn, ds_id = fuzz_dataset
    name = f"out{uuid.uuid4().hex[:6]}"
    password = "pw-" + uuid.uuid4().hex
    rg.User(username=name, password=password, role="annotator", client=argilla_client).create()
    url = argilla_server.url
    token = httpx.post(f"{url}/api/v1/token", data={"username": name, "password": password})
    assert token.status_code == 201, token.text
    headers = {"Authorization": f"Bearer {token.json()['access_token']}"}
    denied = {
        "dataset": httpx.get(f"{url}/api/v1/datasets/{ds_id}", headers=headers).status_code,
        "records": httpx.get(f"{url}/api/v1/datasets/{ds_id}/records", headers=headers).status_code,
        "search": httpx.post(f"{url}/api/v1/me/datasets/{ds_id}/records/search", json={},
                             headers=headers).status_code,
        "users": httpx.get(f"{url}/api/v1/users", headers=headers).status_code,
    }
    assert all(code in (403, 404) for code in denied.values()), denied
    mine = httpx.get(f"{url}/api/v1/me/datasets", headers=headers).json()["items"]
    assert ds_id not in [d["id"] for d in mine]
    assert httpx.get(f"{url}/api/v1/me", headers={"X-Argilla-Api-Key": "lbl.forged"}).status_code == 401
