"""Periodic jobs: the sweeps that only time makes due, enqueued on a schedule.

Every worker (`manage.py run_worker`) checks the schedule every few seconds. A periodic job is
claimed with a conditional UPDATE of its `next_run_at`, in the transaction that enqueues it, so
however many workers run on however many machines, each run is enqueued once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django_tasks.base import Task

from attribution import tasks as attribution_tasks
from conversions import config as conversion_config
from conversions import tasks as conversion_tasks
from integrations import tasks as integration_tasks
from jobs import tasks as jobs_tasks
from jobs.models import PeriodicJob
from tracking import tasks as tracking_tasks

# How long page views may wait in Redis before they are in the database.
FLUSH_EVERY = timedelta(seconds=5)


@dataclass(frozen=True)
class Periodic:
    task: Task
    every: timedelta

    @property
    def name(self) -> str:
        return self.task.module_path


def periodic_jobs() -> list[Periodic]:
    jobs = [
        Periodic(tracking_tasks.send_due_notices, timedelta(minutes=5)),
        Periodic(tracking_tasks.drain_spool, timedelta(minutes=5)),
        Periodic(integration_tasks.recover_stalled_deliveries, timedelta(minutes=1)),
        Periodic(jobs_tasks.requeue_stalled_jobs, timedelta(minutes=5)),
        Periodic(integration_tasks.prune_event_log, timedelta(days=1)),
        Periodic(jobs_tasks.prune_finished_jobs, timedelta(days=1)),
    ]
    if settings.CALL_RETENTION_DAYS > 0:
        jobs.append(Periodic(tracking_tasks.purge_calls, timedelta(days=1)))
    if conversion_config.destinations():
        jobs.append(Periodic(conversion_tasks.sweep_uploads, timedelta(minutes=5)))
    if settings.DNI_BACKEND == "redis":
        # Page views are written behind with holds in Redis: what a crash of Redis may lose.
        jobs.append(Periodic(attribution_tasks.flush_visits, FLUSH_EVERY))
    return jobs


def shortest_period() -> timedelta:
    return min(job.every for job in periodic_jobs())


def enqueue_due(now: datetime | None = None) -> list[str]:
    """Enqueue every periodic job whose time has come; the names of those enqueued here."""
    now = now or timezone.now()
    enqueued = []
    for job in periodic_jobs():
        with transaction.atomic():
            row, created = PeriodicJob.objects.get_or_create(
                name=job.name, defaults={"next_run_at": now + job.every, "last_enqueued_at": now}
            )
            if not created:
                if row.next_run_at > now:
                    continue
                claimed = PeriodicJob.objects.filter(pk=row.pk, next_run_at=row.next_run_at).update(
                    next_run_at=now + job.every, last_enqueued_at=now
                )
                if not claimed:
                    continue
            job.task.enqueue()
            enqueued.append(job.name)
    return enqueued
