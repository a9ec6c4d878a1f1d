"""A row as a reader parsed it, and the reasons a row can be rejected (see ``labeler.data``)."""

from __future__ import annotations

import codecs
import json
import re
from dataclasses import dataclass
from typing import Any

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
NOT_TEXT_FILE = "not a text file"  # a folder's file of another kind (format files)
REJECT_REASONS = (MISSING_FIELD, NULL_TEXT, NON_STRING, EMPTY_TEXT, INVALID_UTF8, INVALID_JSON, NOT_OBJECT,
                  MALFORMED_CSV, MISSING_ID, DUPLICATE_ID, NOT_TEXT_FILE)

PREVIEW = 200  # characters of a rejected row kept in rejects.jsonl
SURROGATE = re.compile("[\ud800-\udfff]")  # undecodable bytes (surrogateescape) or lone surrogates


@dataclass(slots=True)
class RawRow:
    """One data row: its 1-based number, its physical line (CSV / JSONL), and its values or why it failed."""

    row: int
    line: int | None
    values: dict | None = None
    reason: str | None = None
    detail: str = ""
    preview: str = ""


def preview(values: Any) -> str:
    return json.dumps(values, ensure_ascii=False, default=str)[:PREVIEW] if values is not None else ""


def not_decodable(encoding: str) -> str:
    """The reject detail's words for bytes ``encoding`` cannot decode, naming ``data.encoding``."""
    name = codecs.lookup(encoding).name
    if name == "utf-8":
        return "bytes that are not UTF-8 (set data.encoding if the file has another encoding, e.g. latin-1)"
    return f"bytes that are not {name} (data.encoding)"


def decoded_lines(data: bytes, encoding: str):
    """One ``RawRow`` per non-blank line of ``data`` (rows numbered, each with its line), with the line decoded, or
    None where its bytes do not decode (the row is then rejected as invalid UTF-8, with a preview)."""
    rows = 0
    for number, line in enumerate(data.split(b"\n"), start=1):
        line = line.rstrip(b"\r")
        if not line.strip():
            continue
        rows += 1
        raw = RawRow(row=rows, line=number)
        try:
            decoded = line.decode(encoding)
        except UnicodeDecodeError as exc:
            raw.reason, raw.detail = INVALID_UTF8, f"{not_decodable(encoding)}: {exc.reason} at byte {exc.start}"
            raw.preview, decoded = line.decode("utf-8", "replace")[:PREVIEW], None
        yield raw, decoded


def unique_names(header: list) -> list[str]:
    """A header's column names, each once: a blank name becomes ``column <n>`` (its position), a repeated one
    ``<name>_2``, ``<name>_3`` (a CSV or a sheet may repeat a name; a dict of the row would keep only the last)."""
    out: list[str] = []
    for i, name in enumerate(header):
        base = str(name) if name is not None and str(name).strip() else f"column {i + 1}"
        new, n = base, 1
        while new in out:
            n += 1
            new = f"{base}_{n}"
        out.append(new)
    return out


def renamed_line(header: list) -> str | None:
    """For ``labeler init``: how ``unique_names`` renamed a header's blank or repeated names, else None."""
    parts = [f"column {i + 1} has no name" if not (h is not None and str(h).strip()) else f"{str(h)!r} again in "
             f"column {i + 1}" for i, (h, n) in enumerate(zip(header, unique_names(header))) if str(h) != n]
    named = [n for h, n in zip(header, unique_names(header)) if str(h) != n]
    return "header: " + "; ".join(f"{p}: read as {n!r}" for p, n in zip(parts, named)) if parts else None
