"""Conformance of the ``labeler-sqlite`` search engine, against the real argilla-server driven by the SDK and by
the HTTP calls the web UI makes.

One hand-written dataset (8 records r0..r7) with two text fields, label / multi-label / rating questions,
suggestions with scores, agents and types, terms / float / integer metadata (one list value, some missing),
3-d vectors and responses from two users (owner ``argilla`` and annotator ``ann``) in every status. Each test
asserts the exact record ids (external ids) that Elasticsearch would return.

Responses (owner / ann):  r0 submitted pos,5 / submitted neg,1   r1 draft neg / -   r2 discarded / -
                          r3 submitted neg,4 / -   r4 - / draft pos   r5 - / submitted pos,3   r6 - / discarded
                          r7 - / -
Record status (one submitted response completes a record): completed r0, r3, r5.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Dict, List, Optional

import httpx
import pytest

pytestmark = pytest.mark.server

ANN_PASSWORD = "ann-password-123"

TEXTS = {
    "r0": {"text": "the quick brown fox", "title": "animals"},
    "r1": {"text": "lazy dog sleeps"},
    "r2": {"text": "fox and dog are friends"},
    "r3": {"text": "café au lait 日本語 text"},
    "r4": {"text": "nothing special here"},
    "r5": {"text": "quick quick quick"},
    "r6": {"text": "DROP TABLE records; -- not really"},
    "r7": {"text": "another fox story", "title": "fox title"},
}
METADATA = {
    "r0": {"source": "web", "prio": 0.9, "round": 1},
    "r1": {"source": "mail", "prio": 0.1, "round": 2},
    "r2": {"source": "web", "prio": 0.5, "round": 1},
    "r3": {"source": "chat", "prio": 0.3, "round": 3},
    "r4": {"source": ["mail", "chat"], "round": 2},
    "r5": {"source": "web", "prio": 0.7, "round": 1},
    "r6": {"prio": 0.2},
    "r7": {"source": "mail", "prio": 0.6, "round": 3},
}
VECTORS = {
    "r0": [1.0, 0.0, 0.0],
    "r1": [0.9, 0.1, 0.0],
    "r2": [0.0, 1.0, 0.0],
    "r3": [0.0, 0.0, 1.0],
    "r4": [0.7, 0.7, 0.0],
    "r6": [-1.0, 0.0, 0.0],
    "r7": [0.5, 0.5, 0.5],
}
# (question, value, score, agent, type)
SUGGESTIONS = {
    "r0": [("label", "pos", 0.95, "m1", "model"), ("topics", ["a", "b"], [0.8, 0.6], "m2", "model")],
    "r1": [("label", "neg", 0.40, "m1", "model")],
    "r2": [("label", "pos", 0.70, "m2", "model"), ("topics", ["c"], [0.3], "m2", "model")],
    "r3": [("label", "neu", 0.20, "m1", "model")],
    "r5": [("label", "neg", 0.85, "m2", "model")],
    "r6": [("label", "pos", 0.55, "m1", "human")],
    "r7": [("label", "neu", 0.90, "m2", "model")],
}
# user -> record -> (status, values)
RESPONSES = {
    "owner": {
        "r0": ("submitted", {"label": "pos", "rating": 5, "topics": ["a", "b"]}),
        "r1": ("draft", {"label": "neg"}),
        "r2": ("discarded", {"label": "neu"}),
        "r3": ("submitted", {"label": "neg", "rating": 4}),
    },
    "ann": {
        "r0": ("submitted", {"label": "neg", "rating": 1}),
        "r4": ("draft", {"label": "pos"}),
        "r5": ("submitted", {"label": "pos", "rating": 3, "topics": ["c"]}),
        "r6": ("discarded", {"label": "neg"}),
    },
}
ALL = [f"r{i}" for i in range(8)]


@dataclass
class Corpus:
    url: str
    dataset: object  # rg.Dataset
    dataset_id: str
    names: Dict[str, str]  # server id -> external id
    headers: Dict[str, Dict[str, str]]  # "owner" / "ann" -> auth headers
    metadata_ids: Dict[str, str]
    server: object

    def me_search(self, user: str, body: dict, offset: int = 0, limit: int = 50) -> tuple[List[str], int]:
        """POST /api/v1/me/datasets/{id}/records/search as the UI does (include responses and suggestions)."""
        params = [("include", "responses"), ("include", "suggestions"), ("offset", offset), ("limit", limit)]
        return self._post(f"/api/v1/me/datasets/{self.dataset_id}/records/search", user, body, params)

    def search(self, body: dict, offset: int = 0, limit: int = 50) -> tuple[List[str], int]:
        """POST /api/v1/datasets/{id}/records/search (the SDK's endpoint, no user scope)."""
        return self._post(f"/api/v1/datasets/{self.dataset_id}/records/search", "owner", body, [("offset", offset), ("limit", limit)])

    def _post(self, path: str, user: str, body: dict, params) -> tuple[List[str], int]:
        resp = httpx.post(self.url + path, json=body, params=params, headers=self.headers[user], timeout=30)
        assert resp.status_code == 200, resp.text
        data = resp.json()
        return [item["record"]["external_id"] for item in data["items"]], data["total"]

    def get(self, path: str, user: str = "owner") -> dict:
        resp = httpx.get(self.url + path, headers=self.headers[user], timeout=30)
        assert resp.status_code == 200, resp.text
        return resp.json()

    def sdk(self, query=None, **kwargs) -> List[str]:
        return [r.id for r in self.dataset.records(query=query, **kwargs)]


def _token(url: str, username: str, password: str) -> Dict[str, str]:
    resp = httpx.post(f"{url}/api/v1/token", data={"username": username, "password": password}, timeout=30)
    assert resp.status_code == 201, resp.text
    return {"Authorization": f"Bearer {resp.json()['access_token']}"}


@pytest.fixture(scope="module")
def corpus(argilla_server, argilla_client) -> Corpus:
    import argilla as rg

    client = argilla_client
    owner = client.me
    workspace = client.workspaces("argilla")
    ann = next((u for u in client.users if u.username == "ann"), None) or rg.User(username="ann", password=ANN_PASSWORD, role="annotator", client=client).create()
    if ann.username not in [u.username for u in workspace.users]:
        workspace.add_user(ann.username)
    user_ids = {"owner": owner.id, "ann": ann.id}

    settings = rg.Settings(
        fields=[rg.TextField(name="text"), rg.TextField(name="title", required=False)],
        questions=[
            rg.LabelQuestion(name="label", labels=["pos", "neg", "neu"]),
            rg.MultiLabelQuestion(name="topics", labels=["a", "b", "c"], required=False),
            rg.RatingQuestion(name="rating", values=[1, 2, 3, 4, 5], required=False),
        ],
        metadata=[
            rg.TermsMetadataProperty(name="source", options=["web", "mail", "chat"]),
            rg.FloatMetadataProperty(name="prio"),
            rg.IntegerMetadataProperty(name="round"),
        ],
        vectors=[rg.VectorField(name="emb", dimensions=3)],
    )
    name = f"search-conformance-{uuid.uuid4().hex[:8]}"
    dataset = rg.Dataset(name=name, workspace="argilla", settings=settings, client=client).create()

    records = []
    for rid in ALL:
        responses = [
            rg.Response(question_name=q, value=v, user_id=user_ids[user], status=status)
            for user in ("owner", "ann")
            if rid in RESPONSES[user]
            for status, values in [RESPONSES[user][rid]]
            for q, v in values.items()
        ]
        suggestions = [
            rg.Suggestion(question_name=q, value=v, score=s, agent=a, type=t) for q, v, s, a, t in SUGGESTIONS.get(rid, [])
        ]
        records.append(
            rg.Record(
                id=rid,
                fields=TEXTS[rid],
                metadata=METADATA[rid],
                vectors={"emb": VECTORS[rid]} if rid in VECTORS else {},
                suggestions=suggestions,
                responses=responses,
            )
        )
    dataset.records.log(records)

    names = {str(r._server_id): r.id for r in dataset.records}
    assert sorted(names.values()) == ALL
    headers = {
        "owner": {"X-Argilla-Api-Key": argilla_server.api_key},
        "ann": _token(argilla_server.url, "ann", ANN_PASSWORD),
    }
    props = httpx.get(
        f"{argilla_server.url}/api/v1/me/datasets/{dataset.id}/metadata-properties", headers=headers["owner"]
    ).json()["items"]
    return Corpus(
        url=argilla_server.url,
        dataset=dataset,
        dataset_id=str(dataset.id),
        names=names,
        headers=headers,
        metadata_ids={p["name"]: p["id"] for p in props},
        server=argilla_server,
    )


def _status(value: str) -> dict:
    return {"type": "terms", "scope": {"entity": "response", "property": "status"}, "values": [value]}


def _tab(value: str) -> dict:
    """The body the UI sends for one status tab (the pending tab also asks for pending records)."""
    filters = [_status(value)]
    if value == "pending":
        filters.append({"type": "terms", "scope": {"entity": "record", "property": "status"}, "values": ["pending"]})
    return {"query": {}, "filters": {"and": filters}}


def _with(body: dict, *filters: dict, sort: Optional[list] = None) -> dict:
    body = {"query": dict(body.get("query", {})), "filters": {"and": list(body["filters"]["and"]) + list(filters)}}
    if sort:
        body["sort"] = sort
    return body


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
    ids, total = corpus.me_search(user, _tab(tab))
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
    ids, total = corpus.me_search("owner", _with(_tab("pending"), sort=sort))
    assert ids == ["r7", "r6", "r4"] and total == 3  # r4 has no prio: last
    ids, _ = corpus.me_search("ann", _with(_tab("pending"), sort=[{**sort[0], "order": "asc"}]))
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
    ids, _ = corpus.me_search("owner", _with(base, {"type": "terms", "scope": label, "values": ["neg"]}))
    assert sorted(ids) == ["r1", "r3"]
    ids, _ = corpus.me_search("ann", _with(base, {"type": "terms", "scope": label, "values": ["neg"]}))
    assert sorted(ids) == ["r0", "r6"]
    ids, _ = corpus.me_search("owner", _with(base, {"type": "range", "scope": rating, "ge": 3, "le": 5}))
    assert sorted(ids) == ["r0", "r3"]
    ids, _ = corpus.me_search(
        "owner",
        _with(
            _tab("pending"),
            {"type": "terms", "scope": {"entity": "suggestion", "question": "label", "property": "agent"}, "values": ["m1"]},
        ),
    )
    assert sorted(ids) == ["r6"]


# ---------------------------------------------------------------------------------------------------------------
# sorting (the UI's sort menu; the SDK has none)


def _sort(entity: str, order: str, **scope) -> list:
    return [{"scope": {"entity": entity, **scope}, "order": order}]


def test_sort_by_metadata(corpus):
    ids, total = corpus.search({"sort": _sort("metadata", "asc", metadata_property="prio")})
    assert ids == ["r1", "r6", "r3", "r2", "r7", "r5", "r0", "r4"] and total == 8
    ids, _ = corpus.search({"sort": _sort("metadata", "desc", metadata_property="prio")})
    assert ids == ["r0", "r5", "r7", "r2", "r3", "r6", "r1", "r4"]  # missing last in both directions
    ids, _ = corpus.search(
        {"sort": _sort("metadata", "desc", metadata_property="round") + _sort("metadata", "asc", metadata_property="prio")}
    )
    assert ids == ["r3", "r7", "r1", "r4", "r2", "r5", "r0", "r6"]
    ids, _ = corpus.search({"sort": _sort("metadata", "asc", metadata_property="source")})
    assert ids == ["r3", "r4", "r1", "r7", "r0", "r2", "r5", "r6"]  # a list sorts by its min ("chat")


def test_sort_by_suggestion_score_and_filter(corpus):
    ids, _ = corpus.search({"sort": _sort("suggestion", "desc", question="label", property="score")})
    assert ids == ["r0", "r7", "r5", "r2", "r6", "r1", "r3", "r4"]
    body = {
        "filters": {
            "and": [{"type": "range", "scope": {"entity": "suggestion", "question": "label", "property": "score"}, "ge": 0.5}]
        },
        "sort": _sort("suggestion", "asc", question="label", property="score"),
    }
    ids, total = corpus.search(body)
    assert ids == ["r6", "r2", "r5", "r7", "r0"] and total == 5


def test_sort_by_record_dates_and_response_value(corpus):
    ids, _ = corpus.search({"sort": _sort("record", "asc", property="inserted_at")})
    assert ids == ALL
    ids, _ = corpus.search({"sort": _sort("record", "desc", property="inserted_at")})
    times = {r["external_id"]: r["inserted_at"] for r in corpus.get(f"/api/v1/datasets/{corpus.dataset_id}/records?limit=50")["items"]}
    assert [times[i] for i in ids] == sorted(times.values(), reverse=True)
    # response value: mode avg over responses; the owner's own value on /me
    ids, _ = corpus.search({"sort": _sort("response", "desc", question="rating")})
    assert ids[:3] == ["r3", "r0", "r5"]  # 4, avg(5, 1) = 3, 3
    ids, _ = corpus.me_search("owner", {"query": {}, "sort": _sort("response", "desc", question="rating")})
    assert ids[:2] == ["r0", "r3"]


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
    ids, total = corpus.me_search("owner", _with(_tab("pending"), sort=None) | {"query": {"text": {"q": "fox"}}})
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
    body = _tab("pending") | {"query": {"vector": {"name": "emb", "record_id": r0, "order": "most_similar"}}}
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


# ---------------------------------------------------------------------------------------------------------------
# pagination


@pytest.mark.parametrize(
    "sort",
    [None, _sort("metadata", "asc", metadata_property="round"), _sort("suggestion", "desc", question="label", property="value")],
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
