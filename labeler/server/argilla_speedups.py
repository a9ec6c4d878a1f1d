"""Behaviour-preserving speed-ups for argilla-server 2.8, applied in the server process.

Profiling a bulk upsert (``dataset.records.log``) on a 2-core machine showed the server spends most of its time
outside the search engine:

1. ``Question.parsed_settings`` and ``MetadataProperty.parsed_settings`` build a new pydantic ``TypeAdapter``
   on every call (a full core-schema build, ~1 ms each), and the record validators call them for every record
   and every metadata property / suggestion. We validate with one cached adapter per type instead: same result.
2. ``notify_record_event`` builds a webhook event for every record (one query loading the dataset with five
   relationships, and a pydantic dump of the record with its vectors) and only then finds out that no webhook
   is enabled. We look up the enabled webhooks' events once per database session (a bulk request is one
   session) and skip the work when none subscribes to the event; otherwise the original function runs.
3. SQLite's default page cache is 2 MiB per connection; with a few hundred MB of records and vectors the
   random-UUID index inserts of a bulk upsert keep missing it. Connections to a SQLite database get 32 MiB
   (and ``synchronous`` from ``LABELER_SQLITE_SYNCHRONOUS``, see ``run_api``).

Profiling annotators through the UI's requests (bench/bench_annotators.py) showed more:

4. For an annotator, the records search filters each record's metadata through ``RecordPolicy.get_metadata``,
   which asks the database ``User.is_member(workspace)`` once per record and metadata key: 60 identical
   queries for a page of 10 records with 6 metadata properties. We remember the answer on the ``User``
   instance, which lives for one request (it is loaded per request by the authentication dependency).
5. ``notify_response_event`` (every answer) loads the response with its record, dataset, workspace, questions,
   fields, metadata properties and vector settings and dumps it, and only then finds out that no webhook is
   enabled: the same skip as 2.
6. Every authenticated request loads its user twice (with the user's workspaces: two queries each time):
   by API key or by name in the authentication backend, then by name (``accounts.get_user_by_username``) in
   ``AuthenticationProvider.get_current_user``, in the same database session. A user found by name is kept
   for the next lookup of that name in that session, once (the lookup that follows; a user not found is
   never kept, so creating one and looking it up again still works).
7. After every answer ``distribution.update_record_status`` opens a session, loads the record with its dataset
   and its submitted responses (three queries), saves the new status and builds record webhook events. When the
   search engine reads record status from the database (labeler's does) and no webhook listens to record
   events, one ``UPDATE`` computes the same status (completed once the submitted answers reach the dataset's
   ``min_submitted``, else pending) in the database, atomically; otherwise the original runs.
8. The records search filters each record's metadata through ``RecordPolicy.get_metadata`` per record and key
   (60 policy checks for a page of 10 records with 6 properties); the answer depends only on the user, the
   dataset's property and the key, so it is kept on the ``User`` instance (one request), as in 4.

``apply()`` is idempotent; ``labeler.server.search_engine`` calls it on import (the API and the worker import
that module before serving).
"""

from __future__ import annotations

import functools
import importlib
import os
import weakref

_applied = False


def apply() -> None:
    global _applied
    if _applied:
        return
    _cache_settings_adapters()
    _skip_unwatched_events()
    _larger_sqlite_page_cache()
    _remember_workspace_membership()
    _load_request_user_once()
    _record_status_in_one_update()
    _metadata_policy_once_per_request()
    _applied = True


def _cache_settings_adapters() -> None:
    from argilla_server.api.schemas.v1.questions import QuestionSettings
    from argilla_server.models.database import MetadataProperty, Question
    from argilla_server.models.metadata_properties import MetadataPropertySettings
    from pydantic import TypeAdapter

    question_adapter = TypeAdapter(QuestionSettings)
    metadata_adapter = TypeAdapter(MetadataPropertySettings)
    Question.parsed_settings = property(lambda self: question_adapter.validate_python(self.settings))
    MetadataProperty.parsed_settings = property(lambda self: metadata_adapter.validate_python(self.settings))


# (module, function, name the callers imported it as, the callers)
WATCHED = (
    ("argilla_server.webhooks.v1.records", "notify_record_event", "notify_record_event_v1",
     ("argilla_server.bulk.records_bulk", "argilla_server.contexts.records", "argilla_server.contexts.datasets",
      "argilla_server.contexts.distribution")),
    ("argilla_server.webhooks.v1.responses", "notify_response_event", "notify_response_event_v1",
     ("argilla_server.contexts.datasets",)),
)


def _skip_unwatched_events() -> None:
    for module_name, function_name, alias, callers in WATCHED:
        module = importlib.import_module(module_name)
        original = getattr(module, function_name)
        if getattr(original, "_labeler_wrapped", False):
            continue
        wrapped = _skip_when_unwatched(original)
        setattr(module, function_name, wrapped)
        for caller_name in callers:  # the callers imported the function by name
            caller = importlib.import_module(caller_name)
            if getattr(caller, alias, None) is original:
                setattr(caller, alias, wrapped)


def _skip_when_unwatched(original):
    """``original(db, event, obj)``, run only when an enabled webhook subscribes to ``event``."""
    from argilla_server.contexts import webhooks

    # enabled webhook events, looked up once per database session (one bulk request = one session)
    events_by_session: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()

    @functools.wraps(original)
    async def notify_if_watched(db, event, obj):
        events = events_by_session.get(db)
        if events is None:
            events = {name for webhook in await webhooks.list_enabled_webhooks(db) for name in webhook.events}
            events_by_session[db] = events
        if event not in events:
            return []
        return await original(db, event, obj)

    notify_if_watched._labeler_wrapped = True
    return notify_if_watched


def _remember_workspace_membership() -> None:
    from argilla_server.models.database import User

    if not getattr(User.is_member, "_labeler_wrapped", False):
        User.is_member = remember_per_instance(User.is_member)


def remember_per_instance(original):
    """``original(self, key)`` (async) asked once per instance and key; the answer is kept on the instance."""

    @functools.wraps(original)
    async def remembered(self, key):
        known = self.__dict__.setdefault("_labeler_known", {})  # not a mapped attribute: the ORM ignores it
        if key not in known:
            known[key] = await original(self, key)
        return known[key]

    remembered._labeler_wrapped = True
    return remembered


SQLITE_CACHE_KIB = 32768


def _larger_sqlite_page_cache() -> None:
    from argilla_server.settings import settings
    from sqlalchemy import event
    from sqlalchemy.engine import Engine

    @event.listens_for(Engine, "connect")
    def set_sqlite_cache_size(dbapi_connection, connection_record):
        if settings.database_is_sqlite:
            cursor = dbapi_connection.cursor()
            cursor.execute(f"PRAGMA cache_size = -{SQLITE_CACHE_KIB}")
            sync = os.environ.get("LABELER_SQLITE_SYNCHRONOUS", "FULL").upper()
            if sync in ("FULL", "NORMAL"):  # run_api refuses anything else at start
                cursor.execute(f"PRAGMA synchronous = {sync}")
            cursor.close()


def _load_request_user_once() -> None:
    from argilla_server.contexts import accounts

    if getattr(accounts.get_user_by_username, "_labeler_wrapped", False):
        return
    # the callers look them up on the module at call time
    accounts.get_user_by_username, accounts.get_user_by_api_key = found_once_per_session(
        accounts.get_user_by_username, accounts.get_user_by_api_key
    )


def found_once_per_session(by_name, by_key):
    """Wrappers of ``by_name(db, username)`` and ``by_key(db, api_key)`` (async) under which a user found in a
    session answers the next lookup of its name in that session, once, without a query."""
    found: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()  # session -> {username: user}

    @functools.wraps(by_name)
    async def get_user_by_username(db, username):
        kept = found.get(db)
        if kept is not None and username in kept:
            return kept.pop(username)  # the second lookup of the pair (authentication backend, then provider)
        user = await by_name(db, username)
        if user is not None:
            found.setdefault(db, {})[username] = user
        return user

    @functools.wraps(by_key)
    async def get_user_by_api_key(db, api_key):
        user = await by_key(db, api_key)
        if user is not None:  # the provider looks it up by name next
            found.setdefault(db, {})[user.username] = user
        return user

    get_user_by_username._labeler_wrapped = True
    return get_user_by_username, get_user_by_api_key


RECORD_EVENTS = ("record.updated", "record.completed")
DISTRIBUTION_SQL = (
    "SELECT json_extract(d.distribution, '$.strategy'), json_extract(d.distribution, '$.min_submitted') "
    "FROM records r JOIN datasets d ON d.id = r.dataset_id WHERE r.id = :id"
)
_STATUS = (
    "(CASE WHEN (SELECT COUNT(*) FROM responses x WHERE x.record_id = records.id AND x.status = 'submitted') "
    ">= :min_submitted THEN 'completed' ELSE 'pending' END)"
)
STATUS_SQL = f"UPDATE records SET status = {_STATUS}, updated_at = :now WHERE id = :id AND status != {_STATUS}"


def _record_status_in_one_update() -> None:
    from argilla_server.contexts import distribution

    if not getattr(distribution.update_record_status, "_labeler_wrapped", False):
        distribution.update_record_status = record_status_in_one_update(distribution.update_record_status)


def record_status_in_one_update(original):
    """``distribution.update_record_status`` as one ``UPDATE`` (see 7); ``original`` where that cannot do."""
    from datetime import datetime
    from uuid import UUID

    import backoff
    import sqlalchemy
    from argilla_server.contexts import webhooks
    from argilla_server.database import _get_async_db

    update = sqlalchemy.text(STATUS_SQL).bindparams(sqlalchemy.bindparam("now", type_=sqlalchemy.DateTime))

    @backoff.on_exception(backoff.expo, sqlalchemy.exc.SQLAlchemyError, max_time=15)  # as the original
    async def in_one_update(record_hex: str) -> bool:
        async for db in _get_async_db(isolation_level="SERIALIZABLE"):
            events = {name for hook in await webhooks.list_enabled_webhooks(db) for name in hook.events}
            row = (await db.execute(sqlalchemy.text(DISTRIBUTION_SQL), {"id": record_hex})).first()
            if events.intersection(RECORD_EVENTS) or row is None or row[0] != "overlap" or not isinstance(row[1], int):
                return False
            # counted and written by one statement: an answer committed meanwhile is counted
            await db.execute(update, {"id": record_hex, "min_submitted": row[1], "now": datetime.utcnow()})
            await db.commit()
            return True
        return False

    @functools.wraps(original)
    async def update_record_status(search_engine, record_id):
        if getattr(search_engine, "reads_status_from_database", False) and await in_one_update(UUID(str(record_id)).hex):
            return None  # argilla's callers ignore the record the original returns
        # a webhook listens to record events, another search engine, no such record, another strategy
        return await original(search_engine, record_id)

    update_record_status._labeler_wrapped = True
    return update_record_status


def _metadata_policy_once_per_request() -> None:
    from argilla_server.api.handlers.v1.datasets import records as handlers
    from argilla_server.api.policies.v1 import RecordPolicy, is_authorized

    if getattr(handlers._filter_record_metadata_for_user, "_labeler_wrapped", False):
        return

    @functools.wraps(handlers._filter_record_metadata_for_user)
    async def filter_record_metadata_for_user(record, user):
        if record.metadata_ is None:
            return None
        known = user.__dict__.setdefault("_labeler_metadata_allowed", {})  # (dataset, key) -> allowed
        metadata = {}
        for name in list(record.metadata_.keys()):
            key = (record.dataset_id, name)
            if key not in known:  # the policy looks at the user, the dataset's property and the key only
                known[key] = await is_authorized(user, RecordPolicy.get_metadata(record, name))
            if known[key]:
                metadata[name] = record.metadata_[name]
        return metadata

    filter_record_metadata_for_user._labeler_wrapped = True
    handlers._filter_record_metadata_for_user = filter_record_metadata_for_user
