from __future__ import annotations

from datetime import UTC, datetime

import pytest

from tests.whisper.steps import incoming, status, twilio_timestamp
from tracking.models import Call


@pytest.mark.django_db
def test_the_end_time_and_duration_are_recorded(twilio, number):
    incoming(twilio)

    status(twilio, CallDuration="61", Timestamp=twilio_timestamp())

    call = Call.objects.get()
    assert call.duration_seconds == 61
    assert call.call_status == "completed"
    assert call.ended_at is not None


@pytest.mark.django_db
def test_a_twilio_timestamp_is_used_for_the_end_when_plausible(twilio, number):
    incoming(twilio)
    now = datetime.now(UTC).replace(microsecond=0)

    status(twilio, Timestamp=now.strftime("%a, %d %b %Y %H:%M:%S +0000"))

    assert Call.objects.get().ended_at == now


@pytest.mark.django_db
def test_progress_events_do_not_end_the_call(twilio, number):
    incoming(twilio)

    status(twilio, CallStatus="ringing", CallDuration="")
    status(twilio, CallStatus="in-progress", CallDuration="")

    call = Call.objects.get()
    assert call.ended_at is None
    assert call.outcome == Call.Outcome.IN_PROGRESS


@pytest.mark.django_db
def test_a_status_for_an_unknown_call_writes_nothing(twilio, db):
    response = status(twilio, sid="CA404")

    assert response.status_code == 204
    assert Call.objects.count() == 0


@pytest.mark.django_db
def test_the_first_end_reported_stands(twilio, number):
    incoming(twilio)
    status(twilio, CallDuration="61")

    status(twilio, CallDuration="5")

    assert Call.objects.get().duration_seconds == 61
