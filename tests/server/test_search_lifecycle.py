"""The search engine's side index (FTS5 + vectors) follows writes through the real server: record upserts and
deletes, dataset deletion; and it is rebuilt by ``reindex`` / on first use when missing. Some checks call the
engine in-process on the server's own files (as a second reader, the way the server reads them)."""

from __future__ import annotations

import asyncio
import sqlite3
import uuid
from types import SimpleNamespace

import httpx
import pytest

pytestmark = pytest.mark.server


def _paths(argilla_server):
    from labeler.server.paths import ServerPaths

    paths = ServerPaths(argilla_server.home)
    return str(paths.database), str(paths.search_index)


def _make_dataset(client, name_prefix: str):
    import argilla as rg

    settings = rg.Settings(
        fields=[rg.TextField(name="text")],
        questions=[rg.LabelQuestion(name="label", labels=["x", "y"])],
        vectors=[rg.VectorField(name="v", dimensions=2)],
    )
    dataset = rg.Dataset(name=f"{name_prefix}-{uuid.uuid4().hex[:8]}", workspace="argilla", settings=settings, client=client)
    dataset.create()
    dataset.records.log(
        [
            rg.Record(id="a", fields={"text": "alpha apple"}, vectors={"v": [1.0, 0.0]}),
            rg.Record(id="b", fields={"text": "beta banana"}, vectors={"v": [0.0, 1.0]}),
            rg.Record(id="c", fields={"text": "gamma apple"}, vectors={"v": [1.0, 1.0]}),
            rg.Record(id="d", fields={"text": "delta date"}, vectors={"v": [-1.0, 0.2]}),
        ]
    )
    return dataset


def _text(dataset, q):
    import argilla as rg

    return sorted(r.id for r in dataset.records(query=rg.Query(query=q)))


def _similar(dataset, value):
    import argilla as rg

    return [r.id for r, _ in dataset.records(query=rg.Query(similar=rg.Similar("v", value)))]


def _side_counts(index_path, dataset_id) -> tuple[int, int]:
    with sqlite3.connect(index_path) as conn:
        docs = conn.execute("SELECT COUNT(*) FROM docs WHERE dataset_id = ?", (uuid.UUID(str(dataset_id)).hex,)).fetchone()[0]
        vecs = conn.execute("SELECT COUNT(*) FROM vectors WHERE dataset_id = ?", (uuid.UUID(str(dataset_id)).hex,)).fetchone()[0]
    return docs, vecs


def test_upserts_and_deletes_reach_text_and_similarity(argilla_client):
    import argilla as rg

    dataset = _make_dataset(argilla_client, "lifecycle")
    assert _text(dataset, "apple") == ["a", "c"]
    assert _similar(dataset, [1.0, 0.0])[:2] == ["a", "c"]

    # upsert: same ids, new text and vector
    dataset.records.log([rg.Record(id="a", fields={"text": "alpha avocado"}, vectors={"v": [0.0, 1.0]})])
    assert _text(dataset, "apple") == ["c"]
    assert _text(dataset, "avocado") == ["a"]
    assert _similar(dataset, [0.0, 1.0])[:2] in (["a", "b"], ["b", "a"])

    # delete
    dataset.records.delete([r for r in dataset.records if r.id in ("a", "c")])
    assert _text(dataset, "apple") == [] and _text(dataset, "avocado") == []
    assert sorted(_similar(dataset, [1.0, 0.0])) == ["b", "d"]
    assert sorted(r.id for r in dataset.records) == ["b", "d"]


def test_deleting_a_dataset_drops_its_side_index(argilla_server, argilla_client):
    dataset = _make_dataset(argilla_client, "drop")
    _, index_path = _paths(argilla_server)
    assert _side_counts(index_path, dataset.id) == (4, 4)
    dataset.delete()
    assert _side_counts(index_path, dataset.id) == (0, 0)


def test_reindex_and_first_use_rebuild_a_missing_index(argilla_server, argilla_client):
    from labeler.server import search_engine as se
    from labeler.server import search_index

    dataset = _make_dataset(argilla_client, "rebuild")
    paths = _paths(argilla_server)
    ds_hex = uuid.UUID(str(dataset.id)).hex

    def wipe():
        with sqlite3.connect(paths[1]) as conn:
            conn.execute("DELETE FROM fts WHERE rowid IN (SELECT id FROM docs WHERE dataset_id = ?)", (ds_hex,))
            conn.execute("DELETE FROM docs WHERE dataset_id = ?", (ds_hex,))
            conn.execute("DELETE FROM vectors WHERE dataset_id = ?", (ds_hex,))
            conn.execute("DELETE FROM meta WHERE dataset_id = ?", (ds_hex,))

    wipe()
    assert _side_counts(paths[1], dataset.id) == (0, 0)
    assert se.reindex(dataset.id, paths=paths) == 4
    assert _side_counts(paths[1], dataset.id) == (4, 4)
    assert _text(dataset, "apple") == ["a", "c"]  # the server sees the rebuilt index

    wipe()
    engine = se.SQLiteSearchEngine(paths=paths)
    fake_dataset = SimpleNamespace(id=dataset.id)
    search_index.CHECKED.discard((paths, ds_hex))  # as in a fresh process
    result = asyncio.run(engine.search(fake_dataset, query="apple"))
    assert result.total == 2  # rebuilt on first use
    assert _side_counts(paths[1], dataset.id) == (4, 4)
    assert se.ensure_indexed(paths, ds_hex) is False  # checked once per process


def test_similarity_scores_threshold_and_order_in_process(argilla_server, argilla_client):
    from argilla_server.enums import SimilarityOrder

    from labeler.server import search_engine as se

    dataset = _make_dataset(argilla_client, "threshold")
    paths = _paths(argilla_server)
    settings = httpx.get(
        f"{argilla_server.url}/api/v1/datasets/{dataset.id}/vectors-settings",
        headers={"X-Argilla-Api-Key": argilla_server.api_key},
    ).json()["items"][0]
    vs = SimpleNamespace(id=uuid.UUID(settings["id"]), dimensions=2)
    engine = se.SQLiteSearchEngine(paths=paths)
    ds = SimpleNamespace(id=dataset.id)
    names = {r._server_id: r.id for r in dataset.records}

    res = asyncio.run(engine.similarity_search(ds, vs, value=[1.0, 0.0], max_results=10))
    assert [names[i.record_id] for i in res.items] == ["a", "c", "b", "d"] and res.total == 4
    assert [round(i.score, 4) for i in res.items] == [1.0, round((1 + 2**-0.5) / 2, 4), 0.5, round((1 - 1 / 1.04**0.5) / 2, 4)]

    res = asyncio.run(engine.similarity_search(ds, vs, value=[1.0, 0.0], max_results=10, threshold=0.6))
    assert [names[i.record_id] for i in res.items] == ["a", "c"] and res.total == 4  # ES: total before threshold

    res = asyncio.run(
        engine.similarity_search(ds, vs, value=[1.0, 0.0], max_results=2, order=SimilarityOrder.least_similar)
    )
    assert [names[i.record_id] for i in res.items] == ["d", "b"] and res.total == 2

    with pytest.raises(ValueError):
        asyncio.run(engine.similarity_search(ds, vs))
