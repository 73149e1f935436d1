"""What a visitor consented to for ads travels from the website script to the upload: the
visits endpoint keeps it on the visit, the call's attribution copies it, Google gets it."""

from __future__ import annotations

import pytest

from attribution import sites
from attribution.models import CallAttribution, Visit
from tests.attribution.client import post
from tests.support.jobs import work
from tests.whisper.steps import answered, dial_done, incoming, pressed, status

pytestmark = pytest.mark.django_db

AD = "https://www.plumber.example/drains?gclid=Cj0KCQ-from-ad"


@pytest.fixture(autouse=True)
def _fresh_configs():
    sites.forget_configs()
    yield
    sites.forget_configs()


def visit(client, site, *, page: str, visitor: str = "", **extra):
    """The script's request, with what the site said of consent (`consent=`), if anything."""
    body = {"website": site.key, "visitor": visitor, "page": page, "referrer": "", **extra}
    return post(client, body)


def _consent(row) -> tuple[bool | None, bool | None]:
    return (row.ad_user_data, row.ad_personalization)


def test_the_visit_keeps_what_the_visitor_consented_to(client, ads):
    said = {"ad_user_data": True, "ad_personalization": False}
    answer = visit(client, ads.website, page=AD, consent=said).json()
    assert _consent(Visit.objects.get()) == (True, False)

    # Heartbeats carry it again (nothing written); one without it changes nothing.
    visit(client, ads.website, page=AD, visitor=answer["visitor"], consent=said)
    visit(client, ads.website, page=AD, visitor=answer["visitor"])
    assert _consent(Visit.objects.get()) == (True, False)

    # The visitor changes their mind in the site's banner.
    changed = {"ad_user_data": False, "ad_personalization": False}
    visit(client, ads.website, page=AD, visitor=answer["visitor"], consent=changed)
    assert _consent(Visit.objects.get()) == (False, False)


def test_a_visit_whose_site_never_said_is_unknown(client, ads):
    visit(client, ads.website, page=AD)
    assert _consent(Visit.objects.get()) == (None, None)


@pytest.mark.parametrize(
    "consent",
    [True, "granted", {"ad_user_data": "granted"}, {"ad_personalization": 1}, ["yes"]],
)
def test_consent_of_another_shape_is_refused_clearly(client, ads, consent):
    response = visit(client, ads.website, page=AD, consent=consent)
    assert response.status_code == 400
    assert response.json() == {
        "error": "consent must hold ad_user_data and ad_personalization as booleans"
    }
    assert not Visit.objects.exists()


def test_the_consent_given_on_the_site_is_what_google_ads_gets(client, twilio, ads, google_ads):
    ads.campaign.lead_value = 90
    ads.campaign.save()
    said = {"ad_user_data": True, "ad_personalization": False}
    answer = visit(client, ads.website, page=AD, consent=said).json()
    shown = answer["swaps"][0]["number"]

    response = incoming(twilio, "CA500", To=shown)
    assert _consent(CallAttribution.objects.get(call_id="CA500")) == (True, False)
    pressed(twilio, answered(twilio, response), "1")
    dial_done(twilio, response, "CA500", DialCallStatus="completed", DialCallDuration="80")
    status(twilio, "CA500")
    work()

    assert google_ads.problems == []
    [event] = google_ads.events
    assert event["transactionId"] == "CA500"
    assert event["adIdentifiers"] == {"gclid": "Cj0KCQ-from-ad"}
    assert event["consent"] == {
        "adUserData": "CONSENT_GRANTED",
        "adPersonalization": "CONSENT_DENIED",
    }
    assert (event["conversionValue"], event["currency"]) == (90.0, "USD")
