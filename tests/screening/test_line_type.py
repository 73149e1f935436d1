"""Twilio Lookup's line type, asked once per number (it is charged), challenges non-fixed VoIP."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from tests.whisper.steps import CALLER, incoming
from tracking.models import Call, LineTypeLookup


@pytest.fixture
def voip_screened(number, fake_server, settings):
    settings.PUBLIC_BASE_URL = ""  # the webhooks are signed for the test client's host
    number.campaign.challenge_voip = True
    number.campaign.save()
    return number


@pytest.mark.django_db
def test_a_non_fixed_voip_caller_is_challenged_and_looked_up_once(twilio, voip_screened, fake):
    fake.line_types[CALLER] = "nonFixedVoip"

    first = incoming(twilio, sid="CA1")
    second = incoming(twilio, sid="CA2")

    assert first.find("Gather") is not None and second.find("Gather") is not None
    lookups = fake.received("GET", "/v2/PhoneNumbers/")
    assert len(lookups) == 1
    assert lookups[0].query["Fields"] == "line_type_intelligence"
    call = Call.objects.get(call_sid="CA1")
    assert (call.line_type, call.screening_reason) == ("nonFixedVoip", "non-fixed VoIP line")


@pytest.mark.django_db
def test_a_mobile_caller_rings_and_its_line_type_is_kept(twilio, voip_screened, fake):
    fake.line_types[CALLER] = "mobile"

    assert [el.tag for el in incoming(twilio)] == ["Dial"]
    assert Call.objects.get().line_type == "mobile"
    assert LineTypeLookup.objects.get().line_type == "mobile"


@pytest.mark.django_db
def test_a_month_old_look_up_is_asked_again(twilio, voip_screened, fake):
    LineTypeLookup.objects.create(
        phone_number=CALLER, line_type="mobile", looked_up_at=timezone.now() - timedelta(days=31)
    )
    fake.line_types[CALLER] = "nonFixedVoip"

    assert incoming(twilio).find("Gather") is not None
    assert len(fake.received("GET", "/v2/PhoneNumbers/")) == 1


@pytest.mark.django_db
def test_when_twilio_cannot_answer_the_call_rings(twilio, voip_screened, fake_server):
    fake_server.stop()

    assert [el.tag for el in incoming(twilio)] == ["Dial"]
    assert Call.objects.get().line_type == ""


@pytest.mark.django_db
def test_without_the_rule_nothing_is_looked_up(twilio, number, fake, settings):
    settings.PUBLIC_BASE_URL = ""
    fake.line_types[CALLER] = "nonFixedVoip"

    assert [el.tag for el in incoming(twilio)] == ["Dial"]
    assert fake.received("GET", "/v2/") == []
