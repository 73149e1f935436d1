"""A menu before ringing: the greeting and options, each choice's destinations, the default,
the second chance after a wrong key, and the choice on the call and in the whisper."""

from __future__ import annotations

from datetime import datetime, time
from zoneinfo import ZoneInfo

import pytest

from tests.menus.steps import chose, dialed, redirected
from tests.twilio_signing import path_of
from tests.whisper.steps import answered, dial_done, incoming, pressed, status
from tracking.models import Call, CallLeg

MENU_WORDS = (
    "Thanks for calling Spring Billboard. For Billing, press 1 or say billing. "
    "For New customer, press 2."
)


def _query(url: str) -> dict[str, str]:
    from urllib.parse import parse_qsl, urlsplit

    return dict(parse_qsl(urlsplit(url).query))


@pytest.mark.django_db
def test_a_campaign_with_a_menu_greets_and_offers_its_options_before_ringing(twilio, menu_number):
    response = incoming(twilio)

    assert [el.tag for el in response] == ["Gather", "Redirect"]
    gather = response.find("Gather")
    assert gather.get("input") == "dtmf speech"
    assert gather.get("numDigits") == "1"
    assert gather.get("actionOnEmptyResult") == "true"
    assert gather.get("hints") == "billing, invoice"
    assert _query(gather.get("action")) == {"call": "CA100", "to": "+15125550100", "try": "1"}
    assert gather.find("Say").text == MENU_WORDS
    assert response.find("Redirect").text == gather.get("action")
    call = Call.objects.get()
    assert call.menu_at is not None and call.menu_choice == ""
    assert call.legs.count() == 0, "nothing rings until the caller chooses"


@pytest.mark.django_db
def test_a_key_rings_the_options_destinations_and_is_stored_on_the_call(twilio, menu_number):
    ringing = chose(twilio, incoming(twilio), Digits="1")

    assert dialed(ringing) == ["+15125550122"]
    assert ringing.find("Dial").get("answerOnBridge") == "true"
    assert _query(ringing.find("Dial").get("action"))["opt"] == "1"
    call = Call.objects.get()
    assert call.menu_choice == "Billing"
    assert call.forwarded_to == "+15125550122"
    assert [(leg.label, leg.phone_number) for leg in call.legs.all()] == [("Owner", "+15125550122")]


@pytest.mark.django_db
def test_spoken_words_choose_an_option(twilio, menu_number):
    ringing = chose(twilio, incoming(twilio), SpeechResult="Hi, it's about an Invoice.")

    assert dialed(ringing) == ["+15125550122"]
    assert Call.objects.get().menu_choice == "Billing"


@pytest.mark.django_db
def test_no_answer_takes_the_default_option_in_the_campaigns_ring_order(twilio, menu_number):
    first = chose(twilio, incoming(twilio), Digits="")

    # New customer rings sales and the front desk, in the campaign's order: front desk first.
    assert dialed(first) == ["+15125550199"]
    assert Call.objects.get().menu_choice == "New customer"
    declined = pressed(twilio, answered(twilio, first, "CA200"), "9", "CA200")
    assert [el.tag for el in declined] == ["Hangup"]

    second = dial_done(twilio, first, DialCallStatus="completed", DialBridged="false")

    assert dialed(second) == ["+15125550133"]
    assert _query(second.find("Dial").get("action"))["opt"] == "2"
    third = dial_done(twilio, second, DialCallStatus="no-answer")
    assert [el.tag for el in third] == ["Say", "Hangup"], "the option's phones are all rung"
    assert [leg.label for leg in Call.objects.get().legs.all()] == ["Front desk", "Sales"]


@pytest.mark.django_db
def test_falling_through_the_gather_takes_the_default_too(twilio, menu_number):
    assert dialed(redirected(twilio, incoming(twilio))) == ["+15125550199"]


@pytest.mark.django_db
def test_a_wrong_key_repeats_the_menu_once_then_takes_the_default(twilio, menu_number):
    again = chose(twilio, incoming(twilio), Digits="7")

    assert [el.tag for el in again] == ["Gather", "Redirect"]
    assert again.find("Gather/Say").text == (
        "Sorry, that is not one of the options. For Billing, press 1 or say billing. "
        "For New customer, press 2."
    )
    assert _query(again.find("Gather").get("action"))["try"] == "2"
    assert Call.objects.get().menu_choice == ""

    ringing = chose(twilio, again, Digits="#")

    assert dialed(ringing) == ["+15125550199"]
    assert Call.objects.get().menu_choice == "New customer"


@pytest.mark.django_db
def test_a_right_key_on_the_second_try_is_taken(twilio, menu_number):
    again = chose(twilio, incoming(twilio), SpeechResult="weather")
    assert dialed(chose(twilio, again, Digits="1")) == ["+15125550122"]


@pytest.mark.django_db
def test_all_at_once_rings_every_destination_of_the_option(twilio, all_at_once_menu):
    ringing = chose(twilio, incoming(twilio), Digits="2")

    assert dialed(ringing) == ["+15125550199", "+15125550133"]
    assert _query(ringing.find("Dial").get("action"))["legs"] == "0,1"


@pytest.mark.django_db
def test_the_whisper_says_the_callers_choice(twilio, menu_number):
    ringing = chose(twilio, incoming(twilio), Digits="1")

    whisper = answered(twilio, ringing)

    assert whisper.find("Gather/Say").text == (
        "Call from Spring Billboard, caller chose Billing, caller in Austin, Texas. "
        "Press 1 to accept, or any other key to decline."
    )
    assert len(pressed(twilio, whisper, "1")) == 0
    dial_done(twilio, ringing, DialCallStatus="completed", DialBridged="true")
    call = Call.objects.get()
    assert (call.outcome, call.answered_by) == (Call.Outcome.ACCEPTED, "Owner")


@pytest.mark.django_db
def test_a_template_names_the_choice_or_says_there_was_none(twilio, menu_number):
    campaign = menu_number.campaign
    campaign.whisper_template = "{campaign} call about {choice}"
    campaign.save()

    whisper = answered(twilio, chose(twilio, incoming(twilio), Digits="2"))

    assert whisper.find("Gather/Say").text.startswith("Spring Billboard call about New customer.")
    assert campaign.whisper_for(Call().place).startswith(
        "Spring Billboard call about no menu choice."
    )


@pytest.mark.django_db
def test_a_caller_who_hangs_up_in_the_menu_is_abandoned_there(twilio, menu_number):
    incoming(twilio)

    status(twilio, CallDuration="9")

    call = Call.objects.get()
    assert call.outcome == Call.Outcome.ABANDONED
    assert call.left_in_menu
    assert call.legs.count() == 0


@pytest.mark.django_db
def test_a_retried_choice_writes_nothing_twice_and_the_first_choice_stands(twilio, menu_number):
    menu = incoming(twilio)
    chose(twilio, menu, Digits="1")
    chose(twilio, menu, Digits="1")
    chose(twilio, menu, Digits="2")

    call = Call.objects.get()
    assert call.menu_choice == "Billing"
    assert CallLeg.objects.count() == 1


@pytest.mark.django_db
def test_after_hours_there_is_no_menu(twilio, menu_number, settings):
    campaign = menu_number.campaign
    # Open on a weekday that is not today's, so the call comes in after hours whatever the day.
    today = datetime.now(ZoneInfo(campaign.time_zone)).weekday()
    campaign.opening_hours.create(weekday=(today + 1) % 7, opens=time(9), closes=time(17))

    response = incoming(twilio)

    assert [el.tag for el in response] != ["Gather", "Redirect"]
    call = Call.objects.get()
    assert call.after_hours and call.menu_at is None


@pytest.mark.django_db
def test_a_number_with_its_own_forward_skips_the_menu(twilio, menu_number):
    menu_number.forward_to = "+15125550177"
    menu_number.save()

    assert dialed(incoming(twilio)) == ["+15125550177"]


@pytest.mark.django_db
def test_an_option_without_destinations_rings_every_destination(twilio, menu_number):
    option = menu_number.campaign.menu_options.get(key="1")
    option.destinations.clear()

    ringing = chose(twilio, incoming(twilio), Digits="1")

    assert dialed(ringing) == ["+15125550199"]
    assert _query(ringing.find("Dial").get("action"))["of"] == "3"


@pytest.mark.django_db
def test_a_campaign_without_greeting_has_no_menu(twilio, menu_number):
    campaign = menu_number.campaign
    campaign.menu_greeting = ""
    campaign.save()

    assert dialed(incoming(twilio)) == ["+15125550199"]


@pytest.mark.django_db
@pytest.mark.parametrize(
    "params",
    [
        {"Digits": "1" * 5000},
        {"Digits": "\x00"},
        {"SpeechResult": "é" * 10000},
        {"Digits": "", "SpeechResult": ""},
    ],
)
def test_hostile_menu_answers_get_valid_twiml(twilio, menu_number, params):
    response = chose(twilio, incoming(twilio), **params)

    assert response[0].tag in ("Dial", "Gather")


@pytest.mark.django_db
def test_a_menu_request_for_an_unknown_number_apologises(twilio, db):
    response = twilio.post("/twilio/voice/menu/?call=CA1&to=%2B15005550006&try=1", {"Digits": "1"})

    assert response.status_code == 200
    assert response.content.count(b"<Say") == 1


@pytest.mark.django_db
def test_the_menu_webhook_refuses_a_bad_signature(twilio, menu_number):
    path = path_of(incoming(twilio).find("Gather").get("action"))

    assert twilio.post(path, {"Digits": "1"}, signature="forged").status_code == 403
    assert Call.objects.get().menu_choice == ""
