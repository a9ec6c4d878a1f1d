"""Conformance of the ``labeler-sqlite`` search engine: the UI's status tabs, filters through the SDK and the UI,
sorting and pagination, against the real argilla-server. Each test asserts the exact record ids (external ids)
that Elasticsearch would return on the corpus described in ``search_corpus.py``."""

from __future__ import annotations

import pytest

from tests.server.search_corpus import ALL, corpus, sort_on, tab_body, with_filters  # noqa: F401  (corpus: a fixture)

pytestmark = pytest.mark.server

# ---------------------------------------------------------------------------------------------------------------
# the UI's status tabs (POST /me/.../records/search)


@pytest.mark.parametrize(
    "user, tab, expected",
    [
        ("owner", "pending", {"r4", "r6", "r7"}),  # no owner response, record not completed (r5 is)
        ("owner", "draft", {"r1"}),
        ("owner", "submitted", {"r0", "r3"}),
        ("owner", "discarded", {"r2"}),
        ("ann", "pending", {"r1", "r2", "r7"}),  # r3 is completed by the owner
        ("ann", "draft", {"r4"}),
        ("ann", "submitted", {"r0", "r5"}),
        ("ann", "discarded", {"r6"}),
    ],
)
def test_status_tabs_per_user(corpus, user, tab, expected):
    ids, total = corpus.me_search(user, tab_body(tab))
    assert set(ids) == expected and len(ids) == len(expected)
    assert total == len(expected)


def test_me_default_order_is_a_stable_per_user_shuffle(corpus):
    body = {"query": {}}
    first, total = corpus.me_search("owner", body)
    again, _ = corpus.me_search("owner", body)
    assert total == 8 and sorted(first) == ALL and first == again
    pages = []
    for offset in range(0, 8, 3):
        page, page_total = corpus.me_search("owner", body, offset=offset, limit=3)
        assert page_total == 8
        pages += page
    assert pages == first


def test_pending_tab_sorted_by_metadata(corpus):
    sort = [{"scope": {"entity": "metadata", "metadata_property": "prio"}, "order": "desc"}]
    ids, total = corpus.me_search("owner", with_filters(tab_body("pending"), sort=sort))
    assert ids == ["r7", "r6", "r4"] and total == 3  # r4 has no prio: last
    ids, _ = corpus.me_search("ann", with_filters(tab_body("pending"), sort=[{**sort[0], "order": "asc"}]))
    assert ids == ["r1", "r2", "r7"]


# ---------------------------------------------------------------------------------------------------------------
# filters, through the SDK (rg.Query / rg.Filter) and the UI


def test_sdk_filters_on_metadata(corpus):
    import argilla as rg

    def q(*conditions):
        return sorted(corpus.sdk(rg.Query(filter=rg.Filter(list(conditions)))))

    assert q(("metadata.source", "==", "web")) == ["r0", "r2", "r5"]
    assert q(("metadata.source", "in", ["chat"])) == ["r3", "r4"]  # r4 holds a list
    assert q(("metadata.source", "==", "mail")) == ["r1", "r4", "r7"]
    assert q(("metadata.prio", ">=", 0.5)) == ["r0", "r2", "r5", "r7"]
    assert q(("metadata.prio", ">=", 0.2), ("metadata.prio", "<=", 0.6)) == ["r2", "r3", "r6", "r7"]
    assert q(("metadata.round", "<=", 1)) == ["r0", "r2", "r5"]
    assert q(("metadata.round", ">=", 2), ("metadata.source", "==", "mail")) == ["r1", "r4", "r7"]


def test_sdk_filters_on_suggestions(corpus):
    import argilla as rg

    def q(*conditions):
        return sorted(corpus.sdk(rg.Query(filter=rg.Filter(list(conditions)))))

    assert q(("label", "==", "pos")) == ["r0", "r2", "r6"]
    assert q(("label.suggestion", "in", ["neg", "neu"])) == ["r1", "r3", "r5", "r7"]
    assert q(("label.score", ">=", 0.8)) == ["r0", "r5", "r7"]
    assert q(("label.score", ">=", 0.3), ("label.score", "<=", 0.7)) == ["r1", "r2", "r6"]
    assert q(("label.agent", "==", "m2")) == ["r2", "r5", "r7"]
    assert q(("label.type", "==", "human")) == ["r6"]
    assert q(("topics.suggestion", "==", "b")) == ["r0"]  # multi-label value: terms on a list
    assert q(("topics.score", ">=", 0.7)) == ["r0"]  # list of scores: any in range


def test_sdk_filters_on_responses_and_status(corpus):
    import argilla as rg

    def q(*conditions):
        return sorted(corpus.sdk(rg.Query(filter=rg.Filter(list(conditions)))))

    assert q(("label.response", "==", "pos")) == ["r0", "r4", "r5"]  # any user's response
    assert q(("rating.response", ">=", 3)) == ["r0", "r3", "r5"]
    assert q(("topics.response", "==", "b")) == ["r0"]
    assert q(("status", "==", "completed")) == ["r0", "r3", "r5"]
    assert q(("status", "==", "pending")) == ["r1", "r2", "r4", "r6", "r7"]
    assert q(("response.status", "==", "submitted")) == ["r0", "r3", "r5"]
    assert q(("response.status", "==", "pending")) == ["r7"]  # no response at all
    assert q(("response.status", "in", ["draft", "discarded"])) == ["r1", "r2", "r4", "r6"]
    assert q(("response.status", "in", ["pending", "draft"])) == ["r1", "r4", "r7"]


def test_sdk_filters_on_record_properties(corpus):
    import argilla as rg

    def q(*conditions):
        return sorted(corpus.sdk(rg.Query(filter=rg.Filter(list(conditions)))))

    server_ids = {name: sid for sid, name in corpus.names.items()}
    assert q(("id", "in", ["r3", "r5"])) == ["r3", "r5"]
    assert q(("_server_id", "==", server_ids["r6"])) == ["r6"]
    assert q(("inserted_at", ">=", "2000-01-01T00:00:00Z")) == ALL
    assert q(("inserted_at", "<=", "2000-01-01")) == []
    assert q(("updated_at", "<=", "2999-01-01T00:00:00+02:00")) == ALL


def test_me_filters_on_the_users_own_responses(corpus):
    label = {"entity": "response", "question": "label"}
    rating = {"entity": "response", "question": "rating"}
    base = {"query": {}, "filters": {"and": []}}
    ids, _ = corpus.me_search("owner", with_filters(base, {"type": "terms", "scope": label, "values": ["neg"]}))
    assert sorted(ids) == ["r1", "r3"]
    ids, _ = corpus.me_search("ann", with_filters(base, {"type": "terms", "scope": label, "values": ["neg"]}))
    assert sorted(ids) == ["r0", "r6"]
    ids, _ = corpus.me_search("owner", with_filters(base, {"type": "range", "scope": rating, "ge": 3, "le": 5}))
    assert sorted(ids) == ["r0", "r3"]
    ids, _ = corpus.me_search(
        "owner",
        with_filters(
            tab_body("pending"),
            {"type": "terms", "scope": {"entity": "suggestion", "question": "label", "property": "agent"}, "values": ["m1"]},
        ),
    )
    assert sorted(ids) == ["r6"]


# ---------------------------------------------------------------------------------------------------------------
# sorting (the UI's sort menu; the SDK has none)


def test_sort_by_metadata(corpus):
    ids, total = corpus.search({"sort": sort_on("metadata", "asc", metadata_property="prio")})
    assert ids == ["r1", "r6", "r3", "r2", "r7", "r5", "r0", "r4"] and total == 8
    ids, _ = corpus.search({"sort": sort_on("metadata", "desc", metadata_property="prio")})
    assert ids == ["r0", "r5", "r7", "r2", "r3", "r6", "r1", "r4"]  # missing last in both directions
    ids, _ = corpus.search(
        {"sort": sort_on("metadata", "desc", metadata_property="round") + sort_on("metadata", "asc", metadata_property="prio")}
    )
    assert ids == ["r3", "r7", "r1", "r4", "r2", "r5", "r0", "r6"]
    ids, _ = corpus.search({"sort": sort_on("metadata", "asc", metadata_property="source")})
    assert ids == ["r3", "r4", "r1", "r7", "r0", "r2", "r5", "r6"]  # a list sorts by its min ("chat")


def test_sort_by_suggestion_score_and_filter(corpus):
    ids, _ = corpus.search({"sort": sort_on("suggestion", "desc", question="label", property="score")})
    assert ids == ["r0", "r7", "r5", "r2", "r6", "r1", "r3", "r4"]
    body = {
        "filters": {
            "and": [{"type": "range", "scope": {"entity": "suggestion", "question": "label", "property": "score"}, "ge": 0.5}]
        },
        "sort": sort_on("suggestion", "asc", question="label", property="score"),
    }
    ids, total = corpus.search(body)
    assert ids == ["r6", "r2", "r5", "r7", "r0"] and total == 5


def test_sort_by_record_dates_and_response_value(corpus):
    ids, _ = corpus.search({"sort": sort_on("record", "asc", property="inserted_at")})
    assert ids == ALL
    ids, _ = corpus.search({"sort": sort_on("record", "desc", property="inserted_at")})
    times = {r["external_id"]: r["inserted_at"] for r in corpus.get(f"/api/v1/datasets/{corpus.dataset_id}/records?limit=50")["items"]}
    assert [times[i] for i in ids] == sorted(times.values(), reverse=True)
    # response value: mode avg over responses; the owner's own value on /me
    ids, _ = corpus.search({"sort": sort_on("response", "desc", question="rating")})
    assert ids[:3] == ["r3", "r0", "r5"]  # 4, avg(5, 1) = 3, 3
    ids, _ = corpus.me_search("owner", {"query": {}, "sort": sort_on("response", "desc", question="rating")})
    assert ids[:2] == ["r0", "r3"]



# ---------------------------------------------------------------------------------------------------------------
# pagination


@pytest.mark.parametrize(
    "sort",
    [None, sort_on("metadata", "asc", metadata_property="round"), sort_on("suggestion", "desc", question="label", property="value")],
)
def test_pagination_covers_every_record_once(corpus, sort):
    body = {"sort": sort} if sort else {}
    seen = []
    for offset in range(0, 10, 3):
        ids, total = corpus.search(body, offset=offset, limit=3)
        assert total == 8
        seen += ids
    assert sorted(seen) == ALL and len(seen) == 8
    assert corpus.search(body, offset=8, limit=3) == ([], 8)
