"""Several destinations: one after another, or all at once, each screened by the whisper."""

from __future__ import annotations

import random

import pytest

from tests.twilio_signing import path_of
from tests.whisper.steps import answered, dial_done, incoming, leg_ended, pressed, status
from tracking.models import Call, CallLeg

R = CallLeg.Result


def _results(call: Call) -> list[tuple[str, str]]:
    return [(leg.label, leg.result) for leg in call.legs.order_by("position")]


def _dialed(response) -> list[str]:
    assert response[0].tag == "Dial"
    return [number.text for number in response.findall("Dial/Number")]


@pytest.mark.django_db
def test_a_declined_call_rings_the_next_destination_which_accepts(twilio, two_destinations):
    first = incoming(twilio)
    assert _dialed(first) == ["+15125550199"]

    declined = pressed(twilio, answered(twilio, first, "CA200"), "2", "CA200")
    assert [el.tag for el in declined] == ["Hangup"]
    second = dial_done(twilio, first, DialCallStatus="completed", DialBridged="false")

    assert _dialed(second) == ["+15125550122"]
    assert second.find("Dial").get("answerOnBridge") == "true"
    assert "legs=1&of=2" in second.find("Dial").get("action")
    accepted = pressed(twilio, answered(twilio, second, "CA201"), "1", "CA201")
    assert len(accepted) == 0, "an empty document joins the owner to the caller"
    after = dial_done(
        twilio, second, DialCallStatus="completed", DialBridged="true", DialCallDuration="30"
    )
    assert [el.tag for el in after] == ["Hangup"]
    status(twilio)

    call = Call.objects.get()
    assert call.outcome == Call.Outcome.ACCEPTED
    assert call.answered_by == "Owner"
    assert call.decision == Call.Decision.ACCEPTED
    assert _results(call) == [("Front desk", R.REJECTED), ("Owner", R.ACCEPTED)]
    assert [leg.leg_sid for leg in call.legs.order_by("position")] == ["CA200", "CA201"]


@pytest.mark.django_db
def test_a_destination_that_does_not_answer_passes_the_call_on(twilio, two_destinations):
    first = incoming(twilio)
    second = dial_done(twilio, first, DialCallStatus="no-answer", DialBridged="false")
    assert _dialed(second) == ["+15125550122"]

    silent = pressed(twilio, answered(twilio, second, "CA201"), "", "CA201")
    assert [el.tag for el in silent] == ["Hangup"]
    last = dial_done(twilio, second, DialCallStatus="completed", DialBridged="false")

    assert [el.tag for el in last] == ["Say", "Hangup"], "voicemail is off: the missed message"
    status(twilio)
    call = Call.objects.get()
    assert _results(call) == [("Front desk", R.NO_ANSWER), ("Owner", R.NO_INPUT)]
    assert call.outcome == Call.Outcome.NO_INPUT
    assert call.answered_by == ""


@pytest.mark.django_db
def test_when_every_destination_declines_the_call_is_declined(twilio, two_destinations):
    first = incoming(twilio)
    pressed(twilio, answered(twilio, first, "CA200"), "9", "CA200")
    second = dial_done(twilio, first, DialCallStatus="completed", DialBridged="false")
    pressed(twilio, answered(twilio, second, "CA201"), "3", "CA201")
    dial_done(twilio, second, DialCallStatus="completed", DialBridged="false")
    status(twilio)

    call = Call.objects.get()
    assert _results(call) == [("Front desk", R.REJECTED), ("Owner", R.REJECTED)]
    assert call.outcome == Call.Outcome.REJECTED


@pytest.mark.django_db
def test_a_caller_who_hangs_up_during_the_second_whisper_is_abandoned(twilio, two_destinations):
    first = incoming(twilio)
    second = dial_done(twilio, first, DialCallStatus="no-answer", DialBridged="false")
    answered(twilio, second, "CA201")

    after = dial_done(twilio, second, DialCallStatus="canceled", DialBridged="false")

    assert [el.tag for el in after] == ["Hangup"], "nobody is left to ring or to tell"
    status(twilio, CallStatus="completed")
    call = Call.objects.get()
    assert _results(call) == [("Front desk", R.NO_ANSWER), ("Owner", R.CANCELED)]
    assert call.outcome == Call.Outcome.ABANDONED


@pytest.mark.django_db
def test_all_at_once_rings_every_destination_in_one_dial(twilio, all_at_once):
    response = incoming(twilio)

    assert _dialed(response) == ["+15125550199", "+15125550122", "+15125550133"]
    dial = response.find("Dial")
    assert "legs=0%2C1%2C2&of=3" in dial.get("action") or "legs=0,1,2&of=3" in dial.get("action")
    urls = [number.get("url") for number in dial.findall("Number")]
    assert [url.rsplit("leg=", 1)[1] for url in urls] == ["0", "1", "2"]
    assert Call.objects.get().legs.count() == 3


@pytest.mark.django_db
def test_all_at_once_the_first_to_accept_takes_the_call(twilio, all_at_once):
    response = incoming(twilio)
    declined = pressed(twilio, answered(twilio, response, "CA200", leg=0), "2", "CA200")
    first = pressed(twilio, answered(twilio, response, "CA201", leg=1), "1", "CA201")
    late = pressed(twilio, answered(twilio, response, "CA202", leg=2), "1", "CA202")

    assert [el.tag for el in declined] == ["Hangup"]
    assert len(first) == 0, "the first to accept is joined"
    assert [el.tag for el in late] == ["Hangup"], "a later acceptance is not joined"
    after = dial_done(
        twilio,
        response,
        DialCallStatus="completed",
        DialCallSid="CA201",
        DialBridged="true",
        DialCallDuration="50",
    )
    assert [el.tag for el in after] == ["Hangup"]
    status(twilio)

    call = Call.objects.get()
    assert call.outcome == Call.Outcome.ACCEPTED
    assert call.answered_by == "Owner"
    assert _results(call) == [
        ("Front desk", R.REJECTED),
        ("Owner", R.ACCEPTED),
        ("Sales", R.CANCELED),
    ]
    assert call.talk_seconds == 50


@pytest.mark.django_db
def test_all_at_once_destinations_that_never_answer_are_told_apart(twilio, all_at_once):
    response = incoming(twilio)
    pressed(twilio, answered(twilio, response, "CA201", leg=1), "1", "CA201")
    leg_ended(twilio, response, "busy", "CA202", leg=2)
    dial_done(twilio, response, DialCallStatus="completed", DialCallSid="CA201", DialBridged="true")
    leg_ended(twilio, response, "canceled", "CA200", leg=0)

    call = Call.objects.get()
    assert _results(call) == [
        ("Front desk", R.CANCELED),
        ("Owner", R.ACCEPTED),
        ("Sales", R.BUSY),
    ]


@pytest.mark.django_db
def test_all_at_once_nobody_answering_is_no_answer(twilio, all_at_once):
    response = incoming(twilio)

    after = dial_done(twilio, response, DialCallStatus="no-answer", DialBridged="false")

    assert [el.tag for el in after] == ["Say", "Hangup"], "all rang at once: nobody is next"
    call = Call.objects.get()
    assert {leg.result for leg in call.legs.all()} == {R.NO_ANSWER}
    assert call.outcome == Call.Outcome.NO_ANSWER


@pytest.mark.django_db
def test_all_at_once_reports_in_any_order_and_twice_give_one_answer(twilio, all_at_once):
    """Twilio's callbacks for the legs of one <Dial> race each other, and may be retried."""
    dial = incoming(twilio).find("Dial")
    numbers = dial.findall("Number")

    def whisper(leg, child):
        return (path_of(numbers[leg].get("url")), {"CallSid": child, "ParentCallSid": "CA100"})

    def decide(leg, child, digits):
        url = numbers[leg].get("url").replace("/whisper/?", "/whisper/decide/?")
        return (path_of(url), {"CallSid": child, "Digits": digits})

    def ended(leg, child, call_status):
        return (
            path_of(numbers[leg].get("statusCallback")),
            {"CallSid": child, "CallStatus": call_status},
        )

    requests = [
        whisper(0, "CA200"),
        decide(0, "CA200", "2"),
        ended(0, "CA200", "completed"),
        whisper(1, "CA201"),
        decide(1, "CA201", "1"),
        ended(1, "CA201", "completed"),
        ended(2, "CA202", "no-answer"),
        (
            path_of(dial.get("action")),
            {
                "CallSid": "CA100",
                "DialCallStatus": "completed",
                "DialCallSid": "CA201",
                "DialBridged": "true",
                "DialCallDuration": "40",
            },
        ),
        ("/twilio/voice/status/", {"CallSid": "CA100", "CallStatus": "completed"}),
    ]
    rng = random.Random(7)
    for round_ in range(12):
        Call.objects.exclude(call_sid="CA100").delete()
        call = Call.objects.get()
        call.legs.update(
            leg_sid="",
            whispered_at=None,
            decision="",
            decided_at=None,
            status="",
            bridged=None,
            result=R.PENDING,
        )
        Call.objects.filter(pk=call.pk).update(
            decision="",
            whispered_at=None,
            decided_at=None,
            dial_status="",
            dial_bridged=None,
            dial_call_sid="",
            call_status="",
            ended_at=None,
            talk_seconds=None,
            outcome=Call.Outcome.IN_PROGRESS,
            answered_by="",
        )
        shuffled = requests * 2
        rng.shuffle(shuffled)
        for path, data in shuffled:
            reply = twilio.post(path, data)
            assert reply.status_code in (200, 204), (round_, path)

        call = Call.objects.get()
        assert _results(call) == [
            ("Front desk", R.REJECTED),
            ("Owner", R.ACCEPTED),
            ("Sales", R.NO_ANSWER),
        ], round_
        assert (call.outcome, call.answered_by) == (Call.Outcome.ACCEPTED, "Owner")


@pytest.mark.django_db
@pytest.mark.parametrize("leg_reports_first", [True, False])
def test_hanging_up_during_a_whisper_is_abandoned_whichever_report_comes_first(
    twilio, two_destinations, leg_reports_first
):
    first = incoming(twilio)
    pressed(twilio, answered(twilio, first, "CA200"), "2", "CA200")
    second = dial_done(twilio, first, DialCallStatus="completed", DialBridged="false")
    answered(twilio, second, "CA201")

    if leg_reports_first:
        leg_ended(twilio, second, "completed", "CA201")
    dial_done(twilio, second, DialCallStatus="canceled", DialBridged="false")
    if not leg_reports_first:
        leg_ended(twilio, second, "completed", "CA201")

    call = Call.objects.get()
    assert _results(call) == [("Front desk", R.REJECTED), ("Owner", R.CANCELED)]
    assert call.outcome == Call.Outcome.ABANDONED
    assert (call.dial_status, call.dial_bridged) == ("canceled", False), "the last <Dial>'s"
