"""Child-process entry for argilla-server's API + web UI: ``python -m labeler.server.run_api HOST PORT``.

argilla-server's own CLI crashes with click>=8.2, so the same steps are called from Python: register our
search engine, migrate the database, create the owner with labeler's generated credentials, serve with
uvicorn. Configuration arrives in ``ARGILLA_*`` variables set by ``labeler.server.process``; the owner's
password and key arrive in ``LABELER_OWNER_*`` variables, which are removed before serving.

``LABELER_API_WORKERS`` (default 1) serves with that many uvicorn worker processes over the same SQLite
database (WAL: readers never wait; writers queue on SQLite's lock, ``ARGILLA_DATABASE_SQLITE_TIMEOUT``). Each
worker imports ``app`` from this module, which registers the search engine before handing out argilla's app.
``LABELER_SQLITE_SYNCHRONOUS`` (``FULL``, the default, or ``NORMAL``) is SQLite's ``synchronous`` for argilla's
database: with ``NORMAL`` a commit does not wait for the disk (an answer survives a crash of the server but not
a power cut right after it), which shortens the write lock every answer takes (bench/bench_annotators.py).
"""

from __future__ import annotations

import asyncio
import os
import sqlite3
import sys


def prepare_database() -> None:
    """Migrate to head, switch SQLite to WAL (readers never block the writer), add the search engine's
    indexes, create the owner once."""
    from argilla_server.cli.database.migrate import migrate_db
    from argilla_server.cli.database.users.create_default import _create_default
    from argilla_server.settings import settings

    from labeler.server.search_index import create_argilla_indexes

    migrate_db("head")
    db_path = settings.database_url.split("///", 1)[1].split("?", 1)[0]
    with sqlite3.connect(db_path) as conn:
        conn.execute("PRAGMA journal_mode=WAL")
    create_argilla_indexes(db_path)
    password = os.environ.pop("LABELER_OWNER_PASSWORD")
    api_key = os.environ.pop("LABELER_OWNER_API_KEY")
    asyncio.run(_create_default(api_key=api_key, password=password, quiet=True))


def main(argv: list[str]) -> None:
    host, port = argv[0], int(argv[1])
    os.umask(0o077)  # everything it writes under $LABELER_HOME is private (labeler.server.permissions)
    check_settings()
    import labeler.server.search_engine  # noqa: F401  registers the "labeler-sqlite" engine

    prepare_database()
    import uvicorn

    # keep idle connections longer than an annotator's pause between answers: with uvicorn's 5 s the server
    # closed connections just as clients (browsers, the SDK's pool) reused them (RemoteProtocolError under load)
    uvicorn.run("labeler.server.run_api:app", host=host, port=port, workers=api_workers(), log_level="info",
                access_log=False, timeout_keep_alive=KEEP_ALIVE_SECONDS)


KEEP_ALIVE_SECONDS = 75  # as nginx's default keepalive_timeout


def check_settings() -> None:
    api_workers()
    sync = os.environ.get("LABELER_SQLITE_SYNCHRONOUS", "FULL")
    if sync.upper() not in ("FULL", "NORMAL"):
        raise SystemExit(f"LABELER_SQLITE_SYNCHRONOUS must be FULL or NORMAL; got {sync!r}")


def api_workers() -> int:
    raw = os.environ.get("LABELER_API_WORKERS", "1")
    try:
        workers = int(raw)
    except ValueError:
        workers = 0
    if not 1 <= workers <= 64:
        raise SystemExit(f"LABELER_API_WORKERS must be a whole number from 1 to 64; got {raw!r}")
    return workers


def __getattr__(name: str):
    """``app``: argilla-server's ASGI app, with labeler's search engine registered (what uvicorn serves)."""
    if name == "app":
        import labeler.server.search_engine  # noqa: F401  registers the "labeler-sqlite" engine
        from argilla_server import app

        _exit_with_parent()
        return app
    raise AttributeError(name)


def _exit_with_parent(grace_s: float = 10.0) -> None:
    """In a uvicorn worker process: shut down when the supervising API process dies (a crash or ``kill -9``
    would otherwise leave workers serving the port, invisible to ``labeler server stop``)."""
    import multiprocessing
    import signal
    import threading
    import time

    parent = multiprocessing.parent_process()
    if parent is None or getattr(_exit_with_parent, "watching", False):
        return
    _exit_with_parent.watching = True

    def watch() -> None:
        parent.join()  # returns when the parent's end of the pipe closes: it has exited
        os.kill(os.getpid(), signal.SIGTERM)  # uvicorn's graceful shutdown
        time.sleep(grace_s)
        os._exit(1)

    threading.Thread(target=watch, name="labeler-parent-watch", daemon=True).start()


if __name__ == "__main__":
    main(sys.argv[1:])
