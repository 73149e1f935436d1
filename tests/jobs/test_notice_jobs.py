"""E-mail notices are background jobs: written with the call's end, sent by the worker."""

from __future__ import annotations

import pytest
from django.core import mail
from django.db import transaction

from tests.support.jobs import queued, work
from tests.whisper.steps import dial_done, incoming, status
from tracking.models import Call
from tracking.services import call_status_changed

pytestmark = pytest.mark.django_db


@pytest.fixture
def notified(number):
    number.campaign.notify_emails = "owner@example.com"
    number.campaign.save()
    return number


def test_a_missed_call_notice_waits_for_the_worker(twilio, notified):
    response = incoming(twilio)
    dial_done(twilio, response, DialCallStatus="no-answer", DialBridged="false")
    status(twilio)

    assert mail.outbox == [], "no caller's webhook talks to a mail server"
    assert [job.task_name for job in queued()] == ["notify_call"]

    assert work() == ["notify_call"]
    [notice] = mail.outbox
    assert notice.subject.startswith("Missed call from")


def test_no_notice_job_outlives_a_rolled_back_end(twilio, notified):
    response = incoming(twilio)
    dial_done(twilio, response, DialCallStatus="no-answer", DialBridged="false")

    with pytest.raises(RuntimeError), transaction.atomic():
        call_status_changed(sid="CA100", call_status="completed", duration_seconds=3, at=None)
        assert len(queued("notify_call")) == 1
        raise RuntimeError("rolled back")

    assert queued() == []
    assert Call.objects.get().ended_at is None


def test_the_sweeps_run_as_jobs(twilio, notified):
    from tracking import tasks

    tasks.send_due_notices.enqueue()
    tasks.drain_spool.enqueue()

    assert work() == ["send_due_notices", "drain_spool"]
