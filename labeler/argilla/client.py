"""One way to get a connected Argilla client (the ``Connection`` itself lives in ``connection.py``).

Connection problems become one-line errors.
"""

from __future__ import annotations

from labeler.argilla import rest
from labeler.argilla.connection import Connection, resolve
from labeler.errors import LabelerError

__all__ = ["Connection", "resolve", "connect"]


def _quiet_not_found() -> None:
    """The SDK warns on every lookup of a dataset that does not exist yet; labeler creates it on first push.
    (Set at every connect: test runners and ``warnings.catch_warnings`` reset the filters.)"""
    import warnings

    warnings.filterwarnings("ignore", message="Dataset with name .* not found", category=UserWarning)


_CLIENTS: dict[tuple, object] = {}  # (url, key, timeout) -> a client that connected once in this process


def connect(conn: Connection, timeout: int | None = None):
    """A connected ``argilla.Argilla`` client; checks the URL and the key with one request the first time in
    a process (``labeler watch`` connects at every refresh: later calls reuse the client).

    Transient failures (refused connection while the server restarts, timeouts, 5xx) are retried with backoff
    (``labeler.argilla.rest.with_retries``); a wrong URL or a bad key is a one-line ``LabelerError``.
    """
    import httpx

    timeout = timeout or rest.timeout()
    key = (conn.url, conn.api_key, timeout)
    if key in _CLIENTS:
        _quiet_not_found()
        return _CLIENTS[key]

    def me() -> httpx.Response:
        resp = httpx.get(f"{conn.url}/api/v1/me", headers={"X-Argilla-Api-Key": conn.api_key}, timeout=min(timeout, 10))
        if resp.status_code >= 500:
            resp.raise_for_status()
        return resp

    try:
        resp = rest.with_retries(me, "GET /api/v1/me", conn.url, retries=2)
    except httpx.HTTPError as exc:
        raise LabelerError(f"cannot reach Argilla at {conn.url} ({type(exc).__name__}); is the server running?") from None
    except rest.RetriesExhausted as exc:
        hint = "is the server running? (`labeler server status`)" if not exc.problem.startswith("HTTP") \
            else "the server is failing; see `labeler server logs api`"
        raise LabelerError(f"cannot reach Argilla at {conn.url} ({exc.problem}, {exc.tries} tries); {hint}") from None
    if resp.status_code == 401:
        raise LabelerError(f"Argilla at {conn.url} rejected the API key (401); check the key in the environment or the credentials file")
    if resp.status_code != 200:
        raise LabelerError(f"Argilla at {conn.url} answered HTTP {resp.status_code} to /api/v1/me; is this an Argilla 2.x server?")
    import argilla as rg

    _quiet_not_found()
    # The SDK logs (not warns) "The provided batch size N was normalized" on the "argilla.sdk" logger; labeler
    # already sends at most 500 records per request, so the line is noise to users.
    _quiet_batch_size_notice()
    _quiet_sdk_progress()
    # Bulk upserts echo every record (vectors included) back; compressing that costs more CPU than it
    # saves on a local link (measured: 186 -> 329 records/s with identity, bench/bench_server.py).
    # One retry policy: labeler's (rest.with_retries, around every SDK call it makes). The SDK's own transport
    # retries connection errors with backoff (7.5 s for its default 5); nested in ours that made a push to a
    # dead server hang for ~40 s, so the SDK keeps a single quick retry.
    client = rg.Argilla(api_url=conn.url, api_key=conn.api_key, timeout=int(max(1, timeout)), retries=1,
                        headers={"Accept-Encoding": "identity"})
    _CLIENTS[key] = client
    return client


class _NoBatchNormalized:
    """A logging filter dropping the SDK's batch-size notice (the ``filter`` protocol of ``logging``)."""

    @staticmethod
    def filter(record) -> bool:
        return "was normalized" not in record.getMessage()


def _quiet_batch_size_notice() -> None:
    import logging

    logger = logging.getLogger("argilla.sdk")
    if not any(isinstance(f, _NoBatchNormalized) for f in logger.filters):
        logger.addFilter(_NoBatchNormalized())


def _quiet_sdk_progress() -> None:
    """The SDK draws its own "Sending records..." bar on every ``records.log`` (no switch to turn it off);
    labeler's push shows one progress bar of its own (off with ``-q``), so the SDK's is disabled."""
    import functools

    from argilla.records import _dataset_records
    from tqdm.auto import tqdm

    if not isinstance(_dataset_records.tqdm, functools.partial):
        _dataset_records.tqdm = functools.partial(tqdm, disable=True)
