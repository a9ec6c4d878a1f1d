"""Child-process entry for argilla-server's API + web UI: ``python -m labeler.server.run_api HOST PORT``.

argilla-server's own CLI crashes with click>=8.2, so the same steps are called from Python: register our
search engine, migrate the database, create the owner with labeler's generated credentials, serve with
uvicorn. Configuration arrives in ``ARGILLA_*`` variables set by ``labeler.server.process``; the owner's
password and key arrive in ``LABELER_OWNER_*`` variables, which are removed before serving.
"""

from __future__ import annotations

import asyncio
import os
import sqlite3
import sys


def prepare_database() -> None:
    """Migrate to head, switch SQLite to WAL (readers never block the writer), create the owner once."""
    from argilla_server.cli.database.migrate import migrate_db
    from argilla_server.cli.database.users.create_default import _create_default
    from argilla_server.settings import settings

    migrate_db("head")
    db_path = settings.database_url.split("///", 1)[1].split("?", 1)[0]
    with sqlite3.connect(db_path) as conn:
        conn.execute("PRAGMA journal_mode=WAL")
    password = os.environ.pop("LABELER_OWNER_PASSWORD")
    api_key = os.environ.pop("LABELER_OWNER_API_KEY")
    asyncio.run(_create_default(api_key=api_key, password=password, quiet=True))


def main(argv: list[str]) -> None:
    host, port = argv[0], int(argv[1])
    os.umask(0o077)  # everything it writes under $LABELER_HOME is private (labeler.server.permissions)
    import labeler.server.search_engine  # noqa: F401  registers the "labeler-sqlite" engine

    prepare_database()
    import uvicorn

    uvicorn.run("argilla_server:app", host=host, port=port, log_level="info", access_log=False)


if __name__ == "__main__":
    main(sys.argv[1:])
