"""Call events carry what website attribution knows of the call, at a real receiver."""

from __future__ import annotations

import pytest

from tests.attribution.client import visit
from tests.attribution.test_visits_endpoint import AD
from tests.support.jobs import work
from tests.whisper.steps import answered, dial_done, incoming, pressed, status

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _database_pools(settings):
    settings.DNI_BACKEND = "database"


def _call(twilio, sid: str, to: str) -> None:
    response = incoming(twilio, sid, To=to)
    pressed(twilio, answered(twilio, response), "1")
    dial_done(twilio, response, sid, DialCallStatus="completed", DialBridged="true")
    status(twilio, sid)


def _events(receiver, sid: str) -> dict[str, dict]:
    return {
        r.payload["type"]: r.payload["data"]["attribution"]
        for r in receiver.received
        if r.payload["data"]["id"] == sid
    }


def test_a_call_from_an_ad_click_carries_its_visit(client, twilio, ads, endpoint, receiver):
    answer = visit(client, ads.website, page=AD, referrer="https://www.google.com/", ga="12.34")
    shown = answer.json()["swaps"][0]["number"]

    _call(twilio, "CA1", shown)
    work()

    events = _events(receiver, "CA1")
    assert set(events) == {"call.started", "call.completed"}
    assert (
        events["call.started"]
        == events["call.completed"]
        == {
            "kind": "visit",
            "website": {"id": ads.website.pk, "name": "Plumber"},
            "source": {"id": ads.pk, "name": "Google Ads"},
            "first_time_caller": True,
            "utm_source": "google",
            "utm_medium": "cpc",
            "utm_campaign": "spring",
            "utm_term": "plumber near me",
            "utm_content": None,
            "click_ids": {
                "gclid": "Cj0abc",
                "gbraid": None,
                "wbraid": None,
                "msclkid": None,
                "fbclid": None,
            },
            "landing_page": AD,
            "referrer": "https://www.google.com/",
            "ga_client_id": "12.34",
        }
    )


def test_a_sources_own_number_and_a_campaign_number(twilio, organic, number, endpoint, receiver):
    _call(twilio, "CA1", "+15125550300")  # the organic source's number, no visit known
    _call(twilio, "CA2", number.phone_number)  # a billboard's number
    work()

    sourced = _events(receiver, "CA1")["call.started"]
    assert (sourced["kind"], sourced["source"]["name"]) == ("source", "Google organic")
    assert sourced["first_time_caller"] is True
    assert sourced["utm_source"] is None and sourced["landing_page"] is None
    assert _events(receiver, "CA2") == {"call.started": None, "call.completed": None}
