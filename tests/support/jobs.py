"""Working the background-job queue inside a test, as `db_worker` does, one job at a time."""

from __future__ import annotations

from django_tasks_db.management.commands.db_worker import Worker
from django_tasks_db.models import DBTaskResult


def work(limit: int = 200) -> list[str]:
    """Run every job that is due now (and those they enqueue), oldest first; the task names
    run. A job that fails fails the test, with its traceback."""
    worker = Worker(
        queue_names=["*"],
        interval=0,
        batch=True,
        backend_name="default",
        startup_delay=False,
        max_tasks=None,
        worker_id="tests",
        excluded_queue_names=[],
    )
    ran = []
    while len(ran) < limit:
        job = DBTaskResult.objects.ready().first()
        if job is None:
            break
        job.claim(worker.worker_id)
        worker.run_task(job)
        ran.append(job.task_name)
        failed = DBTaskResult.objects.failed().first()
        assert failed is None, failed.traceback
    return ran


def queued(name: str | None = None) -> list[DBTaskResult]:
    jobs = DBTaskResult.objects.filter(status="READY").order_by("enqueued_at")
    return [job for job in jobs if name is None or job.task_name == name]
