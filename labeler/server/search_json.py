"""SQL conditions and sort keys over JSON values in argilla-server's tables (no I/O; see ``search_sql.py``).

Two shapes of JSON value occur:
* a whole JSON column (suggestions.value / .score). The column's declared type JSON gives it NUMERIC affinity,
  so scalar numbers are stored as SQLite numbers and strings / lists as JSON text. Fast paths test typeof()
  and only fall back to json_each for lists.
* a value at a path inside a JSON object (records.metadata, responses.values): json_type() tells lists apart.
Lists behave as Elasticsearch multi-valued fields: a filter matches if any element matches; sorting uses the
minimum (asc) or maximum (desc) element.
"""

from __future__ import annotations

from typing import Any, List

from argilla_server.search_engine.base import RangeFilter

from labeler.server.search_values import Params, number

NUMERIC = "typeof({c}) IN ('integer', 'real')"


def bounds(expr: str, ge: Any, le: Any, params: Params, convert=number) -> str:
    conds = []
    if ge is not None:
        conds.append(f"{expr} >= {params.add(convert(ge))}")
    if le is not None:
        conds.append(f"{expr} <= {params.add(convert(le))}")
    return "(" + " AND ".join(conds) + ")" if conds else f"{expr} IS NOT NULL"


def text_in(expr: str, values: List[Any], params: Params) -> str:
    return f"CAST({expr} AS TEXT) IN ({params.add_list([str(v) for v in values])})"


def column_terms(col: str, values: List[Any], params: Params) -> str:
    vals = params.add_list([str(v) for v in values])
    return (
        f"(CASE WHEN {NUMERIC.format(c=col)} THEN CAST({col} AS TEXT) IN ({vals}) "
        f"WHEN {col} >= '[' THEN EXISTS (SELECT 1 FROM json_each({col}) j WHERE CAST(j.value AS TEXT) IN ({vals})) "
        f"ELSE json_extract({col}, '$') IN ({vals}) END)"
    )


def column_range(col: str, flt: RangeFilter, params: Params) -> str:
    return (
        f"(CASE WHEN {NUMERIC.format(c=col)} THEN {bounds(col, flt.ge, flt.le, params)} "
        f"ELSE EXISTS (SELECT 1 FROM json_each({col}) j WHERE {NUMERIC.format(c='j.value')} "
        f"AND {bounds('j.value', flt.ge, flt.le, params)}) END)"
    )


def column_key(col: str, agg: str) -> str:
    return (
        f"(CASE WHEN {NUMERIC.format(c=col)} THEN {col} "
        f"WHEN {col} >= '[' THEN (SELECT {agg}(value) FROM json_each({col})) ELSE json_extract({col}, '$') END)"
    )


def path_terms(doc: str, path: str, values: List[Any], params: Params) -> str:
    return (
        f"(CASE WHEN json_type({doc}, {path}) = 'array' "
        f"THEN EXISTS (SELECT 1 FROM json_each({doc}, {path}) j WHERE {text_in('j.value', values, params)}) "
        f"ELSE {text_in(f'json_extract({doc}, {path})', values, params)} END)"
    )


def path_range(doc: str, path: str, flt: RangeFilter, params: Params) -> str:
    return (
        f"(CASE WHEN json_type({doc}, {path}) = 'array' "
        f"THEN EXISTS (SELECT 1 FROM json_each({doc}, {path}) j WHERE {bounds('j.value', flt.ge, flt.le, params)}) "
        f"ELSE {bounds(f'json_extract({doc}, {path})', flt.ge, flt.le, params)} END)"
    )


def path_key(doc: str, path: str, agg: str) -> str:
    return (
        f"(CASE WHEN json_type({doc}, {path}) = 'array' THEN (SELECT {agg}(value) FROM json_each({doc}, {path})) "
        f"ELSE json_extract({doc}, {path}) END)"
    )


def rowids(source: str, where: str) -> str:
    """Records (as rowids) of the rows of ``source`` (aliased x, with a record_id) matching ``where``.

    Membership tests on integer rowids are much cheaper than on the 32-character ids; rowids of other datasets'
    records may be in the set and never match."""
    return f"(SELECT rr.rowid FROM {source} JOIN records rr ON rr.id = x.record_id WHERE {where})"
