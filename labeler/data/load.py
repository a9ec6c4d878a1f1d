"""Reading a data file into the pool (``load_pool``, ``read_pool``) and looking into one (``sample_rows``,
``column_values``, for ``labeler init``)."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any, Iterable

from labeler.data.label_checks import rename
from labeler.data.build import build_pool
from labeler.data.html import html_text
from labeler.data.readers import class_names, detect_format, load_hf, reader_for, with_nested
from labeler.data.records import POOL_VERSION, Pool
from labeler.errors import LabelerError

POOL_FILE = "pool.parquet"
REJECTS_FILE = "rejects.jsonl"


def load_pool(config, use_cache: bool = True) -> Pool:
    """Read ``config.data`` into a ``Pool``; write ``rejects.jsonl`` and ``pool.parquet`` in ``config.project.dir``.

    With ``use_cache`` an existing ``pool.parquet`` built from the same data settings and the same file
    (size and modification time) is loaded instead of re-reading the source.
    """
    data, project_dir = config.data, Path(config.project.dir)
    path = Path(data.path)
    if not path.exists():
        raise LabelerError(f"data file not found: {path} (data.path)")
    fmt = detect_format(path, data.format)
    key = cache_key(config, path)
    pool_path = project_dir / POOL_FILE
    renames = config.task.renamed  # held-back truth under a label's former name (task.labels[].was) counts as it
    if use_cache and pool_path.exists() and Pool.cache_key_of(pool_path) == key:
        return _renamed_truth(Pool.load(pool_path), renames)
    pool, rejected = read_pool(path, fmt, data.text_fields, data.id_field, data.label_field,
                               data.max_chars, config.task.multi_label, encoding=data.encoding,
                               label_names=config.label_names + list(renames) if config.task.multi_label else None,
                               strip_html=data.strip_html, sheet=data.sheet)
    write_rejects(project_dir / REJECTS_FILE, rejected)
    if not pool.records:
        raise LabelerError(f"no usable rows in {path}: {pool.summary()}; see {project_dir / REJECTS_FILE}")
    if pool_path.exists():  # the data changed since the last read: say how, in records
        pool.changed = _changes(Pool.ids_of(pool_path), pool.ids)
    pool.save(pool_path, cache_key=key)
    return _renamed_truth(pool, renames)


def _changes(before: list[str], now: list[str]) -> str | None:
    """``since the last read: 200 new records, 3 gone from the data (their labels stay)``; None when the ids are
    the same."""
    if not before:
        return None
    old, new = set(before), set(now)
    added, gone = len(new - old), len(old - new)
    parts = ([f"{added:,} new record{'s' * (added != 1)}"] if added else []) + \
        ([f"{gone:,} gone from the data (their labels stay)"] if gone else [])
    return f"since the last read: {', '.join(parts)}" if parts else None


def _renamed_truth(pool: Pool, renames: dict[str, str]) -> Pool:
    if renames:
        for rec in pool.records:
            rec.label, rec.labels = rename(rec.label, renames), rename(rec.labels, renames)
    return pool


def read_pool(
    path: Path,
    fmt: str,
    text_fields: list[str],
    id_field: str | None = None,
    label_field: str | None = None,
    max_chars: int = 20_000,
    multi_label: bool = False,
    label_names: list[str] | None = None,
    encoding: str = "utf-8",
    collapse: bool = True,
    strip_html: bool = False,
    sheet: str | None = None,
    optional_id: bool = False,
) -> tuple[Pool, list[dict]]:
    """Read and check every row (no caching, no files written): the pool and the reject entries. Multi-label
    truth outside ``label_names`` (when given) is dropped and counted (``labeler.data.multilabel``).
    ``collapse=False`` keeps duplicate texts as rows of their own (``build_pool``); ``optional_id``: a file without
    the ``id_field`` column is read without ids (rows named by position with ``collapse=False``), not refused;
    ``strip_html``: the text fields are read as plain text (``labeler.data.html``)."""
    wanted = [*text_fields, *(f for f in (id_field, label_field) if f)]
    columns, rows = reader_for(fmt, encoding, sheet)(path, wanted)
    if strip_html:
        for raw in rows:
            for f in text_fields if raw.values else ():
                if isinstance(raw.values.get(f), str) and "<" in raw.values[f]:
                    raw.values[f] = html_text(raw.values[f])
    if not rows:
        raise LabelerError(f"{path} has no rows")
    if optional_id and id_field and columns and id_field not in columns:
        id_field = None
        wanted = [f for f in wanted if f in text_fields or f == label_field]
    absent = [c for c in wanted if c not in columns]
    if columns and absent:  # no columns at all: every row failed to parse; the rejects say why
        if not all(str(c).isprintable() for c in columns):  # control characters or undecodable bytes in the header
            raise LabelerError(f"{path}: its first line is no header of column names (binary data, or another "
                               f"format than {fmt}?); column(s) {', '.join(map(repr, absent))} not found")
        seen = ", ".join(sorted(map(str, columns))[:20]) or "none"
        raise LabelerError(f"{path}: column(s) {', '.join(map(repr, absent))} not found in any row "
                           f"(columns: {seen}); check data.text_fields / id_field / label_field")
    return build_pool(rows, path, text_fields, id_field, label_field, max_chars, multi_label, label_names, collapse)


def sample_rows(path: str | Path, fmt: str = "auto", n: int = 200,
                encoding: str = "utf-8") -> tuple[list[str], list[dict]]:
    """Column names (file order) and up to ``n`` parsed rows (unparseable ones skipped), for ``labeler init``."""
    path = Path(path)
    if not path.exists():
        raise LabelerError(f"data file not found: {path}")
    fmt = detect_format(path, fmt)
    if fmt == "parquet":
        import pyarrow.parquet as pq

        try:
            pf = pq.ParquetFile(path)
            batch = next(pf.iter_batches(batch_size=n), None)
        except Exception as exc:  # noqa: BLE001 - pyarrow raises several types for a damaged file
            raise LabelerError(f"{path}: not a readable Parquet file ({' '.join(str(exc).split())})") from None
        rows = [with_nested(r) for r in batch.to_pylist()] if batch is not None else []
        return list(dict.fromkeys([*pf.schema_arrow.names, *(k for r in rows for k in r)])), rows
    if fmt == "hf":
        ds = load_hf(path)
        rows = [with_nested({k: class_names(ds.features.get(k), v) for k, v in r.items()})
                for r in ds.select(range(min(n, len(ds)))).to_list()]
        return list(dict.fromkeys([*ds.column_names, *(k for r in rows for k in r)])), rows
    columns, rows = reader_for(fmt, encoding)(path, [])
    return list(columns), [r.values for r in rows if r.values is not None][:n]


def column_values(path: str | Path, column: str, fmt: str = "auto", encoding: str = "utf-8") -> list[Any]:
    """Every parsed row's value of ``column`` (None where the row lacks it; unparseable rows skipped).

    A column no row holds is one ``LabelerError`` line naming the columns there are."""
    path = Path(path)
    if not path.exists():
        raise LabelerError(f"data file not found: {path}")
    fmt = detect_format(path, fmt)
    columns, rows = reader_for(fmt, encoding)(path, [column])
    if column not in columns:
        seen = ", ".join(sorted(map(str, columns))[:20]) or "none"
        raise LabelerError(f"{path} has no column {column!r} (columns: {seen})")
    return [r.values.get(column) for r in rows if r.values is not None]


def cache_key(config, path: Path) -> str:
    files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
    stamp = [[str(p), p.stat().st_size, p.stat().st_mtime_ns] for p in files]
    payload = {"v": POOL_VERSION, "data": config.data.model_dump(mode="json"),
               "multi_label": config.task.multi_label, "files": stamp,
               **({"labels": list(config.label_names) + list(config.task.renamed)} if config.task.multi_label else {})}
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()[:16]


def write_rejects(path: Path, rejected: Iterable[dict]) -> None:
    """Rewrite the rejects file (an empty file when nothing was rejected, so a stale one never misleads)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    with open(tmp, "w", encoding="utf-8", errors="replace") as f:  # lone surrogates in previews -> "?"
        for entry in rejected:
            f.write(json.dumps(entry, ensure_ascii=False) + "\n")
    tmp.replace(path)
