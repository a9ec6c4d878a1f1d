"""The bad-inputs corpus (tests/data/bad_inputs/): every file ends in a correct result or a one-line error,
and nothing is dropped silently: rows read == records + rejects (each in rejects.jsonl) + collapsed duplicates."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import uuid
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from labeler.config import load_config
from labeler.data import load_pool
from labeler.errors import LabelerError

CORPUS = Path(__file__).parent / "data" / "bad_inputs"
REPO = Path(__file__).resolve().parents[1]


def _config(tmp_path, name, *overrides):
    work = tmp_path / "corpus"
    if not work.exists():
        shutil.copytree(CORPUS, work)
    return load_config(work / name, [f"project.dir={tmp_path / 'project'}", *overrides])


def _accounted(pool, project: Path) -> None:
    rejects = [json.loads(line) for line in (project / "rejects.jsonl").read_text().splitlines()]
    assert len(rejects) == sum(pool.rejects.values())
    assert pool.rows_read == len(pool) + len(rejects) + pool.collapsed


def _cli(args, cwd):
    env = dict(os.environ, HF_HUB_OFFLINE="1")
    return subprocess.run([sys.executable, "-m", "labeler.cli.__main__", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=120)


def test_texts_corpus_keeps_every_usable_script_and_counts_every_reject(tmp_path):
    config = _config(tmp_path, "config_ok.yaml")
    pool = load_pool(config)
    _accounted(pool, tmp_path / "project")
    by_id = {r.id: r.text for r in pool.records}
    assert set(by_id) == {"ok-1", "emoji", "cjk", "rtl-ar", "rtl-he", "html", "number", "dup", "ctrl"}
    assert by_id["cjk"].startswith("请帮我退款") and by_id["rtl-ar"].startswith("لا") and "💥" in by_id["emoji"]
    assert by_id["html"].startswith("<script>") and by_id["number"] == "42"  # texts pass through unchanged
    assert by_id["dup"] == "first text for id dup"  # the first use of an id wins; the second is a reject
    assert pool.rejects == {"empty text": 2, "null text": 1, "non-string text": 1, "duplicate id with different text": 1,
                            "missing id": 1, "invalid JSON": 1, "not a JSON object": 1}
    assert pool.collapsed == 1  # "ok-1-again" has ok-1's text: collapsed into it, counted
    from labeler.loop.scoring import bootstrap

    _, scores = bootstrap(config, progress=False)  # the keywords signal scores every script without error
    assert scores.P.shape == (9, 2) and np.allclose(scores.P.sum(1), 1)


def test_invalid_utf8_and_binary_garbage(tmp_path):
    pool = load_pool(_config(tmp_path, "config_invalid_utf8.yaml"))
    _accounted(pool, tmp_path / "project")
    assert [r.id for r in pool.records] == ["1", "4"] and pool.rejects == {"invalid UTF-8": 2}
    with pytest.raises(LabelerError) as err:
        load_pool(_config(tmp_path, "config_garbage.yaml"))
    assert "no usable rows" in str(err.value) and "\n" not in str(err.value)
    lines = (tmp_path / "project" / "rejects.jsonl").read_text().splitlines()
    assert len(lines) >= 1 and all(json.loads(x)["reason"] for x in lines)  # every garbage line accounted for


def test_a_one_megabyte_text_is_scored_whole(tmp_path):
    config = _config(tmp_path, "config_ok.yaml")
    big = tmp_path / "corpus" / "texts.jsonl"
    with open(big, "a", encoding="utf-8") as f:
        f.write(json.dumps({"id": "huge", "text": "invoice " + "lorem ipsum dolor " * 62_000}) + "\n")
    pool = load_pool(config)
    huge = next(r for r in pool.records if r.id == "huge")
    assert len(huge.text) > 1_000_000 and huge.too_long
    from labeler.loop.scoring import bootstrap

    _, scores = bootstrap(config, progress=False)
    assert scores.P.shape[0] == len(pool) == 10


@pytest.mark.parametrize("name, expected", [
    ("config_typo.yaml", "unknown key 'ensemble.methd' (did you mean 'method'?"),
    ("config_negative_batch.yaml", "queue.batch_size = -5"),
    ("config_single_label.yaml", "needs at least 2 labels"),
    ("config_missing_column.yaml", "column(s) 'text' not found"),
    ("config_garbage.yaml", "no usable rows"),
])
def test_cli_answers_bad_inputs_with_one_line(tmp_path, name, expected):
    shutil.copytree(CORPUS, tmp_path / "corpus")
    out = _cli(["bootstrap", "-q", "-c", name, "--set", f"project.dir={tmp_path / 'p'}"], tmp_path / "corpus")
    assert out.returncode == 1, out.stdout
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error:") and "Traceback" not in out.stderr, out.stderr
    assert expected in lines[0]


def test_duplicate_label_names_are_one_line(tmp_path):
    with pytest.raises(LabelerError, match="duplicate label names"):
        _config(tmp_path, "config_duplicate_labels.yaml")


@pytest.mark.server
@pytest.mark.parametrize("name", ["config_weird_labels.yaml", "config_200_labels.yaml"])
def test_label_names_with_spaces_commas_unicode_and_200_labels_reach_argilla(tmp_path, name, argilla_server):
    """Label values pass through to Argilla unchanged, and come back unchanged in pulled answers."""
    from labeler.argilla.client import Connection
    from labeler.argilla.pull import pull
    from labeler.argilla.push import PushRecord, push
    from labeler.loop.round import dataset_spec
    from tests.reliability.faults import annotate

    config = _config(tmp_path, name)
    labels = config.label_names
    spec = dataset_spec(config, ["keywords"], None)
    spec = type(spec)(**{**spec.__dict__, "name": f"bad-{uuid.uuid4().hex[:6]}"})
    conn = Connection(argilla_server.url, argilla_server.api_key, "test")
    recs = [PushRecord(id=f"r{i:05d}", fields={"text": f"text {i}"}, value=labels[-1 - i], score=0.5, agent="t")
            for i in range(3)]
    assert push(conn, spec, recs, progress=False).created == 3
    annotate(conn, spec.name, [r.id for r in recs], value_of=lambda rid: labels[-1 - int(rid[1:])])
    pull(conn, spec, tmp_path / "pulled")
    import pandas as pd

    got = pd.read_parquet(tmp_path / "pulled" / "labels.parquet").set_index("id")["label"].to_dict()
    assert got == {f"r{i:05d}": labels[-1 - i] for i in range(3)}


# --- properties -----------------------------------------------------------------------------------------


@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
@given(batch=st.integers(min_value=-10**6, max_value=10**6))
def test_batch_size_override_is_valid_or_one_line(tmp_path, batch):
    try:
        config = _config(tmp_path, "config_ok.yaml", f"queue.batch_size={batch}")
    except LabelerError as exc:
        assert batch <= 0 and "\n" not in str(exc) and "queue.batch_size" in str(exc)
    else:
        assert batch > 0 and config.queue.batch_size == batch


LABEL = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), min_size=0, max_size=30)


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(labels=st.lists(LABEL, min_size=0, max_size=6))
def test_any_label_list_loads_or_is_one_line(tmp_path, labels):
    from labeler.argilla.schema import DatasetSpec

    path = tmp_path / "labels.yaml"
    path.write_text(json.dumps({"data": {"path": str(CORPUS / "texts.jsonl"), "id_field": "id"},
                                "task": {"labels": labels}, "signals": [{"type": "keywords"}]}, ensure_ascii=False))
    try:
        config = load_config(path, [f"project.dir={tmp_path / 'p'}"])
    except LabelerError as exc:
        assert "\n" not in str(exc)
        return
    DatasetSpec(name="x", labels=config.label_names).validate()  # what loads is also valid for Argilla


@settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck))
@given(lines=st.lists(st.one_of(st.binary(max_size=60), st.text(max_size=60).map(str.encode),
                                st.builds(lambda t: json.dumps({"id": t, "text": t}).encode(), st.text(max_size=20))),
                      min_size=1, max_size=20))
def test_arbitrary_bytes_never_lose_a_row(tmp_path, lines):
    from labeler.data import read_pool

    path = tmp_path / "fuzz.jsonl"
    path.write_bytes(b"\n".join(x.replace(b"\n", b" ").replace(b"\r", b" ") for x in lines) + b"\n")
    try:
        pool, rejected = read_pool(path, "jsonl", ["text"], "id")
    except LabelerError as exc:
        assert "\n" not in str(exc)
        return
    assert pool.rows_read == len(pool) + len(rejected) + pool.collapsed
