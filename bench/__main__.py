"""The bench entry, from the repository root:

    python -m bench                      # every benchmark, with what it measures (also: python -m bench list)
    python -m bench NAME [ARGS...]       # run one (bench/bench_NAME.py with ARGS; NAME --help for its options)
    python -m bench smoke [NAME...]      # every benchmark (or those named) once at its smallest setting,
                                         # results in a temporary folder: does each still run?
    python -m bench speed [--full]       # the speed set: server, signals, NLI cascade, few-shot quick check
                                         # (--full: the sizes BENCHMARKS.md reports)

A benchmark is a script bench/bench_NAME.py: it prints its table and writes JSON to bench/results/ (``--out``
where it has one); bench/common.py is what they share, bench/harness.py the interleaved timing. Each runs as its
own process, exactly as ``python bench/bench_NAME.py ARGS`` does. Numbers: BENCHMARKS.md.
"""

from __future__ import annotations

import ast
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent

# the smallest setting of each benchmark (label_efficiency before coverage: coverage reads its curves)
SMOKE: dict[str, list[str]] = {
    "annotators": ["--annotators", "2", "--paces", "flat", "--flat-seconds", "5", "--records", "200", "--max-load",
                   "1000", "--patience", "0"],
    "cascade": ["--arch", "tiny", "--texts", "3", "--repeats", "1"],
    "embedding_speed": ["--datasets", "sms_spam", "--texts", "32", "--repeats", "1", "--max-load", "1000"],
    "fewshot": ["--datasets", "ag_news", "--methods", "logreg", "--sizes", "8", "--seeds", "0", "--eval-limit", "100"],
    "head_predict": ["--rows", "500", "--repeats", "3"],
    "long_texts": ["--docs", "40", "--seeds", "1", "--rounds", "2", "--batch", "8", "--kinds", "preamble",
                   "--work", "RESULTS/long_texts_work"],
    "gold": ["--datasets", "sms_spam", "--pool-size", "400", "--eval-size", "200", "--rounds", "2", "--batch", "40",
             "--markdown", "RESULTS/gold.md"],
    "label_efficiency": ["--datasets", "sms_spam", "--seeds", "1", "--only", "default"],
    "lexical_cost": ["--datasets", "sms_spam", "--repeats", "1"],
    "coverage": ["--datasets", "sms_spam"],
    "run_scoring": ["--dataset", "sms_spam", "--texts", "200", "--repeats", "1"],
    "multilabel": ["--datasets", "nlupp_banking", "--seeds", "1", "--rounds", "2"],
    "first_run": ["--dataset", "sms_spam", "--batch", "20", "--max-rounds", "2"],
    "round_times": ["--dataset", "sms_spam", "--batch", "20", "--labels", "40", "--repeats", "1", "--variants", "none",
                    "logreg"],
    "retrain_cadence": ["--dataset", "sms_spam", "--batch", "20", "--start", "40", "--rounds", "2", "--setfit-steps",
                        "2", "--work", "RESULTS/work"],
    "interval_coverage": ["--datasets", "ag_news", "--draws", "2", "--budgets", "100"],
    "many_classes": ["--limit", "400", "--batch", "20", "--rounds", "1", "--work", "RESULTS/work",
                     "--out", "RESULTS/many_classes.json"],
    "ml_picks": ["--seeds", "1", "--rounds", "2"],
    "ml_ships_cuts": ["--datasets", "nlupp_banking", "--seeds", "1", "--rounds", "2"],
    "derived": ["--sets", "goemo2", "--seeds", "1", "--rounds", "2", "--work", "RESULTS/work"],
    "drift": ["--dataset", "sms_spam", "--labels", "40", "--batch", "20", "--batches", "1", "--size", "50",
              "--work", "RESULTS/work"],
    "ml_final_fit": ["--dataset", "nlupp_banking", "--budgets", "64", "--work", "RESULTS/work"],
    "ml_label_texts": ["--samples", "per-label:1", "--seeds", "0", "--steps", "2"],
    "ml_transformers": ["--datasets", "nlupp_hotels", "--n", "40", "--steps", "2", "--variants", "after",
                        "--out", "RESULTS/work/ml_transformers_smoke.json"],
    "label_errors": ["--datasets", "sms_spam", "--seeds", "1", "--n", "200"],
    "nli_int8": ["--train-texts", "40", "--train-seconds", "5", "--eval-texts", "10", "--eval-pairs", "40"],
    "nli_options": ["--arch", "tiny", "--parts", "speed", "--nli-texts", "3", "--repeats", "1"],
    "peers": ["--datasets", "sms_spam", "--seeds", "1", "--strategies", "random", "--pool", "400", "--rounds", "2"],
    "ppi_variants": ["--dataset", "ag_news", "--seeds", "0-0", "--budgets", "100"],
    "product_path": ["--datasets", "sms_spam", "--rounds", "1"],
    "product_rounds": ["--dataset", "sms_spam", "--batch", "20", "--rounds", "1"],
    "reliability": [],
    "server": ["--n", "500", "--reps", "2"],
    "ships_head": ["--datasets", "sms_spam", "--rounds", "2"],
    "signals": ["--parts", "nli", "--nli-arch", "tiny", "--nli-texts", "3", "--repeats", "1"],
    "topk_recall": ["--datasets", "sms_spam", "--max-texts", "50"],
    "watch": ["--dataset", "sms_spam", "--answers", "10", "--human-answers", "0", "--every", "5", "--batch", "10"],
    "zeroshot_peers": ["--datasets", "sms_spam", "--only", "labeler"],
}

# the speed set (what bench/run_all.sh ran): a change that slows anything shows up
SPEED = [["server", "--n", "5000", "--out", "bench/results/server_5k.json"],
         ["signals", "--parts", "speed,nli", "--repeats", "3", "--out", "bench/results/signals_speed.json"],
         ["cascade", "--texts", "8", "--out", "bench/results/cascade_quick.json"],
         ["fewshot", "--quick", "--methods", "logreg", "--out", "bench/results/fewshot_quick.json"]]
SPEED_FULL = [["server", "--n", "50000"], ["signals"], ["topk_recall"], ["cascade", "--k", "5,10,20", "--texts", "32"],
              ["fewshot", "--methods", "logreg", "--seeds", "0", "1", "2"],
              ["label_efficiency", "--datasets", "ag_news,banking77,sms_spam,nlupp_banking", "--seeds", "3"]]


def benchmarks() -> dict[str, Path]:
    """NAME -> bench/bench_NAME.py, sorted by name."""
    return {p.stem[len("bench_"):]: p for p in sorted(BENCH.glob("bench_*.py"))}


def summary(path: Path, width: int = 100) -> str:
    """The first sentence of a script's docstring (read without importing it), cut to ``width`` characters."""
    doc = ast.get_docstring(ast.parse(path.read_text(encoding="utf-8"))) or ""
    text = " ".join(doc.split("\n\n", 1)[0].split())
    text = text.split(". ", 1)[0].rstrip(".")
    return text if len(text) <= width else text[:width - 1].rstrip() + "…"


def script(name: str) -> Path:
    found = benchmarks()
    key = name[len("bench_"):] if name.startswith("bench_") else name.removesuffix(".py")
    if key not in found:
        sys.exit(f"unknown benchmark {name!r}; valid: {', '.join(found)}")
    return found[key]


def run(name: str, args: list[str], env: dict | None = None) -> int:
    """bench/bench_NAME.py ARGS in its own process from the repository root; its exit status."""
    cmd = [sys.executable, str(script(name)), *args]
    print(f"$ python {os.path.relpath(cmd[1], BENCH.parent)} {' '.join(args)}".rstrip(), flush=True)
    return subprocess.call(cmd, cwd=BENCH.parent, env=env)


def smoke(names: list[str]) -> int:
    """Each benchmark (or those named) once at its smallest setting, in SMOKE's order; results in a temporary
    folder, bench/results untouched. Fails where one fails or has no setting."""
    asked = [script(n).stem[len("bench_"):] for n in names] or list(benchmarks())
    unset = [n for n in asked if n not in SMOKE]
    rows = [f"{name:<18} not run: no smoke setting (add one to SMOKE in bench/__main__.py)" for name in unset]
    failed = []
    with tempfile.TemporaryDirectory(prefix="bench-smoke-") as tmp:
        env = dict(os.environ, LABELER_BENCH_RESULTS=tmp)
        for name in (n for n in SMOKE if n in asked):
            t0 = time.perf_counter()
            rc = run(name, [a.replace("RESULTS", tmp) for a in SMOKE[name]], env)
            rows.append(f"{name:<18} {'ok' if rc == 0 else f'FAILED ({rc})':<12} {time.perf_counter() - t0:6.0f} s")
            failed += [name] if rc else []
    print("\n" + "\n".join(rows))
    return 1 if failed or unset else 0


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if not argv or argv[0] in ("list", "-h", "--help"):
        if argv and argv[0] in ("-h", "--help"):
            print(__doc__)
        found = benchmarks()
        width = max(map(len, found))
        for name, path in found.items():
            print(f"{name:<{width}}  {summary(path)}")
        return 0
    if argv[0] == "smoke":
        return smoke(argv[1:])
    if argv[0] == "speed":
        for step in (SPEED_FULL if "--full" in argv[1:] else SPEED):
            if run(step[0], step[1:]):
                return 1
        return 0
    return run(argv[0], argv[1:])


if __name__ == "__main__":
    sys.exit(main())
