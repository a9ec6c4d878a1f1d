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
* Texts longer than ``data.max_chars`` are kept whole and flagged ``too_long`` (for summarization).
* A missing file, an unreadable format, no rows, or a configured column absent from the whole file is one
  ``LabelerError`` line.

``load_pool`` caches the pool as ``<project dir>/pool.parquet``; see ``Pool.save`` for the schema.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import math
import os
import re
import sys
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Iterator

from labeler.errors import LabelerError

MISSING_FIELD = "missing text field"
NULL_TEXT = "null text"
NON_STRING = "non-string text"
EMPTY_TEXT = "empty text"
INVALID_UTF8 = "invalid UTF-8"
INVALID_JSON = "invalid JSON"
NOT_OBJECT = "not a JSON object"
MALFORMED_CSV = "malformed CSV row"
MISSING_ID = "missing id"
DUPLICATE_ID = "duplicate id with different text"
REJECT_REASONS = (MISSING_FIELD, NULL_TEXT, NON_STRING, EMPTY_TEXT, INVALID_UTF8, INVALID_JSON, NOT_OBJECT,
                  MALFORMED_CSV, MISSING_ID, DUPLICATE_ID)

POOL_FILE = "pool.parquet"
REJECTS_FILE = "rejects.jsonl"
_META_KEY = b"labeler.pool"
_POOL_VERSION = 1
_PREVIEW = 200
_SURROGATE = re.compile("[\ud800-\udfff]")  # undecodable bytes (surrogateescape) or lone surrogates
_SUFFIXES = {".csv": "csv", ".tsv": "csv", ".jsonl": "jsonl", ".ndjson": "jsonl", ".json": "jsonl",
             ".parquet": "parquet", ".pq": "parquet"}


@dataclass(slots=True)
class Record:
    """One text to label. ``fields``: every text field (``""`` where absent); ``text``: what models read;
    ``label`` (single-label) / ``labels`` (multi-label): held-back truth from ``data.label_field``."""

    id: str
    text: str
    fields: dict[str, str]
    row: int
    duplicates: int = 1
    too_long: bool = False
    label: str | None = None
    labels: list[str] | None = None


@dataclass
class Pool:
    records: list[Record]
    rejects: dict[str, int]
    rows_read: int
    text_fields: list[str]
    source: str = ""
    _index: dict[str, int] | None = field(default=None, init=False, repr=False)

    def __len__(self) -> int:
        return len(self.records)

    def __iter__(self) -> Iterator[Record]:
        return iter(self.records)

    def __getitem__(self, i: int) -> Record:
        return self.records[i]

    @property
    def ids(self) -> list[str]:
        return [r.id for r in self.records]

    @property
    def texts(self) -> list[str]:
        return [r.text for r in self.records]

    @property
    def collapsed(self) -> int:
        """Rows merged into an earlier identical record."""
        return sum(r.duplicates - 1 for r in self.records)

    @property
    def index(self) -> dict[str, int]:
        """Record id -> position."""
        if self._index is None:
            self._index = {r.id: i for i, r in enumerate(self.records)}
        return self._index

    def summary(self) -> str:
        too_long = sum(r.too_long for r in self.records)
        rejected = ", ".join(f"{n} {reason}" for reason, n in sorted(self.rejects.items())) or "none"
        return (f"{len(self)} records from {self.rows_read} rows ({self.collapsed} duplicates collapsed; "
                f"rejected: {rejected}; {too_long} over max_chars)")

    # -- persistence ---------------------------------------------------------------------------------
    def save(self, path: str | Path, cache_key: str = "") -> None:
        """Write ``pool.parquet``: columns ``id`` (string), ``text`` (string), ``fields``
        (struct of one string per text field), ``row`` (int64, 1-based source row), ``duplicates``
        (int64), ``too_long`` (bool), ``label`` (string, null) and ``labels`` (list<string>, null);
        schema metadata ``labeler.pool`` holds JSON {version, source, text_fields, rows_read, rejects, cache_key}."""
        import pyarrow as pa
        import pyarrow.parquet as pq

        recs = self.records
        struct = pa.struct([(name, pa.string()) for name in self.text_fields])
        table = pa.table({
            "id": pa.array([r.id for r in recs], pa.string()),
            "text": pa.array([r.text for r in recs], pa.string()),
            "fields": pa.array([r.fields for r in recs], struct),
            "row": pa.array([r.row for r in recs], pa.int64()),
            "duplicates": pa.array([r.duplicates for r in recs], pa.int64()),
            "too_long": pa.array([r.too_long for r in recs], pa.bool_()),
            "label": pa.array([r.label for r in recs], pa.string()),
            "labels": pa.array([r.labels for r in recs], pa.list_(pa.string())),
        })
        meta = {"version": _POOL_VERSION, "source": self.source, "text_fields": self.text_fields,
                "rows_read": self.rows_read, "rejects": self.rejects, "cache_key": cache_key}
        table = table.replace_schema_metadata({_META_KEY: json.dumps(meta).encode()})
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")  # per process: `torchrun` runs several
        pq.write_table(table, tmp)
        tmp.replace(path)

    @classmethod
    def load(cls, path: str | Path) -> "Pool":
        import pyarrow.parquet as pq

        try:
            table = pq.read_table(path)
            meta = json.loads(table.schema.metadata[_META_KEY])
        except Exception as exc:  # noqa: BLE001 - any damage means "not a pool file"
            raise LabelerError(f"cannot read pool file {path}: {exc}; delete it to rebuild") from None
        cols = {name: table.column(name).to_pylist() for name in table.column_names}
        records = [
            Record(id=i, text=t, fields=f, row=r, duplicates=d, too_long=tl, label=lab, labels=labs)
            for i, t, f, r, d, tl, lab, labs in zip(cols["id"], cols["text"], cols["fields"], cols["row"],
                                                    cols["duplicates"], cols["too_long"], cols["label"], cols["labels"])
        ]
        return cls(records=records, rejects=meta["rejects"], rows_read=meta["rows_read"],
                   text_fields=meta["text_fields"], source=meta["source"])

    @staticmethod
    def cache_key_of(path: str | Path) -> str:
        import pyarrow.parquet as pq

        try:
            meta = pq.read_schema(path).metadata or {}
            return json.loads(meta[_META_KEY]).get("cache_key", "")
        except Exception:  # noqa: BLE001 - unreadable cache = no cache
            return ""


# -- entry point --------------------------------------------------------------------------------------
def load_pool(config, use_cache: bool = True) -> Pool:
    """Read ``config.data`` into a ``Pool``; write ``rejects.jsonl`` and ``pool.parquet`` in ``config.project.dir``.

    With ``use_cache`` an existing ``pool.parquet`` built from the same data settings and the same file
    (size and modification time) is loaded instead of re-reading the source.
    """
    data, project_dir = config.data, Path(config.project.dir)
    path = Path(data.path)
    if not path.exists():
        raise LabelerError(f"data file not found: {path} (data.path)")
    fmt = _detect_format(path, data.format)
    key = _cache_key(config, path)
    pool_path = project_dir / POOL_FILE
    if use_cache and pool_path.exists() and Pool.cache_key_of(pool_path) == key:
        return Pool.load(pool_path)
    pool, rejected = read_pool(path, fmt, data.text_fields, data.id_field, data.label_field,
                               data.max_chars, config.task.multi_label)
    _write_rejects(project_dir / REJECTS_FILE, rejected)
    if not pool.records:
        raise LabelerError(f"no usable rows in {path}: {pool.summary()}; see {project_dir / REJECTS_FILE}")
    pool.save(pool_path, cache_key=key)
    return pool


def read_pool(
    path: Path,
    fmt: str,
    text_fields: list[str],
    id_field: str | None = None,
    label_field: str | None = None,
    max_chars: int = 20_000,
    multi_label: bool = False,
) -> tuple[Pool, list[dict]]:
    """Read and check every row (no caching, no files written): the pool and the reject entries."""
    wanted = [*text_fields, *(f for f in (id_field, label_field) if f)]
    reader = {"csv": _read_csv, "jsonl": _read_jsonl, "parquet": _read_parquet, "hf": _read_hf}[fmt]
    columns, rows = reader(path, wanted)
    if not rows:
        raise LabelerError(f"{path} has no rows")
    absent = [c for c in wanted if c not in columns]
    if columns and absent:  # no columns at all: every row failed to parse; the rejects say why
        seen = ", ".join(sorted(map(str, columns))[:20]) or "none"
        raise LabelerError(f"{path}: column(s) {', '.join(map(repr, absent))} not found in any row "
                           f"(columns: {seen}); check data.text_fields / id_field / label_field")
    return _build(rows, path, text_fields, id_field, label_field, max_chars, multi_label)


def sample_rows(path: str | Path, fmt: str = "auto", n: int = 200) -> tuple[list[str], list[dict]]:
    """Column names (file order) and up to ``n`` parsed rows (unparseable ones skipped), for ``labeler init``."""
    path = Path(path)
    if not path.exists():
        raise LabelerError(f"data file not found: {path}")
    fmt = _detect_format(path, fmt)
    if fmt == "parquet":
        import pyarrow.parquet as pq

        try:
            pf = pq.ParquetFile(path)
            batch = next(pf.iter_batches(batch_size=n), None)
        except Exception as exc:  # noqa: BLE001 - pyarrow raises several types for a damaged file
            raise LabelerError(f"{path}: not a readable Parquet file ({' '.join(str(exc).split())})") from None
        return list(pf.schema_arrow.names), batch.to_pylist() if batch is not None else []
    if fmt == "hf":
        ds = _load_hf(path)
        return list(ds.column_names), ds.select(range(min(n, len(ds)))).to_list()
    columns, rows = (_read_csv if fmt == "csv" else _read_jsonl)(path, [])
    return list(columns), [r.values for r in rows if r.values is not None][:n]


# -- building records ---------------------------------------------------------------------------------
@dataclass(slots=True)
class _Raw:
    row: int
    line: int | None
    values: dict | None = None
    reason: str | None = None
    detail: str = ""
    preview: str = ""


def _build(rows, path, text_fields, id_field, label_field, max_chars, multi_label) -> tuple[Pool, list[dict]]:
    records: list[Record] = []
    by_text: dict[tuple, Record] = {}
    by_id: dict[str, Record] = {}
    rejected: list[dict] = []

    def reject(raw: _Raw, reason: str, detail: str = "", preview: str = "", rid: str | None = None) -> None:
        entry = {"row": raw.row, "line": raw.line, "reason": reason, "detail": detail,
                 "preview": preview[:_PREVIEW], "id": rid}
        rejected.append({k: v for k, v in entry.items() if v is not None})

    for raw in rows:
        if raw.reason:
            reject(raw, raw.reason, raw.detail, raw.preview)
            continue
        values = raw.values
        fields, reason, detail = _text_of(values, text_fields)
        if reason:
            reject(raw, reason, detail, _preview(values))
            continue
        key = tuple(fields.values())
        if id_field:
            rid = _as_id(values.get(id_field))
            if rid is not None and _SURROGATE.search(rid):
                reject(raw, INVALID_UTF8, f"{id_field!r} holds bytes that are not UTF-8", _preview(values))
                continue
            if rid is None:
                reject(raw, MISSING_ID, f"{id_field!r} is {values.get(id_field)!r}", _preview(values))
                continue
        else:
            rid = "h:" + hashlib.sha1("\x1f".join(key).encode("utf-8")).hexdigest()[:16]
        if key in by_text:
            by_text[key].duplicates += 1
            continue
        if rid in by_id:
            reject(raw, DUPLICATE_ID, f"id {rid!r} was first used at row {by_id[rid].row}", _preview(values), rid)
            continue
        text = _compose(fields)
        record = Record(id=rid, text=text, fields=fields, row=raw.row, too_long=len(text) > max_chars)
        if label_field:
            record.label, record.labels = _truth(values.get(label_field), multi_label)
            truth = [record.label] if record.label is not None else (record.labels or [])
            if any(_SURROGATE.search(t) for t in truth):
                record.label = record.labels = None
        records.append(record)
        by_text[key] = by_id[rid] = record
    pool = Pool(records=records, rejects=dict(Counter(e["reason"] for e in rejected)), rows_read=len(rows),
                text_fields=list(text_fields), source=str(path))
    return pool, rejected


def _text_of(values: dict, text_fields: list[str]) -> tuple[dict[str, str], str | None, str]:
    """The text fields as strings, or the reject reason and detail."""
    fields: dict[str, str] = {}
    present = nulls = 0
    for name in text_fields:
        if name not in values:
            fields[name] = ""
            continue
        present += 1
        value = values[name]
        if value is None or (isinstance(value, float) and math.isnan(value)):
            nulls += 1
            fields[name] = ""
        elif isinstance(value, str):
            fields[name] = value
        elif isinstance(value, (bytes, bytearray)):
            try:
                fields[name] = bytes(value).decode("utf-8")
            except UnicodeDecodeError as exc:
                return fields, INVALID_UTF8, f"field {name!r}: {exc.reason} at byte {exc.start}"
        elif isinstance(value, (int, float)) and not isinstance(value, bool):
            fields[name] = str(value)
        else:
            return fields, NON_STRING, f"field {name!r} is a {type(value).__name__}"
        if _SURROGATE.search(fields[name]):
            return fields, INVALID_UTF8, f"field {name!r} holds bytes that are not UTF-8 (or lone surrogates)"
    if present == 0:
        return fields, MISSING_FIELD, f"no {' / '.join(map(repr, text_fields))} in this row"
    if nulls == present and not any(fields.values()):
        return fields, NULL_TEXT, f"{' / '.join(map(repr, text_fields))} is null"
    if not any(v.strip() for v in fields.values()):
        return fields, EMPTY_TEXT, "blank text"
    return fields, None, ""


def _compose(fields: dict[str, str]) -> str:
    """One field: its text. Several: ``"name: value"`` lines for the non-blank ones."""
    if len(fields) == 1:
        return next(iter(fields.values()))
    return "\n".join(f"{name}: {value}" for name, value in fields.items() if value.strip())


def _as_id(value: Any) -> str | None:
    if value is None or isinstance(value, (dict, list)):
        return None
    if isinstance(value, float):
        if math.isnan(value):
            return None
        if value.is_integer():
            value = int(value)
    text = str(value).strip()
    return text or None


def _truth(value: Any, multi_label: bool) -> tuple[str | None, list[str] | None]:
    """(label, labels) from a label cell: multi-label wants a list (a scalar becomes a 1-item list);
    single-label a scalar (a 1-item list is unwrapped; anything else is no truth)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None, None
    items = list(value) if isinstance(value, (list, tuple)) else None
    if multi_label:
        return None, [str(v) for v in (items if items is not None else [value])]
    if items is not None:
        return (str(items[0]) if len(items) == 1 else None), None
    return str(value), None


def _preview(values: Any) -> str:
    return json.dumps(values, ensure_ascii=False, default=str)[:_PREVIEW] if values is not None else ""


# -- readers: each returns (columns seen, rows) -----------------------------------------------------
def _read_csv(path: Path, wanted: list[str]) -> tuple[dict, list[_Raw]]:
    """Decode with surrogateescape so one bad byte only rejects the row whose used cells hold it."""
    text = path.read_bytes().decode("utf-8", errors="surrogateescape").removeprefix("\ufeff")
    reader = csv.reader(io.StringIO(text, newline=""), delimiter="\t" if path.suffix.lower() == ".tsv" else ",")
    old_limit = csv.field_size_limit()
    csv.field_size_limit(min(sys.maxsize, 2**31 - 1))
    rows: list[_Raw] = []
    try:
        header = next(reader, None)
        if header is None:
            return {}, []
        start = reader.line_num + 1
        for cells in reader:
            line, start = start, reader.line_num + 1
            if not cells:  # a blank line is not a row
                continue
            raw = _Raw(row=len(rows) + 1, line=line)
            if len(cells) > len(header):
                raw.reason, raw.detail = MALFORMED_CSV, f"{len(cells)} cells, header has {len(header)}"
                raw.preview = _unescape(",".join(cells))[:_PREVIEW]
            else:
                raw.values = dict(zip(header, cells))
                bad = [c for c in wanted if _SURROGATE.search(raw.values.get(c, ""))]
                if bad:
                    raw.reason, raw.detail = INVALID_UTF8, f"column(s) {', '.join(bad)} hold bytes that are not UTF-8"
                    raw.preview, raw.values = _unescape(",".join(cells))[:_PREVIEW], None
            rows.append(raw)
    except csv.Error as exc:
        raise LabelerError(f"{path}: unreadable CSV near line {reader.line_num}: {exc}") from None
    finally:
        csv.field_size_limit(old_limit)
    return dict.fromkeys(header), rows


def _unescape(text: str) -> str:
    return text.encode("utf-8", "surrogateescape").decode("utf-8", "replace")


def _read_jsonl(path: Path, wanted: list[str]) -> tuple[dict, list[_Raw]]:
    data = path.read_bytes().removeprefix(b"\xef\xbb\xbf")
    if path.suffix.lower() == ".json" and data.lstrip()[:1] == b"[":
        return _read_json_array(path, data)
    columns: dict = {}
    rows: list[_Raw] = []
    for number, line in enumerate(data.split(b"\n"), start=1):
        line = line.rstrip(b"\r")
        if not line.strip():
            continue
        raw = _Raw(row=len(rows) + 1, line=number)
        rows.append(raw)
        try:
            decoded = line.decode("utf-8")
        except UnicodeDecodeError as exc:
            raw.reason, raw.detail = INVALID_UTF8, f"{exc.reason} at byte {exc.start}"
            raw.preview = line.decode("utf-8", "replace")[:_PREVIEW]
            continue
        try:
            value = json.loads(decoded)
        except json.JSONDecodeError as exc:
            raw.reason, raw.detail, raw.preview = INVALID_JSON, f"{exc.msg} at column {exc.colno}", decoded[:_PREVIEW]
            continue
        _set_object(raw, value, decoded, columns)
    return columns, rows


def _read_json_array(path: Path, data: bytes) -> tuple[dict, list[_Raw]]:
    try:
        items = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise LabelerError(f"{path}: not a valid JSON array ({exc}); use JSON Lines for row-by-row checks") from None
    columns: dict = {}
    rows = []
    for i, item in enumerate(items, start=1):
        raw = _Raw(row=i, line=None)
        _set_object(raw, item, None, columns)
        rows.append(raw)
    return columns, rows


def _set_object(raw: _Raw, value: Any, source: str | None, columns: dict) -> None:
    if isinstance(value, dict):
        raw.values = value
        columns.update(dict.fromkeys(value))
    else:
        raw.reason, raw.detail = NOT_OBJECT, f"a JSON {type(value).__name__}"
        raw.preview = (source if source is not None else json.dumps(value, ensure_ascii=False))[:_PREVIEW]


def _read_parquet(path: Path, wanted: list[str]) -> tuple[dict, list[_Raw]]:
    import pyarrow.parquet as pq

    try:
        names = dict.fromkeys(pq.read_schema(path).names)
        table = pq.read_table(path, columns=[c for c in wanted if c in names])
    except Exception as exc:  # noqa: BLE001 - pyarrow raises several types for a damaged file
        raise LabelerError(f"{path}: not a readable Parquet file ({' '.join(str(exc).split())})") from None
    return names, _rows_from_columns({c: table.column(c).to_pylist() for c in table.column_names}, table.num_rows)


def _read_hf(path: Path, wanted: list[str]) -> tuple[dict, list[_Raw]]:
    ds = _load_hf(path)
    names = dict.fromkeys(ds.column_names)
    columns = ds.select_columns([c for c in wanted if c in names])[:] if len(ds) else {}
    return names, _rows_from_columns(columns, len(ds))


def _load_hf(path: Path):
    """A saved ``Dataset``, or the only split of a saved ``DatasetDict``."""
    try:
        import datasets

        ds = datasets.load_from_disk(str(path))
    except Exception as exc:  # noqa: BLE001 - FileNotFoundError, or datasets' own errors
        raise LabelerError(f"{path}: not a saved Hugging Face dataset folder ({' '.join(str(exc).split())})") from None
    if isinstance(ds, datasets.DatasetDict):
        if len(ds) != 1:
            raise LabelerError(f"{path} holds splits {sorted(ds)}; point data.path at one split's folder, "
                               f"e.g. {path / sorted(ds)[0]}")
        ds = next(iter(ds.values()))
    return ds


def _rows_from_columns(columns: dict[str, list], n_rows: int) -> list[_Raw]:
    names = list(columns)
    return [_Raw(row=i + 1, line=None, values={n: columns[n][i] for n in names}) for i in range(n_rows)]


# -- helpers ------------------------------------------------------------------------------------------
def _detect_format(path: Path, fmt: str) -> str:
    if fmt != "auto":
        return fmt
    if path.is_dir():
        return "hf"
    found = _SUFFIXES.get(path.suffix.lower())
    if found is None:
        raise LabelerError(f"cannot tell the format of {path} from its suffix; set data.format "
                           f"(csv, jsonl, parquet or hf)")
    return found


def _cache_key(config, path: Path) -> str:
    files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
    stamp = [[str(p), p.stat().st_size, p.stat().st_mtime_ns] for p in files]
    payload = {"v": _POOL_VERSION, "data": config.data.model_dump(mode="json"),
               "multi_label": config.task.multi_label, "files": stamp}
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()[:16]


def _write_rejects(path: Path, rejected: Iterable[dict]) -> None:
    """Rewrite the rejects file (an empty file when nothing was rejected, so a stale one never misleads)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    with open(tmp, "w", encoding="utf-8", errors="replace") as f:  # lone surrogates in previews -> "?"
        for entry in rejected:
            f.write(json.dumps(entry, ensure_ascii=False) + "\n")
    tmp.replace(path)
