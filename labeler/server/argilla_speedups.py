"""Two behaviour-preserving speed-ups for argilla-server 2.8's record ingestion, applied in the server process.

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
   random-UUID index inserts of a bulk upsert keep missing it. Connections to a SQLite database get 32 MiB.

``apply()`` is idempotent; ``labeler.server.search_engine`` calls it on import (the API and the worker import
that module before serving).
"""

from __future__ import annotations

import functools
import importlib
import weakref

_applied = False


def apply() -> None:
    global _applied
    if _applied:
        return
    _cache_settings_adapters()
    _skip_unwatched_record_events()
    _larger_sqlite_page_cache()
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


def _skip_unwatched_record_events() -> None:
    from argilla_server.contexts import webhooks
    from argilla_server.webhooks.v1 import records as record_webhooks

    original = record_webhooks.notify_record_event
    if getattr(original, "_labeler_wrapped", False):
        return

    # enabled webhook events, looked up once per database session (one bulk request = one session)
    events_by_session: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()

    @functools.wraps(original)
    async def notify_record_event(db, record_event, record):
        events = events_by_session.get(db)
        if events is None:
            events = {event for webhook in await webhooks.list_enabled_webhooks(db) for event in webhook.events}
            events_by_session[db] = events
        if record_event not in events:
            return []
        return await original(db, record_event, record)

    notify_record_event._labeler_wrapped = True
    record_webhooks.notify_record_event = notify_record_event
    # the callers imported the function by name
    for module_name in (
        "argilla_server.bulk.records_bulk",
        "argilla_server.contexts.records",
        "argilla_server.contexts.datasets",
        "argilla_server.contexts.distribution",
    ):
        module = importlib.import_module(module_name)
        if getattr(module, "notify_record_event_v1", None) is original:
            module.notify_record_event_v1 = notify_record_event


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
            cursor.close()
