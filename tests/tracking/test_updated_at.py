"""Every write to a call, its legs or its recordings stamps the call's updated_at, so that API
clients asking for the calls updated since their last look miss nothing."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from tracking import services, sql
from tracking.models import Call

pytestmark = pytest.mark.django_db

SID = "CA" + "a" * 32
LONG_AGO = timezone.now() - timedelta(days=400)


@pytest.fixture
def call(number) -> Call:
    services.call_start(
        call=services.IncomingCall(sid=SID, called=number.phone_number, caller="+15125550111"),
        number_id=number.pk,
        campaign_id=number.campaign_id,
        targets=[services.Target("Front desk", "+15125550199")],
    )
    return Call.objects.get(call_sid=SID)


def _age(call: Call) -> None:
    Call.objects.filter(pk=call.pk).update(updated_at=LONG_AGO)


def _stamped(call: Call) -> bool:
    return Call.objects.get(pk=call.pk).updated_at > LONG_AGO + timedelta(days=1)


def test_a_new_call_is_stamped(call):
    assert call.updated_at is not None
    assert call.updated_at > timezone.now() - timedelta(minutes=5)


def test_a_leg_that_changes_stamps_its_call(number):
    services.call_start(
        call=services.IncomingCall(sid=SID, called=number.phone_number, caller="+15125550111"),
        number_id=number.pk,
        campaign_id=number.campaign_id,
        targets=[
            services.Target("Front desk", "+15125550199"),
            services.Target("Owner", "+15125550122"),
        ],
    )
    services.leg_whispered(sid=SID, leg=0, leg_sid="CA" + "b" * 32)
    services.leg_decided(sid=SID, leg=0, digits="1")
    call = Call.objects.get(call_sid=SID)
    _age(call)

    # The second phone stops ringing: nothing of the call's own summary changes, its leg does.
    services.leg_ended(sid=SID, leg=1, leg_sid="CA" + "d" * 32, leg_status="canceled")

    assert call.legs.get(position=1).result == "canceled"
    assert Call.objects.get(pk=call.pk).outcome == "accepted"
    assert _stamped(call)


def test_the_end_of_a_call_stamps_it(call):
    _age(call)

    services.call_status_changed(sid=SID, call_status="completed", duration_seconds=30, at=None)

    assert _stamped(call)


def test_a_retried_event_that_changes_nothing_does_not_stamp(call):
    services.call_status_changed(sid=SID, call_status="completed", duration_seconds=30, at=None)
    _age(call)

    services.call_status_changed(sid=SID, call_status="completed", duration_seconds=30, at=None)

    assert not _stamped(call)


def test_a_recording_and_its_transcription_stamp_the_call(call):
    _age(call)
    services.recording_stored(
        sid=SID,
        recording_sid="RE" + "c" * 32,
        kind="conversation",
        duration_seconds=40,
        notify=False,
    )
    assert _stamped(call)

    _age(call)
    services.transcription_stored(
        sid=SID, recording_sid="RE" + "c" * 32, text="Hello", status="completed"
    )
    assert _stamped(call)


def test_anonymising_old_calls_stamps_them(call):
    Call.objects.filter(pk=call.pk).update(started_at=LONG_AGO, updated_at=LONG_AGO)

    call_command("purge_calls", "--days", "30")

    assert Call.objects.get(pk=call.pk).caller_number == ""
    assert _stamped(call)


def test_a_hand_written_update_stamps_updated_at(call):
    _age(call)
    call.refresh_from_db()
    call.outcome = Call.Outcome.ABANDONED

    sql.run([sql.update(call, ["outcome"])])

    assert Call.objects.get(pk=call.pk).outcome == "abandoned"
    assert _stamped(call)
