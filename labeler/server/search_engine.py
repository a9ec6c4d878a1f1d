"""A search engine for argilla-server 2.8 that needs no Elasticsearch.

Registered as ``labeler-sqlite`` (select it with ``ARGILLA_SEARCH_ENGINE=labeler-sqlite``; importing this module
registers it). The behaviour mirrors ``argilla_server.search_engine.commons`` (the Elasticsearch engine).

How it works:

* argilla-server calls the engine's write hooks *after* committing to its own database, so filters, sorts,
  counts and metrics are answered with SQL directly over argilla-server's SQLite tables (``records``,
  ``responses``, ``suggestions``, ...). Those answers are always consistent with the database: nothing to
  reindex after a crash. The queries are in ``search_query.py``, the SQL they run is built in ``search_sql.py``.
* What SQL cannot answer quickly lives in a side index file (env ``LABELER_SEARCH_DB``, default
  ``<ARGILLA_HOME_PATH>/search.db``), ATTACHed as ``ix``: an FTS5 table for text queries and float32 vector
  blobs for similarity search. It is maintained by ``index_records`` / ``delete_records`` / ``delete_index`` and
  can be rebuilt from argilla's tables with :func:`reindex` (all in ``search_index.py``); a missing or stale
  index for a dataset is detected on first use (and at start-up by ``ping``) and rebuilt.
* Similarity is exact cosine with numpy over the dataset's matrix for one vector setting, cached per process
  and keyed by a generation counter that every write to the side index bumps.

Blocking SQLite work runs in worker threads (``asyncio.to_thread``), each with its own connections.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from typing import Any, Iterable, List, Optional, Tuple, Union
from uuid import UUID

from argilla_server.enums import MetadataPropertyType, SimilarityOrder
from argilla_server.models import Dataset, MetadataProperty, Record, Response, Suggestion, User, VectorSettings
from argilla_server.search_engine.base import (
    Filter,
    FloatMetadataMetrics,
    IntegerMetadataMetrics,
    MetadataMetrics,
    Order,
    SearchEngine,
    SearchResponses,
    TermsMetrics,
    TextQuery,
)

from labeler.server import argilla_speedups, search_index, search_query
from labeler.server.search_index import ENGINE_NAME, default_paths, ensure_indexed, reindex  # noqa: F401
from labeler.server.search_values import json_path

argilla_speedups.apply()  # the server process imports this module before serving

MAX_TERMS = 2**14  # ES engine's max_terms_size

_LOGGER = logging.getLogger(__name__)


# ---------------------------------------------------------------------------------------------------------------
# the engine


@SearchEngine.register(engine_name=ENGINE_NAME)
class SQLiteSearchEngine(SearchEngine):
    """argilla-server search engine over its own SQLite tables plus an FTS5 / vector side index."""

    # record status is read from argilla's records table, never from the engine (argilla_speedups relies on it)
    reads_status_from_database = True

    def __init__(self, paths: Optional[Tuple[str, str]] = None):
        self.paths = paths or search_index.default_paths()

    @classmethod
    async def new_instance(cls) -> "SQLiteSearchEngine":
        return cls()

    async def close(self):
        pass

    async def ping(self) -> bool:
        await asyncio.to_thread(self._check_all_datasets)
        return True

    def _check_all_datasets(self) -> None:
        for (dataset_hex,) in search_index.reader_connection(self.paths).execute("SELECT id FROM datasets").fetchall():
            search_index.ensure_indexed(self.paths, dataset_hex)

    async def info(self) -> dict:
        return {
            "name": ENGINE_NAME,
            "version": {"number": sqlite3.sqlite_version, "distribution": "sqlite"},
            "index": self.paths[1],
        }

    # -- index lifecycle ----------------------------------------------------------------------------------------

    async def create_index(self, dataset: Dataset):
        await asyncio.to_thread(self._create_index_sync, dataset.id.hex)

    def _create_index_sync(self, dataset_hex: str) -> None:
        with search_index.Transaction(search_index.writer_connection(self.paths)) as writer:
            writer.execute("INSERT OR IGNORE INTO meta (dataset_id, generation) VALUES (?, 0)", (dataset_hex,))
        search_index.CHECKED.add((self.paths, dataset_hex))

    async def delete_index(self, dataset: Dataset):
        await asyncio.to_thread(self._delete_index_sync, dataset.id.hex)

    def _delete_index_sync(self, dataset_hex: str) -> None:
        with search_index.Transaction(search_index.writer_connection(self.paths)) as writer:
            search_index.clear_dataset(writer, dataset_hex)
            search_index.bump_generation(writer, dataset_hex)

    async def configure_metadata_property(self, dataset: Dataset, metadata_property: MetadataProperty):
        pass  # metadata is read from argilla's records table

    async def configure_index_vectors(self, vector_settings: VectorSettings):
        pass  # vectors arrive with index_records

    # -- writes --------------------------------------------------------------------------------------------------

    async def index_records(self, dataset: Dataset, records: Iterable[Record]):
        items = [
            (record.id.hex, dict(record.fields or {}), [(v.vector_settings_id.hex, v.value) for v in record.vectors])
            for record in records
        ]
        if items:
            await asyncio.to_thread(self._index_records_sync, dataset.id.hex, items)

    def _index_records_sync(self, dataset_hex: str, items: List[Tuple[str, dict, list]]) -> None:
        field_types = search_index.field_types(search_index.reader_connection(self.paths), dataset_hex)
        docs = [
            (rec, field, solo, body)
            for rec, fields, _ in items
            for field, solo, body in search_index.doc_rows(rec, fields, field_types)
        ]
        vectors = [(settings, rec, search_index.vector_blob(value)) for rec, _, vecs in items for settings, value in vecs]
        with search_index.Transaction(search_index.writer_connection(self.paths)) as writer:
            removed = search_index.delete_from_index(writer, [rec for rec, _, _ in items])
            search_index.write_index(writer, dataset_hex, docs, vectors)
            if removed or vectors:
                search_index.bump_generation(writer, dataset_hex)
            else:
                writer.execute("INSERT OR IGNORE INTO meta (dataset_id, generation) VALUES (?, 0)", (dataset_hex,))

    async def partial_record_update(self, record: Record, **update):
        pass  # status and other record columns are read from argilla's tables

    async def delete_records(self, dataset: Dataset, records: Iterable[Record]):
        record_hexes = [record.id.hex for record in records]
        if record_hexes:
            await asyncio.to_thread(self._delete_records_sync, dataset.id.hex, record_hexes)

    def _delete_records_sync(self, dataset_hex: str, record_hexes: List[str]) -> None:
        with search_index.Transaction(search_index.writer_connection(self.paths)) as writer:
            search_index.delete_from_index(writer, record_hexes)
            search_index.bump_generation(writer, dataset_hex)

    # responses and suggestions are read from argilla's tables, which are committed before these hooks run
    async def update_record_response(self, response: Response):
        pass

    async def delete_record_response(self, response: Response):
        pass

    async def update_record_suggestion(self, suggestion: Suggestion):
        pass

    async def delete_record_suggestion(self, suggestion: Suggestion):
        pass

    # -- progress and metrics ------------------------------------------------------------------------------------

    async def get_dataset_progress(self, dataset: Dataset) -> dict:
        if dataset.is_draft:
            return {}
        sql = "SELECT status, COUNT(*) FROM records WHERE dataset_id = ? GROUP BY status"
        return await asyncio.to_thread(self._count_by_status, sql, (dataset.id.hex,))

    async def get_dataset_user_progress(self, dataset: Dataset, user: User) -> dict:
        """The user's own responses by status. (The ES engine counts every response of records the user
        answered, which over-counts when several annotators answer the same record.)"""
        if dataset.is_draft:
            return {}
        sql = (
            "SELECT x.status, COUNT(*) FROM responses x JOIN records r ON r.id = x.record_id "
            "WHERE x.user_id = ? AND r.dataset_id = ? GROUP BY x.status"
        )
        return await asyncio.to_thread(self._count_by_status, sql, (user.id.hex, dataset.id.hex))

    def _count_by_status(self, sql: str, args: tuple) -> dict:
        counts = {str(status): n for status, n in search_index.reader_connection(self.paths).execute(sql, args) if n}
        return {"total": sum(counts.values()), **counts}

    async def compute_metrics_for(self, metadata_property: MetadataProperty) -> MetadataMetrics:
        kind = metadata_property.type
        return await asyncio.to_thread(
            self._metrics_sync, metadata_property.dataset_id.hex, metadata_property.name, kind
        )

    def _metrics_sync(self, dataset_hex: str, name: str, kind: MetadataPropertyType) -> MetadataMetrics:
        reader = search_index.reader_connection(self.paths)
        path = json_path(name)
        if kind == MetadataPropertyType.terms:
            rows = reader.execute(
                "SELECT CAST(j.value AS TEXT) AS term, COUNT(DISTINCT r.id) AS docs, COUNT(*) AS n "
                "FROM records r, json_each(r.metadata, ?) j "
                "WHERE r.dataset_id = ? AND j.type NOT IN ('null', 'object', 'array') "
                "GROUP BY term ORDER BY docs DESC, term ASC",
                (path, dataset_hex),
            ).fetchall()
            values = [TermsMetrics.TermCount(term=term, count=docs) for term, docs, _ in rows[:MAX_TERMS]]
            return TermsMetrics(total=sum(n for *_, n in rows), values=values)
        low, high = reader.execute(
            "SELECT MIN(v), MAX(v) FROM (SELECT json_extract(r.metadata, ?) AS v FROM records r "
            "WHERE r.dataset_id = ?) WHERE typeof(v) IN ('integer', 'real')",
            (path, dataset_hex),
        ).fetchone()
        if kind == MetadataPropertyType.integer:
            return IntegerMetadataMetrics(min=low, max=high)
        return FloatMetadataMetrics(
            min=None if low is None else float(low), max=None if high is None else float(high)
        )

    # -- search (the queries themselves are in search_query.py) --------------------------------------------------

    async def search(
        self,
        dataset: Dataset,
        query: Optional[Union[TextQuery, str]] = None,
        filter: Optional[Filter] = None,
        sort: Optional[List[Order]] = None,
        offset: int = 0,
        limit: int = 100,
        user_id: Optional[Union[UUID, str]] = None,
        **kwargs: Any,
    ) -> SearchResponses:
        return await asyncio.to_thread(
            search_query.search, self.paths, dataset.id.hex, query, filter, sort, offset, limit, user_id
        )

    async def similarity_search(
        self,
        dataset: Dataset,
        vector_settings: VectorSettings,
        value: Optional[List[float]] = None,
        record: Optional[Record] = None,
        query: Optional[Union[TextQuery, str]] = None,
        filter: Optional[Filter] = None,
        max_results: int = 100,
        order: SimilarityOrder = SimilarityOrder.most_similar,
        threshold: Optional[float] = None,
        **kwargs: Any,
    ) -> SearchResponses:
        if bool(value) == bool(record):
            raise ValueError("Must provide either vector value or record to compute the similarity search")
        excluded = None
        if not value:
            excluded = record.id.hex
            value = record.vector_value_by_vector_settings(vector_settings)
        if not value:
            raise ValueError("Cannot find a vector value to apply with provided info")
        return await asyncio.to_thread(
            search_query.similarity,
            self.paths,
            dataset.id.hex,
            vector_settings.id.hex,
            int(vector_settings.dimensions),
            list(value),
            excluded,
            query,
            filter,
            int(max_results),
            order,
            threshold,
        )
