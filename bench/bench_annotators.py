"""N concurrent annotators on the local Argilla server, doing what the web UI does (issue 13.6).

Per variant (``--variant``) a local server in a temporary home and accounts made with ``labeler users add``
(``labeler.argilla.users.add_user``); per run a fresh dataset of ``--records`` records pushed through
``labeler.argilla.push`` (the product's schema: text, a 10-label question with a suggestion, metadata with the
integer ``priority``, a 384-d vector, ``min_submitted`` 1), deleted afterwards. Each annotator signs in as the
UI does (``POST /api/v1/token``, bearer JWT) and per answer sends the UI's two requests (the UI itself fetches
10 records and walks through them, so this asks for a page more often than it does):

* page    ``POST /api/v1/me/datasets/{id}/records/search?include=responses&include=suggestions&offset=0&limit=10``
          with the UI's Pending-tab body (response status pending for me, record status pending, no sort);
* submit  ``POST /api/v1/records/{record_id}/responses``, ``status: submitted`` (the UI's first answer).

The annotator answers the first record of its page that no other annotator has taken (a shared set), and asks
for the next page when all are taken; ``first_taken`` counts the times the record the UI shows (the page's
first; with ``--walk``, the next one of the page) was already taken by another annotator: answers a team would
duplicate. Paces: ``human`` (one answer every ``--period`` s per annotator, jittered +-40%) and ``flat``. Afterwards every acknowledged answer
(HTTP 201) is looked for through the API (``GET /api/v1/datasets/{id}/records?include=responses``): lost =
acknowledged but absent; overlap = records with 2+ submitted answers (a race; not an error).

Before each run the 1-minute load average must be at most ``--max-load`` (waits up to 5 min; the load is
reported). ``api_cores``: CPU seconds of the API processes per wall second.

    python bench/bench_annotators.py                         # 10, 20, 50 annotators, human then flat
    python bench/bench_annotators.py --annotators 20 --paces flat --flat-seconds 20

Writes bench/results/annotators.json (``--out``) and prints a table.
"""

from __future__ import annotations

import argparse
import os
import random
import signal
import statistics
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

import httpx
import numpy as np

from common import RESULTS, free_port, wait_for_quiet, write_json

LABELS = ["billing", "shipping", "refund", "account", "technical", "delivery", "returns", "pricing", "privacy",
          "other"]
WORDS = [f"w{i}" for i in range(3000)]
PAGE = 10  # the UI's page size (createParams: from, many=10)


def pct(values: list[float], q: float) -> float:
    """Nearest-rank percentile (ms); NaN for no values."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))] if values else float("nan")


def make_records(n: int, dim: int, seed: int) -> list:
    from labeler.argilla.push import PushRecord

    rng = np.random.default_rng(seed)
    vectors = rng.standard_normal((n, dim)).astype(np.float32)
    out = []
    for i in range(n):
        label = LABELS[int(rng.integers(len(LABELS)))]
        score = float(rng.uniform(0.2, 0.95))
        out.append(PushRecord(
            id=f"r{i}", fields={"text": " ".join(rng.choice(WORDS, size=25))}, value=label, score=score,
            agent="ensemble", vector=vectors[i].tolist(),
            metadata={"uncertainty": 1 - score, "priority": i + 1, "round": 1, "agreement": float(rng.random()),
                      "sample": "queue", "top_ensemble": label}))
    return out


def push_dataset(conn, name: str, records: list, dim: int) -> str:
    from labeler.argilla.push import push
    from labeler.argilla.schema import DatasetSpec

    spec = DatasetSpec(name=name, labels=LABELS, vector_dim=dim, signal_names=["ensemble"], min_submitted=1)
    return push(conn, spec, records, progress=False).dataset_id


def make_annotators(conn, url: str, n: int) -> list[tuple[str, str]]:
    """(name, bearer token) of ``n`` annotators made with ``labeler users add``, signed in as the UI does."""
    from labeler.argilla.users import add_user

    accounts = [add_user(conn, f"ann{i:02d}") for i in range(n)]
    tokens = [httpx.post(f"{url}/api/v1/token", data={"username": a.name, "password": a.password}) for a in accounts]
    return [(a.name, t.raise_for_status().json()["access_token"]) for a, t in zip(accounts, tokens)]


PENDING_BODY = {"query": {}, "filters": {"and": [
    {"type": "terms", "scope": {"entity": "response", "property": "status"}, "values": ["pending"]},
    {"type": "terms", "scope": {"entity": "record", "property": "status"}, "values": ["pending"]}]}}


class Run:
    """Shared state of one run: the taken records, the measurements, the acknowledged answers."""

    def __init__(self, dataset_id: str, deadline: float, period: float | None, max_pages: int, walk: int):
        self.dataset_id, self.deadline, self.period, self.max_pages = dataset_id, deadline, period, max_pages
        self.walk = walk  # answers per page fetch (the UI's focus view walks through the 10 it loaded)
        self.lock = threading.Lock()
        self.taken: set[str] = set()
        self.ms: dict[str, list[float]] = {"page": [], "submit": []}
        self.codes: dict[str, Counter] = {"page": Counter(), "submit": Counter()}
        self.acked: list[tuple[str, str]] = []  # (user name, record id)
        self.pages_per_answer: list[int] = []
        self.exhausted = 0  # times an annotator found nothing free within max_pages
        self.first_taken = 0  # first pages whose first record another annotator had already taken

    def take(self, items: list[dict], shown: bool) -> dict | None:
        """The first record of ``items`` nobody has taken, now taken; ``shown``: items[0] is what the UI shows."""
        with self.lock:
            if shown and items[0]["record"]["id"] in self.taken:
                self.first_taken += 1
            for item in items:
                rid = item["record"]["id"]
                if rid not in self.taken:
                    self.taken.add(rid)
                    return item["record"]
        return None

    def note(self, kind: str, ms: float, code) -> None:
        with self.lock:
            self.ms[kind].append(ms)
            self.codes[kind][str(code)] += 1


def timed(run: Run, kind: str, call):
    t0 = time.perf_counter()
    try:
        resp = call()
        code = resp.status_code
    except httpx.HTTPError as exc:
        resp, code = None, type(exc).__name__
    run.note(kind, (time.perf_counter() - t0) * 1000.0, code)
    return resp


def annotator(run: Run, url: str, name: str, token: str, seed: int) -> None:
    rnd = random.Random(seed)
    client = httpx.Client(base_url=url, headers={"Authorization": f"Bearer {token}"}, timeout=30)
    search = f"/api/v1/me/datasets/{run.dataset_id}/records/search"
    if run.period:  # spread the first answers over one period
        time.sleep(rnd.uniform(0, run.period))
    buffer: list[dict] = []  # the rest of the last page, in the order the UI shows it
    walked = 0
    with client:
        while time.monotonic() < run.deadline:
            started = time.monotonic()
            record, pages = None, 0
            if buffer and walked < run.walk:
                record = run.take(buffer, True)
            while record is None and pages < run.max_pages and time.monotonic() < run.deadline:
                params = [("include", "responses"), ("include", "suggestions"), ("offset", pages * PAGE),
                          ("limit", PAGE)]
                resp = timed(run, "page", lambda: client.post(search, json=PENDING_BODY, params=params))
                pages += 1
                if resp is None or resp.status_code != 200:
                    break
                items = resp.json()["items"]
                if not items:
                    break
                record = run.take(items, pages == 1)
                buffer, walked = items, 0
            if record is None:
                with run.lock:
                    run.exhausted += 1
                time.sleep(0.5)
                continue
            ids = [item["record"]["id"] for item in buffer]
            buffer, walked = buffer[ids.index(record["id"]) + 1:], walked + 1
            suggestion = next((s["value"] for s in record.get("suggestions", [])), LABELS[0])
            value = suggestion if rnd.random() < 0.7 else rnd.choice(LABELS)
            body = {"values": {"label": {"value": value}}, "status": "submitted"}
            resp = timed(run, "submit", lambda: client.post(f"/api/v1/records/{record['id']}/responses", json=body))
            with run.lock:
                if resp is not None and resp.status_code == 201:
                    run.acked.append((name, record["id"]))
                    run.pages_per_answer.append(pages)
                else:
                    run.taken.discard(record["id"])
            if run.period:
                pause = run.period * rnd.uniform(0.6, 1.4) - (time.monotonic() - started)
                time.sleep(max(0.0, min(pause, run.deadline - time.monotonic())))


def stored_answers(url: str, api_key: str, dataset_id: str, user_names: dict[str, str]) -> list[tuple[str, str, str]]:
    """(user name, record external id, status) of every response in the dataset, read through the API."""
    out = []
    with httpx.Client(base_url=url, headers={"X-Argilla-Api-Key": api_key}, timeout=120) as client:
        offset = 0
        while True:
            resp = client.get(f"/api/v1/datasets/{dataset_id}/records",
                              params={"include": "responses", "offset": offset, "limit": 1000})
            resp.raise_for_status()
            items = resp.json()["items"]
            for rec in items:
                for r in rec.get("responses") or []:
                    out.append((user_names.get(r["user_id"], r["user_id"]), rec["id"], r["status"]))
            if len(items) < 1000:
                return out
            offset += 1000


def verify(run: Run, stored: list[tuple[str, str, str]]) -> dict:
    acked = Counter(run.acked)
    in_db = Counter((user, rid) for user, rid, status in stored if status == "submitted")
    per_record = Counter(rid for _, rid in in_db)
    return {
        "acknowledged": sum(acked.values()),
        "in_database": sum(in_db.values()),
        "lost": sum((acked - in_db).values()),
        "unacknowledged_in_db": sum((in_db - acked).values()),
        "same_user_twice": sum(1 for n in acked.values() if n > 1),
        "overlap_records": sum(1 for n in per_record.values() if n > 1),
    }


def api_cpu(paths) -> float:
    """CPU seconds of the API process and its uvicorn workers."""
    import psutil

    from labeler.server import process

    api = psutil.Process(process.read_state(paths).processes["api"].pid)
    return sum(t.user + t.system for t in (p.cpu_times() for p in [api] + api.children(recursive=True)))


def run_once(ctx: dict, n: int, pace: str, seconds: float, args) -> dict:
    import resource

    name = f"load-{pace}-{n}-{int(time.time())}"
    pushed = time.monotonic()
    dataset_id = push_dataset(ctx["conn"], name, ctx["records"], args.dim)
    push_s = time.monotonic() - pushed
    load_before = wait_for_quiet(args.max_load, args.patience, echo=None)[0]
    period = args.period if pace == "human" else None
    start = time.monotonic()
    run = Run(dataset_id, start + seconds, period, args.max_pages, args.walk)
    cpu0, self0 = api_cpu(ctx["paths"]), resource.getrusage(resource.RUSAGE_SELF)
    threads = [threading.Thread(target=annotator, args=(run, ctx["url"], user, token, 1000 * n + i), daemon=True)
               for i, (user, token) in enumerate(ctx["annotators"][:n])]
    [thread.start() for thread in threads]
    [thread.join() for thread in threads]
    wall = time.monotonic() - start
    cpu1, self1 = api_cpu(ctx["paths"]), resource.getrusage(resource.RUSAGE_SELF)
    check = verify(run, stored_answers(ctx["url"], ctx["api_key"], dataset_id, ctx["user_ids"]))
    # one dataset at a time, as in a project: the next run starts from the same state
    httpx.delete(f"{ctx['url']}/api/v1/datasets/{dataset_id}", headers={"X-Argilla-Api-Key": ctx["api_key"]},
                 timeout=120).raise_for_status()
    errors = {kind: {code: k for code, k in codes.items() if code not in ("200", "201")}
              for kind, codes in run.codes.items()}
    out = {"variant": ctx["variant"], "annotators": n, "pace": pace, "walk": args.walk, "seconds": round(wall, 1), "dataset": name,
           "push_records_per_s": round(len(ctx["records"]) / push_s, 1),
           "answers_per_s": round(check["acknowledged"] / wall, 2),
           "offered_per_s": round(n / args.period, 2) if period else None,
           "load_before": round(load_before, 2), "load_after": round(os.getloadavg()[0], 2),
           "api_cores": round((cpu1 - cpu0) / wall, 2), "api_cpu_ms_per_answer": round(1000 * (cpu1 - cpu0) / max(
               1, check["acknowledged"]), 1),
           "bench_cores": round((self1.ru_utime + self1.ru_stime - self0.ru_utime - self0.ru_stime) / wall, 2),
           "pages_per_answer": round(statistics.mean(run.pages_per_answer), 2) if run.pages_per_answer else None,
           "exhausted": run.exhausted, "first_taken": run.first_taken,
           "first_taken_share": round(run.first_taken / max(1, len(run.pages_per_answer)), 3),
           "errors": errors, "codes": {k: dict(v) for k, v in run.codes.items()}, **check}
    for kind, ms in run.ms.items():
        out[kind] = {"n": len(ms), "p50_ms": round(pct(ms, 0.5), 1), "p95_ms": round(pct(ms, 0.95), 1),
                     "max_ms": round(max(ms), 1) if ms else None}
    return out


def table(runs: list[dict]) -> str:
    head = ("| variant | annotators | pace | answers/s | page p50 / p95 / max ms | submit p50 / p95 / max ms | "
            "errors | lost | overlap | API cores | load before → after |")
    lines = [head, "|" + "---|" * (head.count("|") - 1)]
    for r in runs:
        errs = sum(k for codes in r["errors"].values() for k in codes.values())
        p, s = r["page"], r["submit"]
        lines.append(f"| {r['variant']} | {r['annotators']} | {r['pace']} | {r['answers_per_s']:.1f} | {p['p50_ms']:.0f} / "
                     f"{p['p95_ms']:.0f} / {p['max_ms'] or 0:.0f} | {s['p50_ms']:.0f} / {s['p95_ms']:.0f} / "
                     f"{s['max_ms'] or 0:.0f} | {errs} | {r['lost']} | {r['overlap_records']} | {r['api_cores']:.2f} | "
                     f"{r['load_before']:.1f} → {r['load_after']:.1f} |")
    return "\n".join(lines)


def parse_variant(spec: str) -> tuple[str, str | None, dict[str, str]]:
    """``NAME[@SRC][:KEY=VAL,...]`` -> (name, source tree to run the server from, environment overrides)."""
    head, _, env_part = spec.partition(":")
    name, _, src = head.partition("@")
    env = dict(item.split("=", 1) for item in env_part.split(",") if item)
    return name, src or None, env


def start_variant(spec: str, home: Path, records: list, n_annotators: int) -> dict:
    """A server for one variant: its own home, environment overrides, and (``@SRC``) labeler's code from SRC
    (the server's processes run ``python -m labeler.server...`` from SRC, which comes first on their path)."""
    from labeler.argilla.connection import Connection
    from labeler.server import process
    from labeler.server.paths import ServerPaths

    name, src, env = parse_variant(spec)
    saved = {k: os.environ.get(k) for k in env}
    cwd = os.getcwd()
    os.environ.update(env)
    paths = ServerPaths(home)
    try:
        if src:
            os.chdir(src)
        started = process.start(paths, port=free_port())
    finally:
        os.chdir(cwd)
        for key, value in saved.items():
            os.environ.pop(key, None) if value is None else os.environ.__setitem__(key, value)
    conn = Connection(started.url, started.credentials.api_key, "local server")
    annotators = make_annotators(conn, started.url, n_annotators)
    users = httpx.get(f"{started.url}/api/v1/users", headers={"X-Argilla-Api-Key": conn.api_key}).json()
    return {"variant": name, "spec": spec, "conn": conn, "url": started.url, "api_key": conn.api_key,
            "paths": paths, "annotators": annotators, "records": records,
            "user_ids": {u["id"]: u["username"] for u in users["items"]}}


def main(argv=None) -> dict:
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # run the finally blocks: stop the servers
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--annotators", default="10,20,50", help="comma-separated annotator counts")
    ap.add_argument("--paces", default="human,flat", help="human, flat or both")
    ap.add_argument("--seconds", type=float, default=60.0, help="duration of each human-pace run")
    ap.add_argument("--flat-seconds", type=float, default=30.0, help="duration of each flat-out run")
    ap.add_argument("--period", type=float, default=5.0, help="seconds per answer per annotator at human pace")
    ap.add_argument("--records", type=int, default=5000)
    ap.add_argument("--dim", type=int, default=384)
    ap.add_argument("--max-pages", type=int, default=5, help="pages an annotator looks through for a free record")
    ap.add_argument("--walk", type=int, default=1, help="answers per page fetched: 1 (a page per answer) or up to "
                    "10 (the UI's focus view answers the 10 records it loaded before fetching more)")
    ap.add_argument("--max-load", type=float, default=2.5, help="wait before a run while the 1-min load is above")
    ap.add_argument("--patience", type=float, default=300.0, help="longest wait for --max-load (s)")
    ap.add_argument("--variant", action="append", default=[],
                    help="NAME[@SRC][:KEY=VAL,...]: a server configuration to measure (repeatable; runs are "
                         "interleaved). SRC: a tree with another labeler/ (e.g. `git archive` of a commit); "
                         "KEY=VAL: environment of the server, e.g. LABELER_API_WORKERS=2. Default: one, 'current'")
    ap.add_argument("--out", default=str(RESULTS / "annotators.json"))
    args = ap.parse_args(argv)
    counts = [int(x) for x in args.annotators.split(",") if x]
    paces = [p for p in args.paces.split(",") if p]
    specs = args.variant or ["current"]

    from labeler.server import process

    records = make_records(args.records, args.dim, seed=0)
    runs, ctxs = [], []
    with tempfile.TemporaryDirectory(prefix="bench-annotators-") as tmp:
        os.environ["LABELER_HOME"] = str(Path(tmp) / "home0")
        try:
            for i, spec in enumerate(specs):
                ctxs.append(start_variant(spec, Path(tmp) / f"home{i}", records, max(counts)))
            cell = 0
            for pace in paces:
                for n in counts:
                    seconds = args.seconds if pace == "human" else args.flat_seconds
                    order = ctxs if cell % 2 == 0 else ctxs[::-1]  # alternate which variant goes first
                    cell += 1
                    for ctx in order:
                        res = run_once(ctx, n, pace, seconds, args)
                        runs.append(res)
                        print(table([res]).splitlines()[-1], flush=True)
        finally:
            for ctx in ctxs:
                process.stop(ctx["paths"])
    result = {"command": "python bench/bench_annotators.py " + " ".join(argv if argv is not None else sys.argv[1:]),
              "variants": specs, "records": args.records, "period_s": args.period, "page_size": PAGE,
              "cpus": os.cpu_count(), "runs": runs}
    print(table(runs))
    write_json(args.out, result, indent=1)
    return result


if __name__ == "__main__":
    main()
