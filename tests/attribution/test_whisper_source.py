"""The whisper can say where a website's call came from: {source} and {keyword}."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from attribution import api
from tests.attribution.client import visit
from tests.attribution.test_visits_endpoint import AD
from tests.whisper.steps import answered, incoming
from tracking.announcement import CallerPlace, announcement


def _whisper(response) -> str:
    return response.find("Gather/Say").text


@pytest.fixture
def spoken(ads_campaign):
    ads_campaign.whisper_template = "Call from {source}, {keyword}."
    ads_campaign.save()
    return ads_campaign


def test_it_says_the_source_and_keyword_of_the_visit(client, twilio, ads, spoken, monkeypatch):
    monkeypatch.setattr(api, "clock", lambda: timezone.now() - timedelta(minutes=1))
    number = visit(client, ads.website, page=AD).json()["swaps"][0]["number"]
    whisper = answered(twilio, incoming(twilio, sid="CA1", To=number))
    assert _whisper(whisper) == (
        "Call from Google Ads, plumber near me. Press 1 to accept, or any other key to decline."
    )


def test_without_a_visit_it_falls_back_to_the_campaign_and_no_keyword(twilio, ads, spoken):
    whisper = answered(twilio, incoming(twilio, sid="CA1", To="+15125550201"))
    assert (
        _whisper(whisper) == "Call from Google Ads. Press 1 to accept, or any other key to decline."
    )


def test_a_source_number_says_its_source(twilio, organic, spoken):
    spoken.name = "Search"
    spoken.save()
    whisper = answered(twilio, incoming(twilio, sid="CA1", To="+15125550300"))
    assert _whisper(whisper).startswith("Call from Google organic. Press 1")


def test_an_unfilled_ad_template_is_no_keyword():
    words = announcement(
        campaign="Ads",
        place=CallerPlace(),
        announce_location=False,
        template="{source} call: {keyword}",
        accept_digit="1",
        source="Google Ads",
        keyword="",
    )
    assert words == "Google Ads call. Press 1 to accept, or any other key to decline."


def test_the_placeholders_are_accepted_by_the_campaign_form(ads_campaign):
    ads_campaign.whisper_template = "{source} {keyword} {nonsense}"
    with pytest.raises(ValidationError) as error:
        ads_campaign.full_clean()
    message = error.value.message_dict["whisper_template"][0]
    assert message.startswith("Unknown placeholder {nonsense}.")
    assert "{source}" in message and "{keyword}" in message


def test_saying_the_source_costs_the_whisper_one_query(
    twilio, ads, spoken, django_assert_max_num_queries
):
    from django.db import connection

    response = incoming(twilio, sid="CA1", To="+15125550201")
    # The whisper's own budget (tests/whisper/test_screen.py), plus reading the attribution.
    budget = (4 if connection.vendor == "postgresql" else 5) + 1
    with django_assert_max_num_queries(budget):
        answered(twilio, response)
