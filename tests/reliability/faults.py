"""Fault injection for the reliability tests: an HTTP proxy that fails on purpose, and a figures recorder.

``FaultProxy`` listens on 127.0.0.1 and forwards every request to the real server, except the ones it is
told to break: answer 503 (or any status) without forwarding, or stall past the client's timeout before
forwarding. Each injected fault is counted, so the reliability figures are measured, not asserted.

``record_figures`` appends one JSON line per scenario to ``$LABELER_RELIABILITY_LOG`` when it is set
(``bench/bench_reliability.py`` sets it and sums the lines); without it, it does nothing.
"""

from __future__ import annotations

import json
import os
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx

_HOP = {"connection", "keep-alive", "transfer-encoding", "content-length", "content-encoding", "host",
        "proxy-connection", "te", "trailer", "upgrade"}


class FaultProxy:
    """``with FaultProxy(upstream) as proxy: proxy.url ...``; ``proxy.fail(n, match=..., status=503)``,
    ``proxy.stall(n, seconds, match=...)``; ``proxy.faults`` counts what was injected, ``proxy.requests``
    every request seen (method, path, outcome)."""

    def __init__(self, upstream: str):
        self.upstream = upstream.rstrip("/")
        self.faults = 0
        self.requests: list[tuple[str, str, str]] = []
        self._rules: list[dict] = []
        self._lock = threading.Lock()
        self._client = httpx.Client(timeout=120)
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):  # quiet
                pass

            def _handle(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                rule = proxy._take(self.command, self.path)
                if rule is not None and rule["kind"] == "status":
                    proxy.requests.append((self.command, self.path, f"injected {rule['status']}"))
                    payload = b'{"detail": "injected fault"}'
                    self.send_response(rule["status"])
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                    return
                if rule is not None and rule["kind"] == "stall":
                    proxy.requests.append((self.command, self.path, f"stalled {rule['seconds']}s"))
                    time.sleep(rule["seconds"])
                headers = {k: v for k, v in self.headers.items() if k.lower() not in _HOP}
                try:
                    resp = proxy._client.request(self.command, proxy.upstream + self.path, headers=headers,
                                                 content=body)
                except httpx.HTTPError:
                    self.send_response(502)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                if rule is None:
                    proxy.requests.append((self.command, self.path, str(resp.status_code)))
                try:
                    self.send_response(resp.status_code)
                    for key, value in resp.headers.items():
                        if key.lower() not in _HOP:
                            self.send_header(key, value)
                    self.send_header("Content-Length", str(len(resp.content)))
                    self.end_headers()
                    self.wfile.write(resp.content)
                except (BrokenPipeError, ConnectionResetError):  # the client gave up (timeout): fine
                    pass

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _handle

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def _take(self, method: str, path: str) -> dict | None:
        with self._lock:
            for rule in self._rules:
                if rule["left"] > 0 and rule["match"] in f"{method} {path}":
                    rule["left"] -= 1
                    self.faults += 1
                    return rule
        return None

    def fail(self, n: int, match: str = "", status: int = 503) -> None:
        """Answer the next ``n`` requests whose "METHOD /path?query" contains ``match`` with ``status``."""
        with self._lock:
            self._rules.append({"kind": "status", "left": n, "match": match, "status": status})

    def stall(self, n: int, seconds: float, match: str = "") -> None:
        """Hold the next ``n`` matching requests for ``seconds`` before forwarding them."""
        with self._lock:
            self._rules.append({"kind": "stall", "left": n, "match": match, "seconds": seconds})

    def clear(self) -> None:
        with self._lock:
            self._rules.clear()

    def __enter__(self) -> "FaultProxy":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._client.close()


def record_figures(scenario: str, **figures) -> None:
    """Append ``{"scenario": ..., **figures}`` to ``$LABELER_RELIABILITY_LOG`` (when set)."""
    path = os.environ.get("LABELER_RELIABILITY_LOG")
    if not path:
        return
    with open(path, "a", encoding="utf-8") as fh:
        fh.write(json.dumps({"scenario": scenario, **figures}) + "\n")


# --- server-side views shared by the scenarios ------------------------------------------------------------

LABELS = ["billing", "tech, support", "Zahlung ü"]


def make_records(n: int, agent: str = "ensemble", start: int = 0, dim: int = 4):
    """``n`` push records with ids ``r00000``...; texts carry the id so a text query can find each one."""
    from labeler.argilla.push import PushRecord

    return [PushRecord(id=f"r{i:05d}", fields={"text": f"ticket number{i:05d} about {LABELS[i % 3]} and more"},
                       value=LABELS[i % 3], score=0.4 + (i % 5) / 10, agent=agent,
                       metadata={"uncertainty": (i % 7) / 7, "priority": i + 1, "round": 1},
                       vector=[1.0, float(i % 11), 0.5, float(i % 3)][:dim])
            for i in range(start, start + n)]


def make_spec(name: str):
    from labeler.argilla.schema import DatasetSpec

    return DatasetSpec(name=name, labels=LABELS, signal_names=["keywords"], vector_dim=4)


def dataset_id(conn, name: str) -> str:
    from labeler.argilla.client import connect

    ds = connect(conn).datasets(name=name)
    return str(ds.id) if ds is not None else ""


def snapshot(conn, ds_id: str) -> dict:
    """What the server holds: ``rows`` (every record row, duplicates included), ``ids`` (external ids),
    ``responses`` (id -> sorted (user, status, value, updated_at)), ``suggestions`` (id -> (value, agent))."""
    from labeler.argilla import rest

    rows, responses, suggestions = 0, {}, {}
    ids = []
    for rec in rest.iter_records(conn, ds_id, include="responses,suggestions"):
        rows += 1
        rid = rec.get("external_id") or rec["id"]
        ids.append(rid)
        responses[rid] = sorted((r["user_id"], r["status"], json.dumps(r.get("values"), sort_keys=True),
                                 str(r.get("updated_at"))) for r in rec.get("responses") or [])
        sugg = [(s.get("value"), s.get("agent")) for s in rec.get("suggestions") or []]
        suggestions[rid] = sugg[0] if sugg else None
    return {"rows": rows, "ids": ids, "responses": responses, "suggestions": suggestions}


def annotate(conn, name: str, ids: list[str], user_key: str | None = None, status: str = "submitted",
             value_of=None) -> int:
    """Submit a response for each record in ``ids`` as the owner (or the user of ``user_key``) via the SDK."""
    import argilla as rg

    client = rg.Argilla(api_url=conn.url, api_key=user_key or conn.api_key)
    ds = client.datasets(name=name)
    me = client.me.id
    wanted = set(ids)
    recs = [r for r in ds.records(with_responses=True) if r.id in wanted]
    for rec in recs:
        value = value_of(rec.id) if value_of else LABELS[int(rec.id[1:]) % 3]
        rec.responses.add(rg.Response("label", value, user_id=me, status=status))
    ds.records.log(recs, batch_size=len(recs) or 1)
    return len(recs)


def figures_of(before: dict, after: dict, expected_ids: set[str]) -> dict:
    """Records lost / duplicated and responses changed between two snapshots."""
    present = set(after["ids"])
    changed = sum(1 for rid, resp in before["responses"].items() if resp and after["responses"].get(rid) != resp)
    return {"records_lost": len(expected_ids - present), "records_duplicated": after["rows"] - len(present),
            "responses_changed": changed}
