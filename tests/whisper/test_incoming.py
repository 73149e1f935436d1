from __future__ import annotations

import pytest
from django.db import connection

from tests.whisper.steps import CALLER, incoming
from tracking.models import Call, CallLeg, Campaign, TrackingNumber


@pytest.mark.django_db
def test_it_logs_the_call_and_rings_the_business(twilio, number):
    response = incoming(twilio, CallerName="JANE DOE")

    dial = response[0]
    assert dial.tag == "Dial", "answerOnBridge only works when <Dial> is the first verb"
    assert dial.get("answerOnBridge") == "true"
    assert dial.get("timeout") == "20"
    assert (
        dial.get("action")
        == "http://testserver/twilio/voice/dial-done/?call=CA100&to=%2B15125550100&legs=0&of=1"
    )
    assert dial.get("method") == "POST"
    [target] = list(dial)
    assert target.tag == "Number"
    assert target.text == "+15125550199"
    assert (
        target.get("url")
        == "http://testserver/twilio/voice/whisper/?call=CA100&to=%2B15125550100&leg=0"
    )
    assert (
        target.get("statusCallback")
        == "http://testserver/twilio/voice/leg-status/?call=CA100&to=%2B15125550100&leg=0"
    )
    assert dial.get("record") is None, "calls are recorded only where the campaign says so"

    call = Call.objects.get()
    assert call.call_sid == "CA100"
    assert call.tracking_number == number
    assert call.campaign == number.campaign
    assert call.caller_number == CALLER
    assert call.caller_name == "JANE DOE"
    assert (call.caller_city, call.caller_state, call.caller_zip, call.caller_country) == (
        "AUSTIN",
        "TX",
        "78701",
        "US",
    )
    assert call.forwarded_to == "+15125550199"
    assert call.outcome == Call.Outcome.IN_PROGRESS
    assert call.started_at is not None
    assert call.after_hours is False
    [leg] = call.legs.all()
    assert (leg.position, leg.label, leg.phone_number, leg.result) == (
        0,
        "Front desk",
        "+15125550199",
        CallLeg.Result.PENDING,
    )


@pytest.mark.django_db
def test_it_forwards_to_the_numbers_own_destination_and_campaign_timeout(twilio, number):
    number.forward_to = "+15125550142"
    number.save()
    Campaign.objects.filter(pk=number.campaign_id).update(ring_timeout=45)

    dial = incoming(twilio).find("Dial")

    assert dial.get("timeout") == "45"
    assert dial.find("Number").text == "+15125550142"
    assert Call.objects.get().forwarded_to == "+15125550142"


@pytest.mark.django_db
def test_a_retried_webhook_writes_one_row_and_answers_the_same(twilio, number):
    first = incoming(twilio)
    second = incoming(twilio, FromCity="ELSEWHERE")

    assert [el.attrib for el in first.iter()] == [el.attrib for el in second.iter()]
    assert Call.objects.count() == 1
    assert Call.objects.get().caller_city == "AUSTIN"


@pytest.mark.django_db
@pytest.mark.parametrize("state", ["unknown", "number_inactive", "campaign_inactive"])
def test_an_unmatched_number_gets_an_apology_and_is_logged_as_unmatched(twilio, number, state):
    to = "+15125550100"
    if state == "unknown":
        to = "+15125550177"
    elif state == "number_inactive":
        TrackingNumber.objects.update(is_active=False)
    else:
        Campaign.objects.update(is_active=False)

    response = incoming(twilio, To=to)

    assert [el.tag for el in response] == ["Say", "Hangup"]
    assert "not in service" in response.find("Say").text
    call = Call.objects.get()
    assert call.outcome == Call.Outcome.UNMATCHED
    assert call.called_number == to
    assert call.campaign is None and call.tracking_number is None


@pytest.mark.django_db
@pytest.mark.parametrize("caller", ["anonymous", "", "+266696687", "Restricted"])
def test_callers_without_a_usable_number_are_still_routed_and_logged(twilio, number, caller):
    response = incoming(twilio, From=caller)

    assert response.find("Dial/Number").text == "+15125550199"
    assert Call.objects.get().caller_number == caller


@pytest.mark.django_db
def test_legacy_parameter_names_are_understood(twilio, number):
    incoming(twilio, To="", Called="+15125550100", FromCity="", CallerCity="DALLAS", FromState="")

    call = Call.objects.get()
    assert call.tracking_number == number
    assert call.caller_city == "DALLAS"


@pytest.mark.django_db
def test_twiml_links_are_built_on_the_public_base_url(client, settings, number):
    from tests.twilio_signing import TwilioPoster

    settings.PUBLIC_BASE_URL = "https://calls.example.com"
    twilio = TwilioPoster(client, base="https://calls.example.com")

    dial = incoming(twilio).find("Dial")

    assert (
        dial.get("action")
        == "https://calls.example.com/twilio/voice/dial-done/?call=CA100&to=%2B15125550100"
        "&legs=0&of=1"
    )
    assert dial.find("Number").get("url").startswith("https://calls.example.com/twilio/voice/")


@pytest.mark.django_db
def test_it_answers_within_a_small_query_budget(twilio, number, django_assert_max_num_queries):
    # 1 look-up of number and campaign (its destinations, hours and holidays come from the
    # cached route of the same campaign version); the inserts of the call and its legs, which
    # ignore a retry's conflict, and the call's attribution (attribution.calls): one statement
    # on PostgreSQL, three on SQLite.
    incoming(twilio, sid="CA099")  # an earlier call cached the campaign's route
    with django_assert_max_num_queries(2 if connection.vendor == "postgresql" else 4):
        incoming(twilio)


@pytest.mark.django_db
def test_each_leg_carries_its_calls_start_and_campaign_for_the_reports(twilio, number):
    incoming(twilio)

    call = Call.objects.get()
    leg = call.legs.get()
    assert (leg.started_at, leg.campaign_id) == (call.started_at, call.campaign_id)
