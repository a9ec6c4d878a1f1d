"""One labeler command at a time per project: an advisory ``fcntl`` lock on ``<project dir>/.labeler.lock``.

``push``, ``round``, ``bootstrap`` and ``train`` write the same project files and the same Argilla dataset;
two at once would interleave priorities and round counters. The lock is released by the kernel when its
process exits (also on ``kill -9``), so a crash never leaves a stale lock behind; the PID and command written
into the file are for the message only.

    with project_lock(project_dir(config), what="push"):
        push_queue(config)
"""

from __future__ import annotations

import fcntl
import os
import time
from contextlib import contextmanager
from pathlib import Path

from labeler.errors import LabelerError

LOCK_FILE = ".labeler.lock"


def _holder(fh) -> str:
    try:
        fh.seek(0)
        text = fh.read().strip()
    except OSError:
        return ""
    return text


@contextmanager
def project_lock(project_dir: str | os.PathLike, what: str = "push", wait: bool | float = False):
    """Hold the project's lock for the block.

    ``wait=False``: refuse at once with a one-line ``LabelerError`` naming the holder's PID and command;
    ``wait=True``: block until free; ``wait=<seconds>``: wait at most that long, then refuse.
    """
    path = Path(project_dir)
    path.mkdir(parents=True, exist_ok=True)
    lock = path / LOCK_FILE
    fh = open(lock, "a+")
    try:
        deadline = None if wait is True else time.monotonic() + (0 if wait is False else float(wait))
        while True:
            try:
                fcntl.flock(fh, fcntl.LOCK_EX | (0 if deadline is None else fcntl.LOCK_NB))
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    holder = _holder(fh) or "pid unknown"
                    raise LabelerError(f"another labeler command is running on {path} ({holder}); "
                                       f"wait for it to finish or retry this {what}") from None
                time.sleep(0.1)
        fh.seek(0)
        fh.truncate()
        fh.write(f"{what}, pid {os.getpid()}")
        fh.flush()
        try:
            yield
        finally:
            fh.seek(0)
            fh.truncate()
            fh.flush()
            fcntl.flock(fh, fcntl.LOCK_UN)
    finally:
        fh.close()
