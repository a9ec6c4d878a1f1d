"""Scoring spread over two processes (torchrun; `accelerate launch` on several GPUs starts the same way)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from labeler.config import load_config
from labeler.project import SCORES_FILE
from labeler.loop.pool_matrices import Scores
from labeler.loop.scoring import bootstrap

REPO = Path(__file__).resolve().parents[1]
CONFIG = """
data: {{path: {data}, text_fields: [text], id_field: id}}
task: {{labels: [billing, shipping, other]}}
signals:
  - type: keywords
    params: {{keywords: {{billing: ['invoice', 'charge'], shipping: ['parcel', 'deliver'], other: ['thanks']}}}}
project: {{dir: {state}}}
"""


@pytest.mark.slow
def test_two_process_bootstrap_equals_a_single_process_run(tmp_path):
    base = [json.loads(line)["text"] for line in (REPO / "labeler/demo/tickets.jsonl").read_text().splitlines()]
    data = tmp_path / "texts.jsonl"
    data.write_text("".join(json.dumps({"id": f"t{i}", "text": f"{base[i % 360]} ({i})"}) + "\n" for i in range(3000)))
    configs = {}
    for name in ("two", "one"):
        configs[name] = tmp_path / f"{name}.yaml"
        configs[name].write_text(CONFIG.format(data=data, state=tmp_path / name))
    torchrun = shutil.which("torchrun", path=str(Path(sys.executable).parent)) or "torchrun"
    env = dict(os.environ, OMP_NUM_THREADS="1")
    out = subprocess.run([torchrun, "--nproc_per_node", "2", "-m", "labeler.cli", "bootstrap", "-c", str(configs["two"]),
                          "-q"], env=env, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.count("scored 3000 records") == 2  # both ranks finished with the full matrix
    two = Scores.load(tmp_path / "two" / SCORES_FILE)
    _, one = bootstrap(load_config(configs["one"]), progress=False)
    assert two.ids == one.ids
    np.testing.assert_array_equal(two.P, one.P)
