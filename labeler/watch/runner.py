"""The watcher's loop (``labeler watch``): wait for answers, refresh every ``watch.refresh_every`` of them,
fine-tune in the background when due, swap the run in when the rule allows. See ``labeler.watch``.

Answers are counted against the server, never against events alone: an event (webhook) or a tick (polling)
only prompts a look at the submitted answers (``submitted_keys``); the state file says which of them a
completed refresh has processed. Under webhooks a slower safety tick catches anything a lost event missed. A
server that stops answering (every retry failed) is waited for, not fatal: the watcher says so once, looks again
every ``DOWN_TICK`` and says when it is back; answers given meanwhile are counted at that look.
"""

from __future__ import annotations

import contextlib
import os
import signal
import time
from urllib.parse import urlparse

from labeler.argilla import webhooks
from labeler.argilla.datasets import find_dataset, submitted_keys
from labeler.argilla.rest import RetriesExhausted
from labeler.errors import LabelerError
from labeler.loop.round import connection, dataset_gone
from labeler.loop.runs import set_current_run
from labeler.project import Project
from labeler.watch import finetune
from labeler.watch.listener import WATCH_EVENTS, Inbox, Listener
from labeler.watch.refresh import refresh
from labeler.watch.state import WatchLock, WatchState

SAFETY_TICK = 30.0  # seconds between answer checks under webhooks, whatever the events say
DOWN_TICK = 10.0  # seconds between looks while the server does not answer (each look retries for up to 7.5 s)
LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1"}


def resolve_mode(config, url: str) -> str:
    """``webhook`` or ``polling``: ``auto`` listens only when the server is on this machine (a remote server
    could not reach a listener bound to 127.0.0.1)."""
    mode = config.watch.mode
    if mode != "auto":
        return mode
    return "webhook" if (urlparse(url).hostname or "") in LOCAL_HOSTS else "polling"


class Watcher:
    def __init__(self, config, config_path: str, overrides: list[str] | None = None, echo=print,
                 mode: str | None = None, max_refreshes: int | None = None, exit_after: float | None = None):
        self.config, self.config_path, self.overrides = config, config_path, list(overrides or [])
        self.echo, self.mode = echo, mode
        self.max_refreshes, self.exit_after = max_refreshes, exit_after
        self.project = Project(config).ensure()
        self.stopping = False
        self.inbox = None

    # -- lifecycle ---------------------------------------------------------------------------------
    def run(self) -> WatchState:
        with WatchLock(self.project.dir):
            self.conn = connection(self.config)
            self.mode = self.mode or resolve_mode(self.config, self.conn.url)
            self.state = WatchState.load(self.project.dir)
            self.state.pid, self.state.mode = os.getpid(), self.mode
            self.dataset_id = self._dataset_id()
            old = {s: signal.signal(s, self._on_signal) for s in (signal.SIGINT, signal.SIGTERM)}
            from labeler.watch.refresh import warm_up

            self.echo(f"warmed up in {warm_up(self.config):.1f}s (pool, models and vectors in memory)")
            try:
                with self._events() as wait:
                    self._loop(wait)
            finally:
                for s, handler in old.items():
                    signal.signal(s, handler)
                self.state.pid = None
                self.state.save(self.project.dir)
            return self.state

    def _on_signal(self, signum, frame) -> None:
        self.stopping = True
        if self.inbox is not None:
            self.inbox.wake.set()

    @contextlib.contextmanager
    def _events(self):
        """Yield ``wait(timeout)`` -> answers announced since the last call (webhooks) or 0 (polling)."""
        if self.mode == "polling":
            def sleep(timeout: float) -> int:
                end = time.monotonic() + timeout
                while not self.stopping and time.monotonic() < end:
                    time.sleep(min(0.2, max(0.0, end - time.monotonic())))
                return 0

            self.echo(f"watching {self.config.argilla.dataset!r}: polling every {self.config.watch.poll_seconds:g}s")
            yield sleep
            return

        self.inbox = Inbox(self.dataset_id or "")
        marker = f"labeler watch: {self.project.dir}"
        w = self.config.watch
        with Listener(w.host, w.port, self.inbox) as listener:
            stale = webhooks.delete_marked(self.conn, marker)
            hook = webhooks.create(self.conn, listener.url, f"{marker} (pid {os.getpid()})", events=WATCH_EVENTS)
            listener.secret = hook.secret
            self.echo(f"watching {self.config.argilla.dataset!r}: webhook at {listener.url}"
                      + (f" ({stale} stale webhook{'s' if stale != 1 else ''} of an earlier watcher removed)"
                         if stale else ""))

            def wait(timeout: float) -> int:
                self.inbox.wake.wait(timeout)
                self.inbox.wake.clear()
                return self.inbox.take()

            try:
                yield wait
            finally:
                webhooks.delete(self.conn, hook.id)

    def _dataset_id(self) -> str | None:
        ds = find_dataset(self.conn, self.config.argilla.dataset, self.config.argilla.workspace)
        return str(ds.id) if ds is not None else None

    # -- the loop ----------------------------------------------------------------------------------
    def _loop(self, wait) -> None:
        every = self.config.watch.refresh_every
        tick = self.config.watch.poll_seconds if self.mode == "polling" else max(SAFETY_TICK,
                                                                                  self.config.watch.poll_seconds)
        started = time.monotonic()
        announced, force = 0, self.dataset_id is None  # no dataset yet: the first refresh pushes and creates it
        look, down = True, None  # down: when the server stopped answering (a restart, an upgrade, a crash)
        while not self.stopping:
            try:
                force |= self._check_fine_tune()
                if look or force:
                    backlog = self._look()
                    if backlog >= every or force:
                        self._refresh(backlog)
                        force = False
                    else:
                        self.state.save(self.project.dir)
                    announced = 0  # the look counted them
                    self._maybe_fine_tune()
                if down is not None:
                    self.echo(f"server back after {time.monotonic() - down:.0f}s; answers given meanwhile were counted")
                    down = None
            except RetriesExhausted as exc:  # every retry failed: wait for the server instead of exiting
                if down is None:
                    down = time.monotonic()
                    self.echo(f"server unreachable ({exc.problem} after {exc.tries} tries): waiting for it, looking "
                              f"again every {DOWN_TICK:g}s (Ctrl-C stops the watcher)")
            if self._done(started):
                break
            got = wait(tick if down is None else min(tick, DOWN_TICK))
            announced += got
            # polling: look every tick; webhooks: once enough answers were announced, or on the safety tick
            # (or any other wake-up that announced nothing: a draft, a signal, a lost count); the server down:
            # every DOWN_TICK
            look = down is not None or self.mode == "polling" or got == 0 or announced + self.state.backlog >= every
        if self.stopping:
            self.close()

    def _look(self) -> int:
        """The backlog as the server has it: submitted answers no completed refresh has processed."""

        try:
            keys = submitted_keys(self.conn, self.dataset_id) if self.dataset_id else set()
        except RetriesExhausted:
            raise
        except LabelerError:
            if self.dataset_id and self._dataset_id() != self.dataset_id:  # deleted under the watcher (HTTP 404)
                raise LabelerError(f"dataset {self.config.argilla.dataset!r} is gone from the server: the watcher "
                                   f"stops ({dataset_gone(self.config, '`labeler round` or `labeler watch` again')})")
            raise
        backlog = len(keys - set(self.state.processed))
        self.state.backlog, self.state.last_check = backlog, time.time()
        return backlog

    def _done(self, started: float) -> bool:
        if self.max_refreshes is not None and self._refreshes_here >= self.max_refreshes:
            return True
        return self.exit_after is not None and time.monotonic() - started >= self.exit_after

    _refreshes_here = 0

    def _refresh(self, backlog: int) -> None:
        t0 = time.perf_counter()
        try:
            report = refresh(self.config, self.dataset_id)
        except RetriesExhausted:  # the server went away mid-refresh: the loop waits for it, then refreshes
            raise
        except LabelerError as exc:
            self.echo(f"refresh skipped: {exc}")
            return
        if self.dataset_id is None:
            self.dataset_id = self._dataset_id()
            if self.inbox is not None:
                self.inbox.dataset_id = self.dataset_id or ""
        self._refreshes_here += 1
        st = self.state
        st.processed = sorted(set(st.processed) | report.keys)
        st.refreshes += 1
        st.last_refresh = time.time()
        st.backlog = max(0, backlog - len(report.keys))
        st.last_summary = report.summary()
        st.save(self.project.dir)
        self.echo(f"refresh {st.refreshes} ({time.perf_counter() - t0:.1f}s): {report.summary()}")

    # -- background fine-tune ----------------------------------------------------------------------
    def _maybe_fine_tune(self) -> None:
        if self.state.fine_tune is not None or self.stopping:
            return
        why = finetune.due(self.config)
        if why is None:
            return
        self.state.fine_tune = finetune.start(self.config, self.config_path, self.overrides)
        self.state.save(self.project.dir)
        self.echo(f"fine-tune started in the background (pid {self.state.fine_tune['pid']}): {why}")

    def _check_fine_tune(self) -> bool:
        """Handle a finished fine-tune; True when a run was swapped in (the suggestions need a refresh)."""
        job = self.state.fine_tune
        if job is None:
            return False
        result = finetune.poll(job)
        if result is None:
            return False
        self.state.fine_tune = None
        if "error" in result:
            self.echo(f"fine-tune failed: {result['error']}")
            self.state.swaps.append({"run_id": None, "swapped": False, "why": result["error"]})
            self.state.save(self.project.dir)
            return False

        if result["swap"]:
            set_current_run(self.config, result["run_id"])
        self.state.swaps.append({"run_id": result["run_id"], "swapped": bool(result["swap"]), "why": result["why"]})
        self.state.save(self.project.dir)
        self.echo(f"fine-tune done in {result.get('seconds', 0):.0f}s: {result['why']}")
        return bool(result["swap"])

    def close(self) -> None:
        """A clean stop (Ctrl-C, SIGTERM) ends the background fine-tune too; after ``kill -9`` it runs on and
        the next watcher adopts its result from the state file."""
        if self.state.fine_tune is not None:
            finetune.stop(self.state.fine_tune)
            self.echo(f"stopped the background fine-tune (pid {self.state.fine_tune['pid']})")
            self.state.fine_tune = None
        try:  # the backlog it stops with, counted on the server (answers may have come since the last look)
            self._look()
        except LabelerError as exc:
            self.echo(f"backlog not counted: {exc}")
