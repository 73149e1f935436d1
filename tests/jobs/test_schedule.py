"""Periodic jobs go into the queue once per period, however many workers look."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from jobs import schedule
from jobs.models import PeriodicJob
from tests.support.jobs import queued

pytestmark = pytest.mark.django_db

SWEEPS = [
    "integrations.tasks.recover_stalled_deliveries",
    "tracking.tasks.drain_spool",
    "tracking.tasks.send_due_notices",
]


def test_each_periodic_job_is_enqueued_once_per_period(settings):
    settings.CALL_RETENTION_DAYS = 0
    now = timezone.now()

    assert sorted(schedule.enqueue_due(now)) == SWEEPS
    assert schedule.enqueue_due(now) == [], "a second worker looking at once finds nothing due"
    assert schedule.enqueue_due(now + timedelta(seconds=59)) == []
    assert schedule.enqueue_due(now + timedelta(minutes=1)) == [
        "integrations.tasks.recover_stalled_deliveries"
    ]
    assert sorted(schedule.enqueue_due(now + timedelta(minutes=5))) == SWEEPS
    assert len(queued()) == 3 + 1 + 3


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
