"""Values in argilla-server's SQLite tables as the search SQL needs them (no I/O).

Named SQL parameters (``Params``), conversions of what a search request holds into what SQLAlchemy stored
(UUIDs, datetimes, JSON paths), user text into a safe FTS5 MATCH expression (``fts_query``) and the per-user
shuffle key that stands in for Elasticsearch's ``random_score`` (``user_shuffle_expr``).

Stored formats on SQLite (SQLAlchemy defaults): UUIDs are 32 lower-case hex characters, datetimes are
``YYYY-MM-DD HH:MM:SS.ffffff`` (naive UTC), JSON columns are JSON text, except that a column declared JSON has
NUMERIC affinity, so a bare number (a suggestion score) is stored as an SQLite number.
"""

from __future__ import annotations

import re
import uuid
from datetime import datetime, timezone
from typing import Any, Dict, List, Optional

# Multiplicative-hash constants for the per-user deterministic shuffle (mirrors ES `random_score` seeded by user).
_HASH_P = 4294967291  # largest prime < 2**32
_HASH_A = 2654435761
_HASH_B = 2246822519


class Params:
    """Collects named SQL parameters (:p0, :p1, ...)."""

    def __init__(self, initial: Optional[Dict[str, Any]] = None):
        self.values: Dict[str, Any] = dict(initial or {})
        self._n = 0

    def add(self, value: Any) -> str:
        name = f"p{self._n}"
        self._n += 1
        self.values[name] = value
        return f":{name}"

    def add_list(self, values: List[Any]) -> str:
        return ", ".join(self.add(v) for v in values) or "NULL"


# ---------------------------------------------------------------------------------------------------------------
# value conversions


def uuid_hex(value: Any) -> Optional[str]:
    """A UUID (object or string, with or without dashes) as stored by SQLAlchemy on SQLite; None if invalid."""
    if isinstance(value, uuid.UUID):
        return value.hex
    try:
        return uuid.UUID(str(value)).hex
    except (ValueError, AttributeError, TypeError):
        return None


def db_datetime(value: Any) -> Optional[str]:
    """A date bound (ISO string, datetime or epoch milliseconds, as ES accepts) in the stored text format."""
    if value is None:
        return None
    if isinstance(value, datetime):
        dt = value
    elif isinstance(value, (int, float)):
        dt = datetime.fromtimestamp(float(value) / 1000.0, tz=timezone.utc)
    else:
        text = str(value).strip()
        try:
            dt = datetime.fromtimestamp(float(text) / 1000.0, tz=timezone.utc)
        except ValueError:
            dt = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if dt.tzinfo is not None:
        dt = dt.astimezone(timezone.utc).replace(tzinfo=None)
    return dt.strftime("%Y-%m-%d %H:%M:%S.%f")


def json_path(*keys: str) -> str:
    """A SQLite JSON path with every key quoted, e.g. ``$."my key"``."""
    parts = []
    for key in keys:
        escaped = key.replace("\\", "\\\\").replace('"', '\\"')
        parts.append(f'"{escaped}"')
    return "$." + ".".join(parts)


def number(value: Any) -> Any:
    if isinstance(value, (int, float)):
        return value
    try:
        return float(value)
    except (TypeError, ValueError):
        return value


# ---------------------------------------------------------------------------------------------------------------
# full-text query

_PHRASE = re.compile(r'"([^"]*)"')
_TOKEN = re.compile(r"([^\W_]+)(\*?)")


def fts_query(text: Optional[str]) -> Optional[str]:
    """User text -> FTS5 MATCH expression, or None when nothing searchable is left (then nothing matches).

    Every token is emitted as a double-quoted FTS5 string (tokens hold only letters and digits, so no quote can
    occur inside), which makes FTS5 operators (AND, OR, NOT, NEAR, ^, :, parentheses, column filters) inert.
    Kept from Elasticsearch's ``simple_query_string``: terms are ANDed, ``"a phrase"`` matches the phrase and a
    trailing ``*`` makes a prefix query. Other operators (``|``, ``-``, ``~``) are treated as separators.
    """
    if text is None:
        return None
    text = str(text)
    parts: List[str] = []
    last = 0
    for match in _PHRASE.finditer(text):
        parts.extend(_plain_terms(text[last : match.start()]))
        tokens = [t for t, _ in _TOKEN.findall(match.group(1))]
        if tokens:
            parts.append('"' + " ".join(tokens) + '"')
        last = match.end()
    parts.extend(_plain_terms(text[last:]))
    return " ".join(parts) if parts else None


def _plain_terms(text: str) -> List[str]:
    return [f'"{token}"' + (" *" if star else "") for token, star in _TOKEN.findall(text)]


# ---------------------------------------------------------------------------------------------------------------
# per-user shuffle


def user_shuffle_expr(user_id: Any, params: Params) -> str:
    """A deterministic per-user pseudo-random key in [0, 1) over ``r.rowid`` (ES: random_score seeded by user)."""
    digest = int(uuid_hex(user_id) or uuid.uuid5(uuid.NAMESPACE_OID, str(user_id)).hex, 16)
    seed1 = params.add(digest % _HASH_P)
    seed2 = params.add((digest >> 64) % (1 << 31))
    h1 = f"(((r.rowid + {seed1}) * {_HASH_A}) % {_HASH_P})"
    xor = f"(({h1} | {seed2}) - ({h1} & {seed2}))"
    return f"(((({xor}) % {_HASH_P}) * {_HASH_B}) % {_HASH_P}) * 1.0 / {_HASH_P}"
