"""The search engine's side index: FTS5 rows and float32 vectors in their own SQLite file, plus connections.

argilla-server's own tables answer every filter, sort and count (see ``search_sql.py``); this file holds only
what SQL over them cannot answer quickly: full-text search (an FTS5 table whose rows map to a record, a dataset
and a field through ``docs``) and vectors for similarity search (one float32 blob per record and vector
setting, loaded into a normalised numpy matrix cached per process). ``meta.generation`` is bumped by every write
that touches a dataset's vectors, so a cached matrix is reused until its data changes.

File: env ``LABELER_SEARCH_DB``, default ``<ARGILLA_HOME_PATH>/search.db``. It can always be rebuilt from
argilla's tables (:func:`reindex`); :func:`ensure_indexed` does so once per process and dataset when the index
is missing or its vector count disagrees with argilla's.

Connections are per thread: a reader on argilla's database with the side index ATTACHed as ``ix``, and a writer
on the side index alone, so ``BEGIN IMMEDIATE`` there never locks argilla's database.
"""

from __future__ import annotations

import json
import logging
import os
import sqlite3
import threading
from typing import Any, Dict, Iterable, List, Optional, Sequence, Tuple, Union
from uuid import UUID

import numpy as np

from labeler.server.search_values import json_path, uuid_hex

ENGINE_NAME = "labeler-sqlite"

_LOGGER = logging.getLogger(__name__)

SIDE_SCHEMA = """
CREATE TABLE IF NOT EXISTS ix.meta (dataset_id TEXT PRIMARY KEY, generation INTEGER NOT NULL DEFAULT 0);
CREATE TABLE IF NOT EXISTS ix.docs (
    id INTEGER PRIMARY KEY, record_id TEXT NOT NULL, dataset_id TEXT NOT NULL, field TEXT NOT NULL,
    solo INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS ix.docs_record ON docs (record_id);
CREATE INDEX IF NOT EXISTS ix.docs_dataset ON docs (dataset_id, record_id);
CREATE VIRTUAL TABLE IF NOT EXISTS ix.fts USING fts5 (body, tokenize = 'unicode61 remove_diacritics 2');
CREATE TABLE IF NOT EXISTS ix.vectors (
    settings_id TEXT NOT NULL, record_id TEXT NOT NULL, dataset_id TEXT NOT NULL, vec BLOB NOT NULL,
    UNIQUE (settings_id, record_id)
);
CREATE INDEX IF NOT EXISTS ix.vectors_record ON vectors (record_id);
CREATE INDEX IF NOT EXISTS ix.vectors_settings ON vectors (settings_id);
CREATE INDEX IF NOT EXISTS ix.vectors_dataset ON vectors (dataset_id);
CREATE TABLE IF NOT EXISTS ix.leases (
    dataset_id TEXT NOT NULL, record_id TEXT NOT NULL, user_id TEXT NOT NULL, until REAL NOT NULL,
    PRIMARY KEY (dataset_id, record_id, user_id)
) WITHOUT ROWID;
"""
ALL_FIELDS = "*"  # docs.field of the row that concatenates all of a record's text fields

# labeler's review order (``search_query.QUEUE_PROPERTY``) as one SQL expression over ``records r``, missing
# values last. The index below holds exactly this expression (SQLite matches it whatever the table alias).
QUEUE_PROPERTY = "priority"
QUEUE_KEY = f"COALESCE(json_extract(r.metadata, '{json_path(QUEUE_PROPERTY)}'), 9223372036854775807)"

# Indexes labeler adds to argilla's own database (``create_argilla_indexes``, at every start of the API).
# argilla indexes records on dataset_id and on status separately, so the UI's pending tab (this dataset, status
# pending) went through every pending record of every dataset, and sorted the dataset by priority for each
# page. With (dataset, status, queue key) the count reads this index alone and a page stops after its rows.
ARGILLA_INDEXES = {
    "labeler_records_queue": "records (dataset_id, status, " + QUEUE_KEY.replace("r.metadata", "metadata") + ")",
}


# ---------------------------------------------------------------------------------------------------------------
# paths and connections


def default_paths() -> Tuple[str, str]:
    """(argilla database file, side index file) from argilla-server's settings and ``LABELER_SEARCH_DB``."""
    from argilla_server.settings import settings

    url = settings.database_url or ""
    if not url.startswith("sqlite"):
        raise RuntimeError(f"The {ENGINE_NAME} search engine needs argilla-server on SQLite, got {url!r}")
    db_path = url.split(":///", 1)[1].split("?", 1)[0]
    index_path = os.environ.get("LABELER_SEARCH_DB") or os.path.join(settings.home_path, "search.db")
    return db_path, index_path


_local = threading.local()


def _open(path: str) -> sqlite3.Connection:
    conn = sqlite3.connect(path, timeout=60, isolation_level=None, check_same_thread=False)
    conn.execute("PRAGMA busy_timeout = 60000")
    return conn


def reader_connection(paths: Tuple[str, str]) -> sqlite3.Connection:
    """This thread's connection to argilla's database with the side index attached as ``ix`` (reads only)."""
    conns = _local.__dict__.setdefault("readers", {})
    conn = conns.get(paths)
    if conn is None:
        db_path, index_path = paths
        writer_connection(paths)  # creates the side index schema
        conn = _open(db_path)
        conn.execute("PRAGMA cache_size = -65536")
        conn.execute("PRAGMA mmap_size = 268435456")
        conn.execute("ATTACH DATABASE ? AS ix", (index_path,))
        conns[paths] = conn
    return conn


def writer_connection(paths: Tuple[str, str]) -> sqlite3.Connection:
    """This thread's connection to the side index only; BEGIN IMMEDIATE here never locks argilla's database."""
    conns = _local.__dict__.setdefault("writers", {})
    conn = conns.get(paths)
    if conn is None:
        conn = _open(paths[1])
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA synchronous = NORMAL")
        conn.executescript(SIDE_SCHEMA.replace("ix.", "main."))
        conns[paths] = conn
    return conn


def create_argilla_indexes(db_path: str) -> None:
    """Create labeler's indexes on argilla's database (``ARGILLA_INDEXES``) where missing; idempotent."""
    with sqlite3.connect(db_path, timeout=60) as conn:
        for name, target in ARGILLA_INDEXES.items():
            conn.execute(f"CREATE INDEX IF NOT EXISTS {name} ON {target}")


class Transaction:
    """``with Transaction(conn):`` = BEGIN IMMEDIATE ... COMMIT (ROLLBACK on error)."""

    def __init__(self, conn: sqlite3.Connection):
        self.conn = conn

    def __enter__(self) -> sqlite3.Connection:
        self.conn.execute("BEGIN IMMEDIATE")
        return self.conn

    def __exit__(self, exc_type, exc, tb) -> None:
        self.conn.execute("ROLLBACK" if exc_type else "COMMIT")


def _chunks(items: Sequence[Any], size: int = 500) -> Iterable[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


# ---------------------------------------------------------------------------------------------------------------
# side index maintenance (shared by the engine's write hooks and reindex)


def field_types(reader: sqlite3.Connection, dataset_hex: str) -> Dict[str, str]:
    rows = reader.execute(
        "SELECT name, json_extract(settings, '$.type') FROM fields WHERE dataset_id = ?", (dataset_hex,)
    )
    return {name: kind or "text" for name, kind in rows}


def _field_text(value: Any, kind: str) -> Optional[str]:
    if value is None or kind == "image":
        return None
    if kind == "chat" and isinstance(value, list):
        return "\n".join(str(m.get("content", "")) for m in value if isinstance(m, dict))
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def doc_rows(record_hex: str, fields: Dict[str, Any], types: Dict[str, str]) -> List[Tuple[str, int, str]]:
    """(field, solo, body) rows for one record: one per text field, plus an all-fields row when there are 2+."""
    texts = []
    for name, value in (fields or {}).items():
        text = _field_text(value, types.get(name, "text"))
        if text:
            texts.append((name, text))
    if len(texts) == 1:
        return [(texts[0][0], 1, texts[0][1])]
    rows = [(name, 0, text) for name, text in texts]
    if rows:
        rows.append((ALL_FIELDS, 0, "\n".join(text for _, text in texts)))
    return rows


def vector_blob(value: Any) -> bytes:
    return np.asarray(value, dtype=np.float32).tobytes()


def delete_from_index(writer: sqlite3.Connection, record_hexes: Sequence[str]) -> int:
    removed = 0
    for chunk in _chunks(list(record_hexes)):
        marks = ",".join("?" * len(chunk))
        writer.execute(f"DELETE FROM fts WHERE rowid IN (SELECT id FROM docs WHERE record_id IN ({marks}))", chunk)
        writer.execute(f"DELETE FROM docs WHERE record_id IN ({marks})", chunk)
        removed += writer.execute(f"DELETE FROM vectors WHERE record_id IN ({marks})", chunk).rowcount
    return removed


def bump_generation(writer: sqlite3.Connection, dataset_hex: str) -> None:
    writer.execute(
        "INSERT INTO meta (dataset_id, generation) VALUES (?, 1) "
        "ON CONFLICT (dataset_id) DO UPDATE SET generation = generation + 1",
        (dataset_hex,),
    )


def write_index(
    writer: sqlite3.Connection,
    dataset_hex: str,
    docs: List[Tuple[str, str, int, str]],
    vectors: List[Tuple[str, str, bytes]],
) -> None:
    """Insert doc rows (record, field, solo, body) and vectors (settings, record, blob); caller holds the lock."""
    if docs:
        (start,) = writer.execute("SELECT COALESCE(MAX(id), 0) FROM docs").fetchone()
        ids = range(start + 1, start + 1 + len(docs))
        writer.executemany(
            "INSERT INTO docs (id, record_id, dataset_id, field, solo) VALUES (?, ?, ?, ?, ?)",
            [(i, rec, dataset_hex, field, solo) for i, (rec, field, solo, _) in zip(ids, docs)],
        )
        writer.executemany(
            "INSERT INTO fts (rowid, body) VALUES (?, ?)", [(i, body) for i, (*_, body) in zip(ids, docs)]
        )
    if vectors:
        writer.executemany(
            "INSERT OR REPLACE INTO vectors (settings_id, record_id, dataset_id, vec) VALUES (?, ?, ?, ?)",
            [(settings, rec, dataset_hex, blob) for settings, rec, blob in vectors],
        )


def reindex(
    dataset_id: Union[UUID, str, None] = None, paths: Optional[Tuple[str, str]] = None, batch_size: int = 2000
) -> int:
    """Rebuild the side index (FTS rows and vectors) from argilla's tables; all datasets when ``dataset_id`` is
    None. Returns the number of records indexed."""
    paths = paths or default_paths()
    reader, writer = reader_connection(paths), writer_connection(paths)
    if dataset_id is None:
        dataset_hexes = [row[0] for row in reader.execute("SELECT id FROM datasets")]
        with Transaction(writer):
            _drop_orphans(writer, dataset_hexes)
    else:
        dataset_hexes = [uuid_hex(dataset_id)]
    total = 0
    for dataset_hex in dataset_hexes:
        total += _reindex_dataset(reader, writer, dataset_hex, batch_size)
    return total


def _drop_orphans(writer: sqlite3.Connection, live_dataset_hexes: List[str]) -> None:
    """Remove side-index rows of datasets that no longer exist."""
    indexed = {row[0] for row in writer.execute("SELECT dataset_id FROM meta UNION SELECT DISTINCT dataset_id FROM docs")}
    for dataset_hex in indexed - set(live_dataset_hexes):
        clear_dataset(writer, dataset_hex)
        writer.execute("DELETE FROM meta WHERE dataset_id = ?", (dataset_hex,))


def clear_dataset(writer: sqlite3.Connection, dataset_hex: str) -> None:
    writer.execute("DELETE FROM fts WHERE rowid IN (SELECT id FROM docs WHERE dataset_id = ?)", (dataset_hex,))
    writer.execute("DELETE FROM docs WHERE dataset_id = ?", (dataset_hex,))
    writer.execute("DELETE FROM vectors WHERE dataset_id = ?", (dataset_hex,))
    writer.execute("DELETE FROM leases WHERE dataset_id = ?", (dataset_hex,))


def _reindex_dataset(reader: sqlite3.Connection, writer: sqlite3.Connection, dataset_hex: str, batch: int) -> int:
    types = field_types(reader, dataset_hex)
    with Transaction(writer):
        clear_dataset(writer, dataset_hex)
        count = 0
        cursor = reader.execute("SELECT id, fields FROM records WHERE dataset_id = ? ORDER BY rowid", (dataset_hex,))
        while rows := cursor.fetchmany(batch):
            docs = [
                (rec, field, solo, body)
                for rec, fields in rows
                for field, solo, body in doc_rows(rec, json.loads(fields or "{}"), types)
            ]
            write_index(writer, dataset_hex, docs, [])
            count += len(rows)
        cursor = reader.execute(
            "SELECT v.vector_settings_id, v.record_id, v.value FROM vectors v "
            "JOIN vectors_settings s ON s.id = v.vector_settings_id WHERE s.dataset_id = ?",
            (dataset_hex,),
        )
        while rows := cursor.fetchmany(batch):
            vectors = [(settings, rec, vector_blob(json.loads(value))) for settings, rec, value in rows]
            write_index(writer, dataset_hex, [], vectors)
        bump_generation(writer, dataset_hex)
    _LOGGER.info("search index rebuilt for dataset %s: %d records", dataset_hex, count)
    return count


CHECKED: set = set()
_CHECK_LOCK = threading.Lock()


def ensure_indexed(paths: Tuple[str, str], dataset_hex: str) -> bool:
    """Once per process and dataset: rebuild the side index when it is missing or its vector count disagrees
    with argilla's tables (e.g. a crash between argilla's commit and the index write). True if rebuilt."""
    key = (paths, dataset_hex)
    if key in CHECKED:
        return False
    with _CHECK_LOCK:
        if key in CHECKED:
            return False
        reader = reader_connection(paths)
        (has_meta,) = reader.execute("SELECT COUNT(*) FROM ix.meta WHERE dataset_id = ?", (dataset_hex,)).fetchone()
        (has_records,) = reader.execute(
            "SELECT EXISTS (SELECT 1 FROM records WHERE dataset_id = ?)", (dataset_hex,)
        ).fetchone()
        (main_vectors,) = reader.execute(
            "SELECT COUNT(*) FROM vectors v JOIN vectors_settings s ON s.id = v.vector_settings_id "
            "WHERE s.dataset_id = ?",
            (dataset_hex,),
        ).fetchone()
        (ix_vectors,) = reader.execute(
            "SELECT COUNT(*) FROM ix.vectors WHERE dataset_id = ?", (dataset_hex,)
        ).fetchone()
        (ix_docs,) = reader.execute("SELECT EXISTS (SELECT 1 FROM ix.docs WHERE dataset_id = ?)", (dataset_hex,)).fetchone()
        stale = has_records and (not has_meta or main_vectors != ix_vectors or not ix_docs)
        if stale:
            _reindex_dataset(reader, writer_connection(paths), dataset_hex, 2000)
        CHECKED.add(key)
        return bool(stale)


# ---------------------------------------------------------------------------------------------------------------
# vector matrices


class VectorMatrix:
    def __init__(self, generation: int, ids: List[str], matrix: np.ndarray):
        self.generation = generation
        self.ids = ids
        self.index = {record_id: i for i, record_id in enumerate(ids)}
        self.matrix = matrix  # rows L2-normalised, float32


_MATRICES: Dict[Tuple[str, str], VectorMatrix] = {}
_MATRIX_LOCK = threading.Lock()


def _generation(reader: sqlite3.Connection, dataset_hex: str) -> int:
    row = reader.execute("SELECT generation FROM ix.meta WHERE dataset_id = ?", (dataset_hex,)).fetchone()
    return row[0] if row else -1


def load_matrix(paths: Tuple[str, str], dataset_hex: str, settings_hex: str, dimensions: int) -> VectorMatrix:
    reader = reader_connection(paths)
    key = (paths[1], settings_hex)
    generation = _generation(reader, dataset_hex)
    cached = _MATRICES.get(key)
    if cached is not None and cached.generation == generation:
        return cached
    with _MATRIX_LOCK:
        cached = _MATRICES.get(key)
        if cached is not None and cached.generation == generation:
            return cached
        rows = reader.execute(
            "SELECT record_id, vec FROM ix.vectors INDEXED BY vectors_settings WHERE settings_id = ? ORDER BY rowid",
            (settings_hex,),
        ).fetchall()
        ids = [row[0] for row in rows]
        matrix = np.frombuffer(b"".join(row[1] for row in rows), dtype=np.float32).reshape(len(rows), -1)
        if len(rows) == 0:
            matrix = np.zeros((0, dimensions), dtype=np.float32)
        norms = np.sqrt(np.einsum("ij,ij->i", matrix, matrix))[:, None]
        matrix = matrix / np.where(norms == 0, 1.0, norms)
        _MATRICES[key] = VectorMatrix(generation, ids, np.ascontiguousarray(matrix, dtype=np.float32))
        return _MATRICES[key]
