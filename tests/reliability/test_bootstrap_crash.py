"""kill -9 of `labeler bootstrap` midway through scoring 20,000 texts; the re-run scores only what is missing
and ends with exactly the predictions of an uninterrupted run."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from labeler.config import load_config
from labeler.project import SCORES_FILE
from labeler.loop.pool_matrices import Scores
from labeler.loop.scoring import bootstrap

REPO = Path(__file__).resolve().parents[2]
N = 20_000

CONFIG = """
data: {{path: {data}, text_fields: [text], id_field: id}}
task: {{labels: [billing, shipping, other]}}
signals:
  - type: keywords
    params:
      keywords:
        billing: ['\\binvoice\\b', 'charged?', 'refund']
        shipping: ['parcel', 'courier', 'deliver']
        other: ['thanks', 'hello']
queue: {{batch_size: 10}}
project: {{dir: {state}}}
"""


def _project(tmp_path: Path, name: str):
    base = [json.loads(line)["text"] for line in (REPO / "labeler/demo/tickets.jsonl").read_text().splitlines()]
    data = tmp_path / "texts.jsonl"
    if not data.exists():
        with open(data, "w") as fh:
            for i in range(N):
                fh.write(json.dumps({"id": f"t{i}", "text": f"{base[i % len(base)]} (copy {i})"}) + "\n")
    cfg = tmp_path / f"{name}.yaml"
    cfg.write_text(CONFIG.format(data=data, state=tmp_path / name))
    return cfg


def _cached_rows(state: Path) -> int:
    dbs = list((state / "cache").glob("*/predictions.sqlite"))
    if not dbs:
        return 0
    try:
        with sqlite3.connect(dbs[0], timeout=1) as conn:
            return conn.execute("SELECT COUNT(*) FROM preds").fetchone()[0]
    except sqlite3.Error:
        return 0


@pytest.mark.slow
def test_kill9_during_bootstrap_resumes_to_the_same_predictions(tmp_path, monkeypatch):
    cfg = _project(tmp_path, "crashed")
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    # Slow each chunk a little so the kill lands midway whatever the machine's speed.
    code = ("import time, labeler.signals.rules as r; orig = r.KeywordSignal._predict\n"
            "def slow(self, texts):\n    time.sleep(0.05); return orig(self, texts)\n"
            "r.KeywordSignal._predict = slow\n"
            f"from labeler.cli import main; main(['bootstrap', '-c', {str(cfg)!r}, '-q'])")
    proc = subprocess.Popen([sys.executable, "-c", code], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while _cached_rows(tmp_path / "crashed") < 2_000 and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.02)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    done_before = _cached_rows(tmp_path / "crashed")
    assert 0 < done_before < N, f"the kill did not land midway ({done_before} of {N} cached)"
    assert not (tmp_path / "crashed" / SCORES_FILE).exists()

    import labeler.signals.rules as rules

    scored = []
    original = rules.KeywordSignal._predict
    monkeypatch.setattr(rules.KeywordSignal, "_predict", lambda self, texts: scored.append(len(texts)) or original(self, texts))
    _, resumed = bootstrap(load_config(cfg), progress=False)
    assert sum(scored) == N - done_before  # only the missing records were scored

    scored.clear()
    _, clean = bootstrap(load_config(_project(tmp_path, "clean")), progress=False)
    assert sum(scored) == N
    assert resumed.ids == clean.ids
    np.testing.assert_array_equal(resumed.P, clean.P)
    for name in clean.signals:
        np.testing.assert_array_equal(resumed.signals[name], clean.signals[name])
    assert Scores.load(tmp_path / "crashed" / SCORES_FILE).ids == clean.ids
