"""Prediction cache: only missing ids are scored, kill -9 resumes exactly, concurrent writers are safe."""

from __future__ import annotations

import os
import signal as os_signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from labeler.signals.cache import KVStore, cache_path, score_cached

TOY = '''
import sys, time
import numpy as np
from typing import ClassVar
from labeler.signals.base import Signal, SignalParams, softmax


class ToyParams(SignalParams):
    sleep: float = 0.0
    scale: float = 1.0


class BatchSensitiveToy(Signal):
    """Deterministic, but (like padded batches) its low bits depend on the chunk a text is scored in."""

    type_name: ClassVar[str] = "toy"
    Params: ClassVar[type[SignalParams]] = ToyParams
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.calls = []

    def _predict(self, texts):
        self.calls.append(list(texts))
        time.sleep(self.params.sleep)
        feats = np.array([[len(t) % 7, t.count("a"), sum(map(ord, t)) % 11] for t in texts], dtype=float)
        return softmax(feats * self.params.scale + 1e-9 * len(texts) * np.arange(3))
'''


@pytest.fixture()
def toy_module(tmp_path, monkeypatch):
    (tmp_path / "toy_signal.py").write_text(TOY)
    monkeypatch.syspath_prepend(str(tmp_path))
    import importlib

    import toy_signal

    importlib.reload(toy_signal)
    return toy_signal


def texts_and_ids(n=50):
    texts = [f"text number {i} " + "a" * (i % 5) + "b" * (i % 3) for i in range(n)]
    return [f"r{i}" for i in range(n)], texts


def test_scores_only_missing_ids_in_given_order(tmp_path, toy_module):
    ids, texts = texts_and_ids(20)
    sig = toy_module.BatchSensitiveToy("toy", ["a", "b", "c"])
    first = score_cached(sig, ids[:12], texts[:12], tmp_path, batch_size=5, progress=False)
    assert [len(c) for c in sig.calls] == [5, 5, 2]
    sig.calls.clear()
    order = list(range(20))[::-1]
    full = score_cached(sig, [ids[i] for i in order], [texts[i] for i in order], tmp_path, batch_size=5, progress=False)
    assert sorted(t for c in sig.calls for t in c) == sorted(texts[12:])
    np.testing.assert_array_equal(full[::-1][:12], first)
    assert full.shape == (20, 3) and np.allclose(full.sum(axis=1), 1)
    sig.calls.clear()
    again = score_cached(sig, ids, texts, tmp_path, batch_size=5, progress=False)
    assert sig.calls == [] and np.array_equal(again, full[::-1])
    # another fingerprint -> another cache
    other = toy_module.BatchSensitiveToy("toy", ["a", "b", "c"], params={"scale": 2.0})
    assert cache_path(tmp_path, other) != cache_path(tmp_path, sig)
    assert not np.allclose(score_cached(other, ids, texts, tmp_path, progress=False), again)


def test_nan_rows_duplicates_and_no_cache(tmp_path):
    from labeler.signals.rules import KeywordSignal

    sig = KeywordSignal("kw", ["x", "y"], False, {"keywords": {"x": ["foo"]}})
    P = score_cached(sig, [1, 2, 1], ["foo", "bar", "foo"], tmp_path, progress=False)
    assert np.isnan(P[1]).all() and np.array_equal(P[0], [1, 0]) and np.array_equal(P[2], [1, 0])
    again = score_cached(sig, [2], ["bar"], tmp_path, progress=False)
    assert np.isnan(again).all()
    assert np.array_equal(score_cached(sig, [1, 2], ["foo", "bar"], None), sig.predict_proba(["foo", "bar"]), equal_nan=True)
    with pytest.raises(ValueError):
        score_cached(sig, [1], ["a", "b"], tmp_path)


def test_a_record_whose_text_changed_is_scored_again(tmp_path):
    """Ids stay when the data file is edited or data.text_fields change: the cache used to return the old text's
    prediction for them. A table written before digests were kept takes the text it meets first as its own."""
    import sqlite3

    from labeler.signals.rules import KeywordSignal

    sig = KeywordSignal("kw", ["x", "y"], False, {"keywords": {"x": ["foo"], "y": ["bar"]}})
    assert np.array_equal(score_cached(sig, ["1", "2"], ["foo", "bar"], tmp_path, progress=False), [[1, 0], [0, 1]])
    assert np.array_equal(score_cached(sig, ["1", "2"], ["bar", "bar"], tmp_path, progress=False), [[0, 1], [0, 1]])
    # an older cache: no digest column; its rows are adopted by the text met first, then checked
    path = cache_path(tmp_path / "old", sig)
    path.parent.mkdir(parents=True)
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE preds (id TEXT PRIMARY KEY, dim INTEGER NOT NULL, dtype TEXT NOT NULL, p BLOB NOT NULL)")
        conn.execute("INSERT INTO preds VALUES (?, ?, ?, ?)", ("1", 2, "<f8", np.array([0.25, 0.75]).tobytes()))
    assert np.array_equal(score_cached(sig, ["1"], ["foo"], tmp_path / "old", progress=False), [[0.25, 0.75]])
    assert np.array_equal(score_cached(sig, ["1"], ["foo"], tmp_path / "old", progress=False), [[0.25, 0.75]])
    assert np.array_equal(score_cached(sig, ["1"], ["bar"], tmp_path / "old", progress=False), [[0, 1]])


def test_a_second_writer_adding_the_digest_column_too_is_fine(tmp_path):
    """Two sharded writers opening an older cache at once both saw no digest column and both added it: the
    second ALTER failed with 'duplicate column name' and its shard crashed (CI, stop 40)."""
    from labeler.signals.cache import KVStore

    store = KVStore(tmp_path / "c.sqlite", table="preds", digests=True)
    store._add_digest_column()  # what the writer that lost the race runs
    columns = [row[1] for row in store._conn.execute("PRAGMA table_info(preds)")]
    assert columns == ["id", "dim", "dtype", "p", "digest"]


RUNNER = '''
import sys, pickle, numpy as np
sys.path.insert(0, sys.argv[1])
from toy_signal import BatchSensitiveToy
from labeler.signals.cache import score_cached
ids = [f"r{i}" for i in range(int(sys.argv[3]))]
texts = [f"text number {i} " + "a" * (i % 5) + "b" * (i % 3) for i in range(len(ids))]
sig = BatchSensitiveToy("toy", ["a", "b", "c"], params={"sleep": float(sys.argv[4])})
shard = None if sys.argv[5] == "-" else tuple(map(int, sys.argv[5].split("/")))
P = score_cached(sig, ids, texts, sys.argv[2], batch_size=4, progress=False, shard=shard)
np.save(sys.argv[6], P)
'''


def run_script(tmp_path, cache, n, sleep, shard="-", out="out.npy"):
    script = tmp_path / "runner.py"
    script.write_text(RUNNER)
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    return subprocess.Popen([sys.executable, str(script), str(tmp_path), str(cache), str(n), str(sleep), shard,
                             str(tmp_path / out)], env=env)


@pytest.mark.slow
def test_kill_9_midway_resumes_to_the_same_matrix(tmp_path, toy_module):
    ids, texts = texts_and_ids(40)
    sig = toy_module.BatchSensitiveToy("toy", ["a", "b", "c"], params={"sleep": 0.3})
    cache = tmp_path / "cache"
    proc = run_script(tmp_path, cache, 40, 0.3)
    path = cache_path(cache, sig)
    deadline = time.time() + 60
    while time.time() < deadline:
        if path.exists() and KVStore(path, "preds").count() >= 12:
            break
        time.sleep(0.05)
    proc.send_signal(os_signal.SIGKILL)
    proc.wait()
    done = KVStore(path, "preds").count()
    assert 12 <= done < 40 and done % 4 == 0  # whole chunks only
    resumed = score_cached(sig, ids, texts, cache, batch_size=4, progress=False)
    assert sum(len(c) for c in sig.calls) == 40 - done
    fresh = score_cached(toy_module.BatchSensitiveToy("toy", ["a", "b", "c"], params={"sleep": 0.3}),
                         ids, texts, tmp_path / "fresh", batch_size=4, progress=False)
    np.testing.assert_array_equal(resumed, fresh)


@pytest.mark.slow
def test_two_sharded_writers_merge(tmp_path, toy_module):
    cache = tmp_path / "cache"
    procs = [run_script(tmp_path, cache, 60, 0.02, shard=f"{i}/2", out=f"out{i}.npy") for i in range(2)]
    assert [p.wait(timeout=120) for p in procs] == [0, 0]
    ids, texts = texts_and_ids(60)
    sig = toy_module.BatchSensitiveToy("toy", ["a", "b", "c"], params={"sleep": 0.02})
    merged = score_cached(sig, ids, texts, cache, batch_size=4, progress=False)
    assert sig.calls == []  # the two shards covered every id
    fresh = score_cached(sig, ids, texts, tmp_path / "fresh", batch_size=4, progress=False)
    np.testing.assert_array_equal(merged, fresh)
