"""Whole calls, from the first webhook to the last, and the one row each leaves behind."""

from __future__ import annotations

import itertools

import pytest
from django.db import connection

from tests.whisper.steps import answered, dial_done, incoming, pressed, status, twilio_timestamp
from tracking.models import Call

TS = twilio_timestamp()


def _row() -> dict:
    call = Call.objects.get()
    return {
        "outcome": call.outcome,
        "decision": call.decision,
        "dial_status": call.dial_status,
        "talk_seconds": call.talk_seconds,
        "duration_seconds": call.duration_seconds,
    }


@pytest.mark.django_db
def test_an_accepted_call_is_bridged_and_the_caller_is_not_told_anything(twilio, number):
    response = incoming(twilio)
    pressed(twilio, answered(twilio, response), "1")

    after = dial_done(
        twilio,
        response,
        DialCallStatus="completed",
        DialBridged="true",
        DialCallDuration="42",
        DialCallSid="CA200",
    )
    status(twilio)

    assert [el.tag for el in after] == ["Hangup"]
    assert _row() == {
        "outcome": "accepted",
        "decision": "accepted",
        "dial_status": "completed",
        "talk_seconds": 42,
        "duration_seconds": 61,
    }
    assert Call.objects.get().ended_at is not None


@pytest.mark.django_db
@pytest.mark.parametrize(("digits", "outcome"), [("7", "rejected"), ("", "no_input")])
def test_a_declined_call_is_not_counted_as_accepted_although_twilio_says_completed(
    twilio, number, digits, outcome
):
    response = incoming(twilio)
    pressed(twilio, answered(twilio, response), digits)

    after = dial_done(twilio, response, DialCallStatus="completed", DialBridged="false")

    assert [el.tag for el in after] == ["Say", "Hangup"]
    assert after.find("Say").text.startswith("Sorry, nobody could take your call")
    assert Call.objects.get().outcome == outcome


@pytest.mark.django_db
def test_a_whisper_without_any_key_request_is_no_input(twilio, number):
    # If Twilio falls through the <Gather> to <Hangup/> without posting its action.
    response = incoming(twilio)
    answered(twilio, response)

    dial_done(twilio, response, DialCallStatus="completed")

    assert Call.objects.get().outcome == Call.Outcome.NO_INPUT


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("dial_status", "outcome", "caller_hears"),
    [
        ("no-answer", "no_answer", ["Say", "Hangup"]),
        ("busy", "busy", ["Say", "Hangup"]),
        ("failed", "failed", ["Say", "Hangup"]),
        # The caller hung up: there is nobody left to tell anything.
        ("canceled", "abandoned", ["Hangup"]),
    ],
)
def test_a_call_nobody_picked_up_gets_the_dial_result(
    twilio, number, dial_status, outcome, caller_hears
):
    response = incoming(twilio)

    after = dial_done(twilio, response, DialCallStatus=dial_status, DialBridged="false")

    assert [el.tag for el in after] == caller_hears
    assert Call.objects.get().outcome == outcome


@pytest.mark.django_db
def test_the_campaigns_message_is_what_a_missed_caller_hears(twilio, number):
    number.campaign.missed_message = "Thanks for calling Spring Billboard, we will call you back."
    number.campaign.save()
    response = incoming(twilio)

    after = dial_done(twilio, response, DialCallStatus="no-answer")

    assert after.find("Say").text == "Thanks for calling Spring Billboard, we will call you back."


@pytest.mark.django_db
def test_a_caller_who_hangs_up_while_it_rings_is_abandoned(twilio, number):
    incoming(twilio)

    status(twilio, CallDuration="9", Timestamp=TS)

    call = Call.objects.get()
    assert call.outcome == Call.Outcome.ABANDONED
    assert call.duration_seconds == 9


@pytest.mark.django_db
def test_a_caller_who_hangs_up_during_the_whisper_is_abandoned(twilio, number):
    response = incoming(twilio)
    answered(twilio, response)

    dial_done(twilio, response, DialCallStatus="canceled")
    status(twilio)

    assert Call.objects.get().outcome == Call.Outcome.ABANDONED


@pytest.mark.django_db
def test_bridged_without_a_recorded_key_counts_as_accepted(twilio, number):
    response = incoming(twilio)

    dial_done(twilio, response, DialCallStatus="completed", DialBridged="true")

    assert Call.objects.get().outcome == Call.Outcome.ACCEPTED


ACCEPTED_CALL = [
    ("key", "1"),
    ("dial", {"DialCallStatus": "completed", "DialBridged": "true", "DialCallDuration": "42"}),
    ("status", {"CallDuration": "61", "Timestamp": TS}),
]
DECLINED_CALL = [
    ("key", "4"),
    ("dial", {"DialCallStatus": "completed", "DialBridged": "false"}),
    ("status", {"CallDuration": "20", "Timestamp": TS}),
]
UNANSWERED_CALL = [
    ("dial", {"DialCallStatus": "no-answer", "DialBridged": "false"}),
    ("status", {"CallDuration": "25", "Timestamp": TS}),
]


def _play(twilio, events, repeat=False):
    response = incoming(twilio)
    whisper = answered(twilio, response) if any(kind == "key" for kind, _ in events) else None
    for kind, data in events:
        for _ in range(2 if repeat else 1):
            if kind == "key":
                pressed(twilio, whisper, data)
            elif kind == "dial":
                dial_done(twilio, response, **data)
            else:
                status(twilio, **data)


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("events", [ACCEPTED_CALL, DECLINED_CALL, UNANSWERED_CALL])
def test_the_final_row_is_the_same_whatever_order_and_repeats(twilio, number, events):
    _play(twilio, events)
    expected = _row()
    assert expected["outcome"] != "in_progress"

    for order in itertools.permutations(events):
        Call.objects.all().delete()
        _play(twilio, list(order), repeat=True)
        assert Call.objects.count() == 1
        assert _row() == expected, order


@pytest.mark.django_db
def test_dial_action_and_status_stay_within_their_query_budget(
    twilio, number, django_assert_max_num_queries
):
    response = incoming(twilio)
    # Each: the call row locked and read with its campaign and legs; a leg and the call
    # updated, in one statement on PostgreSQL (two on SQLite); the savepoint pair around them.
    budget = 4 if connection.vendor == "postgresql" else 5
    with django_assert_max_num_queries(budget):
        dial_done(twilio, response, DialCallStatus="no-answer")
    with django_assert_max_num_queries(budget):
        status(twilio)
