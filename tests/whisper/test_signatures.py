"""Every webhook refuses requests Twilio did not sign, before any database work."""

from __future__ import annotations

import pytest
from django.test import Client

from tests.twilio_signing import WEBHOOKS, TwilioPoster
from tracking.models import Call

PARAMS = {
    "CallSid": "CA100",
    "From": "+13125550123",
    "To": "+15125550100",
    "Digits": "1",
    "DialCallStatus": "completed",
    "CallStatus": "completed",
}


def _snapshot():
    return list(Call.objects.values())


@pytest.fixture
def call_in_progress(twilio, number):
    twilio.post(
        "/twilio/voice/", {"CallSid": "CA100", "From": "+13125550123", "To": "+15125550100"}
    )
    return _snapshot()


@pytest.mark.django_db
@pytest.mark.parametrize("path", WEBHOOKS)
@pytest.mark.parametrize(
    "signature",
    ["", "bm90IGEgc2lnbmF0dXJl", "RSOYDt4T1cUTdK1PDd93/VVr8B8="],
    ids=["missing", "junk", "other"],
)
def test_a_missing_or_wrong_signature_is_refused_and_writes_nothing(
    twilio, call_in_progress, path, signature
):
    response = twilio.post(path, {**PARAMS, "CallSid": "CA100"}, signature=signature)

    assert response.status_code == 403
    assert _snapshot() == call_in_progress


@pytest.mark.django_db
@pytest.mark.parametrize("path", WEBHOOKS)
def test_a_signature_made_with_another_token_is_refused(client, call_in_progress, path):
    forger = TwilioPoster(client, token="not-our-token")

    assert forger.post(path, PARAMS).status_code == 403
    assert _snapshot() == call_in_progress


@pytest.mark.django_db
@pytest.mark.parametrize("path", WEBHOOKS)
def test_a_signed_request_with_changed_parameters_is_refused(twilio, call_in_progress, path):
    good = twilio.signature("http://testserver" + path, {"AccountSid": "AC" + "0" * 32, **PARAMS})

    response = twilio.post(path, {**PARAMS, "Digits": "9"}, signature=good)

    assert response.status_code == 403


@pytest.mark.django_db
@pytest.mark.parametrize("path", WEBHOOKS)
def test_a_signature_for_another_query_string_is_refused(twilio, call_in_progress, path):
    other = path.replace("CA100", "CA999") if "?" in path else path + "?call=CA999"
    good = twilio.signature("http://testserver" + other, {"AccountSid": "AC" + "0" * 32, **PARAMS})

    assert twilio.post(path, PARAMS, signature=good).status_code == 403


@pytest.mark.django_db
@pytest.mark.parametrize("path", WEBHOOKS)
def test_webhooks_answer_only_post(client, path):
    assert client.get(path).status_code == 405


@pytest.mark.django_db
def test_without_an_auth_token_every_webhook_is_refused(twilio, number, settings):
    settings.TWILIO_AUTH_TOKEN = ""

    response = twilio.post("/twilio/voice/", PARAMS)

    assert response.status_code == 403
    assert Call.objects.count() == 0


@pytest.mark.django_db
def test_the_public_base_url_is_what_signatures_are_checked_against(client, number, settings):
    settings.PUBLIC_BASE_URL = "https://calls.example.com"

    as_seen_by_twilio = TwilioPoster(client, base="https://calls.example.com")
    as_seen_by_app = TwilioPoster(client, base="http://testserver")

    assert as_seen_by_app.post("/twilio/voice/", PARAMS).status_code == 403
    assert as_seen_by_twilio.post("/twilio/voice/", PARAMS).status_code == 200


@pytest.mark.django_db
def test_behind_a_trusted_proxy_the_forwarded_scheme_and_host_are_used(client, number, settings):
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    settings.USE_X_FORWARDED_HOST = True
    settings.ALLOWED_HOSTS = ["calls.example.com"]
    twilio = TwilioPoster(client, base="https://calls.example.com")

    response = client.post(
        "/twilio/voice/",
        data=PARAMS,
        headers={
            "X-Twilio-Signature": twilio.signature(
                "https://calls.example.com/twilio/voice/", PARAMS
            ),
            "X-Forwarded-Proto": "https",
            "X-Forwarded-Host": "calls.example.com",
        },
    )

    assert response.status_code == 200


@pytest.mark.django_db
def test_validation_is_off_only_when_explicitly_turned_off(client, number, settings):
    assert client.post("/twilio/voice/", PARAMS).status_code == 403

    settings.TWILIO_VALIDATE_SIGNATURES = False

    assert client.post("/twilio/voice/", PARAMS).status_code == 200


@pytest.mark.django_db
def test_webhooks_are_exempt_from_csrf_and_the_admin_is_not(number):
    strict = Client(enforce_csrf_checks=True)

    assert TwilioPoster(strict).post("/twilio/voice/", PARAMS).status_code == 200
    assert strict.post("/admin/login/", {"username": "a", "password": "b"}).status_code == 403
