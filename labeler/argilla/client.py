"""One way to get a connected Argilla client.

URL and key come from the config/environment when a URL is configured (any Argilla 2.x server), else from
the local server's credentials file. Connection problems become one-line errors.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from labeler.errors import LabelerError


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
        if not key:
            raise LabelerError(f"Argilla URL {url} is configured but ${api_key_env} is not set; export the API key")
        return Connection(url.rstrip("/"), key, "config")
    from labeler.server import credentials
    from labeler.server.paths import ServerPaths

    paths = ServerPaths.default()
    creds = credentials.load(paths.credentials_file)
    if creds is None or not creds.url:
        raise LabelerError("no Argilla URL configured and no local server found; run `labeler server start`")
    return Connection(creds.url, creds.api_key, "local server")


def connect(conn: Connection, timeout: int = 60):
    """A connected ``argilla.Argilla`` client; checks the URL and the key with one request."""
    import httpx

    try:
        resp = httpx.get(f"{conn.url}/api/v1/me", headers={"X-Argilla-Api-Key": conn.api_key}, timeout=10)
    except httpx.HTTPError as exc:
        raise LabelerError(f"cannot reach Argilla at {conn.url} ({type(exc).__name__}); is the server running?") from None
    if resp.status_code == 401:
        raise LabelerError(f"Argilla at {conn.url} rejected the API key (401); check the key in the environment or the credentials file")
    if resp.status_code != 200:
        raise LabelerError(f"Argilla at {conn.url} answered HTTP {resp.status_code} to /api/v1/me; is this an Argilla 2.x server?")
    import warnings

    import argilla as rg

    # The SDK warns on every lookup of a dataset that does not exist yet; labeler creates it on first push.
    warnings.filterwarnings("ignore", message="Dataset with name .* not found", category=UserWarning)
    # Bulk upserts echo every record (vectors included) back; compressing that costs more CPU than it
    # saves on a local link (measured: 186 -> 329 records/s with identity, bench/bench_server.py).
    return rg.Argilla(api_url=conn.url, api_key=conn.api_key, timeout=timeout,
                      headers={"Accept-Encoding": "identity"})
