"""Agents rung in the browser: <Client> legs beside <Number> legs, with the same whisper, keys
and per-destination results; agents who are away are not rung."""

from __future__ import annotations

import pytest

from tests.menus.steps import chose
from tests.twilio_signing import path_of, twiml
from tests.whisper.steps import CALLER, dial_done, incoming, pressed
from tracking.models import Call, CallLeg, Campaign

R = CallLeg.Result


def _nouns(response) -> list[tuple[str, str]]:
    dial = response.find("Dial")
    assert dial is not None, [el.tag for el in response]
    return [
        (noun.tag, noun.findtext("Identity") if noun.tag == "Client" else noun.text)
        for noun in dial
    ]


def _picked_up(twilio, noun, child_sid: str):
    """The agent's browser (or a phone) picks up: Twilio requests the noun's url."""
    return twiml(
        twilio.post(
            path_of(noun.get("url")),
            {"CallSid": child_sid, "Direction": "outbound-dial", "From": CALLER},
        )
    )


def _params(client) -> dict[str, str]:
    return {p.get("name"): p.get("value") for p in client.findall("Parameter")}


@pytest.mark.django_db
def test_an_agent_rings_as_a_client_with_the_whisper_url_and_status_callback(
    twilio, agent_number, ana
):
    response = incoming(twilio)

    assert _nouns(response) == [("Client", ana.identity)]
    client = response.find("Dial/Client")
    assert "/twilio/voice/whisper/" in client.get("url")
    assert "/twilio/voice/leg-status/" in client.get("statusCallback")
    assert client.get("statusCallbackEvent") == "completed"
    assert _params(client) == {
        "call": "CA100",
        "campaign": "Spring Billboard",
        "choice": "",
        "accept_key": "1",
        "decline_key": "0",
        "report_key": "",
    }
    assert response.find("Dial").get("answerOnBridge") == "true"


@pytest.mark.django_db
def test_an_agent_that_declines_is_followed_by_the_phone_then_the_next_agent(
    twilio, agent_number, ben
):
    first = incoming(twilio)
    whisper = _picked_up(twilio, first.find("Dial/Client"), "CA200")
    assert whisper.find("Gather/Say").text.startswith("Call from Spring Billboard")
    assert [el.tag for el in pressed(twilio, whisper, "0", "CA200")] == ["Hangup"]

    second = dial_done(twilio, first, DialCallStatus="completed", DialBridged="false")
    assert _nouns(second) == [("Number", "+15125550199")]
    third = dial_done(twilio, second, DialCallStatus="no-answer")
    assert _nouns(third) == [("Client", ben.identity)]

    whisper = _picked_up(twilio, third.find("Dial/Client"), "CA202")
    assert len(pressed(twilio, whisper, "1", "CA202")) == 0, "the accept key joins Ben"
    dial_done(twilio, third, DialCallStatus="completed", DialBridged="true")

    call = Call.objects.get()
    assert (call.outcome, call.answered_by) == (Call.Outcome.ACCEPTED, "Ben")
    assert [(leg.label, leg.result) for leg in call.legs.all()] == [
        ("Ana", R.REJECTED),
        ("Front desk", R.NO_ANSWER),
        ("Ben", R.ACCEPTED),
    ]
    assert call.legs.get(label="Ben").phone_number == "client:" + ben.identity


@pytest.mark.django_db
def test_all_at_once_rings_agents_and_phones_together(twilio, agent_number, ana, ben):
    campaign = agent_number.campaign
    campaign.ring_strategy = Campaign.RingStrategy.SIMULTANEOUS
    campaign.save()

    response = incoming(twilio)

    assert _nouns(response) == [
        ("Client", ana.identity),
        ("Number", "+15125550199"),
        ("Client", ben.identity),
    ]


@pytest.mark.django_db
def test_an_away_agent_is_not_rung_and_keeps_its_place(twilio, agent_number, ana, ben):
    ana.is_available = False
    ana.save()

    first = incoming(twilio)

    assert _nouns(first) == [("Number", "+15125550199")]
    assert "legs=1&of=3" in first.find("Dial").get("action")
    second = dial_done(twilio, first, DialCallStatus="no-answer")
    assert _nouns(second) == [("Client", ben.identity)]
    assert Call.objects.get().legs.get(label="Ana").result == R.PENDING


@pytest.mark.django_db
def test_a_campaign_whose_agents_are_all_away_goes_to_its_missed_message(twilio, db, ana):
    campaign = Campaign.objects.create(name="Support")
    campaign.destinations.create(label="Ana", agent=ana)
    from tracking.models import TrackingNumber

    TrackingNumber.objects.create(phone_number="+15125550100", campaign=campaign)
    ana.is_available = False
    ana.save()

    response = incoming(twilio)

    assert [el.tag for el in response] == ["Say", "Hangup"]


@pytest.mark.django_db
def test_becoming_available_reaches_the_cached_route_at_once(twilio, agent_number, ana):
    ana.is_available = False
    ana.save()
    assert _nouns(incoming(twilio, sid="CA1"))[0] == ("Number", "+15125550199")

    ana.is_available = True
    ana.save()

    assert _nouns(incoming(twilio, sid="CA2"))[0] == ("Client", ana.identity)


@pytest.mark.django_db
def test_a_menu_option_can_ring_an_agent_and_names_the_choice(twilio, agent_number, ana):
    campaign = agent_number.campaign
    campaign.menu_greeting = "Hello"
    campaign.save()
    option = campaign.menu_options.create(key="1", label="Billing", is_default=True)
    option.destinations.set(campaign.destinations.filter(agent=ana))

    ringing = chose(twilio, incoming(twilio), Digits="1")

    assert _params(ringing.find("Dial/Client"))["choice"] == "Billing"


@pytest.mark.django_db
def test_the_simulator_rings_an_agent_leg(agent_number, ana):
    from io import StringIO

    from django.core.management import call_command

    out = StringIO()
    call_command(
        "simulate_call",
        "--to",
        "+15125550100",
        "--from",
        CALLER,
        "--answer",
        "decline",
        "--answer",
        "accept",
        stdout=out,
    )

    output = out.getvalue()
    assert f"Twilio dials client:{ana.identity} for up to 20 s" in output
    call = Call.objects.get()
    assert [(leg.label, leg.result) for leg in call.legs.all()] == [
        ("Ana", R.REJECTED),
        ("Front desk", R.ACCEPTED),
        ("Ben", R.PENDING),
    ]


@pytest.mark.django_db
def test_the_campaign_form_takes_an_agent_or_a_phone_not_neither(admin_client, number, ana):
    from django.urls import reverse

    from tests.admin.forms import campaign_form

    campaign = number.campaign
    front_desk = campaign.destinations.get()
    url = reverse("admin:tracking_campaign_change", args=[campaign.pk])

    def post(second: dict[str, str]):
        return admin_client.post(
            url,
            campaign_form(
                name=campaign.name,
                destinations=[
                    {
                        "id": str(front_desk.pk),
                        "campaign": str(campaign.pk),
                        "order": "1",
                        "label": "Front desk",
                        "phone_number": front_desk.phone_number,
                    },
                    {"order": "2", **second},
                ],
                destinations_initial=1,
            ),
        )

    response = post({"label": "Nobody", "phone_number": ""})
    assert response.status_code == 200
    assert "Enter a phone number or choose an agent." in response.content.decode()

    assert post({"label": "Ana", "phone_number": "", "agent": str(ana.pk)}).status_code == 302
    assert [(d.label, d.phone_number, d.agent) for d in campaign.destinations.all()] == [
        ("Front desk", "+15125550199", None),
        ("Ana", "", ana),
    ]


@pytest.mark.django_db
def test_the_consoles_decline_key_never_reports_spam(twilio, agent_number, ana):
    campaign = agent_number.campaign
    campaign.spam_report_key = "0"
    campaign.save()

    params = _params(incoming(twilio).find("Dial/Client"))

    assert (params["accept_key"], params["report_key"]) == ("1", "0")
    assert params["decline_key"] not in ("1", "0")
