"""The watcher's durable state and its lock.

``watch.json`` in the project folder holds the keys of every submitted answer a completed refresh has
processed (``labeler.argilla.datasets.submitted_keys``), the last refresh's time and what it did, and the
background fine-tune (pid, output file). It is written atomically after each refresh completes, so a watcher
killed at any moment restarts from the last completed refresh: answers after it are the backlog, none is
lost, none is counted twice, and re-pushing is an upsert by record id (no duplicate records).

``.watch.lock`` (an ``fcntl`` lock, released by the kernel when the process dies) allows one watcher per
project; ``running(project)`` probes it without taking it.
"""

from __future__ import annotations

import fcntl
import json
import os
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from labeler.errors import LabelerError
from labeler.words import plural

STATE_FILE = "watch.json"
LOCK_FILE = ".watch.lock"


@dataclass
class WatchState:
    processed: list[str] = field(default_factory=list)  # submitted-answer keys handled by a completed refresh
    refreshes: int = 0
    last_refresh: float | None = None  # unix time
    last_check: float | None = None
    last_summary: str = ""
    backlog: int = 0  # submitted answers not yet processed, at the last check
    mode: str = ""  # "webhook" | "polling"
    pid: int | None = None
    fine_tune: dict | None = None  # {"pid", "out", "started", "labels"} while a fine-tune runs
    swaps: list[dict] = field(default_factory=list)  # fine-tuned runs considered: run id, swapped, why

    @classmethod
    def load(cls, project_dir: Path) -> "WatchState":
        path = Path(project_dir) / STATE_FILE
        if not path.exists():
            return cls()
        try:
            data = json.loads(path.read_text())
        except (OSError, ValueError) as exc:
            raise LabelerError(f"{path} is unreadable ({exc}); delete it to start the watcher afresh") from None
        known = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        return cls(**known)

    def save(self, project_dir: Path) -> None:
        path = Path(project_dir) / STATE_FILE
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        with open(tmp, "w") as fh:
            json.dump(asdict(self), fh)
            fh.flush()
            os.fsync(fh.fileno())
        tmp.replace(path)


class WatchLock:
    """Held for the watcher's lifetime; a second watcher on the project refuses with one line."""

    def __init__(self, project_dir: Path):
        self.path = Path(project_dir) / LOCK_FILE
        self.fh = None

    def __enter__(self) -> "WatchLock":
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fh = open(self.path, "a+")
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            fh.seek(0)
            holder = fh.read().strip() or "pid unknown"
            fh.close()
            raise LabelerError(f"a watcher is already running on {self.path.parent} ({holder}); "
                               "stop it first (Ctrl-C, or kill its pid)") from None
        fh.seek(0)
        fh.truncate()
        fh.write(f"pid {os.getpid()}")
        fh.flush()
        self.fh = fh
        return self

    def __exit__(self, *exc) -> None:
        if self.fh is not None:
            fcntl.flock(self.fh, fcntl.LOCK_UN)
            self.fh.close()
            self.fh = None


def running(project_dir: Path) -> bool:
    """Whether a watcher holds the project's lock now."""
    path = Path(project_dir) / LOCK_FILE
    if not path.exists():
        return False
    with open(path, "a+") as fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        fcntl.flock(fh, fcntl.LOCK_UN)
    return False


def status_line(project_dir: Path, now: float | None = None) -> str | None:
    """One line for ``labeler status``: whether a watcher runs, its last refresh, its backlog; None when no
    watcher ever ran on the project."""
    path = Path(project_dir) / STATE_FILE
    if not path.exists():
        return None
    try:
        st = WatchState.load(project_dir)
    except LabelerError as exc:
        return f"watcher: {exc}"
    now = time.time() if now is None else now
    alive = running(project_dir)
    last = "never" if st.last_refresh is None else f"{_ago(now - st.last_refresh)} ago"
    head = f"watcher: running (pid {st.pid}, {st.mode})" if alive else "watcher: not running"
    tune = ", fine-tune running" if alive and st.fine_tune else ""
    return (f"{head}; {plural(st.refreshes, 'refresh', 'refreshes')}, last {last}; backlog "
            f"{plural(st.backlog, 'answer')} ({len(st.processed)} processed){tune}")



def _ago(seconds: float) -> str:
    seconds = max(0.0, seconds)
    if seconds < 120:
        return f"{seconds:.0f}s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"
