"""Jobs about the job queue itself."""

from __future__ import annotations

from datetime import timedelta
from io import StringIO

from django.core.management import call_command
from django.utils import timezone
from django_tasks import TaskResultStatus, task
from django_tasks_db.models import DBTaskResult

# A job still running after this long was left by a worker that died (ours take seconds).
STALLED_AFTER = timedelta(minutes=15)
# Finished jobs are kept this long (the admin shows them under Tasks), then deleted.
FINISHED_JOB_DAYS = 14


@task()
def prune_finished_jobs() -> str:
    """Periodic (daily): delete jobs that finished more than FINISHED_JOB_DAYS ago."""
    out = StringIO()
    call_command(
        "prune_db_task_results",
        queue_name="*",
        min_age_days=FINISHED_JOB_DAYS,
        stdout=out,
        verbosity=1,
    )
    return out.getvalue().strip()


@task()
def requeue_stalled_jobs() -> int:
    """Periodic: put back in the queue the jobs a dead worker left running.

    django-tasks-db marks a job RUNNING when a worker claims it, and nothing else ever looks at
    it again; every job of this app is safe to run twice (each claims what it changes), so one
    whose worker died runs again rather than never."""
    return DBTaskResult.objects.filter(
        status=TaskResultStatus.RUNNING, started_at__lt=timezone.now() - STALLED_AFTER
    ).update(status=TaskResultStatus.READY)
