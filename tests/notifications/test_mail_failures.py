"""Mail that cannot be sent changes nothing about the call; the sweep sends it later."""

from __future__ import annotations

import io
import logging
import xml.etree.ElementTree as ET

import pytest
from django.core import mail
from django.core.management import call_command
from django.forms.models import model_to_dict

from tests.notifications.conftest import RECIPIENTS, to_voicemail
from tests.whisper.steps import (
    answered,
    dial_done,
    incoming,
    pressed,
    recorded,
    recording_ready,
    status,
    twilio_timestamp,
)
from tracking.models import Call

pytestmark = pytest.mark.django_db(transaction=True)

LOCMEM = "django.core.mail.backends.locmem.EmailBackend"
TS = twilio_timestamp()


def _declined_call(twilio, sid: str) -> list[ET.Element | int]:
    """A destination declines, the caller hears the missed message and hangs up: what each
    webhook answered."""
    response = incoming(twilio, sid)
    whisper = answered(twilio, response, child_sid=sid + "-leg")
    decision = pressed(twilio, whisper, "7", child_sid=sid + "-leg")
    after = dial_done(twilio, response, sid, DialCallStatus="completed", DialBridged="false")
    ended = status(twilio, sid, Timestamp=TS)
    return [
        [(el.tag, el.text) for el in answer] for answer in (response, whisper, decision, after)
    ] + [ended.status_code]


def _row(sid: str) -> dict:
    """The call's row, less what differs between two calls anyway (ids, and times stamped as
    the requests came: whether each is set still counts)."""
    row = model_to_dict(Call.objects.get(call_sid=sid))
    for name in ("id", "call_sid", "dial_call_sid"):
        row.pop(name)
    for name in ("started_at", "whispered_at", "decided_at", "voicemail_at", "notified_at"):
        row[name] = row[name] is not None
    return row


def _send_notifications() -> str:
    out = io.StringIO()
    call_command("send_notifications", stdout=out)
    return out.getvalue().strip()


def test_a_failing_mail_server_changes_nothing_about_a_missed_call(
    twilio, no_voicemail, broken_mail, caplog
):
    campaign = no_voicemail.campaign
    campaign.notify_emails = ""
    campaign.save()
    without_mail = _declined_call(twilio, "CA100")
    campaign.notify_emails = ", ".join(RECIPIENTS)
    campaign.save()

    with caplog.at_level(logging.ERROR, logger="tracking.notifications"):
        with_failing_mail = _declined_call(twilio, "CA101")

    assert with_failing_mail == without_mail
    assert with_failing_mail[-1] == 204
    assert _row("CA101") == _row("CA100")
    assert _row("CA101")["outcome"] == Call.Outcome.REJECTED
    assert Call.objects.get(call_sid="CA101").notified_at is None
    [failure] = [r for r in caplog.records if r.name == "tracking.notifications"]
    assert failure.levelno == logging.ERROR
    assert failure.getMessage() == "Could not e-mail the missed notice of call CA101"
    assert isinstance(failure.exc_info[1], OSError)

    # The baseline's campaign now has recipients too: out of the way, so only CA101 is owed.
    Call.objects.filter(call_sid="CA100").delete()
    assert _send_notifications() == "sent 0 notifications", "still failing: still owed"
    broken_mail.EMAIL_BACKEND = LOCMEM
    assert _send_notifications() == "sent 1 notifications"
    assert _send_notifications() == "sent 0 notifications"

    assert [(m.to, m.subject) for m in mail.outbox] == [
        (RECIPIENTS, "Missed call from (312) 555-0123 (Spring Billboard)")
    ]
    assert Call.objects.get(call_sid="CA101").notified_at is not None


def test_a_failing_mail_server_does_not_stop_the_caller_hearing_thanks(
    twilio, notified, broken_mail, caplog
):
    response = to_voicemail(twilio)

    with caplog.at_level(logging.ERROR, logger="tracking.notifications"):
        thanks = recorded(twilio, response)
        recording_ready(twilio, response.find("Record").get("recordingStatusCallback"))
        status(twilio)

    assert [(el.tag, el.text) for el in thanks] == [
        ("Say", "Thank you for your message. Goodbye."),
        ("Hangup", None),
    ]
    call = Call.objects.get()
    assert call.outcome == Call.Outcome.VOICEMAIL
    assert call.notified_at is None
    assert [r.getMessage() for r in caplog.records if r.name == "tracking.notifications"] == [
        "Could not e-mail the voicemail notice of call CA100",
        "Could not e-mail the voicemail notice of call CA100",
    ], "tried when Twilio had the message, and again when the call ended"

    broken_mail.EMAIL_BACKEND = LOCMEM
    assert _send_notifications() == "sent 1 notifications"
    assert [m.subject for m in mail.outbox] == [
        "New voicemail from (312) 555-0123 (Spring Billboard)"
    ]


def test_a_mail_server_that_never_answers_never_holds_the_caller_up(
    twilio, notified, silent_mail, caplog
):
    response = to_voicemail(twilio)

    with caplog.at_level(logging.ERROR, logger="tracking.notifications"):
        thanks = recorded(twilio, response)
    assert [el.tag for el in thanks] == ["Say", "Hangup"]
    assert caplog.messages == [], "the <Record> action never talks to the mail server"

    # The recording callback does, with nobody waiting on its answer; it fails after
    # EMAIL_TIMEOUT and leaves the notice for the sweep.
    recording_ready(twilio, response.find("Record").get("recordingStatusCallback"))
    assert Call.objects.get().notified_at is None
    assert "Could not e-mail the voicemail notice of call CA100" in caplog.messages
