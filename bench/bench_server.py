"""How fast is the local Argilla server with labeler's SQLite search engine?

Starts a server in a temporary home (labeler.server.process), logs N records through the
SDK (a text field, a label suggestion with a score, 3 metadata properties, a 384-d vector; a few owner
responses) in batches of 500 from 2 threads, without response compression, measures ingestion records/s, then p50/p95 over --reps repetitions of:

* ui_pending_page   the UI's page query: pending tab for the owner sorted by a metadata property
                    (POST /api/v1/me/datasets/{id}/records/search with include=responses,suggestions)
* score_filter_sort filter by suggestion score range + sort by score (POST /api/v1/datasets/{id}/records/search)
* similarity_k20    similarity search by value, k=20 (first, cold call reported separately)
* text_query        a one-word full-text query, first page

Prints a table and writes JSON to bench/results/server.json.

    python bench/bench_server.py            # 50,000 records
    python bench/bench_server.py --n 5000   # quick
"""

from __future__ import annotations

import argparse
import platform
import statistics
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import numpy as np

from common import RESULTS, free_port, write_json
from harness import compare

WORDS = [f"w{i}" for i in range(2000)]


def start_server(home: Path):
    from labeler.server import process
    from labeler.server.paths import ServerPaths

    paths = ServerPaths(home)
    result = process.start(paths, port=free_port())
    return paths, result.url, result.credentials.api_key


def make_records(rg, start: int, n: int, dim: int, owner_id, rng: np.random.Generator):
    labels = ["pos", "neg", "neu"]
    vectors = rng.standard_normal((n, dim)).astype(np.float32)
    records = []
    for j in range(n):
        i = start + j
        text = " ".join(rng.choice(WORDS, size=12))
        responses = []
        if i % 20 == 0:  # 5% already answered by the owner
            responses = [rg.Response("label", labels[i % 3], user_id=owner_id, status="submitted")]
        records.append(
            rg.Record(
                id=f"rec-{i}",
                fields={"text": text},
                metadata={"prio": float(rng.random()), "round": int(i % 10), "source": ["web", "mail", "chat"][i % 3]},
                suggestions=[rg.Suggestion("label", labels[(i + 1) % 3], score=float(rng.random()), agent="bench")],
                responses=responses,
                vectors={"emb": vectors[j].tolist()},
            )
        )
    return records


def compare_ingest(rg, url: str, api_key: str, settings, owner_id, args):
    """Ingestion records/s with Brotli-compressed responses (the SDK's default) vs uncompressed (labeler's
    push), each into its own dataset, interleaved by bench/harness.py on fresh records of the same shape."""
    variants = {"brotli (the SDK's default)": {}, "identity (labeler's push)": {"Accept-Encoding": "identity"}}
    rng = np.random.default_rng(1)
    runs = {}
    for v, (name, headers) in enumerate(variants.items()):
        client = rg.Argilla(api_url=url, api_key=api_key, headers=headers)
        ds = rg.Dataset(name=f"ab-{v}", workspace="argilla", settings=settings, client=client).create()
        chunks = [make_records(rg, 10_000_000 * (v + 1) + k * args.ab_chunk, args.ab_chunk, args.dim, owner_id, rng)
                  for k in range(args.ab_repeats + 1)]

        def run(ds=ds, chunks=chunks):
            records = chunks.pop()
            batches = [records[i : i + args.batch_size] for i in range(0, len(records), args.batch_size)]
            with ThreadPoolExecutor(args.workers) as pool:
                list(pool.map(lambda batch: ds.records.log(batch, batch_size=args.batch_size), batches))

        runs[name] = run
    return compare(runs, baseline=next(iter(variants)), repeats=args.ab_repeats, warmup=1, work=args.ab_chunk,
                   unit="records")


def timed(fn, reps: int) -> list[float]:
    out = []
    for r in range(reps):
        t0 = time.perf_counter()
        fn(r)
        out.append((time.perf_counter() - t0) * 1000.0)
    return out


def summary(ms: list[float]) -> dict:
    ms_sorted = sorted(ms)
    p95 = ms_sorted[min(len(ms_sorted) - 1, int(round(0.95 * (len(ms_sorted) - 1))))]
    return {"p50_ms": round(statistics.median(ms_sorted), 1), "p95_ms": round(p95, 1), "n": len(ms)}


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=50_000, help="records to ingest")
    parser.add_argument("--dim", type=int, default=384)
    parser.add_argument("--batch-size", type=int, default=500, help="SDK log batch size (server max 500)")
    parser.add_argument("--workers", type=int, default=2, help="concurrent SDK log calls (client and server overlap)")
    parser.add_argument(
        "--compress",
        action="store_true",
        help="let the server Brotli-compress responses (the SDK's default; each bulk response echoes the vectors)",
    )
    parser.add_argument("--reps", type=int, default=30)
    parser.add_argument("--ab-chunk", type=int, default=0,
                        help="also time ingestion with and without response compression, interleaved (bench/harness.py): "
                             "records per call (0: skip)")
    parser.add_argument("--ab-repeats", type=int, default=3)
    parser.add_argument("--home", help="keep the server's home here; a second run reuses its dataset (no ingestion)")
    parser.add_argument("--out", default=str(RESULTS / "server.json"))
    args = parser.parse_args(argv)

    import argilla as rg

    tmp = None if args.home else tempfile.TemporaryDirectory(prefix="bench-server-")
    paths, url, api_key = start_server(Path(args.home or tmp.name))
    from labeler.server import process

    try:
        headers = {} if args.compress else {"Accept-Encoding": "identity"}
        client = rg.Argilla(api_url=url, api_key=api_key, headers=headers)
        owner = client.me
        settings = rg.Settings(
            fields=[rg.TextField(name="text")],
            questions=[rg.LabelQuestion(name="label", labels=["pos", "neg", "neu"])],
            metadata=[
                rg.FloatMetadataProperty(name="prio"),
                rg.IntegerMetadataProperty(name="round"),
                rg.TermsMetadataProperty(name="source"),
            ],
            vectors=[rg.VectorField(name="emb", dimensions=args.dim)],
        )
        dataset = client.datasets(name="bench", workspace="argilla")
        reuse = dataset is not None and args.home is not None
        if not reuse:
            dataset = rg.Dataset(name="bench", workspace="argilla", settings=settings, client=client).create()

        rng = np.random.default_rng(0)
        chunk = 5000
        ingest_s = 0.0
        with ThreadPoolExecutor(args.workers) as pool:
            for start in range(0, 0 if reuse else args.n, chunk):
                records = make_records(rg, start, min(chunk, args.n - start), args.dim, owner.id, rng)
                batches = [records[i : i + args.batch_size] for i in range(0, len(records), args.batch_size)]
                t0 = time.perf_counter()
                list(pool.map(lambda batch: dataset.records.log(batch, batch_size=args.batch_size), batches))
                ingest_s += time.perf_counter() - t0
        ingest_rate = args.n / ingest_s if ingest_s else float("nan")

        headers = {"X-Argilla-Api-Key": api_key}
        http = httpx.Client(base_url=url, headers=headers, timeout=60)
        ds_id = str(dataset.id)

        def post(path, body, params):
            resp = http.post(path, json=body, params=params)
            resp.raise_for_status()
            return resp.json()

        pending_body = {
            "query": {},
            "filters": {
                "and": [
                    {"type": "terms", "scope": {"entity": "response", "property": "status"}, "values": ["pending"]},
                    {"type": "terms", "scope": {"entity": "record", "property": "status"}, "values": ["pending"]},
                ]
            },
            "sort": [{"scope": {"entity": "metadata", "metadata_property": "prio"}, "order": "desc"}],
        }

        def ui_page(r):
            offset = (r * 37) % 500
            params = [("include", "responses"), ("include", "suggestions"), ("offset", offset), ("limit", 50)]
            data = post(f"/api/v1/me/datasets/{ds_id}/records/search", pending_body, params)
            assert data["total"] > 0 and data["items"]

        score_body = {
            "filters": {
                "and": [
                    {
                        "type": "range",
                        "scope": {"entity": "suggestion", "question": "label", "property": "score"},
                        "ge": 0.3,
                        "le": 0.7,
                    }
                ]
            },
            "sort": [{"scope": {"entity": "suggestion", "question": "label", "property": "score"}, "order": "desc"}],
        }

        def score_sort(r):
            data = post(f"/api/v1/datasets/{ds_id}/records/search", score_body, [("offset", 0), ("limit", 50)])
            assert data["items"]

        queries = rng.standard_normal((args.reps + 1, args.dim)).astype(np.float32)

        def similar(r):
            body = {"query": {"vector": {"name": "emb", "value": queries[r].tolist(), "order": "most_similar"}}}
            data = post(f"/api/v1/datasets/{ds_id}/records/search", body, [("offset", 0), ("limit", 20)])
            assert len(data["items"]) == 20

        def text(r):
            body = {"query": {"text": {"q": WORDS[r * 7 % len(WORDS)]}}}
            post(f"/api/v1/datasets/{ds_id}/records/search", body, [("offset", 0), ("limit", 50)])

        cold_similarity_ms = timed(lambda r: similar(args.reps), 1)[0]
        for warm_up in (ui_page, score_sort, text):  # first touches read pages from disk; time the steady state
            timed(warm_up, 3)
        results = {
            "ui_pending_page": summary(timed(ui_page, args.reps)),
            "score_filter_sort": summary(timed(score_sort, args.reps)),
            "similarity_k20": summary(timed(similar, args.reps)),
            "text_query": summary(timed(text, args.reps)),
        }
        ab = compare_ingest(rg, url, api_key, settings, owner.id, args) if args.ab_chunk else None
        report = {
            "n_records": args.n,
            "dim": args.dim,
            "log_batch_size": args.batch_size,
            "log_workers": args.workers,
            "compressed_responses": args.compress,
            "ingest_records_per_s": round(ingest_rate, 1),
            "ingest_s": round(ingest_s, 1),
            "similarity_cold_ms": round(cold_similarity_ms, 1),
            "queries": results,
            "ingest_compression_ab": ab.to_json() if ab else None,
            "machine": {"python": platform.python_version(), "cpus": __import__("os").cpu_count()},
        }
    finally:
        process.stop(paths)
        if tmp is not None:
            tmp.cleanup()

    print(f"records: {args.n}  dim: {args.dim}  log batch: {args.batch_size}  workers: {args.workers}")
    print(f"ingestion: {report['ingest_records_per_s']} records/s ({report['ingest_s']} s)")
    print(f"similarity cold (matrix load): {report['similarity_cold_ms']} ms")
    print(f"{'query':<20}{'p50 ms':>10}{'p95 ms':>10}")
    for name, row in results.items():
        print(f"{name:<20}{row['p50_ms']:>10}{row['p95_ms']:>10}")
    if ab:
        print(f"\ningestion with and without response compression, {args.ab_chunk} records per call, interleaved:\n")
        print(ab.table("responses"))
    write_json(args.out, report)
    return report


if __name__ == "__main__":
    main()
