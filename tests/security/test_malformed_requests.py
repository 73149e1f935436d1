"""Malformed requests, from anyone, get a 400 or a 403 and one log line; never a 500."""

from __future__ import annotations

import io
import logging

import pytest

from tests.twilio_signing import WEBHOOKS, TwilioPoster

PARAMS = {"CallSid": "CA100", "From": "+13125550123", "To": "+15125550100"}

BAD_HOSTS = ["127.0.0.1:99999", "127.0.0.1:-1", "127.0.0.1:abc", "[::1", "bad host", "é.example"]


@pytest.mark.django_db
@pytest.mark.parametrize("path", WEBHOOKS)
@pytest.mark.parametrize("host", BAD_HOSTS)
def test_a_malformed_host_is_refused_not_a_server_error(client, number, path, host):
    response = TwilioPoster(client).post(path, PARAMS, HTTP_HOST=host)

    assert response.status_code in (400, 403)


@pytest.mark.django_db
@pytest.mark.parametrize("path", WEBHOOKS)
@pytest.mark.parametrize("host", BAD_HOSTS)
def test_a_malformed_forwarded_host_is_refused_not_a_server_error(
    client, number, settings, path, host
):
    settings.USE_X_FORWARDED_HOST = True
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

    response = TwilioPoster(client).post(
        path, PARAMS, HTTP_X_FORWARDED_HOST=host, HTTP_X_FORWARDED_PROTO="https, ftp"
    )

    assert response.status_code in (400, 403)


@pytest.mark.django_db
def test_a_signature_for_the_default_port_still_counts_once_or_twice(client, number, settings):
    settings.ALLOWED_HOSTS = ["calls.example.com"]
    # Twilio may sign https://host/path or https://host:443/path for the same request.
    for base in ["https://calls.example.com", "https://calls.example.com:443"]:
        twilio = TwilioPoster(client, base=base)
        response = twilio.post(
            "/twilio/voice/status/",
            {**PARAMS, "CallStatus": "ringing"},
            HTTP_HOST="calls.example.com",
            secure=True,
        )
        assert response.status_code == 204, base


@pytest.fixture
def server_log():
    """What the app's own log handler writes (the one settings.LOGGING configures)."""
    [handler] = [h for h in logging.getLogger().handlers if type(h) is logging.StreamHandler]
    stream = io.StringIO()
    previous = handler.setStream(stream)
    yield stream
    handler.setStream(previous)


@pytest.mark.django_db
def test_a_bad_request_logs_one_line_without_a_traceback(client, server_log):
    response = client.get("/admin/login/", HTTP_HOST="evil.example.com")

    assert response.status_code == 400
    lines = server_log.getvalue().splitlines()
    assert len(lines) == 1, lines
    assert "Invalid HTTP_HOST header" in lines[0]
