"""A call to a tracked number is attributed to the visit that held the number when it rang,
or to the number's source, as the call's start is written."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from attribution import api
from attribution.models import CallAttribution, Hold
from tests.attribution.client import visit
from tests.attribution.conftest import buy
from tests.attribution.test_visits_endpoint import AD
from tests.twilio_signing import twiml
from tests.whisper.steps import CALLER, incoming
from tracking import events, routing
from tracking.models import Call
from tracking.services import IncomingCall

Kind = CallAttribution.Kind


@pytest.fixture
def at(monkeypatch):
    """Set the endpoint's clock to a moment relative to the real now (the webhooks use it)."""

    def set_clock(moment):
        monkeypatch.setattr(api, "clock", lambda: moment)

    return set_clock


def _shown(client, website, **kw) -> str:
    answer = visit(client, website, **kw).json()
    return answer["swaps"][0]["number"] if answer["swaps"] else ""


def test_a_call_to_a_held_pool_number_is_the_holders_visit(client, twilio, ads, backend, at):
    at(timezone.now() - timedelta(minutes=5))
    number = _shown(client, ads.website, page=AD, referrer="https://www.google.com/", ga="12.34")
    _shown(client, ads.website, page=AD)  # another visitor holds another number

    incoming(twilio, sid="CA1", To=number)

    row = CallAttribution.objects.get(call_id="CA1")
    hold = Hold.objects.get(number__phone_number=number)
    assert row.kind == Kind.VISIT
    assert (row.source, row.website, row.hold, row.visit) == (
        ads,
        ads.website,
        hold,
        hold.visit,
    )
    assert row.first_visit == hold.visit
    assert (row.utm_source, row.utm_medium, row.utm_campaign, row.utm_term) == (
        "google",
        "cpc",
        "spring",
        "plumber near me",
    )
    assert (row.gclid, row.landing_page, row.referrer, row.ga_client_id) == (
        "Cj0abc",
        AD,
        "https://www.google.com/",
        "12.34",
    )
    assert row.first_time_caller is True


def test_a_caller_who_called_before_is_not_first_time(client, twilio, ads, backend, at):
    at(timezone.now() - timedelta(minutes=5))
    number = _shown(client, ads.website, page=AD)
    incoming(twilio, sid="CA1", To=number)
    incoming(twilio, sid="CA2", To=number)
    incoming(twilio, sid="CA3", To=number, From="+13125550999")
    first_time = dict(CallAttribution.objects.values_list("call_id", "first_time_caller"))
    assert first_time == {"CA1": True, "CA2": False, "CA3": True}


def test_a_hidden_caller_is_neither_first_time_nor_returning(client, twilio, ads, backend, at):
    at(timezone.now() - timedelta(minutes=5))
    number = _shown(client, ads.website, page=AD)
    incoming(twilio, sid="CA1", To=number, From="anonymous")
    assert CallAttribution.objects.get().first_time_caller is None


def test_a_pool_number_nobody_holds_is_unattributed(twilio, ads, backend):
    incoming(twilio, sid="CA1", To="+15125550201")
    row = CallAttribution.objects.get()
    assert (row.kind, row.visit, row.source, row.hold) == (Kind.UNATTRIBUTED, None, None, None)
    assert row.website == ads.website


def test_a_call_after_the_hold_ended_is_unattributed(client, twilio, ads, backend, at):
    at(timezone.now() - timedelta(minutes=45))
    number = _shown(client, ads.website, page=AD)
    incoming(twilio, sid="CA1", To=number)
    row = CallAttribution.objects.get()
    assert (row.kind, row.visit) == (Kind.UNATTRIBUTED, None)


def test_a_call_goes_to_the_holder_when_it_rang_not_an_earlier_one(
    client, twilio, ads, backend, at
):
    now = timezone.now()
    at(now - timedelta(hours=2))
    first = visit(client, ads.website, page=AD).json()
    # Every pool number is then taken, and the first visitor's hold lapses long ago.
    at(now - timedelta(minutes=3))
    numbers = {_shown(client, ads.website, page=AD + str(n)) for n in range(3)}
    incoming(twilio, sid="CA1", To=first["swaps"][0]["number"])
    row = CallAttribution.objects.get()
    assert row.kind == Kind.VISIT
    assert row.visit.landing_page != AD
    assert row.visit.landing_page in {AD + str(n) for n in range(3)}
    assert first["swaps"][0]["number"] in numbers


def test_a_source_number_is_the_source(twilio, organic, backend):
    incoming(twilio, sid="CA1", To="+15125550300")
    row = CallAttribution.objects.get()
    assert (row.kind, row.source, row.visit) == (Kind.SOURCE, organic, None)


def test_the_overflow_number_is_its_source_only(twilio, ads, backend):
    incoming(twilio, sid="CA1", To="+15125550299")
    row = CallAttribution.objects.get()
    assert (row.kind, row.source, row.visit) == (Kind.OVERFLOW, ads, None)


def test_a_campaign_number_is_offline(twilio, number):
    incoming(twilio, sid="CA1")
    row = CallAttribution.objects.get()
    assert (row.kind, row.source, row.website) == (Kind.OFFLINE, None, None)
    assert row.first_time_caller is True


def test_an_unknown_number_has_no_attribution(twilio, db):
    incoming(twilio, sid="CA1", To="+15125559999")
    assert Call.objects.get().outcome == Call.Outcome.UNMATCHED
    assert not CallAttribution.objects.exists()


def test_a_retried_webhook_attributes_once(client, twilio, ads, backend, at):
    at(timezone.now() - timedelta(minutes=5))
    number = _shown(client, ads.website, page=AD)
    incoming(twilio, sid="CA1", To=number)
    incoming(twilio, sid="CA1", To=number)
    row = CallAttribution.objects.get()
    assert (row.kind, row.first_time_caller) == (Kind.VISIT, True)


def test_attribution_costs_the_incoming_webhook_no_round_trip_on_postgresql(
    client, twilio, ads, backend, at, django_assert_max_num_queries
):
    at(timezone.now() - timedelta(minutes=5))
    number = _shown(client, ads.website, page=AD)
    incoming(twilio, sid="CA0", To=number)  # caches the route
    # PostgreSQL: the look-up, then one statement inserting the call, its legs and its
    # attribution. SQLite: the look-up and three inserts.
    with django_assert_max_num_queries(2 if connection.vendor == "postgresql" else 4):
        incoming(twilio, sid="CA1", To=number)
    assert CallAttribution.objects.get(call_id="CA1").kind == Kind.VISIT


def test_a_spooled_start_is_attributed_as_of_when_it_rang(client, ads, backend, at):
    rang = timezone.now() - timedelta(hours=3)
    at(rang - timedelta(minutes=2))
    number = _shown(client, ads.website, page=AD)
    route = routing.route_for(number)
    events.put(
        "start",
        {
            "call": IncomingCall(sid="CA1", called=number, caller=CALLER),
            "number_id": route.number_id,
            "campaign_id": route.campaign_id,
            "targets": list(route.targets),
            "at": rang,
        },
    )
    assert events.drain().written == 1
    row = CallAttribution.objects.get()
    assert row.kind == Kind.VISIT
    assert row.started_at == rang


def test_a_call_rings_while_the_database_is_down_and_is_attributed_later(
    client, twilio, ads, backend, at
):
    at(timezone.now() - timedelta(minutes=5))
    number = _shown(client, ads.website, page=AD)
    routing.refresh_all()
    # Twilio's Voice Fallback URL routes from the cache alone, spooling the start.
    response = twiml(
        twilio.post("/twilio/voice/fallback/", {"CallSid": "CA1", "From": CALLER, "To": number})
    )
    assert response.find("Dial/Number").text == "+15125550199"
    assert not CallAttribution.objects.exists()
    assert events.drain().written == 1
    assert CallAttribution.objects.get().kind == Kind.VISIT


def test_a_number_bought_with_no_website_use_and_a_pool_number_in_another_campaign(
    twilio, ads, backend
):
    other = buy(ads.campaign, "+15125550777")
    incoming(twilio, sid="CA1", To=other.phone_number)
    assert CallAttribution.objects.get().kind == Kind.OFFLINE
