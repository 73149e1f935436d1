"""Thousands of random, missing, oversized and hostile parameter sets against every webhook.

Signed, each gets valid TwiML (or a 204); unsigned or wrongly signed, a 403. Never a 500.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tracking.models import Call

WEBHOOKS = [
    "/twilio/voice/",
    "/twilio/voice/fallback/",
    "/twilio/voice/whisper/",
    "/twilio/voice/whisper/decide/",
    "/twilio/voice/dial-done/",
    "/twilio/voice/status/",
    "/twilio/voice/menu/",
    "/twilio/voice/agent/",
]
TWILIO_NAMES = [
    "CallSid",
    "ParentCallSid",
    "AccountSid",
    "From",
    "To",
    "Caller",
    "Called",
    "CallStatus",
    "Direction",
    "FromCity",
    "FromState",
    "FromZip",
    "FromCountry",
    "CallerName",
    "Digits",
    "DialCallStatus",
    "DialCallSid",
    "DialCallDuration",
    "DialBridged",
    "CallDuration",
    "Timestamp",
    "SequenceNumber",
    "ErrorCode",
    "CallerCity",
    "SpeechResult",
    "Confidence",
]
PLAUSIBLE = st.sampled_from(
    [
        "",
        "CA100",
        "+15125550100",
        "+15125550199",
        "anonymous",
        "completed",
        "no-answer",
        "busy",
        "canceled",
        "true",
        "false",
        "1",
        "7",
        "#",
        "42",
        "-1",
        "AUSTIN",
        "TX",
        "Tue, 24 Nov 2026 10:00:00 +0000",
        "null",
        "<Hangup/>",
    ]
)
VALUES = st.one_of(PLAUSIBLE, st.text(max_size=50), st.text(min_size=500, max_size=3000))
PARAMS = st.dictionaries(
    st.one_of(st.sampled_from(TWILIO_NAMES), st.text(min_size=1, max_size=20)), VALUES, max_size=14
)
QUERY = st.fixed_dictionaries(
    {}, optional={"call": VALUES, "to": VALUES, "try": VALUES, "opt": VALUES}
)

HYPOTHESIS = settings(
    max_examples=200,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def _path(webhook: str, query: dict[str, str]) -> str:
    from urllib.parse import urlencode

    return f"{webhook}?{urlencode(query)}" if query else webhook


@pytest.mark.django_db
@pytest.mark.parametrize("webhook", WEBHOOKS)
@HYPOTHESIS
@given(params=PARAMS, query=QUERY)
def test_any_signed_request_gets_twiml_or_no_content(twilio, number, webhook, params, query):
    response = twilio.post(_path(webhook, query), params)

    assert response.status_code in (200, 204), response.content[:300]
    if response.status_code == 200:
        assert response["Content-Type"].startswith("text/xml")
        assert ET.fromstring(response.content).tag == "Response"


@pytest.mark.django_db
@pytest.mark.parametrize("webhook", WEBHOOKS)
@HYPOTHESIS
@given(params=PARAMS, query=QUERY, signature=st.text(max_size=40))
def test_any_unsigned_request_is_refused_and_writes_nothing(
    twilio, number, webhook, params, query, signature
):
    response = twilio.post(_path(webhook, query), params, signature=signature)

    assert response.status_code == 403
    assert Call.objects.count() == 0


@pytest.mark.django_db
@HYPOTHESIS
@given(params=PARAMS, query=QUERY)
def test_any_signed_menu_answer_gets_twiml(twilio, menu_number, params, query):
    query = {"call": "CA100", "to": "+15125550100", **query}
    response = twilio.post(_path("/twilio/voice/menu/", query), params)

    assert response.status_code == 200, response.content[:300]
    assert ET.fromstring(response.content).tag == "Response"
