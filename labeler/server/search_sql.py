"""SQL builders for the SQLite search engine (see ``search_engine.py``).

No I/O: ``QueryBuilder`` turns argilla-server's search-engine ``Filter`` trees and ``Order`` lists into SQL over
argilla-server's own tables (alias ``r`` is ``records``), with every value passed as a named parameter. The
values and their conversions are in ``search_values.py``; the conditions on JSON values in ``search_json.py``.

Speed notes (50,000 records, 2 cores): membership subqueries return record rowids, not 32-character ids
(~2x cheaper to probe); suggestion filters join ``suggestions`` once per question as an inner join so SQLite
can drive the query from the question's suggestions; list-valued JSON only pays for ``json_each``.
"""

from __future__ import annotations

import dataclasses
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

from labeler.server import search_json as sj
from labeler.server.search_values import Params, db_datetime, json_path, number, uuid_hex


@dataclasses.dataclass
class DatasetSchema:
    """What the builders need to know about a dataset: ids of questions, types of metadata properties."""

    dataset_id: str  # hex
    questions: Dict[str, str]  # name -> question id (hex)
    metadata_types: Dict[str, str]  # name -> "terms" | "integer" | "float"


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
            return sj.bounds(column, flt.ge, flt.le, self.params, convert=convert if convert is db_datetime else number)
        raise ValueError(f"Cannot process request for filter {flt}")

    def _metadata_filter(self, flt: Filter, scope: MetadataFilterScope) -> str:
        path = self.params.add(json_path(scope.metadata_property))
        if isinstance(flt, TermsFilter):
            return sj.path_terms("r.metadata", path, flt.values, self.params)
        if isinstance(flt, RangeFilter):
            return sj.path_range("r.metadata", path, flt, self.params)
        raise ValueError(f"Cannot process request for filter {flt}")

    def _suggestion_filter(self, flt: Filter, scope: SuggestionFilterScope) -> str:
        alias = self._suggestion(scope.question, inner=True)
        prop = str(scope.property or "value")
        if prop in ("value", "score"):
            column = f"{alias}.{prop}"
            if isinstance(flt, TermsFilter):
                return sj.column_terms(column, flt.values, self.params)
            if isinstance(flt, RangeFilter):
                return sj.column_range(column, flt, self.params)
        elif prop in ("agent", "type"):
            if isinstance(flt, TermsFilter):
                return f"{alias}.{prop} IN ({self.params.add_list([str(v) for v in flt.values])})"
            if isinstance(flt, RangeFilter):
                return sj.bounds(f"{alias}.{prop}", flt.ge, flt.le, self.params, convert=str)
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
                cond = sj.path_terms('x."values"', path, flt.values, self.params)
            elif isinstance(flt, RangeFilter):
                cond = sj.path_range('x."values"', path, flt, self.params)
            else:
                raise ValueError(f"Cannot process request for filter {flt}")
            return f"r.rowid IN {sj.rowids('responses x', f'1{user_cond} AND {cond}')}"
        if scope.property == "status" and isinstance(flt, TermsFilter):
            values = [str(v) for v in flt.values]
            parts = []
            if ResponseStatusFilter.pending.value in values:
                # pending = no response from that user (or no response at all when no user is given)
                parts.append(f"r.rowid NOT IN {sj.rowids('responses x', f'1{user_cond}')}")
            others = [v for v in values if v != ResponseStatusFilter.pending.value]
            if others:
                status_cond = f"x.status IN ({self.params.add_list(others)}){user_cond}"
                parts.append(f"r.rowid IN {sj.rowids('responses x', status_cond)}")
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
                return sj.path_key("r.metadata", path, agg)
            return f"json_extract(r.metadata, {path})"
        if isinstance(scope, SuggestionFilterScope):
            alias = self._suggestion(scope.question, inner=False)
            prop = str(scope.property or "value")
            if prop in ("value", "score"):
                return sj.column_key(f"{alias}.{prop}", agg)
            if prop in ("agent", "type"):
                return f"{alias}.{prop}"
            raise ValueError(f"Cannot sort on suggestion property {prop!r}")
        if isinstance(scope, ResponseFilterScope):
            if scope.question:
                self._question_id(scope.question)
                path = self.params.add(json_path(scope.question, "value"))
                if scope.user is not None:  # one response per user and record
                    return sj.path_key(f'{self._response(scope.user)}."values"', path, agg)
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
