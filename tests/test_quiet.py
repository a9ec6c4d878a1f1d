"""``-q``: no progress bars at all, the embedding model's "Loading weights" bar included (issue 24)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_bootstrap_q_prints_no_loading_bar(tmp_path):
    (tmp_path / "d.jsonl").write_text("".join(json.dumps({"id": i, "text": t}) + "\n" for i, t in
                                              enumerate(["my invoice is wrong", "where is my parcel", "refund me"])))
    (tmp_path / "c.yaml").write_text("data: {path: d.jsonl, id_field: id}\ntask: {labels: [billing, shipping]}\n"
                                     "signals: [{type: embedding}]\n")
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "PYTHONPATH": str(REPO)}
    env.pop("HF_HUB_DISABLE_PROGRESS_BARS", None)
    out = subprocess.run([sys.executable, "-m", "labeler.cli", "bootstrap", "-q", "-c", str(tmp_path / "c.yaml")],
                         capture_output=True, text=True, timeout=300, env=env, cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert out.stderr == ""  # no "Loading weights: 100%|...", nothing else either
    assert out.stdout.splitlines()[0] == "3 records from 3 rows (0 duplicates collapsed; rejected: none; 0 over max_chars)"


def test_commands_without_progress_of_their_own_load_models_quietly(tmp_path, monkeypatch):
    """compare, predict, quality and review draw no bars, so the models' "Loading weights" bar is off there too."""
    from labeler.cli._common import load

    monkeypatch.setenv("HF_HUB_DISABLE_PROGRESS_BARS", "0")  # recorded, so the test leaves the variable as it was
    (tmp_path / "c.yaml").write_text("data: {path: d.jsonl}\ntask: {labels: [a, b]}\n")
    load(tmp_path / "c.yaml", ())
    assert os.environ["HF_HUB_DISABLE_PROGRESS_BARS"] == "0"
    load(tmp_path / "c.yaml", (), quiet_models=True)
    assert os.environ["HF_HUB_DISABLE_PROGRESS_BARS"] == "1"
    for name in ("compare", "predict", "quality", "review"):
        assert "load(config_path, overrides, quiet_models=True)" in (REPO / "labeler" / "cli" / f"{name}.py").read_text()
