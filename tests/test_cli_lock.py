"""Two commands on one project: the second refuses with one line naming the holder."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from labeler.config import load_config
from labeler.locking import project_lock

REPO = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("cmd", ["push", "bootstrap", "round", "train"])
def test_second_command_on_a_locked_project_refuses(tmp_path, cmd):
    cfg = tmp_path / "p.yaml"
    cfg.write_text((REPO / "configs/demo.yaml").read_text()
                   .replace("../labeler/demo/tickets.jsonl", str(REPO / "labeler/demo/tickets.jsonl")))
    config = load_config(cfg, [f"project.dir={tmp_path / 'state'}"])
    env = dict(os.environ, LABELER_HOME=str(tmp_path / "home"))
    with project_lock(config.project.dir, what="push"):
        out = subprocess.run([sys.executable, "-m", "labeler.cli.__main__", cmd, "-c", str(cfg),
                              "--set", f"project.dir={tmp_path / 'state'}"],
                             env=env, capture_output=True, text=True, timeout=120)
    assert out.returncode == 1
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: another labeler command is running on")
    assert f"pid {os.getpid()}" in lines[0] and "Traceback" not in out.stderr
