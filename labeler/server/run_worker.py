"""Child-process entry for argilla-server's background worker (rq): ``python -m labeler.server.run_worker``.

It runs the jobs argilla-server queues in Redis (distribution-setting changes, hub import/export, webhooks).
One worker process is enough for a few annotators and spares the two cores.
"""

from __future__ import annotations

import os


def main() -> None:
    os.umask(0o077)  # everything it writes under $LABELER_HOME is private (labeler.server.permissions)
    import labeler.server.search_engine  # noqa: F401  jobs may touch the search engine
    from argilla_server.jobs.queues import DEFAULT_QUEUE, HIGH_QUEUE, REDIS_CONNECTION
    from rq import SimpleWorker

    # SimpleWorker runs each job in this process: rq's default Worker forks a work-horse per job, which on two
    # busy cores delayed every webhook event (one job each, labeler watch's trigger) by a second or more.
    SimpleWorker([HIGH_QUEUE.name, DEFAULT_QUEUE.name], connection=REDIS_CONNECTION).work(with_scheduler=False)


if __name__ == "__main__":
    main()
