"""Pending pages handed out to annotators: a short lease per record, so annotators working at the same time
get different records of the queue.

labeler's review order (``search_query.QUEUE_PROPERTY``) is the same for everyone, so annotators opening the
Pending tab together were all shown record 1, then record 2, ...; with one answer needed per record
(``min_submitted`` 1) all answers but one to each were wasted (measured with bench/bench_annotators.py).
Elasticsearch's engine avoids that by shuffling per user, which would lose the queue order.

Each page of a user's Pending tab served in queue order leases its records to that user for ``LEASE_SECONDS``
(renewed whenever they are served to that user again; the web UI fetches 10 records and walks through them).
Another user's Pending tab lists the records leased to someone else *after* all the others, each part in queue
order: nothing is hidden, so a short queue stays visible to everyone. A lease stops counting when it expires,
or once its holder has submitted or discarded the record while it still needs answers (with ``min_submitted`` 2
the record goes on to the next annotator).

Handing out a page is serialised (``_handing_out``; then the side index's write lock, ``BEGIN IMMEDIATE``) across
the threads and API worker processes, so two annotators asking at the same moment get different pages. Leases live in the side index (``ix.leases``); losing them (a rebuilt index) only costs the
spreading for a few minutes.
"""

from __future__ import annotations

import fcntl
import os
import threading
import time
from contextlib import contextmanager
from typing import Any, Callable, List, Optional, Set, Tuple

from argilla_server.enums import ResponseStatusFilter
from argilla_server.search_engine.base import AndFilter, Filter, ResponseFilterScope, TermsFilter

from labeler.server import search_index
from labeler.server.search_values import uuid_hex

LEASE_SECONDS = 300.0
_THREADS = threading.Lock()
_LOCK_FILES: dict = {}


@contextmanager
def _handing_out(index_path: str):
    """One page handed out at a time: a lock between this process's threads, then a file lock between the API's
    worker processes. SQLite's own wait for its write lock polls with growing sleeps (up to 100 ms each), which
    let page requests queue for seconds with 50 annotators; these locks wake the next waiter at once."""
    with _THREADS:
        fd = _LOCK_FILES.get(index_path)
        if fd is None:
            fd = _LOCK_FILES[index_path] = os.open(index_path + ".leases.lock", os.O_RDWR | os.O_CREAT, 0o600)
        fcntl.flock(fd, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)

Row = Tuple[str, Any]  # (record id hex, score)


def is_pending_tab(flt: Optional[Filter], user_id: Any) -> bool:
    """True when ``flt`` asks for records ``user_id`` has not answered (the UI's Pending tab)."""
    if flt is None:
        return False
    if isinstance(flt, AndFilter):
        return any(is_pending_tab(f, user_id) for f in flt.filters)
    scope = flt.scope
    return (
        isinstance(flt, TermsFilter)
        and isinstance(scope, ResponseFilterScope)
        and not scope.question
        and str(scope.property) == "status"
        and scope.user is not None
        and uuid_hex(scope.user.id) == uuid_hex(user_id)
        and ResponseStatusFilter.pending.value in [str(v) for v in flt.values]
    )


def leased_to_others(reader, dataset_hex: str, user_hex: str, now: float) -> Set[str]:
    """Records of the dataset leased to another user, unless that user is done with the record (submitted or
    discarded it) while it still needs answers. A record its holder has just completed stays leased: argilla
    commits the answer and the record's new status in two steps, and in between it still looks pending."""
    rows = reader.execute(
        "SELECT l.record_id FROM ix.leases l WHERE l.dataset_id = :ds AND l.user_id != :me AND l.until > :now "
        "AND NOT (EXISTS (SELECT 1 FROM responses x WHERE x.record_id = l.record_id AND x.user_id = l.user_id "
        "                 AND x.status IN ('submitted', 'discarded')) "
        "         AND (SELECT COUNT(*) FROM responses x WHERE x.record_id = l.record_id AND x.status = 'submitted')"
        "             < (SELECT COALESCE(json_extract(d.distribution, '$.min_submitted'), 1) FROM datasets d "
        "                WHERE d.id = :ds))",
        {"ds": dataset_hex, "me": user_hex, "now": now},
    )
    return {record_hex for (record_hex,) in rows}


def arrange(rows: Callable[[int, Set[str], bool], List[Row]], offset: int, limit: int, leased: Set[str]) -> List[Row]:
    """Rows ``offset .. offset + limit`` of: the rows not in ``leased``, then those in it, each in queue order.

    ``rows(n, ids, inside)`` gives the first ``n`` rows in queue order whose id is in ``ids`` (``inside``) or not
    in it. The database skips the leased records itself: with 50 annotators about 500 records at the top of the
    queue are leased to someone, and reading them only to drop them made every page cost 50 pages' work."""
    want = offset + limit
    page = rows(want, leased, False)
    if len(page) < want and leased:  # the free rows ran out: the leased ones follow
        page += rows(want - len(page), leased, True)
    return page[offset:want]


def hand_out(
    paths: Tuple[str, str],
    dataset_hex: str,
    user_id: Any,
    offset: int,
    limit: int,
    rows: Callable[[int, Set[str], bool], List[Row]],
) -> List[Row]:
    """One page of the user's Pending tab in queue order with others' leases last, leased to the user."""
    user_hex = uuid_hex(user_id)
    reader = search_index.reader_connection(paths)
    with _handing_out(paths[1]), search_index.Transaction(search_index.writer_connection(paths)) as writer:
        now = time.time()
        writer.execute("DELETE FROM leases WHERE dataset_id = ? AND until <= ?", (dataset_hex, now))
        page = arrange(rows, offset, limit, leased_to_others(reader, dataset_hex, user_hex, now))
        writer.executemany(
            "INSERT INTO leases (dataset_id, record_id, user_id, until) VALUES (?, ?, ?, ?) "
            "ON CONFLICT (dataset_id, record_id, user_id) DO UPDATE SET until = excluded.until",
            [(dataset_hex, record_hex, user_hex, now + LEASE_SECONDS) for record_hex, _ in page],
        )
    return page
