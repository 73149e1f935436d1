"""Webhooks skip the middleware meant for browsers (sessions, CSRF, users, messages, frames)."""

from __future__ import annotations

import pytest

from tests.whisper.steps import incoming


@pytest.mark.django_db
def test_a_webhook_is_answered_without_the_browser_middleware(twilio, number, client):
    client.cookies["sessionid"] = "some-browser-session"

    response = twilio.post("/twilio/voice/status/", {"CallSid": "CA100", "CallStatus": "ringing"})

    assert response.status_code == 204
    assert "X-Frame-Options" not in response  # clickjacking middleware: not run
    assert "Vary" not in response  # session middleware: not run
    assert not hasattr(response.wsgi_request, "user")  # authentication middleware: not run
    assert client.get("/admin/login/")["X-Frame-Options"] == "DENY"


@pytest.mark.django_db
def test_a_webhook_still_gets_the_security_middleware(twilio, number, settings):
    settings.SECURE_SSL_REDIRECT = True

    response = twilio.post("/twilio/voice/status/", {"CallSid": "CA100", "CallStatus": "ringing"})

    assert response.status_code == 301
    assert response["Location"].startswith("https://")


@pytest.mark.django_db
def test_an_unknown_webhook_path_is_not_found(twilio, number):
    assert twilio.post("/twilio/voice/nothing/", {"CallSid": "CA100"}).status_code == 404
    assert incoming(twilio).find("Dial") is not None
