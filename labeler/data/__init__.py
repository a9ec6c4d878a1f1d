"""The pool: texts read from CSV / TSV, JSONL (or a JSON array), Parquet or a saved HF dataset folder.

Each usable row becomes a ``Record`` with a stable ``id``: the id column's value as a string, or, with
no ``data.id_field``, ``"h:" + sha1("\\x1f".join(text field values))[:16]``.

Nothing is dropped silently: ``pool.rows_read == len(pool) + sum(pool.rejects.values()) + pool.collapsed``.

* Exact duplicates (same text field values) collapse into the first record; ``duplicates`` counts the
  rows it stands for (1 = unique). The later rows' ids are not kept.
* A row is rejected with one of ``REJECT_REASONS`` and written to ``<project dir>/rejects.jsonl``
  (``row``: 1-based data row; ``line``: physical line in CSV/JSONL; ``reason``; ``detail``; ``preview``,
  the first 200 characters). Text values: strings as they are; ints and floats are stringified
  (``3`` -> ``"3"``); null (or NaN) is ``null text``; bools, lists and objects are ``non-string text``;
  bytes are decoded as UTF-8. With several text fields a record needs one non-blank field; null or
  absent ones count as ``""``.
* Multi-label truth (``data.label_field``) is read whatever the cell's shape: a list, JSON list text, one
  label, or labels split at ``|`` ``;`` ``,``; an empty list is the answer "None of these"; labels outside
  ``task.labels`` are dropped. Odd cells (strings among lists, empty lists, unknown separators, labels
  outside the config) are counted per kind and named in one line of ``Pool.summary()``; rows are never
  rejected for their labels (``labeler.data.multilabel``).
* Texts longer than ``data.max_chars`` are kept whole and flagged ``too_long`` (for summarization).
* A missing file, an unreadable format, no rows, or a configured column absent from the whole file is one
  ``LabelerError`` line.

``load_pool`` caches the pool as ``<project dir>/pool.parquet``; see ``Pool.save`` for the schema.

Modules: ``load`` (entry points), ``readers`` (one per format), ``rows`` (a parsed row, reject reasons),
``build`` (rows -> records), ``multilabel`` (multi-label truth from a label cell), ``records`` (``Record``, ``Pool`` and its Parquet file).
"""

from labeler.data.load import (
    POOL_FILE,
    REJECTS_FILE,
    column_values,
    load_pool,
    read_pool,
    sample_rows,
)
from labeler.data.readers import detect_format
from labeler.data.records import Pool, Record
from labeler.data.rows import (
    DUPLICATE_ID,
    EMPTY_TEXT,
    INVALID_JSON,
    INVALID_UTF8,
    MALFORMED_CSV,
    MISSING_FIELD,
    MISSING_ID,
    NON_STRING,
    NOT_OBJECT,
    NULL_TEXT,
    REJECT_REASONS,
)

__all__ = [
    "DUPLICATE_ID", "EMPTY_TEXT", "INVALID_JSON", "INVALID_UTF8", "MALFORMED_CSV", "MISSING_FIELD", "MISSING_ID",
    "NON_STRING", "NOT_OBJECT", "NULL_TEXT", "POOL_FILE", "REJECTS_FILE", "REJECT_REASONS", "Pool", "Record",
    "column_values", "detect_format", "load_pool", "read_pool", "sample_rows",
]
