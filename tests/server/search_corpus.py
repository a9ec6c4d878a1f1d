"""The corpus the search-engine conformance tests share (``test_search_engine.py``,
``test_search_text_and_similarity.py``): the real argilla-server driven by the SDK and by the HTTP calls the
web UI makes.

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


_BUILT: Dict[str, "Corpus"] = {}  # server URL -> corpus: built once per test session, shared by both modules


@pytest.fixture(scope="module")
def corpus(argilla_server, argilla_client) -> Corpus:
    if argilla_server.url not in _BUILT:
        _BUILT[argilla_server.url] = _build(argilla_server, argilla_client)
    return _BUILT[argilla_server.url]


def _build(argilla_server, argilla_client) -> Corpus:
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


def status_filter(value: str) -> dict:
    return {"type": "terms", "scope": {"entity": "response", "property": "status"}, "values": [value]}


def tab_body(value: str) -> dict:
    """The body the UI sends for one status tab (the pending tab also asks for pending records)."""
    filters = [status_filter(value)]
    if value == "pending":
        filters.append({"type": "terms", "scope": {"entity": "record", "property": "status"}, "values": ["pending"]})
    return {"query": {}, "filters": {"and": filters}}


def with_filters(body: dict, *filters: dict, sort: Optional[list] = None) -> dict:
    body = {"query": dict(body.get("query", {})), "filters": {"and": list(body["filters"]["and"]) + list(filters)}}
    if sort:
        body["sort"] = sort
    return body


def sort_on(entity: str, order: str, **scope) -> list:
    return [{"scope": {"entity": entity, **scope}, "order": order}]
