"""Unit tests of the SQLite search engine's SQL builders (no server): FTS5 query sanitising, value conversions,
and Filter / Order trees turned into SQL run against a tiny in-memory copy of argilla-server's tables."""

from __future__ import annotations

import asyncio
import json
import sqlite3
import uuid
from types import SimpleNamespace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from argilla_server.enums import SortOrder
from argilla_server.search_engine.base import (
    AndFilter,
    MetadataFilterScope,
    Order,
    RangeFilter,
    RecordFilterScope,
    ResponseFilterScope,
    SuggestionFilterScope,
    TermsFilter,
)
from labeler.server.search_sql import DatasetSchema, QueryBuilder
from labeler.server.search_values import Params, db_datetime, fts_query, json_path, user_shuffle_expr, uuid_hex

# ---------------------------------------------------------------------------------------------------------------
# FTS5 query


@pytest.mark.parametrize(
    "text, expected",
    [
        ("hello world", '"hello" "world"'),
        ("qui*", '"qui" *'),
        ('"quick brown" fox', '"quick brown" "fox"'),
        ("'; DROP TABLE records; --", '"DROP" "TABLE" "records"'),
        ("NEAR(a b)", '"NEAR" "a" "b"'),
        ("a OR b", '"a" "OR" "b"'),
        ("col:term", '"col" "term"'),
        ("snake_case", '"snake" "case"'),
        ("café 日本語", '"café" "日本語"'),
        ('"', None),
        ('""', None),
        ("*", None),
        ("", None),
        ("  \t\n", None),
        ("()^:-+|~", None),
    ],
)
def test_fts_query(text, expected):
    assert fts_query(text) == expected


def _fts_table() -> sqlite3.Connection:
    conn = sqlite3.connect(":memory:")
    conn.execute("CREATE VIRTUAL TABLE fts USING fts5 (body, tokenize = 'unicode61 remove_diacritics 2')")
    conn.executemany(
        "INSERT INTO fts (body) VALUES (?)",
        [("the quick brown fox",), ("lazy dog",), ("café OR near",), ("DROP TABLE records",)],
    )
    return conn


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=40))
def test_any_text_gives_a_valid_fts5_query(text):
    conn = _fts_table()
    query = fts_query(text)
    if query is not None:
        conn.execute("SELECT rowid FROM fts WHERE fts MATCH ?", (query,)).fetchall()  # never raises
    assert conn.execute("SELECT COUNT(*) FROM fts").fetchone()[0] == 4


def test_fts_matches_like_elasticsearch_simple_query_string():
    conn = _fts_table()

    def hits(text):
        return [r[0] for r in conn.execute("SELECT rowid FROM fts WHERE fts MATCH ? ORDER BY rowid", (fts_query(text),))]

    assert hits("fox") == [1]
    assert hits("QUICK fox") == [1]
    assert hits("fox dog") == []  # AND
    assert hits("cafe") == [3]  # diacritics folded
    assert hits("or") == [3] and hits("near") == [3]  # operators are plain words
    assert hits("'; DROP TABLE records; --") == [4]
    assert hits("qu*") == [1]
    assert hits('"brown fox"') == [1] and hits('"fox brown"') == []


# ---------------------------------------------------------------------------------------------------------------
# conversions


def test_value_conversions():
    u = uuid.uuid4()
    assert uuid_hex(u) == u.hex == uuid_hex(str(u)) == uuid_hex(u.hex)
    assert uuid_hex("not-a-uuid") is None
    assert db_datetime("2024-05-01T10:00:00Z") == "2024-05-01 10:00:00.000000"
    assert db_datetime("2024-05-01T12:00:00+02:00") == "2024-05-01 10:00:00.000000"
    assert db_datetime("2024-05-01") == "2024-05-01 00:00:00.000000"
    assert db_datetime(0) == "1970-01-01 00:00:00.000000"  # epoch milliseconds, as ES
    assert db_datetime("86400000") == "1970-01-02 00:00:00.000000"
    assert json_path('we"ird.key') == '$."we\\"ird.key"'


# ---------------------------------------------------------------------------------------------------------------
# filters and orders against a miniature of argilla-server's schema

DS = uuid.uuid4().hex
Q_LABEL, Q_RATING = uuid.uuid4().hex, uuid.uuid4().hex
U1, U2 = uuid.uuid4(), uuid.uuid4()
REC = {f"r{i}": uuid.UUID(int=i + 1).hex for i in range(5)}


@pytest.fixture()
def db() -> sqlite3.Connection:
    conn = sqlite3.connect(":memory:")
    conn.executescript(
        """
        -- column types as argilla-server's migrations declare them (JSON = NUMERIC affinity)
        CREATE TABLE records (id CHAR(32) PRIMARY KEY, dataset_id CHAR(32), status VARCHAR, external_id VARCHAR,
                              metadata JSON, inserted_at DATETIME, updated_at DATETIME);
        CREATE TABLE responses (id CHAR(32), record_id CHAR(32), user_id CHAR(32), status VARCHAR, "values" JSON,
                                UNIQUE (record_id, user_id));
        CREATE TABLE suggestions (id CHAR(32), record_id CHAR(32), question_id CHAR(32), value JSON, score JSON,
                                  agent VARCHAR, type VARCHAR, UNIQUE (record_id, question_id));
        """
    )
    meta = [
        {"src": "a", "p": 0.5},
        {"src": ["a", "b"], "p": 0.1},
        {"src": "b"},
        {"p": 0.9, "src": 1},
        None,
    ]
    for i, (name, rid) in enumerate(REC.items()):
        conn.execute(
            "INSERT INTO records VALUES (?, ?, ?, ?, ?, ?, ?)",
            (rid, DS, "completed" if i < 2 else "pending", name, json.dumps(meta[i]) if meta[i] else None,
             f"2024-01-0{i + 1} 00:00:00.000000", f"2024-02-0{i + 1} 00:00:00.000000"),
        )
    responses = [
        ("r0", U1, "submitted", {"label": {"value": "x"}, "rating": {"value": 5}}),
        ("r0", U2, "draft", {"label": {"value": "y"}, "rating": {"value": 1}}),
        ("r1", U1, "discarded", {"label": {"value": ["x", "z"]}}),
        ("r2", U2, "submitted", {"rating": {"value": 3}}),
    ]
    for name, user, status, values in responses:
        conn.execute(
            'INSERT INTO responses VALUES (?, ?, ?, ?, ?)',
            (uuid.uuid4().hex, REC[name], user.hex, status, json.dumps(values)),
        )
    suggestions = [
        ("r0", Q_LABEL, "x", 0.9, "m1", "model"),
        ("r1", Q_LABEL, ["x", "z"], [0.2, 0.7], "m2", "model"),
        ("r3", Q_LABEL, "z", None, "m1", "human"),
    ]
    for name, q, value, score, agent, kind in suggestions:
        conn.execute(
            "INSERT INTO suggestions VALUES (?, ?, ?, ?, ?, ?, ?)",
            (uuid.uuid4().hex, REC[name], q, json.dumps(value), json.dumps(score), agent, kind),
        )
    return conn


SCHEMA = DatasetSchema(dataset_id=DS, questions={"label": Q_LABEL, "rating": Q_RATING}, metadata_types={"src": "terms", "p": "float"})
NAMES = {v: k for k, v in REC.items()}


def _ids(db, flt=None, sort=None):
    params = Params({"ds": DS})
    builder = QueryBuilder(SCHEMA, params)
    where = builder.where(flt)
    order = builder.order_by(sort or [])
    sql = (
        f"SELECT r.id FROM records r {builder.joins()} WHERE r.dataset_id = :ds AND {where} "
        f"ORDER BY {', '.join(order + ['r.rowid'])}"
    )
    return [NAMES[row[0]] for row in db.execute(sql, params.values)]


def _user(u):
    return SimpleNamespace(id=u)


@pytest.mark.parametrize(
    "flt, expected",
    [
        (None, ["r0", "r1", "r2", "r3", "r4"]),
        (TermsFilter(MetadataFilterScope("src"), ["a"]), ["r0", "r1"]),
        (TermsFilter(MetadataFilterScope("src"), ["1"]), ["r3"]),  # numbers compare as text, as ES keywords
        (RangeFilter(MetadataFilterScope("p"), ge=0.2), ["r0", "r3"]),
        (RangeFilter(MetadataFilterScope("p"), le=0.5), ["r0", "r1"]),
        (TermsFilter(RecordFilterScope("status"), ["pending"]), ["r2", "r3", "r4"]),
        (TermsFilter(RecordFilterScope("id"), [str(uuid.UUID(REC["r4"])), "garbage"]), ["r4"]),
        (TermsFilter(RecordFilterScope("external_id"), ["r2"]), ["r2"]),
        (RangeFilter(RecordFilterScope("inserted_at"), ge="2024-01-02T00:00:00Z", le="2024-01-03"), ["r1", "r2"]),
        (TermsFilter(SuggestionFilterScope("label", "value"), ["z"]), ["r1", "r3"]),
        (RangeFilter(SuggestionFilterScope("label", "score"), ge=0.5), ["r0", "r1"]),
        (TermsFilter(SuggestionFilterScope("label", "agent"), ["m1"]), ["r0", "r3"]),
        (TermsFilter(SuggestionFilterScope("label", "type"), ["human"]), ["r3"]),
        (TermsFilter(ResponseFilterScope(property="status"), ["pending"]), ["r3", "r4"]),
        (TermsFilter(ResponseFilterScope(property="status", user=_user(U1)), ["pending"]), ["r2", "r3", "r4"]),
        (TermsFilter(ResponseFilterScope(property="status", user=_user(U2)), ["draft", "pending"]), ["r0", "r1", "r3", "r4"]),
        (TermsFilter(ResponseFilterScope(property="status"), ["submitted"]), ["r0", "r2"]),
        (TermsFilter(ResponseFilterScope(question="label"), ["z"]), ["r1"]),
        (TermsFilter(ResponseFilterScope(question="label", user=_user(U2)), ["x"]), []),
        (RangeFilter(ResponseFilterScope(question="rating"), ge=3), ["r0", "r2"]),
        (RangeFilter(ResponseFilterScope(question="rating", user=_user(U2)), ge=3), ["r2"]),
        (
            AndFilter([TermsFilter(MetadataFilterScope("src"), ["a"]), RangeFilter(SuggestionFilterScope("label", "score"), le=0.3)]),
            ["r1"],
        ),
    ],
)
def test_filter_to_sql(db, flt, expected):
    assert _ids(db, flt) == expected


@pytest.mark.parametrize(
    "sort, expected",
    [
        ([Order(MetadataFilterScope("p"), SortOrder.asc)], ["r1", "r0", "r3", "r2", "r4"]),
        ([Order(MetadataFilterScope("p"), SortOrder.desc)], ["r3", "r0", "r1", "r2", "r4"]),
        ([Order(SuggestionFilterScope("label", "score"), SortOrder.desc)], ["r0", "r1", "r2", "r3", "r4"]),  # list: max
        ([Order(SuggestionFilterScope("label", "score"), SortOrder.asc)], ["r1", "r0", "r2", "r3", "r4"]),  # list: min
        ([Order(RecordFilterScope("inserted_at"), SortOrder.desc)], ["r4", "r3", "r2", "r1", "r0"]),
        ([Order(ResponseFilterScope(question="rating"), SortOrder.desc)], ["r0", "r2", "r1", "r3", "r4"]),  # avg(5, 1) = 3 ties r2
        ([Order(ResponseFilterScope(question="rating", user=_user(U1)), SortOrder.desc)], ["r0", "r1", "r2", "r3", "r4"]),
    ],
)
def test_order_to_sql(db, sort, expected):
    assert _ids(db, sort=sort) == expected


def test_unknown_names_are_errors(db):
    with pytest.raises(ValueError, match="nope"):
        _ids(db, TermsFilter(SuggestionFilterScope("nope", "value"), ["x"]))
    with pytest.raises(ValueError):
        _ids(db, TermsFilter(ResponseFilterScope(property="nope"), ["x"]))


def test_user_shuffle_is_deterministic_per_user_and_differs_between_users(db):
    def order(user):
        params = Params()
        key = user_shuffle_expr(user, params)
        return [row[0] for row in db.execute(f"SELECT r.id FROM records r ORDER BY {key}, r.rowid", params.values)]

    assert order(U1) == order(U1) and sorted(order(U1)) == sorted(REC.values())
    orders = {tuple(order(uuid.uuid4())) for _ in range(20)}
    assert len(orders) > 5


# ---------------------------------------------------------------------------------------------------------------
# argilla-server speed-ups


def test_speedups_keep_parsed_settings_and_skip_unwatched_record_events(monkeypatch):
    from argilla_server.contexts import webhooks
    from argilla_server.models.database import MetadataProperty, Question
    from argilla_server.webhooks.v1 import records as record_webhooks

    import labeler.server.search_engine  # noqa: F401  applies the speed-ups
    from argilla_server.bulk import records_bulk

    question = Question(settings={"type": "label_selection", "options": [{"value": "a", "text": "a"}]})
    assert question.parsed_settings.type == "label_selection"
    prop = MetadataProperty(settings={"type": "float", "min": None, "max": None})
    assert prop.parsed_settings.type == "float"

    assert records_bulk.notify_record_event_v1 is record_webhooks.notify_record_event
    calls = {"list": 0}
    enabled = []

    async def list_enabled(db):
        calls["list"] += 1
        return enabled

    monkeypatch.setattr(webhooks, "list_enabled_webhooks", list_enabled)
    class Session:  # stands in for an AsyncSession (hashable, weak-referenceable)
        pass

    session = Session()
    notify = record_webhooks.notify_record_event
    assert asyncio.run(notify(session, "record.created", object())) == []
    assert asyncio.run(notify(session, "record.created", object())) == []
    assert calls["list"] == 1  # once per session
    enabled.append(SimpleNamespace(events=["record.updated"]))
    assert asyncio.run(notify(Session(), "record.created", object())) == []
