"""The RQ worker class GRC runs: one queue per process, jobs run in the worker process.

RQ pops a job atomically only from a single queue; a worker listening to several queues
that dies can lose the job it popped, so a second queue is refused at start. Jobs run in
the worker itself (no fork per job) to keep the application and its connection pool warm.
"""

from __future__ import annotations

from typing import Any

from rq.worker import SimpleWorker


class SingleQueueWorkerError(RuntimeError):
    pass


class SingleQueueWorker(SimpleWorker):
    def __init__(self, queues: Any, *args: Any, **kwargs: Any) -> None:
        names = [queues] if isinstance(queues, str) else list(queues)
        if len(names) != 1:
            raise SingleQueueWorkerError(
                f"a GRC worker listens to exactly one queue, got {len(names)}: start one "
                "process per queue"
            )
        super().__init__(queues, *args, **kwargs)
