"""Business hours: outside them a call goes to voicemail or to the after-hours number."""

from __future__ import annotations

from datetime import time, timedelta

import pytest
from django.utils import timezone

from tests.whisper.steps import answered, dial_done, incoming, pressed, status
from tracking.hours import WEEKDAYS, zone
from tracking.models import Call, Campaign

TZ = "America/Chicago"


def _now_there():
    return timezone.now().astimezone(zone(TZ))


def _closed_now(campaign: Campaign) -> None:
    """Open only on another weekday, so that now is always outside the hours."""
    other_day = (_now_there().weekday() + 3) % 7
    campaign.opening_hours.create(weekday=other_day, opens=time(0), closes=time(23, 59))


def _open_now(campaign: Campaign) -> None:
    campaign.opening_hours.create(
        weekday=_now_there().weekday(), opens=time(0), closes=time(23, 59, 59)
    )


@pytest.fixture
def hours_campaign(number):
    campaign = number.campaign
    campaign.time_zone = TZ
    campaign.save()
    return campaign


@pytest.mark.django_db
def test_in_business_hours_the_destinations_ring(twilio, number, hours_campaign):
    _open_now(hours_campaign)

    response = incoming(twilio)

    assert response[0].tag == "Dial"
    assert Call.objects.get().after_hours is False


@pytest.mark.django_db
def test_after_hours_goes_straight_to_voicemail(twilio, number, hours_campaign):
    _closed_now(hours_campaign)
    hours_campaign.voicemail_enabled = True
    hours_campaign.save()

    response = incoming(twilio)

    assert [el.tag for el in response] == ["Say", "Record"]
    call = Call.objects.get()
    assert call.after_hours is True
    assert call.legs.count() == 0
    assert call.voicemail_at is not None


@pytest.mark.django_db
def test_after_hours_without_voicemail_the_caller_hears_the_missed_message(
    twilio, number, hours_campaign
):
    _closed_now(hours_campaign)

    response = incoming(twilio)
    status(twilio)

    assert [el.tag for el in response] == ["Say", "Hangup"]
    assert response.find("Say").text == hours_campaign.missed_message
    call = Call.objects.get()
    assert (call.after_hours, call.outcome) == (True, Call.Outcome.CLOSED)


@pytest.mark.django_db
def test_after_hours_the_after_hours_number_rings_with_the_whisper(twilio, number, hours_campaign):
    _closed_now(hours_campaign)
    hours_campaign.after_hours_action = Campaign.AfterHours.FORWARD
    hours_campaign.after_hours_number = "+15125550177"
    hours_campaign.save()

    response = incoming(twilio)

    assert [n.text for n in response.findall("Dial/Number")] == ["+15125550177"]
    whisper = answered(twilio, response)
    assert whisper.find("Gather/Say").text.startswith("Call from Spring Billboard")
    pressed(twilio, whisper, "1")
    dial_done(twilio, response, DialCallStatus="completed", DialBridged="true")
    call = Call.objects.get()
    assert (call.after_hours, call.outcome, call.answered_by) == (
        True,
        Call.Outcome.ACCEPTED,
        "After hours",
    )


@pytest.mark.django_db
def test_a_holiday_closes_the_whole_day(twilio, number, hours_campaign):
    _open_now(hours_campaign)
    hours_campaign.holidays.create(date=_now_there().date(), name="Founders' day")

    incoming(twilio)

    assert Call.objects.get().after_hours is True


@pytest.mark.django_db
def test_hours_are_read_in_the_campaigns_time_zone(twilio, number, hours_campaign):
    # Open for the hour around now in Chicago: in UTC that is a different hour.
    now = _now_there()
    opens = (now - timedelta(minutes=30)).time()
    closes = (now + timedelta(minutes=30)).time()
    if opens >= closes:  # around midnight: skip the wrap
        pytest.skip("too close to midnight in Chicago for a one-hour window")
    hours_campaign.opening_hours.create(weekday=now.weekday(), opens=opens, closes=closes)

    incoming(twilio)

    assert Call.objects.get().after_hours is False
    assert WEEKDAYS[now.weekday()]
