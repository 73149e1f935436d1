"""What screening costs while the caller waits, and what it does while the database is down."""

from __future__ import annotations

import json

import pytest
from django.db import connection

from tests.twilio_signing import twiml
from tests.whisper.steps import CALLER, TRACKING, incoming
from tracking import events, routing
from tracking.models import BlockedCaller, Call

# The number joined to its campaign; the call, its legs and its website attribution inserted
# (one statement on PostgreSQL, three on SQLite): the budget of every incoming call.
BASE = 2 if connection.vendor == "postgresql" else 4


@pytest.mark.django_db
def test_a_campaign_without_screening_pays_no_query_more(
    twilio, number, django_assert_max_num_queries
):
    BlockedCaller.objects.create(kind="prefix", value="+1900")
    incoming(twilio, sid="CA099")  # caches the route and the block list

    with django_assert_max_num_queries(BASE):
        incoming(twilio)


@pytest.mark.django_db
def test_attestation_and_prefix_rules_cost_no_query(twilio, number, django_assert_max_num_queries):
    number.campaign.challenge_attestation = "unverified"
    number.campaign.challenge_prefixes = "+1900"
    number.campaign.save()
    incoming(twilio, sid="CA099")

    with django_assert_max_num_queries(BASE):
        assert incoming(twilio).find("Gather") is not None


@pytest.mark.django_db
def test_the_burst_rule_costs_one_query(twilio, number, django_assert_num_queries):
    number.campaign.challenge_burst_calls = 5
    number.campaign.save()
    incoming(twilio, sid="CA099")

    with django_assert_num_queries(BASE + 1):
        incoming(twilio)


def _fallback(twilio, sid="CA100", **extra):
    params = {"CallSid": sid, "From": CALLER, "To": TRACKING, "FromCountry": "US", **extra}
    return twiml(twilio.post("/twilio/voice/fallback/", {**params, "ErrorCode": "11205"}))


@pytest.mark.django_db
def test_while_the_database_is_down_the_cached_block_list_still_rejects(twilio, number):
    BlockedCaller.objects.create(kind="number", value=CALLER)
    incoming(twilio, sid="CA099")  # caches the route and the block list

    response = _fallback(twilio)

    assert [el.tag for el in response] == ["Reject"]
    spooled = [json.loads(path.read_text()) for path in events.pending()]
    assert [(e["kind"], e["data"]["spam"]) for e in spooled] == [("start", "blocked")]
    events.drain()
    assert Call.objects.get(call_sid="CA100").outcome == "blocked"


@pytest.mark.django_db
def test_while_the_database_is_down_attestation_still_challenges(twilio, number):
    number.campaign.challenge_attestation = "failed"
    number.campaign.save()
    routing.refresh_number(number)

    response = _fallback(twilio, StirVerstat="TN-Validation-Failed-C")

    assert response.find("Gather/Say").text.startswith("To be connected, press")


@pytest.mark.django_db
def test_while_the_database_is_down_the_burst_rule_is_skipped_and_the_call_rings(twilio, number):
    number.campaign.challenge_burst_calls = 1
    number.campaign.save()
    incoming(twilio, sid="CA098")
    incoming(twilio, sid="CA099")

    response = _fallback(twilio)

    assert [el.tag for el in response] == ["Dial"]


@pytest.mark.django_db
def test_the_challenge_answer_costs_as_any_call_event(
    twilio, number, django_assert_max_num_queries
):
    from tests.screening.conftest import answer_challenge, challenge_digit

    number.campaign.challenge_attestation = "unverified"
    number.campaign.save()
    challenge = incoming(twilio)
    # Lock and read the call with its legs; one update (two statements on SQLite); savepoints.
    with django_assert_max_num_queries(4 if connection.vendor == "postgresql" else 5):
        response = answer_challenge(twilio, challenge, challenge_digit(challenge))
    assert response.find("Dial") is not None
