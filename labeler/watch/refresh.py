"""One refresh of the continuous loop: the same steps as ``labeler round`` minus training, from caches.

pull (every answer, from the server) -> ``bootstrap`` (signals read from the prediction cache, the fast
model refitted on the human labels plus weak labels, the current run read from the cache the background
fine-tune filled) -> ``push_queue`` (pending records get fresh suggestions and priorities, the queue is
topped up to ``queue.batch_size``; answered records are never touched). Taken under the project lock, so a
``labeler push`` or ``round`` run by hand waits for it rather than interleaving.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field

from labeler.data import load_pool
from labeler.locking import project_lock
from labeler.loop.round import pull_labels, push_queue
from labeler.loop.scoring import bootstrap, build_signals, embedder
from labeler.project import Project


FAULT_PAUSE_ENV = "LABELER_WATCH_FAULT_PAUSE"  # seconds to stall mid-refresh: tests kill -9 the watcher there


def _fault_pause() -> None:
    pause = float(os.environ.get(FAULT_PAUSE_ENV, "0") or 0)
    if pause > 0:
        time.sleep(pause)


@dataclass
class RefreshReport:
    keys: set[str]  # the submitted answers this refresh processed (listed before the pull)
    seconds: dict[str, float] = field(default_factory=dict)
    labeled: int = 0
    created: int = 0
    refreshed: int = 0
    agent: str = ""
    queue_note: str | None = None

    def summary(self) -> str:
        steps = ", ".join(f"{k} {v:.1f}s" for k, v in self.seconds.items())
        return (f"{len(self.keys)} answers, {self.labeled} labeled records; pushed {self.created} new, refreshed "
                f"{self.refreshed} pending; suggestions by {self.agent} ({steps})")


def refresh(config, dataset_id, wait_lock: float = 60.0) -> RefreshReport:
    project = Project(config).ensure()
    seconds: dict[str, float] = {}
    t = time.perf_counter()
    with project_lock(project.dir, what="watch refresh", wait=wait_lock):
        # the answers this refresh covers are those its pull read, and the push plans on the same read
        pulled = pull_labels(config) if dataset_id else None
        keys = pulled.answer_keys if pulled else set()
        by = f"labeler watch after {len(keys)} answers"
        seconds["pull"] = time.perf_counter() - t
        t = time.perf_counter()
        pool, scores = bootstrap(config, progress=False)
        seconds["score"] = time.perf_counter() - t
        _fault_pause()
        t = time.perf_counter()
        pushed = push_queue(config, progress=False, by=by, pool=pool, pulled=pulled)
        seconds["push"] = time.perf_counter() - t
    agent = scores.run_id or scores.fast_model or "zero-shot ensemble"
    if scores.run_id and scores.fast_model is None:
        agent = f"ensemble with run {scores.run_id}"
    elif scores.fast_model:
        agent = f"ensemble + {scores.fast_model}"
    return RefreshReport(keys=keys, seconds=seconds, labeled=pulled.submitted if pulled else 0,
                         created=pushed.created, refreshed=pushed.refreshed, agent=agent,
                         queue_note=scores.queue_note)


def warm_up(config, wait_lock: float = 60.0) -> float:
    """Load what every refresh reuses (the pool, the models, every cached vector and prediction) by scoring
    once, before the first answer arrives: the first refresh is then as fast as the others. Seconds taken."""

    t = time.perf_counter()
    with project_lock(Project(config).ensure().dir, what="watch warm-up", wait=wait_lock):
        bootstrap(config, progress=False)
    signals = build_signals(config)  # the vectors the fast model and the temperature fits read at every refresh
    embedder(config, signals).encode(load_pool(config).texts)
    for sig in signals:
        if getattr(sig, "type_name", "") == "embedding":
            sig.label_embeddings()
    return time.perf_counter() - t

