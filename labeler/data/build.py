"""Parsed rows -> records: text fields checked and composed, ids, duplicates, held-back truth, rejects."""

from __future__ import annotations

import hashlib
import math
from collections import Counter
from typing import Any

from labeler.data.multilabel import LabelNotes, parse_labels
from labeler.data.records import Pool, Record
from labeler.data.rows import (
    DUPLICATE_ID,
    EMPTY_TEXT,
    INVALID_UTF8,
    MISSING_FIELD,
    MISSING_ID,
    NON_STRING,
    NULL_TEXT,
    PREVIEW,
    SURROGATE,
    RawRow,
    preview,
)


def build_pool(rows, path, text_fields, id_field, label_field, max_chars, multi_label,
               label_names=None, collapse: bool = True) -> tuple[Pool, list[dict]]:
    """The pool of the usable rows (duplicates collapsed) and one reject entry per unusable row. Multi-label
    truth is read by ``labeler.data.multilabel.parse_labels`` (against ``label_names`` when given), and what
    was odd about it is counted in ``Pool.label_notes``. ``collapse=False`` (``labeler predict``: one prediction
    per input row) keeps every row, a duplicate text included; without ``id_field`` a row is then named by its
    position (``row-<n>``), since a text's hash would name its copies alike."""
    records: list[Record] = []
    by_text: dict[tuple, Record] = {}
    by_id: dict[str, Record] = {}
    rejected: list[dict] = []
    notes = LabelNotes()

    def reject(raw: RawRow, reason: str, detail: str = "", preview_text: str = "", rid: str | None = None) -> None:
        entry = {"row": raw.row, "line": raw.line, "reason": reason, "detail": detail,
                 "preview": preview_text[:PREVIEW], "id": rid}
        rejected.append({k: v for k, v in entry.items() if v is not None})

    for raw in rows:
        if raw.reason:
            reject(raw, raw.reason, raw.detail, raw.preview)
            continue
        values = raw.values
        fields, reason, detail = text_of(values, text_fields)
        if reason:
            reject(raw, reason, detail, preview(values))
            continue
        key = tuple(fields.values())
        if id_field:
            rid = as_id(values.get(id_field))
            if rid is not None and SURROGATE.search(rid):
                reject(raw, INVALID_UTF8, f"{id_field!r} holds bytes that are not UTF-8", preview(values))
                continue
            if rid is None:
                reject(raw, MISSING_ID, f"{id_field!r} is {values.get(id_field)!r}", preview(values))
                continue
        elif not collapse:
            rid = f"row-{raw.row}"
        else:
            rid = "h:" + hashlib.sha1("\x1f".join(key).encode("utf-8")).hexdigest()[:16]
        if collapse and key in by_text:
            by_text[key].duplicates += 1
            continue
        if rid in by_id:
            reject(raw, DUPLICATE_ID, f"id {rid!r} was first used at row {by_id[rid].row}", preview(values), rid)
            continue
        text = compose(fields)
        record = Record(id=rid, text=text, fields=fields, row=raw.row, too_long=len(text) > max_chars)
        if label_field and multi_label:
            record.labels = parse_labels(values.get(label_field), label_names, notes)
            if record.labels is not None and any(SURROGATE.search(t) for t in record.labels):
                record.labels = None
        elif label_field:
            record.label, record.labels = truth(values.get(label_field), multi_label)
            held = [record.label] if record.label is not None else (record.labels or [])
            if any(SURROGATE.search(t) for t in held):
                record.label = record.labels = None
        records.append(record)
        by_text[key] = by_id[rid] = record
    pool = Pool(records=records, rejects=dict(Counter(e["reason"] for e in rejected)), rows_read=len(rows),
                text_fields=list(text_fields), source=str(path), label_notes=notes.as_dict())
    return pool, rejected


def text_of(values: dict, text_fields: list[str]) -> tuple[dict[str, str], str | None, str]:
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
        if SURROGATE.search(fields[name]):
            return fields, INVALID_UTF8, f"field {name!r} holds bytes that are not UTF-8 (or lone surrogates)"
    if present == 0:
        return fields, MISSING_FIELD, f"no {' / '.join(map(repr, text_fields))} in this row"
    if nulls == present and not any(fields.values()):
        return fields, NULL_TEXT, f"{' / '.join(map(repr, text_fields))} is null"
    if not any(v.strip() for v in fields.values()):
        return fields, EMPTY_TEXT, "blank text"
    return fields, None, ""


def compose(fields: dict[str, str]) -> str:
    """One field: its text. Several: ``"name: value"`` lines for the non-blank ones."""
    if len(fields) == 1:
        return next(iter(fields.values()))
    return "\n".join(f"{name}: {value}" for name, value in fields.items() if value.strip())


def as_id(value: Any) -> str | None:
    if value is None or isinstance(value, (dict, list)):
        return None
    if isinstance(value, float):
        if math.isnan(value):
            return None
        if value.is_integer():
            value = int(value)
    text = str(value).strip()
    return text or None


def truth(value: Any, multi_label: bool) -> tuple[str | None, list[str] | None]:
    """(label, labels) from a label cell: multi-label wants a list (a scalar becomes a 1-item list);
    single-label a scalar (a 1-item list is unwrapped; anything else is no truth). A blank cell is no truth, as
    ``labeler init --labels-from`` reads it (not a label ``''`` outside the config)."""
    if value is None or (isinstance(value, float) and math.isnan(value)) or (isinstance(value, str) and not value.strip()):
        return None, None
    items = list(value) if isinstance(value, (list, tuple)) else None
    if multi_label:
        return None, [str(v) for v in (items if items is not None else [value])]
    if items is not None:
        return (str(items[0]) if len(items) == 1 else None), None
    return str(value), None
