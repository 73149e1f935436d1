"""The CRM lookup by caller ID: signed, within its time budget, and harmless when it fails."""

from __future__ import annotations

import logging
import time

import pytest

from tests.support.servers import free_port
from tests.whisper.steps import CALLER, TRACKING, answered, incoming
from tracking.models import Call, Campaign

WITH_CRM = (
    "Call from Spring Billboard, caller in Austin, Texas. The caller is Jane Doe: Gold customer, "
    "renewal due in May. Press 1 to accept, or any other key to decline."
)
WITHOUT = (
    "Call from Spring Billboard, caller in Austin, Texas. Press 1 to accept, or any other key "
    "to decline."
)


def _said(whisper) -> str:
    return whisper.find("Gather/Say").text


def _failures() -> int:
    return Campaign.objects.get().crm_failures


@pytest.mark.django_db
def test_the_crms_answer_is_stored_on_the_call_and_said_in_the_whisper(twilio, crm_number):
    response = incoming(twilio)

    call = Call.objects.get()
    assert (call.crm_name, call.crm_note) == ("Jane Doe", "Gold customer, renewal due in May")
    assert _said(answered(twilio, response)) == WITH_CRM
    assert _failures() == 0


@pytest.mark.django_db
def test_the_request_is_signed_and_names_the_caller(twilio, crm_number, fake_crm):
    incoming(twilio, sid="CA123")

    assert fake_crm.bad_signatures == 0
    (request,) = fake_crm.requests
    assert request["json"] == {
        "type": "caller.lookup",
        "caller": CALLER,
        "called": TRACKING,
        "campaign": "Spring Billboard",
        "call_sid": "CA123",
    }
    assert request["headers"]["webhook-id"] == "msg_CA123"


@pytest.mark.django_db
def test_a_slow_crm_is_not_waited_for(twilio, crm_number, fake_crm, settings, caplog):
    settings.CRM_LOOKUP_SECONDS = 0.3
    fake_crm.delay = 5

    started = time.monotonic()
    with caplog.at_level(logging.WARNING, logger="crm.lookup"):
        response = incoming(twilio)
    waited = time.monotonic() - started

    assert waited < 3, "the caller must not wait for the CRM's 5 s"
    assert response[0].tag == "Dial"
    assert Call.objects.get().crm_name == ""
    assert _said(answered(twilio, response)) == WITHOUT
    assert _failures() == 1
    assert "no answer within 0.3 s" in caplog.text


@pytest.mark.django_db
def test_an_answer_that_crawls_in_is_cut_off_at_the_budget(twilio, crm_number, fake_crm, settings):
    # Each byte comes within the socket's timeout, so only the overall budget stops it.
    settings.CRM_LOOKUP_SECONDS = 0.5
    fake_crm.drip = 0.2

    started = time.monotonic()
    response = incoming(twilio)

    assert time.monotonic() - started < 3, "the answer would take about 12 s"
    assert response[0].tag == "Dial"
    assert Call.objects.get().crm_name == ""
    assert _failures() == 1


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("answer", "reason"),
    [
        (b"<html>oops</html>", "not JSON"),
        (b'["Jane"]', "not a JSON object"),
        ({"name": 42}, "a int where text was expected"),
        (500, "HTTP 500"),
        (302, "HTTP 302"),
        (b"{" + b" " * 20000 + b"}", "too long"),
    ],
)
def test_a_wrong_answer_leaves_the_whisper_without_it(
    twilio, crm_number, fake_crm, caplog, answer, reason
):
    fake_crm.answer = answer

    with caplog.at_level(logging.WARNING, logger="crm.lookup"):
        response = incoming(twilio)

    assert Call.objects.get().crm_name == ""
    assert _said(answered(twilio, response)) == WITHOUT
    assert _failures() == 1
    assert reason in caplog.text


@pytest.mark.django_db
def test_a_crm_that_is_not_there_at_all_is_a_failure(twilio, number, caplog):
    campaign = number.campaign
    campaign.crm_url = f"http://127.0.0.1:{free_port()}/nobody-listens"
    campaign.crm_secret = "whsec_" + "A" * 43 + "="
    campaign.save()

    with caplog.at_level(logging.WARNING, logger="crm.lookup"):
        response = incoming(twilio)

    assert response[0].tag == "Dial"
    assert _failures() == 1
    assert "ConnectionError" in caplog.text


@pytest.mark.django_db
def test_an_unknown_caller_or_a_null_answer_is_no_failure(twilio, crm_number, fake_crm):
    fake_crm.answer = 404
    incoming(twilio, sid="CA1")
    fake_crm.answer = {"name": None}
    incoming(twilio, sid="CA2")

    assert list(Call.objects.values_list("crm_name", "crm_note")) == [("", ""), ("", "")]
    assert _failures() == 0


@pytest.mark.django_db
def test_an_anonymous_caller_is_not_looked_up(twilio, crm_number, fake_crm):
    incoming(twilio, From="anonymous")

    assert fake_crm.requests == []
    assert _failures() == 0


@pytest.mark.django_db
def test_control_characters_and_long_names_are_tidied(twilio, crm_number, fake_crm):
    fake_crm.answer = {"name": "Jane\x00\nDoe" + "x" * 500, "note": '=HYPERLINK("x")'}

    incoming(twilio)

    call = Call.objects.get()
    assert call.crm_name.startswith("Jane Doe") and len(call.crm_name) == 100
    assert call.crm_note == '=HYPERLINK("x")'


@pytest.mark.django_db
def test_a_campaign_without_crm_asks_nobody(twilio, number, fake_crm):
    incoming(twilio)

    assert fake_crm.requests == []
