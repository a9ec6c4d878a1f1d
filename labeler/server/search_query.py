"""The read side of the SQLite search engine: record search and similarity search (see ``search_engine.py``).

Plain functions over a pair of paths (argilla's database, the side index) so they run in worker threads, each
with its own connections. Filters and sorts become SQL over argilla's tables (``search_sql.py``); a text query
joins the FTS5 hits of the side index; similarity is exact cosine over the dataset's cached vector matrix.
"""

from __future__ import annotations

import json

import sqlite3
from typing import List, Optional, Tuple, Union
from uuid import UUID

import numpy as np
from argilla_server.enums import SimilarityOrder
from argilla_server.search_engine.base import (
    Filter,
    Order,
    SearchResponseItem,
    SearchResponses,
    TextQuery,
)

from labeler.server import search_index, search_leases
from labeler.server.search_sql import DatasetSchema, QueryBuilder, build_filter
from labeler.server.search_values import Params, fts_query, user_shuffle_expr

# The integer metadata property that holds labeler's review order (1 = review first). When a dataset has it,
# a search with no explicit sort from an annotator's own view (the UI's status tabs) returns records in that
# order; Elasticsearch's engine shuffles per user instead, which would hide labeler's uncertainty queue.
# The order is ``search_index.QUEUE_KEY``, the expression labeler's index on argilla's records holds, so the
# UI's pending page walks that index in queue order and stops after one page instead of sorting the dataset.
QUEUE_PROPERTY = search_index.QUEUE_PROPERTY

Paths = Tuple[str, str]  # (argilla's database, the side index)


def dataset_schema(reader: sqlite3.Connection, dataset_hex: str) -> DatasetSchema:
    questions = dict(reader.execute("SELECT name, id FROM questions WHERE dataset_id = ?", (dataset_hex,)))
    metadata_types = dict(
        reader.execute(
            "SELECT name, json_extract(settings, '$.type') FROM metadata_properties WHERE dataset_id = ?",
            (dataset_hex,),
        )
    )
    return DatasetSchema(dataset_id=dataset_hex, questions=questions, metadata_types=metadata_types)


def text_join(paths: Paths, dataset_hex: str, query: Union[TextQuery, str], params: Params) -> Optional[str]:
    """A JOIN of ``records r`` with the text query's hits (column ``t.score``), or None if it matches nothing."""
    text = query if isinstance(query, TextQuery) else TextQuery(q=query)
    match = fts_query(text.q)
    if match is None:
        return None
    search_index.ensure_indexed(paths, dataset_hex)
    if text.field:
        field_cond = f"d.field = {params.add(text.field)}"
    else:
        field_cond = f"(d.field = '{search_index.ALL_FIELDS}' OR d.solo = 1)"
    return (
        "JOIN (SELECT d.record_id AS record_id, MAX(m.score) AS score "
        f"FROM (SELECT rowid AS id, -rank AS score FROM ix.fts WHERE fts MATCH {params.add(match)}) m "
        f"CROSS JOIN ix.docs d ON d.id = m.id WHERE d.dataset_id = :ds AND {field_cond} GROUP BY d.record_id) t "
        "ON t.record_id = r.id"
    )


def search(
    paths: Paths,
    dataset_hex: str,
    query: Optional[Union[TextQuery, str]],
    flt: Optional[Filter],
    sort: Optional[List[Order]],
    offset: int,
    limit: int,
    user_id: Optional[Union[UUID, str]],
) -> SearchResponses:
    """One page of a dataset's records matching ``query`` and ``flt``, in Elasticsearch's order, and the total."""
    reader = search_index.reader_connection(paths)
    schema = dataset_schema(reader, dataset_hex)
    params = Params({"ds": dataset_hex})
    builder = QueryBuilder(schema, params)
    where = f"r.dataset_id = :ds AND {builder.where(flt)}"
    text = ""
    if query is not None:
        text = text_join(paths, dataset_hex, query, params)
        if text is None:
            return SearchResponses(items=[], total=0)
    joins = f"{text} {builder.joins()}"

    (total,) = reader.execute(f"SELECT COUNT(*) FROM records r {joins} WHERE {where}", params.values).fetchone()
    if total == 0 or offset >= total:
        return SearchResponses(items=[], total=total)

    if sort:
        order_by = builder.order_by(sort)
        joins = f"{text} {builder.joins()}"
        score = "NULL"
    elif user_id is not None and not text and schema.metadata_types.get(QUEUE_PROPERTY) == "integer":
        # labeler's review queue: a dataset with an integer "priority" property is shown in queue order
        # (1 first) by default; the per-user shuffle only breaks ties. See QUEUE_PROPERTY.
        order_by = [f"{search_index.QUEUE_KEY} ASC"]  # = json_extract(...) ASC NULLS LAST, but indexed
        score = user_shuffle_expr(user_id, params)
        order_by.append("score DESC")
        if search_leases.is_pending_tab(flt, user_id):  # annotators working together get different records
            sql = (f"SELECT r.id, {score} AS score FROM records r {joins} WHERE {where} AND r.id @IN@ "
                   "(SELECT value FROM json_each(:leased)) "
                   f"ORDER BY {', '.join(order_by + ['r.rowid'])} LIMIT :limit")

            def rows(n: int, ids: set, inside: bool) -> list:
                query = sql.replace("@IN@", "IN" if inside else "NOT IN")
                return reader.execute(query, {**params.values, "limit": n, "leased": json.dumps(sorted(ids))}).fetchall()

            page = search_leases.hand_out(paths, dataset_hex, user_id, int(offset), int(limit), rows)
            items = [SearchResponseItem(record_id=UUID(hex=record_hex), score=s) for record_hex, s in page]
            return SearchResponses(items=items, total=total)
    elif user_id is not None:  # ES: function_score(random_score seeded by the user) over the query score
        score = user_shuffle_expr(user_id, params) + (" * t.score" if text else "")
        order_by = ["score DESC"]
    elif text:
        score, order_by = "t.score", ["score DESC"]
    else:
        score, order_by = "1.0", []
    order_by.append("r.rowid")  # stable tie-breaker: insertion order
    params.values.update(limit=int(limit), offset=int(offset))
    sql = (
        f"SELECT r.id, {score} AS score FROM records r {joins} WHERE {where} "
        f"ORDER BY {', '.join(order_by)} LIMIT :limit OFFSET :offset"
    )
    items = [
        SearchResponseItem(record_id=UUID(hex=record_hex), score=s)
        for record_hex, s in reader.execute(sql, params.values)
    ]
    return SearchResponses(items=items, total=total)


def similarity(
    paths: Paths,
    dataset_hex: str,
    settings_hex: str,
    dimensions: int,
    value: List[float],
    excluded: Optional[str],
    query: Optional[Union[TextQuery, str]],
    flt: Optional[Filter],
    k: int,
    order: SimilarityOrder,
    threshold: Optional[float],
) -> SearchResponses:
    """The ``k`` records most (or least) similar to ``value`` among those passing ``query`` and ``flt``."""
    search_index.ensure_indexed(paths, dataset_hex)
    vectors = search_index.load_matrix(paths, dataset_hex, settings_hex, dimensions)
    if not vectors.ids or k <= 0:
        return SearchResponses(items=[], total=0)
    q = np.asarray(value, dtype=np.float32)
    if order == SimilarityOrder.least_similar:
        q = -q  # as the ES engine: most similar to the inverted vector
    norm = float(np.linalg.norm(q))
    cosine = vectors.matrix @ (q / norm if norm else q)
    score = (1.0 + cosine) / 2.0  # ES's `cosine` similarity score
    allowed = candidates(paths, dataset_hex, vectors, query, flt)
    if allowed is not None:
        score = np.where(allowed, score, -np.inf)
    if excluded is not None and excluded in vectors.index:
        score[vectors.index[excluded]] = -np.inf
    n_valid = int(np.isfinite(score).sum())
    k = min(k, n_valid)
    if k == 0:
        return SearchResponses(items=[], total=0)
    top = np.argpartition(-score, k - 1)[:k] if k < len(score) else np.arange(len(score))
    top = top[np.lexsort((top, -score[top]))]
    items = [
        SearchResponseItem(record_id=UUID(hex=vectors.ids[i]), score=float(score[i]))
        for i in top
        if np.isfinite(score[i]) and (threshold is None or score[i] >= threshold)
    ]
    return SearchResponses(items=items, total=k)


def candidates(
    paths: Paths,
    dataset_hex: str,
    vectors: search_index.VectorMatrix,
    query: Optional[Union[TextQuery, str]],
    flt: Optional[Filter],
) -> Optional[np.ndarray]:
    """Boolean mask over the matrix rows of records passing the filter and text query (None: no restriction)."""
    if query is None and flt is None:
        return None
    reader = search_index.reader_connection(paths)
    params = Params({"ds": dataset_hex})
    filter_joins, filter_where = build_filter(flt, dataset_schema(reader, dataset_hex), params)
    where = f"r.dataset_id = :ds AND {filter_where}"
    text = ""
    if query is not None:
        text = text_join(paths, dataset_hex, query, params)
        if text is None:
            return np.zeros(len(vectors.ids), dtype=bool)
    mask = np.zeros(len(vectors.ids), dtype=bool)
    index = vectors.index
    sql = f"SELECT r.id FROM records r {text} {filter_joins} WHERE {where}"
    for (record_hex,) in reader.execute(sql, params.values):
        i = index.get(record_hex)
        if i is not None:
            mask[i] = True
    return mask

