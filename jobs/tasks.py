"""Jobs about the job queue itself."""

from __future__ import annotations

from io import StringIO

from django.core.management import call_command
from django_tasks import task

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
