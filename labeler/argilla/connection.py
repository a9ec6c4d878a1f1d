"""Where the Argilla server is and which key to use: the ``Connection`` every entry point takes.

URL and key come from the config/environment when a URL is configured (any Argilla 2.x server), else from
the local server's credentials file. A configured URL that is the local server's (``labeler server start
--port 6950`` and ``argilla.url: http://127.0.0.1:6950``) takes the stored key when the environment has none.
This module makes no request; ``client.connect`` does.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from labeler.errors import LabelerError
from labeler.server import credentials
from labeler.server.paths import ServerPaths


@dataclass(frozen=True)
class Connection:
    url: str
    api_key: str
    source: str  # "config" | "environment" | "local server"

    def __repr__(self) -> str:
        return f"Connection(url={self.url!r}, source={self.source!r}, api_key=***)"


def resolve(url: str | None = None, api_key_env: str = "ARGILLA_API_KEY") -> Connection:
    """Find the server: an explicit URL (key from ``$api_key_env``), ``$ARGILLA_API_URL``, or the local server."""

    url = url or os.environ.get("ARGILLA_API_URL")
    if url:
        key = os.environ.get(api_key_env)
        if key:
            return Connection(url.rstrip("/"), key, "config")
        creds = credentials.load(ServerPaths.default().credentials_file)
        if creds is not None and creds.serves(url):
            return Connection(url.rstrip("/"), creds.api_key, "local server")
        raise LabelerError(f"Argilla URL {url} is configured but ${api_key_env} is not set; export the API key"
                           + (f" (the local server runs at {creds.url}; its key is used for that URL)"
                              if creds is not None and creds.url else ""))
    creds = credentials.load(ServerPaths.default().credentials_file)
    if creds is None or not creds.url:
        raise LabelerError("no Argilla URL configured and no local server found; run `labeler server start`")
    return Connection(creds.url, creds.api_key, "local server")
