"""RELIABILITY figures, measured: run the fault scenarios (tests/reliability/, tests/test_bad_inputs.py) and sum
what each one recorded: faults injected, records lost, duplicated, responses changed, bad inputs tried.

    HF_HUB_OFFLINE=1 .venv/bin/python bench/bench_reliability.py     # ~2 minutes on 2 cores

Writes bench/results/reliability.json and prints a table. Exit 1 if any scenario failed or lost anything.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from common import REPO, RESULTS, write_json

OUT = RESULTS / "reliability.json"


def main(argv=None) -> int:
    argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter).parse_args(argv)
    log = Path(tempfile.mkstemp(suffix=".jsonl")[1])
    env = dict(os.environ, LABELER_RELIABILITY_LOG=str(log), HF_HUB_OFFLINE="1")
    junit = log.with_suffix(".xml")
    start = time.time()
    proc = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", f"--junitxml={junit}",
                           "tests/reliability", "tests/test_bad_inputs.py"], cwd=REPO, env=env,
                          capture_output=True, text=True)
    seconds = time.time() - start
    rows = [json.loads(line) for line in log.read_text().splitlines() if line.strip()]
    import xml.etree.ElementTree as ET

    suite = ET.parse(junit).getroot()
    suite = suite if suite.tag == "testsuite" else suite.find("testsuite")
    tests, failed = int(suite.get("tests")), int(suite.get("failures")) + int(suite.get("errors"))
    bad_inputs = len(list((REPO / "tests/data/bad_inputs").iterdir())) + 1  # + the 1 MB text built at run time
    bad_cases = sum(1 for case in suite.iter("testcase") if "test_bad_inputs" in (case.get("classname") or ""))
    totals = {k: sum(int(r.get(k, 0)) for r in rows) for k in ("faults", "records_lost", "records_duplicated",
                                                                 "responses_changed")}
    result = {"command": "HF_HUB_OFFLINE=1 .venv/bin/python bench/bench_reliability.py", "seconds": round(seconds, 1),
              "tests": tests, "tests_failed": failed, "scenarios": rows, "faults_injected": totals["faults"],
              "bad_input_files": bad_inputs, "bad_input_tests": bad_cases,
              "records_lost": totals["records_lost"], "records_duplicated": totals["records_duplicated"],
              "responses_changed": totals["responses_changed"]}
    write_json(OUT, result, ensure_ascii=False)
    print(f"{'scenario':<80} {'faults':>6} {'lost':>5} {'dup':>4} {'changed':>7}")
    for r in rows:
        print(f"{r['scenario'][:80]:<80} {r.get('faults', 0):>6} {r.get('records_lost', 0):>5} "
              f"{r.get('records_duplicated', 0):>4} {r.get('responses_changed', 0):>7}")
    print(f"\n{tests} tests ({failed} failed) in {seconds:.0f}s; faults injected {totals['faults']}; bad input files "
          f"{bad_inputs} over {bad_cases} tests; records lost {totals['records_lost']}, duplicated "
          f"{totals['records_duplicated']}, responses changed {totals['responses_changed']} -> {os.path.relpath(OUT, REPO)}")
    if failed:
        print(proc.stdout[-3000:], file=sys.stderr)
    log.unlink(missing_ok=True)
    junit.unlink(missing_ok=True)
    return 1 if failed or any(totals[k] for k in ("records_lost", "records_duplicated", "responses_changed")) else 0


if __name__ == "__main__":
    sys.exit(main())
