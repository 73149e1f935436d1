"""Calls' website attribution (source, first-time caller, click ids) and the sources."""

from __future__ import annotations

from datetime import timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from attribution.models import CallAttribution, Source, SourceNumber, Website
from tests.api.conftest import NOW, make_call
from tests.api.test_properties import ALLOWED, FUZZ, JSON_VALUE
from tracking.models import TrackingNumber

pytestmark = pytest.mark.django_db


@pytest.fixture
def website(db) -> Website:
    return Website.objects.create(
        name="Plumber", domains="www.plumber.example", swap_targets="(512) 555-0100"
    )


@pytest.fixture
def ads(website, campaign) -> Source:
    return Source.objects.create(
        website=website, name="Google Ads", rule="click_id", click_id="google", campaign=campaign
    )


@pytest.fixture
def attributed(number, ads):
    """A first-time caller from a Google Ads click, a returning caller from the same source, and
    a call from a billboard (no attribution)."""
    first = make_call(number, started_at=NOW - timedelta(hours=1))
    CallAttribution.objects.create(
        call=first,
        kind="visit",
        started_at=first.started_at,
        website=ads.website,
        source=ads,
        first_time_caller=True,
        gclid="Cj0KCQ-test",
        utm_source="google",
        utm_term="emergency plumber",
        landing_page="https://www.plumber.example/emergency",
    )
    again = make_call(number, started_at=NOW - timedelta(hours=2))
    CallAttribution.objects.create(
        call=again, kind="source", started_at=again.started_at, source=ads, first_time_caller=False
    )
    billboard = make_call(number, started_at=NOW - timedelta(hours=3))
    return first, again, billboard


def test_calls_show_their_source_and_first_time_caller(api, ads, attributed):
    first, again, billboard = attributed

    rows = api.get("/api/v1/calls/").json()["results"]

    assert [row["call_sid"] for row in rows] == [c.call_sid for c in (first, again, billboard)]
    assert [(row["source"], row["first_time_caller"]) for row in rows] == [
        ({"id": ads.pk, "name": "Google Ads"}, True),
        ({"id": ads.pk, "name": "Google Ads"}, False),
        (None, None),
    ]


def test_a_call_has_its_attribution(api, ads, attributed):
    first, _again, billboard = attributed

    body = api.get(f"/api/v1/calls/{first.call_sid}/").json()

    attribution = body["attribution"]
    assert attribution["kind"] == "visit"
    assert attribution["source"] == {"id": ads.pk, "name": "Google Ads"}
    assert attribution["gclid"] == "Cj0KCQ-test"
    assert attribution["utm_term"] == "emergency plumber"
    assert attribution["landing_page"] == "https://www.plumber.example/emergency"
    assert api.get(f"/api/v1/calls/{billboard.call_sid}/").json()["attribution"] is None


def test_filter_by_source_and_first_time_caller(api, ads, attributed):
    first, again, _billboard = attributed

    def sids(query):
        response = api.get(f"/api/v1/calls/?{query}")
        assert response.status_code == 200, response.json()
        return [row["call_sid"] for row in response.json()["results"]]

    assert sids(f"source={ads.pk}") == [first.call_sid, again.call_sid]
    assert sids("first_time_caller=true") == [first.call_sid]
    assert sids("first_time_caller=false") == [again.call_sid]
    assert api.get("/api/v1/calls/?first_time_caller=maybe").json().keys() == {"first_time_caller"}
    assert api.get("/api/v1/calls/?source=99999").status_code == 400


def test_sources_are_read_and_written_through_the_admins_form(api, ads, number):
    spare = TrackingNumber.objects.create(phone_number="+15125550188", campaign=ads.campaign)

    listed = api.get("/api/v1/sources/").json()
    changed = api.patch(
        f"/api/v1/sources/{ads.pk}/",
        {"name": "Google Ads search", "numbers": [{"number": spare.pk, "role": "number"}]},
        format="json",
    )

    assert [row["name"] for row in listed] == ["Google Ads"]
    assert changed.status_code == 200, changed.json()
    ads.refresh_from_db()
    assert ads.name == "Google Ads search"
    assert list(SourceNumber.objects.values_list("number", "role")) == [(spare.pk, "number")]


def test_a_source_refuses_what_the_admin_refuses(api, ads, number):
    one, two = (
        TrackingNumber.objects.create(phone_number=f"+1512555018{n}", campaign=ads.campaign)
        for n in (7, 8)
    )

    response = api.patch(
        f"/api/v1/sources/{ads.pk}/",
        {
            "rule": "utm",
            "numbers": [{"number": one.pk, "role": "number"}, {"number": two.pk, "role": "pool"}],
        },
        format="json",
    )

    assert response.status_code == 400
    body = response.json()
    assert body["utm_source"] == ["Enter at least one UTM value to match."]
    assert body["numbers"] == [
        "A source shows either one number to every visitor or a pool, not both."
    ]
    ads.refresh_from_db()
    assert ads.rule == "click_id"
    assert not SourceNumber.objects.exists()


def test_sources_need_their_permissions(nobody, viewer, ads):
    assert nobody.get("/api/v1/sources/").status_code == 403
    assert viewer.get("/api/v1/sources/").status_code == 403


SOURCE_BODY = st.dictionaries(
    st.sampled_from(
        ["website", "position", "name", "rule", "utm_source", "click_id", "campaign", "numbers"]
    ),
    st.one_of(
        JSON_VALUE,
        st.lists(
            st.dictionaries(st.sampled_from(["id", "number", "role"]), JSON_VALUE, max_size=3),
            max_size=3,
        ),
    ),
    max_size=5,
)


@FUZZ
@given(body=SOURCE_BODY)
def test_source_writes_never_fail_or_half_save(api, ads, number, body):
    before = list(Source.objects.order_by("pk").values()), list(SourceNumber.objects.values())

    created = api.post("/api/v1/sources/", body, format="json")
    changed = api.patch(f"/api/v1/sources/{ads.pk}/", body, format="json")

    assert created.status_code in ALLOWED, created.content
    assert changed.status_code in ALLOWED, changed.content
    if created.status_code == 400 and changed.status_code == 400:
        after = list(Source.objects.order_by("pk").values()), list(SourceNumber.objects.values())
        assert after == before
