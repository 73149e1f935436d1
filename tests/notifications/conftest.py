from __future__ import annotations

import socket
from datetime import datetime

import pytest

from tests.support.servers import free_port
from tests.whisper.steps import dial_done, incoming
from tracking import hours
from tracking.models import Call, TrackingNumber

RECIPIENTS = ["owner@example.com", "desk@example.com"]


@pytest.fixture
def notified(number) -> TrackingNumber:
    """A tracking number whose campaign e-mails two people and takes messages."""
    campaign = number.campaign
    campaign.notify_emails = "owner@example.com; desk@example.com"
    campaign.voicemail_enabled = True
    campaign.save()
    return number


@pytest.fixture
def no_voicemail(notified) -> TrackingNumber:
    notified.campaign.voicemail_enabled = False
    notified.campaign.save()
    return notified


@pytest.fixture
def broken_mail(settings):
    """An SMTP server that is not there: every send fails (fast)."""
    return _smtp(settings, free_port())


@pytest.fixture
def silent_mail(settings):
    """An SMTP server that takes the connection and never says a word."""
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        yield _smtp(settings, server.getsockname()[1])


def _smtp(settings, port: int):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = port
    settings.EMAIL_USE_TLS = False
    settings.EMAIL_USE_SSL = False
    settings.EMAIL_TIMEOUT = 1
    return settings


def to_voicemail(twilio, sid: str = "CA100"):
    """A call nobody answers, so the caller hears the greeting: the <Record> TwiML."""
    response = incoming(twilio, sid)
    return dial_done(twilio, response, sid, DialCallStatus="no-answer", DialBridged="false")


def fields(message) -> dict[str, str]:
    """The "Name: value" lines at the top of a notice's body."""
    head = message.body.split("\n\n")[0]
    return dict(line.split(": ", 1) for line in head.splitlines())


def sections(message) -> list[list[str]]:
    """The body's paragraphs, as lists of lines."""
    return [part.splitlines() for part in message.body.strip("\n").split("\n\n")]


def local_minute(call: Call) -> datetime:
    """When the call started, to the minute, by its campaign's clock."""
    moment = call.started_at.astimezone(hours.zone(call.campaign.time_zone))
    return moment.replace(second=0, microsecond=0, tzinfo=None)


@pytest.fixture(autouse=True)
def _notices_sent_as_soon_as_queued(settings):
    """These tests are about what a notice says and when it is due: the job that sends it runs
    the moment it is queued (tests/jobs shows it queued and worked by the worker instead)."""
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
