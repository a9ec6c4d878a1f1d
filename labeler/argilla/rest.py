"""Thin REST helpers for what the SDK does not expose: paging raw records with response timestamps, users.

Retries transient failures (connection errors, 5xx, timeouts) with exponential backoff, then raises a
one-line ``LabelerError``.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import httpx

from labeler.argilla.client import Connection
from labeler.errors import LabelerError

PAGE = 1000  # the server's maximum page size for GET /datasets/{id}/records


def request(conn: Connection, method: str, path: str, retries: int = 4, **kwargs) -> httpx.Response:
    headers = {"X-Argilla-Api-Key": conn.api_key}
    delay = 0.5
    for attempt in range(retries + 1):
        try:
            resp = httpx.request(method, f"{conn.url}{path}", headers=headers, timeout=60, **kwargs)
        except (httpx.TransportError, httpx.TimeoutException) as exc:
            problem = f"{type(exc).__name__}"
        else:
            if resp.status_code < 500:
                if resp.status_code == 401:
                    raise LabelerError(f"Argilla at {conn.url} rejected the API key (401)")
                if resp.status_code >= 400:
                    raise LabelerError(f"Argilla {method} {path} failed: HTTP {resp.status_code} {resp.text[:200]}")
                return resp
            problem = f"HTTP {resp.status_code}"
        if attempt < retries:
            time.sleep(delay)
            delay *= 2
    raise LabelerError(f"Argilla at {conn.url} kept failing ({problem}) after {retries + 1} tries: {method} {path}")


def iter_records(conn: Connection, dataset_id, include: str = "responses") -> Iterator[dict]:
    """Every record of a dataset as the API returns it (``external_id`` is labeler's record id)."""
    offset = 0
    while True:
        params = {"offset": offset, "limit": PAGE}
        if include:
            params["include"] = include
        items = request(conn, "GET", f"/api/v1/datasets/{dataset_id}/records", params=params).json()["items"]
        yield from items
        if len(items) < PAGE:
            return
        offset += len(items)


def usernames(conn: Connection) -> dict[str, str]:
    """user id -> username (owners and admins can list users; others get ids only)."""
    try:
        items = request(conn, "GET", "/api/v1/users", retries=1).json()["items"]
    except LabelerError:
        return {}
    return {u["id"]: u["username"] for u in items}
