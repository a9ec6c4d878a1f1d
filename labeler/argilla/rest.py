"""Thin REST helpers for what the SDK does not expose (paging raw records with response timestamps, users),
and the one retry policy for every call labeler makes to Argilla.

Transient failures (connection errors, timeouts, HTTP 5xx) are retried ``RETRIES`` times with exponential
backoff from ``BACKOFF`` seconds, then become a one-line ``LabelerError``. Client errors (401, 403, 404, 422)
are never retried. Every write labeler makes is an upsert by record id, so retrying a batch that may have
landed before the failure is safe.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from typing import TypeVar

import httpx

from labeler.argilla.connection import Connection
from labeler.errors import LabelerError

PAGE = 1000  # the server's maximum page size for GET /datasets/{id}/records
RETRIES = 4  # after the first try: 5 tries in all
BACKOFF = 0.5  # seconds before the first retry; doubled each time (0.5 + 1 + 2 + 4 = 7.5 s at most)

T = TypeVar("T")


class RetriesExhausted(LabelerError):
    """Transient failures outlasted every retry; ``problem`` is the last one ("HTTP 503", "ConnectError")."""

    def __init__(self, message: str, problem: str, tries: int):
        super().__init__(message)
        self.problem, self.tries = problem, tries


def timeout() -> float:
    """Seconds one HTTP request may take (``$LABELER_ARGILLA_TIMEOUT``, default 60)."""
    try:
        return float(os.environ.get("LABELER_ARGILLA_TIMEOUT", "60"))
    except ValueError:
        raise LabelerError("LABELER_ARGILLA_TIMEOUT must be a number of seconds") from None


def transient(exc: BaseException) -> str | None:
    """A short description when ``exc`` is worth retrying (network, timeout, 5xx), else None.

    Understands httpx's exceptions and the Argilla SDK's (which carry ``status_code`` and chain the httpx
    error as ``__cause__``/``__context__``).
    """
    seen = 0
    while exc is not None and seen < 5:
        if isinstance(exc, (httpx.TransportError, httpx.TimeoutException)):
            return type(exc).__name__
        if isinstance(exc, httpx.HTTPStatusError):
            code = exc.response.status_code
            return f"HTTP {code}" if code >= 500 else None
        code = getattr(exc, "status_code", None)
        if isinstance(code, int):
            return f"HTTP {code}" if code >= 500 else None
        exc = exc.__cause__ or exc.__context__
        seen += 1
    return None


def with_retries(fn: Callable[[], T], what: str, url: str, retries: int | None = None) -> T:
    """Call ``fn``; retry transient failures with backoff; raise a one-line ``LabelerError`` after the last.

    Non-transient exceptions propagate unchanged (callers turn them into their own messages).
    """
    retries = RETRIES if retries is None else retries
    delay = BACKOFF
    for attempt in range(retries + 1):
        try:
            return fn()
        except LabelerError:
            raise
        except Exception as exc:  # noqa: BLE001 - classified below
            problem = transient(exc)
            if problem is None:
                raise
        if attempt < retries:
            time.sleep(delay)
            delay *= 2
    raise RetriesExhausted(f"Argilla at {url} kept failing ({problem}) after {retries + 1} tries: {what}; "
                           "is the server overloaded or restarting? Re-run the command (it is safe to repeat)",
                           problem, retries + 1)


_HTTP: httpx.Client | None = None


def _http() -> httpx.Client:
    """One connection pool per process (a new ``httpx`` client per call built an SSL context each time:
    0.15 s of CPU, several times per push under ``labeler watch``)."""
    global _HTTP
    if _HTTP is None:
        _HTTP = httpx.Client()
    return _HTTP


def request(conn: Connection, method: str, path: str, retries: int | None = None, **kwargs) -> httpx.Response:
    headers = {"X-Argilla-Api-Key": conn.api_key}

    def once() -> httpx.Response:
        resp = _http().request(method, f"{conn.url}{path}", headers=headers, timeout=timeout(), **kwargs)
        if resp.status_code >= 500:
            resp.raise_for_status()  # HTTPStatusError: transient, retried
        return resp

    resp = with_retries(once, f"{method} {path}", conn.url, retries)
    if resp.status_code == 401:
        raise LabelerError(f"Argilla at {conn.url} rejected the API key (401)")
    if resp.status_code >= 400:
        raise LabelerError(f"Argilla {method} {path} failed: HTTP {resp.status_code} {' '.join(resp.text[:200].split())}")
    return resp


def iter_records(conn: Connection, dataset_id, include: str | tuple[str, ...] = "responses") -> Iterator[dict]:
    """Every record of a dataset as the API returns it (``external_id`` is labeler's record id); ``include``: what
    each record carries besides its fields, one name or several (``("responses", "suggestions")``)."""
    offset = 0
    while True:
        params = {"offset": offset, "limit": PAGE}
        if include:
            params["include"] = [include] if isinstance(include, str) else list(include)
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
