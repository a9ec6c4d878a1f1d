"""SQL builders for the SQLite search engine (see ``search_engine.py``).

No I/O: ``QueryBuilder`` turns argilla-server's search-engine ``Filter`` trees and ``Order`` lists into SQL over
argilla-server's own tables (alias ``r`` is ``records``), with every value passed as a named parameter;
``fts_query`` turns user text into a safe FTS5 MATCH expression.

Stored formats on SQLite (SQLAlchemy defaults): UUIDs are 32 lower-case hex characters, datetimes are
``YYYY-MM-DD HH:MM:SS.ffffff`` (naive UTC), JSON columns are JSON text, except that a column declared JSON has
NUMERIC affinity, so a bare number (a suggestion score) is stored as an SQLite number.

Speed notes (50,000 records, 2 cores): membership subqueries return record rowids, not 32-character ids
(~2x cheaper to probe); suggestion filters join ``suggestions`` once per question as an inner join so SQLite
can drive the query from the question's suggestions; list-valued JSON only pays for ``json_each``.
"""

from __future__ import annotations

import dataclasses
import re
import uuid
from datetime import datetime, timezone
from typing import Any, Dict, List, Optional, Tuple

from argilla_server.enums import ResponseStatusFilter, SortOrder
from argilla_server.search_engine.base import (
    AndFilter,
    Filter,
    MetadataFilterScope,
    Order,
    RangeFilter,
    RecordFilterScope,
    ResponseFilterScope,
    SuggestionFilterScope,
    TermsFilter,
)

# Multiplicative-hash constants for the per-user deterministic shuffle (mirrors ES `random_score` seeded by user).
_HASH_P = 4294967291  # largest prime < 2**32
_HASH_A = 2654435761
_HASH_B = 2246822519


@dataclasses.dataclass
class DatasetSchema:
    """What the builders need to know about a dataset: ids of questions, types of metadata properties."""

    dataset_id: str  # hex
    questions: Dict[str, str]  # name -> question id (hex)
    metadata_types: Dict[str, str]  # name -> "terms" | "integer" | "float"


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


def _number(value: Any) -> Any:
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
# JSON value conditions
#
# Two shapes of JSON value occur:
# * a whole JSON column (suggestions.value / .score). The column's declared type JSON gives it NUMERIC affinity,
#   so scalar numbers are stored as SQLite numbers and strings / lists as JSON text. Fast paths test typeof()
#   and only fall back to json_each for lists.
# * a value at a path inside a JSON object (records.metadata, responses.values): json_type() tells lists apart.
# Lists behave as Elasticsearch multi-valued fields: a filter matches if any element matches; sorting uses the
# minimum (asc) or maximum (desc) element.

_NUMERIC = "typeof({c}) IN ('integer', 'real')"


def _bounds(expr: str, ge: Any, le: Any, params: Params, convert=_number) -> str:
    conds = []
    if ge is not None:
        conds.append(f"{expr} >= {params.add(convert(ge))}")
    if le is not None:
        conds.append(f"{expr} <= {params.add(convert(le))}")
    return "(" + " AND ".join(conds) + ")" if conds else f"{expr} IS NOT NULL"


def _text_in(expr: str, values: List[Any], params: Params) -> str:
    return f"CAST({expr} AS TEXT) IN ({params.add_list([str(v) for v in values])})"


def _column_terms(col: str, values: List[Any], params: Params) -> str:
    vals = params.add_list([str(v) for v in values])
    return (
        f"(CASE WHEN {_NUMERIC.format(c=col)} THEN CAST({col} AS TEXT) IN ({vals}) "
        f"WHEN {col} >= '[' THEN EXISTS (SELECT 1 FROM json_each({col}) j WHERE CAST(j.value AS TEXT) IN ({vals})) "
        f"ELSE json_extract({col}, '$') IN ({vals}) END)"
    )


def _column_range(col: str, flt: RangeFilter, params: Params) -> str:
    return (
        f"(CASE WHEN {_NUMERIC.format(c=col)} THEN {_bounds(col, flt.ge, flt.le, params)} "
        f"ELSE EXISTS (SELECT 1 FROM json_each({col}) j WHERE {_NUMERIC.format(c='j.value')} "
        f"AND {_bounds('j.value', flt.ge, flt.le, params)}) END)"
    )


def _column_key(col: str, agg: str) -> str:
    return (
        f"(CASE WHEN {_NUMERIC.format(c=col)} THEN {col} "
        f"WHEN {col} >= '[' THEN (SELECT {agg}(value) FROM json_each({col})) ELSE json_extract({col}, '$') END)"
    )


def _path_terms(doc: str, path: str, values: List[Any], params: Params) -> str:
    return (
        f"(CASE WHEN json_type({doc}, {path}) = 'array' "
        f"THEN EXISTS (SELECT 1 FROM json_each({doc}, {path}) j WHERE {_text_in('j.value', values, params)}) "
        f"ELSE {_text_in(f'json_extract({doc}, {path})', values, params)} END)"
    )


def _path_range(doc: str, path: str, flt: RangeFilter, params: Params) -> str:
    return (
        f"(CASE WHEN json_type({doc}, {path}) = 'array' "
        f"THEN EXISTS (SELECT 1 FROM json_each({doc}, {path}) j WHERE {_bounds('j.value', flt.ge, flt.le, params)}) "
        f"ELSE {_bounds(f'json_extract({doc}, {path})', flt.ge, flt.le, params)} END)"
    )


def _path_key(doc: str, path: str, agg: str) -> str:
    return (
        f"(CASE WHEN json_type({doc}, {path}) = 'array' THEN (SELECT {agg}(value) FROM json_each({doc}, {path})) "
        f"ELSE json_extract({doc}, {path}) END)"
    )


def _rowids(source: str, where: str) -> str:
    """Records (as rowids) of the rows of ``source`` (aliased x, with a record_id) matching ``where``.

    Membership tests on integer rowids are much cheaper than on the 32-character ids; rowids of other datasets'
    records may be in the set and never match."""
    return f"(SELECT rr.rowid FROM {source} JOIN records rr ON rr.id = x.record_id WHERE {where})"


# ---------------------------------------------------------------------------------------------------------------
# filters and orders


class QueryBuilder:
    """Turns a ``Filter`` tree and a list of ``Order`` into SQL over ``records r`` plus the joins they need.

    One join per suggestion question (``suggestions`` is unique on record and question): an inner join when a
    filter needs the suggestion (every suggestion filter does), else a LEFT JOIN for sorting. One LEFT JOIN per
    user whose response value is sorted on (``responses`` is unique on record and user).

        builder = QueryBuilder(schema, params)
        where = builder.where(filter)      # call first
        count_joins = builder.joins()      # what the filter needs
        order_by = builder.order_by(sort)  # may add LEFT JOINs
        page_joins = builder.joins()
    """

    def __init__(self, schema: DatasetSchema, params: Params):
        self.schema = schema
        self.params = params
        self._suggestions: Dict[str, Tuple[str, bool]] = {}  # question -> (alias, inner)
        self._responses: Dict[str, str] = {}  # user hex -> alias

    def joins(self) -> str:
        parts = []
        for question, (alias, inner) in self._suggestions.items():
            qid = self.params.add(self._question_id(question))
            kind = "JOIN" if inner else "LEFT JOIN"
            parts.append(f"{kind} suggestions {alias} ON {alias}.record_id = r.id AND {alias}.question_id = {qid}")
        for user_hex, alias in self._responses.items():
            uid = self.params.add(user_hex)
            parts.append(f"LEFT JOIN responses {alias} ON {alias}.record_id = r.id AND {alias}.user_id = {uid}")
        return " ".join(parts)

    def _question_id(self, name: str) -> str:
        if name not in self.schema.questions:
            raise ValueError(f"Question {name!r} not found in dataset")
        return self.schema.questions[name]

    def _suggestion(self, question: str, inner: bool) -> str:
        self._question_id(question)
        alias, was_inner = self._suggestions.get(question, (f"s{len(self._suggestions)}", False))
        self._suggestions[question] = (alias, was_inner or inner)
        return alias

    def _response(self, user: Any) -> str:
        user_hex = uuid_hex(user.id)
        return self._responses.setdefault(user_hex, f"u{len(self._responses)}")

    # -- filters -------------------------------------------------------------------------------------------------

    def where(self, flt: Optional[Filter]) -> str:
        """A SQL boolean expression over ``records r`` for a search-engine filter tree ("1" for no filter)."""
        if flt is None:
            return "1"
        if isinstance(flt, AndFilter):
            parts = [self.where(f) for f in flt.filters]
            return "(" + " AND ".join(parts) + ")" if parts else "1"
        scope = flt.scope
        if isinstance(scope, RecordFilterScope):
            return self._record_filter(flt, scope)
        if isinstance(scope, MetadataFilterScope):
            return self._metadata_filter(flt, scope)
        if isinstance(scope, SuggestionFilterScope):
            return self._suggestion_filter(flt, scope)
        if isinstance(scope, ResponseFilterScope):
            return self._response_filter(flt, scope)
        raise ValueError(f"Cannot process request for search scope {scope}")

    def _record_filter(self, flt: Filter, scope: RecordFilterScope) -> str:
        prop = str(scope.property)
        if prop == "id":
            column, convert = "r.id", uuid_hex
        elif prop in ("inserted_at", "updated_at"):
            column, convert = f"r.{prop}", db_datetime
        elif prop in ("external_id", "status"):
            column, convert = f"r.{prop}", str
        else:
            raise ValueError(f"Cannot filter on record property {prop!r}")
        if isinstance(flt, TermsFilter):
            values = [v for v in (convert(x) for x in flt.values) if v is not None]
            return f"{column} IN ({self.params.add_list(values)})"
        if isinstance(flt, RangeFilter):
            return _bounds(column, flt.ge, flt.le, self.params, convert=convert if convert is db_datetime else _number)
        raise ValueError(f"Cannot process request for filter {flt}")

    def _metadata_filter(self, flt: Filter, scope: MetadataFilterScope) -> str:
        path = self.params.add(json_path(scope.metadata_property))
        if isinstance(flt, TermsFilter):
            return _path_terms("r.metadata", path, flt.values, self.params)
        if isinstance(flt, RangeFilter):
            return _path_range("r.metadata", path, flt, self.params)
        raise ValueError(f"Cannot process request for filter {flt}")

    def _suggestion_filter(self, flt: Filter, scope: SuggestionFilterScope) -> str:
        alias = self._suggestion(scope.question, inner=True)
        prop = str(scope.property or "value")
        if prop in ("value", "score"):
            column = f"{alias}.{prop}"
            if isinstance(flt, TermsFilter):
                return _column_terms(column, flt.values, self.params)
            if isinstance(flt, RangeFilter):
                return _column_range(column, flt, self.params)
        elif prop in ("agent", "type"):
            if isinstance(flt, TermsFilter):
                return f"{alias}.{prop} IN ({self.params.add_list([str(v) for v in flt.values])})"
            if isinstance(flt, RangeFilter):
                return _bounds(f"{alias}.{prop}", flt.ge, flt.le, self.params, convert=str)
        else:
            raise ValueError(f"Cannot filter on suggestion property {prop!r}")
        raise ValueError(f"Cannot process request for filter {flt}")

    def _response_filter(self, flt: Filter, scope: ResponseFilterScope) -> str:
        user_cond = ""
        if scope.user is not None:
            user_cond = f" AND x.user_id = {self.params.add(uuid_hex(scope.user.id))}"
        if scope.question:
            self._question_id(scope.question)
            path = self.params.add(json_path(scope.question, "value"))
            if isinstance(flt, TermsFilter):
                cond = _path_terms('x."values"', path, flt.values, self.params)
            elif isinstance(flt, RangeFilter):
                cond = _path_range('x."values"', path, flt, self.params)
            else:
                raise ValueError(f"Cannot process request for filter {flt}")
            return f"r.rowid IN {_rowids('responses x', f'1{user_cond} AND {cond}')}"
        if scope.property == "status" and isinstance(flt, TermsFilter):
            values = [str(v) for v in flt.values]
            parts = []
            if ResponseStatusFilter.pending.value in values:
                # pending = no response from that user (or no response at all when no user is given)
                parts.append(f"r.rowid NOT IN {_rowids('responses x', f'1{user_cond}')}")
            others = [v for v in values if v != ResponseStatusFilter.pending.value]
            if others:
                status_cond = f"x.status IN ({self.params.add_list(others)}){user_cond}"
                parts.append(f"r.rowid IN {_rowids('responses x', status_cond)}")
            return "(" + " OR ".join(parts) + ")" if parts else "0"
        raise ValueError(f"Cannot process filter scope {scope}")

    # -- orders --------------------------------------------------------------------------------------------------

    def order_by(self, sort: List[Order]) -> List[str]:
        """ORDER BY terms; missing values sort last in both directions, as in ES."""
        terms = []
        for order in sort:
            direction = "DESC" if str(order.order) == SortOrder.desc.value else "ASC"
            agg = "MAX" if direction == "DESC" else "MIN"  # ES sorts multi-valued fields by max (desc) / min (asc)
            terms.append(f"{self._order_expr(order.scope, agg)} {direction} NULLS LAST")
        return terms

    def _order_expr(self, scope: Any, agg: str) -> str:
        if isinstance(scope, RecordFilterScope):
            prop = str(scope.property)
            if prop not in ("id", "external_id", "inserted_at", "updated_at", "status"):
                raise ValueError(f"Cannot sort on record property {prop!r}")
            return f"r.{prop}"
        if isinstance(scope, MetadataFilterScope):
            path = self.params.add(json_path(scope.metadata_property))
            if self.schema.metadata_types.get(scope.metadata_property) == "terms":
                return _path_key("r.metadata", path, agg)
            return f"json_extract(r.metadata, {path})"
        if isinstance(scope, SuggestionFilterScope):
            alias = self._suggestion(scope.question, inner=False)
            prop = str(scope.property or "value")
            if prop in ("value", "score"):
                return _column_key(f"{alias}.{prop}", agg)
            if prop in ("agent", "type"):
                return f"{alias}.{prop}"
            raise ValueError(f"Cannot sort on suggestion property {prop!r}")
        if isinstance(scope, ResponseFilterScope):
            if scope.question:
                self._question_id(scope.question)
                path = self.params.add(json_path(scope.question, "value"))
                if scope.user is not None:  # one response per user and record
                    return _path_key(f'{self._response(scope.user)}."values"', path, agg)
                # ES: mode "avg" over all responses; text values fall back to min / max
                value = f'json_extract(x."values", {path})'
                agg_expr = f"(CASE WHEN typeof({value}) IN ('integer', 'real') THEN AVG({value}) ELSE {agg}({value}) END)"
                return f"(SELECT {agg_expr} FROM responses x WHERE x.record_id = r.id)"
            if scope.user is not None:
                return f"{self._response(scope.user)}.status"
            return f"(SELECT {agg}(x.status) FROM responses x WHERE x.record_id = r.id)"
        raise ValueError(f"Cannot process request for search scope {scope}")


def build_filter(flt: Optional[Filter], schema: DatasetSchema, params: Params) -> Tuple[str, str]:
    """(joins, where) for a filter tree alone."""
    builder = QueryBuilder(schema, params)
    where = builder.where(flt)
    return builder.joins(), where


def user_shuffle_expr(user_id: Any, params: Params) -> str:
    """A deterministic per-user pseudo-random key in [0, 1) over ``r.rowid`` (ES: random_score seeded by user)."""
    digest = int(uuid_hex(user_id) or uuid.uuid5(uuid.NAMESPACE_OID, str(user_id)).hex, 16)
    seed1 = params.add(digest % _HASH_P)
    seed2 = params.add((digest >> 64) % (1 << 31))
    h1 = f"(((r.rowid + {seed1}) * {_HASH_A}) % {_HASH_P})"
    xor = f"(({h1} | {seed2}) - ({h1} & {seed2}))"
    return f"(((({xor}) % {_HASH_P}) * {_HASH_B}) % {_HASH_P}) * 1.0 / {_HASH_P}"
