from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from tracking.announcement import CallerPlace, announcement
from tracking.models import Campaign

PROMPT = "Press 1 to accept, or any other key to decline."


AUSTIN = CallerPlace("Austin", "TX", "US")


def _say(template="", place=AUSTIN, announce=True, digit="1"):
    return announcement(
        campaign="Spring Billboard",
        place=place,
        announce_location=announce,
        template=template,
        accept_digit=digit,
    )


def test_it_names_the_campaign_and_the_place():
    assert _say() == f"Call from Spring Billboard, caller in Austin, Texas. {PROMPT}"


def test_it_reads_canadian_provinces_and_keeps_unknown_regions_as_given():
    assert "caller in Toronto, Ontario." in _say(place=CallerPlace("TORONTO", "ON", "CA"))
    assert "caller in Lyon, ARA." in _say(place=CallerPlace("Lyon", "ARA", "FR"))


def test_it_says_nothing_of_the_place_when_told_not_to():
    assert _say(announce=False) == f"Call from Spring Billboard. {PROMPT}"


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        ("New lead: {campaign}, from {city}, {state}", "New lead: Spring Billboard."),
        ("{campaign} ({location})", "Spring Billboard."),
        ("{campaign} - {city} {state} {country}", "Spring Billboard -."),
    ],
)
def test_a_template_without_a_place_leaves_no_empty_commas(template, expected):
    assert _say(template, place=CallerPlace()) == f"{expected} {PROMPT}"


@pytest.mark.parametrize(
    ("template", "place", "expected"),
    [
        # An unknown city: the clause that needs it goes, the sentence stays whole.
        ("Call from {campaign}, caller from {city}.", CallerPlace(), "Call from Spring Billboard."),
        # The state stands in for a city Twilio does not know…
        (
            "Call from {campaign}, caller from {city}.",
            CallerPlace("", "TX", "US"),
            "Call from Spring Billboard, caller from Texas.",
        ),
        # …unless the template says the state too.
        (
            "Call from {campaign}, caller in {city}, {state}.",
            CallerPlace("", "TX", "US"),
            "Call from Spring Billboard, caller in Texas.",
        ),
        ("{campaign} call from {city}", CallerPlace(), "Spring Billboard call."),
        ("{city}, {state}", CallerPlace(), "Call from Spring Billboard."),
    ],
)
def test_a_place_it_does_not_know_never_breaks_the_sentence(template, place, expected):
    assert _say(template, place=place) == f"{expected} {PROMPT}"


def test_a_template_gets_every_placeholder():
    said = _say("{campaign}|{city}|{state}|{country}|{location}")
    assert said == f"Spring Billboard|Austin|Texas|US|Austin, Texas. {PROMPT}"


@pytest.mark.parametrize(("digit", "spoken"), [("*", "star"), ("#", "pound"), ("0", "0")])
def test_the_accept_key_is_spoken(digit, spoken):
    assert _say(digit=digit).endswith(f"Press {spoken} to accept, or any other key to decline.")


def test_unknown_placeholders_are_refused_when_the_campaign_is_saved():
    campaign = Campaign(name="x", whisper_template="Hi {caller.name}")
    with pytest.raises(ValidationError) as error:
        campaign.full_clean()
    assert "whisper_template" in error.value.message_dict


def test_the_campaign_builds_the_same_sentence():
    campaign = Campaign(name="Spring Billboard")
    assert campaign.whisper_for(CallerPlace("Austin", "TX", "US")) == _say()
