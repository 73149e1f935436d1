"""Blocked callers are rejected without ringing anyone, and logged as `blocked`."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from tests.whisper.steps import CALLER, incoming, status
from tracking.models import BlockedCaller, Call


def _block(kind: str, value: str) -> BlockedCaller:
    entry = BlockedCaller(kind=kind, value=value)
    entry.full_clean()
    entry.save()
    return entry


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("kind", "value", "reason"),
    [
        ("number", "(312) 555-0123", "blocked: number +13125550123"),
        ("prefix", "+1312", "blocked: prefix +1312"),
        ("country", "us", "blocked: country US"),
    ],
)
def test_a_blocked_caller_is_rejected_and_nothing_rings(twilio, number, kind, value, reason):
    _block(kind, value)

    response = incoming(twilio)

    assert [el.tag for el in response] == ["Reject"]
    call = Call.objects.get()
    assert (call.outcome, call.spam, call.screening_reason) == ("blocked", "blocked", reason)
    assert call.legs.count() == 0


@pytest.mark.django_db
def test_a_blocked_call_stays_blocked_whatever_twilio_reports_next(twilio, number):
    _block("number", CALLER)
    incoming(twilio)

    status(twilio, CallStatus="busy", CallDuration="0")

    assert Call.objects.get().outcome == "blocked"


@pytest.mark.django_db
def test_other_callers_ring_as_usual(twilio, number):
    _block("number", "+13125550999")
    _block("prefix", "+1900")
    _block("country", "NG")

    response = incoming(twilio)

    assert [el.tag for el in response] == ["Dial"]
    assert Call.objects.get().outcome == "in_progress"


@pytest.mark.django_db
def test_an_entry_added_later_blocks_at_once(twilio, number, django_capture_on_commit_callbacks):
    incoming(twilio, sid="CA1")  # the (empty) block list is now cached
    with django_capture_on_commit_callbacks(execute=True):
        _block("number", CALLER)

    assert [el.tag for el in incoming(twilio, sid="CA2")] == ["Reject"]

    with django_capture_on_commit_callbacks(execute=True):
        BlockedCaller.objects.get().delete()

    assert [el.tag for el in incoming(twilio, sid="CA3")] == ["Dial"]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("kind", "value"), [("number", "not a number"), ("prefix", "1900"), ("country", "USA")]
)
def test_bad_entries_are_refused_with_a_message(kind, value):
    with pytest.raises(ValidationError):
        BlockedCaller(kind=kind, value=value).full_clean()
