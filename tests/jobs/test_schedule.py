"""Periodic jobs go into the queue once per period, however many workers look."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from integrations import tasks as integration_tasks
from integrations.models import Event
from jobs import schedule
from jobs import tasks as jobs_tasks
from jobs.models import PeriodicJob
from tests.support.jobs import queued, work
from tracking import tasks as tracking_tasks

pytestmark = pytest.mark.django_db

SWEEPS = [
    "integrations.tasks.recover_stalled_deliveries",
    "jobs.tasks.requeue_stalled_jobs",
    "tracking.tasks.drain_spool",
    "tracking.tasks.send_due_notices",
]
DAILY = ["integrations.tasks.prune_event_log", "jobs.tasks.prune_finished_jobs"]


def test_each_periodic_job_is_enqueued_once_per_period(settings):
    settings.CALL_RETENTION_DAYS = 0
    now = timezone.now()

    assert sorted(schedule.enqueue_due(now)) == sorted(SWEEPS + DAILY)
    assert schedule.enqueue_due(now) == [], "a second worker looking at once finds nothing due"
    assert schedule.enqueue_due(now + timedelta(seconds=59)) == []
    assert schedule.enqueue_due(now + timedelta(minutes=1)) == [
        "integrations.tasks.recover_stalled_deliveries"
    ]
    assert sorted(schedule.enqueue_due(now + timedelta(minutes=5))) == SWEEPS
    assert len(queued()) == 6 + 1 + 4
    assert sorted(schedule.enqueue_due(now + timedelta(days=1))) == sorted(SWEEPS + DAILY)


def test_purging_is_daily_once_a_retention_period_is_set(settings):
    settings.CALL_RETENTION_DAYS = 365
    now = timezone.now()

    assert "tracking.tasks.purge_calls" in schedule.enqueue_due(now)
    assert "tracking.tasks.purge_calls" not in schedule.enqueue_due(now + timedelta(hours=23))
    assert "tracking.tasks.purge_calls" in schedule.enqueue_due(now + timedelta(days=1))


def test_a_worker_that_lost_the_race_enqueues_nothing(settings):
    now = timezone.now()
    schedule.enqueue_due(now)
    # Another worker claimed the next run between this one's read and its update.
    PeriodicJob.objects.update(next_run_at=now + timedelta(minutes=5))

    assert schedule.enqueue_due(now + timedelta(minutes=1)) == []


def test_the_daily_prunes_run_as_jobs(settings):
    old = Event.objects.create(type="webhook.test", payload={}, created_at=timezone.now())
    Event.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=31))
    Event.objects.create(type="webhook.test", payload={})

    integration_tasks.prune_event_log.enqueue()
    jobs_tasks.prune_finished_jobs.enqueue()

    assert work() == ["prune_event_log", "prune_finished_jobs"]
    assert Event.objects.count() == 1


def test_a_job_a_dead_worker_left_running_runs_again():
    tracking_tasks.send_due_notices.enqueue()
    job = DBTaskResult.objects.get()
    job.claim("a worker that died")
    DBTaskResult.objects.update(started_at=timezone.now() - timedelta(minutes=14))
    jobs_tasks.requeue_stalled_jobs.call()
    assert work() == [], "it may still be running"

    DBTaskResult.objects.update(started_at=timezone.now() - timedelta(minutes=16))
    assert jobs_tasks.requeue_stalled_jobs.call() == 1
    assert work() == ["send_due_notices"]
