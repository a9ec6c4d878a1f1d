"""Conformance of the ``labeler-sqlite`` search engine: text queries, similarity search, metadata metrics and
progress, against the real argilla-server. Each test asserts the exact record ids (external ids) that
Elasticsearch would return on the corpus described in ``search_corpus.py``."""

from __future__ import annotations

import pytest

from tests.server.search_corpus import corpus, tab_body, with_filters  # noqa: F401  (corpus: a fixture)

pytestmark = pytest.mark.server

# ---------------------------------------------------------------------------------------------------------------
# text query


@pytest.mark.parametrize(
    "q, field, expected",
    [
        ("fox", None, ["r0", "r2", "r7"]),
        ("fox", "title", ["r7"]),
        ("animals", None, ["r0"]),
        ("quick fox", None, ["r0"]),  # terms are ANDed
        ("FOX dog", None, ["r2"]),
        ("cafe", None, ["r3"]),
        ("café", None, ["r3"]),
        ("日本語", None, ["r3"]),
        ("qui*", None, ["r0", "r5"]),
        ('"quick brown"', None, ["r0"]),
        ('"brown quick"', None, []),
        ('"', None, []),
        ("*", None, []),
        ("NEAR(", None, []),
        ("fox OR dog", None, []),  # OR is not an operator in ES simple_query_string either
        ("OR", None, []),
        ("'; DROP TABLE records; --", None, ["r6"]),
        ("text:fox", None, []),
        ("fox)", None, ["r0", "r2", "r7"]),
        ("^fox", None, ["r0", "r2", "r7"]),
        ("", None, []),
        ("   ", None, []),
        ("\u0000\u200b", None, []),
    ],
)
def test_text_query(corpus, q, field, expected):
    import argilla as rg

    text = {"q": q} if field is None else {"q": q, "field": field}
    ids, total = corpus.search({"query": {"text": text}})
    assert sorted(ids) == expected and total == len(expected)
    if q.strip() and field is None:
        assert sorted(corpus.sdk(rg.Query(query=q))) == expected
    assert len(corpus.sdk()) == 8  # nothing was dropped


def test_text_query_ranks_by_relevance_and_combines_with_filters(corpus):
    ids, _ = corpus.search({"query": {"text": {"q": "quick"}}})
    assert ids == ["r5", "r0"]
    ids, _ = corpus.search(
        {
            "query": {"text": {"q": "fox"}},
            "filters": {"and": [{"type": "terms", "scope": {"entity": "metadata", "metadata_property": "source"}, "values": ["mail"]}]},
        }
    )
    assert ids == ["r7"]
    ids, total = corpus.me_search("owner", with_filters(tab_body("pending"), sort=None) | {"query": {"text": {"q": "fox"}}})
    assert ids == ["r7"] and total == 1


# ---------------------------------------------------------------------------------------------------------------
# similarity


def test_similarity_by_value_and_record(corpus):
    import argilla as rg

    hits = list(corpus.dataset.records(query=rg.Query(similar=rg.Similar(name="emb", value=[1.0, 0.0, 0.0]))))
    assert [r.id for r, _ in hits] == ["r0", "r1", "r4", "r7", "r2", "r3", "r6"]
    scores = [s for _, s in hits]
    assert scores[0] == pytest.approx(1.0) and scores[-1] == pytest.approx(0.0, abs=1e-6)  # ES: (1 + cos) / 2
    assert scores == sorted(scores, reverse=True)

    top = [r.id for r, _ in corpus.dataset.records(query=rg.Query(similar=rg.Similar("emb", [1.0, 0.0, 0.0])), limit=3)]
    assert top == ["r0", "r1", "r4"]

    r0 = next(r for r in corpus.dataset.records if r.id == "r0")
    by_record = [r.id for r, _ in corpus.dataset.records(query=rg.Query(similar=rg.Similar("emb", r0)))]
    assert by_record == ["r1", "r4", "r7", "r2", "r3", "r6"]  # the record itself is left out

    least = [r.id for r, _ in corpus.dataset.records(query=rg.Query(similar=rg.Similar("emb", [1.0, 0.0, 0.0], most_similar=False)))]
    assert least == ["r6", "r2", "r3", "r7", "r4", "r1", "r0"]


def test_similarity_with_filter_and_text(corpus):
    import argilla as rg

    query = rg.Query(similar=rg.Similar("emb", [1.0, 0.0, 0.0]), filter=rg.Filter(("metadata.source", "==", "web")))
    assert [r.id for r, _ in corpus.dataset.records(query=query)] == ["r0", "r2"]  # r5 has no vector
    query = rg.Query(query="fox", similar=rg.Similar("emb", [0.0, 1.0, 0.0]))
    assert [r.id for r, _ in corpus.dataset.records(query=query)] == ["r2", "r7", "r0"]
    # the UI's "find similar" on the pending tab
    r0 = {n: s for s, n in corpus.names.items()}["r0"]
    body = tab_body("pending") | {"query": {"vector": {"name": "emb", "record_id": r0, "order": "most_similar"}}}
    ids, total = corpus.me_search("owner", body, limit=2)
    assert ids == ["r4", "r7"] and total == 2


# ---------------------------------------------------------------------------------------------------------------
# metrics and progress


def test_metadata_metrics(corpus):
    source = corpus.get(f"/api/v1/metadata-properties/{corpus.metadata_ids['source']}/metrics")
    assert source == {
        "type": "terms",
        "total": 8,
        "values": [{"term": "mail", "count": 3}, {"term": "web", "count": 3}, {"term": "chat", "count": 2}],
    }
    prio = corpus.get(f"/api/v1/metadata-properties/{corpus.metadata_ids['prio']}/metrics")
    assert prio == {"type": "float", "min": 0.1, "max": 0.9}
    rnd = corpus.get(f"/api/v1/metadata-properties/{corpus.metadata_ids['round']}/metrics")
    assert rnd == {"type": "integer", "min": 1, "max": 3}


def test_dataset_and_user_progress(corpus):
    progress = corpus.get(f"/api/v1/datasets/{corpus.dataset_id}/progress")
    assert (progress["total"], progress["completed"], progress["pending"]) == (8, 3, 5)
    owner = corpus.get(f"/api/v1/me/datasets/{corpus.dataset_id}/metrics")["responses"]
    assert owner == {"total": 8, "submitted": 2, "discarded": 1, "draft": 1, "pending": 4}
    ann = corpus.get(f"/api/v1/me/datasets/{corpus.dataset_id}/metrics", user="ann")["responses"]
    assert ann == {"total": 8, "submitted": 2, "discarded": 1, "draft": 1, "pending": 4}
