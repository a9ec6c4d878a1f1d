"""A row as a reader parsed it, and the reasons a row can be rejected (see ``labeler.data``)."""

from __future__ import annotations

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
