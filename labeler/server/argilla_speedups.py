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

Profiling annotators through the UI's requests (bench/bench_annotators.py) showed two more:

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
