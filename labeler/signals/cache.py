"""On-disk prediction cache: one SQLite file per signal fingerprint, safe for concurrent writers.

Layout::

    <cache_dir>/<fingerprint>/predictions.sqlite   table preds(id TEXT PRIMARY KEY, p BLOB float64[K],
                                                   digest INTEGER: of the text it was scored on)
    <cache_dir>/<fingerprint>/signal.json          name, type, labels (for humans)

A record whose text changed since it was scored (the data file edited, or ``data.text_fields`` changed, the ids
kept) is scored again: its digest no longer matches. A prediction written before digests were kept takes the
text it meets first as its own.

``score_cached`` computes only ids missing from the cache, in chunks of ``batch_size`` over the missing
ids in the order given, and commits each chunk in one transaction. A run killed midway (even with
``kill -9``) keeps every committed chunk; the next run recomputes exactly the chunks the first run would
have computed next, so the final matrix equals an uninterrupted run bit for bit.

SQLite runs in WAL mode with a busy timeout, so several processes (``accelerate launch`` workers, two
CLI runs) can write the same cache. Under ``accelerate launch`` (``WORLD_SIZE`` > 1) each process scores
the chunks ``i % num_processes == process_index`` and all wait for each other before reading the merged
result; pass ``shard=(index, count)`` to do the same by hand.
"""

from __future__ import annotations

import json
import os
import sqlite3
import time
from pathlib import Path
from typing import Sequence

import numpy as np

from labeler.signals.base import Signal, text_key


class KVStore:
    """A tiny SQLite key -> float array store (WAL, busy timeout): predictions and embeddings."""

    def __init__(self, path: str | os.PathLike, table: str = "kv", digests: bool = False) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.table = table
        self._conn = sqlite3.connect(self.path, timeout=120, isolation_level=None, check_same_thread=False)
        self._conn.execute("PRAGMA busy_timeout=120000")
        self._retry(lambda: self._conn.execute("PRAGMA journal_mode=WAL"))
        self._conn.execute("PRAGMA synchronous=NORMAL")
        digest_column = ", digest INTEGER" if digests else ""
        self._retry(lambda: self._conn.execute(
            f"CREATE TABLE IF NOT EXISTS {table} (id TEXT PRIMARY KEY, dim INTEGER NOT NULL, dtype TEXT NOT NULL, p BLOB NOT NULL"
            f"{digest_column})"
        ))
        if digests and "digest" not in {row[1] for row in self._conn.execute(f"PRAGMA table_info({table})")}:
            self._add_digest_column()

    def _add_digest_column(self) -> None:
        """Add the ``digest`` column to a cache written before it existed; a second writer that
        opened the same file at once may have added it first, which is as good."""
        try:
            self._retry(lambda: self._conn.execute(f"ALTER TABLE {self.table} ADD COLUMN digest INTEGER"))
        except sqlite3.OperationalError as exc:
            if "duplicate column" not in str(exc):
                raise

    @staticmethod
    def _retry(fn, tries: int = 50):
        for attempt in range(tries):
            try:
                return fn()
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) or attempt == tries - 1:
                    raise
                time.sleep(0.05 * (attempt + 1))

    def _select(self, keys: Sequence[str], columns: str):
        """``SELECT id, <columns>`` for ``keys``, in chunks SQLite's parameter limit allows."""
        keys = list(dict.fromkeys(keys))
        for start in range(0, len(keys), 900):
            part = keys[start : start + 900]
            marks = ",".join("?" * len(part))
            yield from self._conn.execute(f"SELECT id, {columns} FROM {self.table} WHERE id IN ({marks})", part)

    def _write(self, sql: str, rows: list[tuple]) -> None:
        """``sql`` over ``rows`` in one transaction (all or nothing)."""

        def write():
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                self._conn.executemany(sql, rows)
                self._conn.execute("COMMIT")
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise

        self._retry(write)

    def get_many(self, keys: Sequence[str]) -> dict[str, np.ndarray]:
        return {key: np.frombuffer(blob, dtype=dtype).copy() for key, dtype, blob in self._select(keys, "dtype, p")}

    def get_matching(self, digest: dict[str, int]) -> dict[str, np.ndarray]:
        """The entries of ``digest``'s keys stored with that digest (a store opened with ``digests``): one whose
        text changed since is left out; one stored without a digest (written before they were kept) is taken
        as matching, and its digest written."""
        out: dict[str, np.ndarray] = {}
        adopt: list[tuple[int, str]] = []
        for key, dtype, blob, stored in self._select(list(digest), "dtype, p, digest"):
            if stored is None:
                adopt.append((digest[key], key))
            elif stored != digest[key]:
                continue
            out[key] = np.frombuffer(blob, dtype=dtype).copy()
        if adopt:
            self._write(f"UPDATE {self.table} SET digest = ? WHERE id = ?", adopt)
        return out

    def put_many(self, items: Sequence[tuple[str, np.ndarray]], digests: dict[str, int] | None = None) -> None:
        """Write all items in one transaction (all or nothing); ``digests``: each key's text digest (a store
        opened with ``digests``)."""
        rows = [(k, int(v.size), v.dtype.str, np.ascontiguousarray(v).tobytes()) for k, v in items]
        if digests is None:
            self._write(f"INSERT OR REPLACE INTO {self.table} (id, dim, dtype, p) VALUES (?, ?, ?, ?)", rows)
        else:
            self._write(f"INSERT OR REPLACE INTO {self.table} (id, dim, dtype, p, digest) VALUES (?, ?, ?, ?, ?)",
                        [(*row, digests[row[0]]) for row in rows])

    def count(self) -> int:
        return self._conn.execute(f"SELECT COUNT(*) FROM {self.table}").fetchone()[0]

    def close(self) -> None:
        self._conn.close()


def cache_path(cache_dir: str | os.PathLike, signal: Signal) -> Path:
    return Path(cache_dir) / signal.fingerprint() / "predictions.sqlite"


def open_cache(cache_dir: str | os.PathLike, signal: Signal) -> KVStore:
    path = cache_path(cache_dir, signal)
    store = KVStore(path, table="preds", digests=True)
    meta = path.parent / "signal.json"
    if not meta.exists():
        tmp = meta.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(json.dumps({
            "name": signal.name, "type": signal.type_name, "labels": signal.labels,
            "multi_label": signal.multi_label, "fingerprint": signal.fingerprint(),
            "params": signal.params.model_dump(mode="json"),
        }, indent=2))
        os.replace(tmp, meta)
    return store


def refitted_caches(cache_dir: str | os.PathLike, signal: Signal) -> list[Path]:
    """The folders of ``signal``'s prediction caches at other temperatures alone (the same name, type, labels and
    every other parameter): what ``bootstrap`` wrote at each round's refitted temperature before it computed that
    signal from the cached embeddings instead; nothing reads them."""
    mine = {k: v for k, v in signal.params.model_dump(mode="json").items() if k != "temperature"}
    found = []
    for meta in sorted(Path(cache_dir).glob("*/signal.json")):
        try:
            d = json.loads(meta.read_text())
        except (OSError, ValueError):
            continue
        params = {k: v for k, v in (d.get("params") or {}).items() if k != "temperature"}
        if (d.get("type"), d.get("name"), d.get("labels"), d.get("multi_label")) == \
                (signal.type_name, signal.name, list(signal.labels), signal.multi_label) \
                and d.get("fingerprint") != signal.fingerprint() and params == mine:
            found.append(meta.parent)
    return found


def distributed() -> bool:
    """Whether this process is one of several under ``accelerate launch`` / torchrun."""
    return int(os.environ.get("WORLD_SIZE", "1")) > 1


def _distributed_shard() -> tuple[int, int, object | None]:
    """(process_index, num_processes, state) under ``accelerate launch`` / torchrun, else (0, 1, None)."""
    if not distributed():
        return 0, 1, None
    from accelerate import PartialState

    state = PartialState()
    return state.process_index, state.num_processes, state


def score_cached(
    signal: Signal,
    ids: Sequence,
    texts: Sequence[str],
    cache_dir: str | os.PathLike | None,
    batch_size: int = 256,
    progress: bool = True,
    shard: tuple[int, int] | None = None,
) -> np.ndarray:
    """``signal.predict_proba(texts)`` with predictions cached on disk per (fingerprint, record id).

    Returns the ``(N, K)`` float64 matrix in the order of ``ids``. Only ids not yet cached are scored,
    ``batch_size`` texts per chunk, each chunk committed before the next starts. ``cache_dir=None``
    scores everything without a cache. ``shard=(index, count)`` scores only chunks
    ``i % count == index`` (the rows of other shards come from the cache, or stay NaN if absent).
    """
    if len(ids) != len(texts):
        raise ValueError(f"ids and texts differ in length: {len(ids)} != {len(texts)}")
    keys = [str(i) for i in ids]
    k = len(signal.labels)
    if cache_dir is None:
        return signal.predict_proba(list(texts)) if keys else np.zeros((0, k))

    store = open_cache(cache_dir, signal)
    try:
        state = None
        if shard is None:
            index, count, state = _distributed_shard()
        else:
            index, count = shard
        first_text: dict[str, str] = {}
        for key, text in zip(keys, texts):
            if key not in first_text:
                first_text[key] = text
        digest = {key: _digest(text) for key, text in first_text.items()}
        cached = store.get_matching(digest)  # a record whose text changed since is scored again
        # Shards own fixed chunks of the full id list, so the split does not depend on what another shard
        # has already cached when this one starts; each chunk is then reduced to its missing ids.
        unique = list(first_text)
        chunks = [unique[s : s + batch_size] for s in range(0, len(unique), batch_size)]
        mine = [[key for key in c if key not in cached] for i, c in enumerate(chunks) if i % count == index]
        mine = [c for c in mine if c]
        if mine:
            from tqdm.auto import tqdm

            total = sum(len(c) for c in mine)
            bar = tqdm(total=total, desc=f"scoring {signal.name}", unit="text",
                       disable=not progress or total <= batch_size, leave=False)
            for chunk in mine:
                probs = signal.predict_proba([first_text[key] for key in chunk])
                items = [(key, np.asarray(row, dtype=np.float64)) for key, row in zip(chunk, probs)]
                store.put_many(items, digests=digest)
                cached.update(items)
                bar.update(len(chunk))
            bar.close()
        if state is not None:
            state.wait_for_everyone()
        if count > 1:
            cached.update(store.get_matching({key: digest[key] for key in digest if key not in cached}))
        out = np.full((len(keys), k), np.nan, dtype=np.float64)
        for row, key in enumerate(keys):
            if key in cached:
                out[row] = cached[key]
        return out
    finally:
        store.close()


def _digest(text: str) -> int:
    """A text's digest as one int64 (the first 60 bits of its sha1)."""
    return int(text_key(text)[:15], 16)
