"""Webhook requests signed exactly as Twilio signs them, and their TwiML read back as XML."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from urllib.parse import urlencode, urlsplit

from django.test import Client
from twilio.request_validator import RequestValidator

AUTH_TOKEN = "test-auth-token-0123456789abcdef"
ACCOUNT_SID = "AC" + "0" * 32


# Every webhook Twilio may call, as it calls them (the parent CallSid in the query where ours
# puts it), for the tests every webhook must pass.
WEBHOOKS = [
    "/twilio/voice/",
    "/twilio/voice/fallback/",
    "/twilio/voice/challenge/?call=CA100&to=%2B15125550100&t=4.1700000000:abc:def",
    "/twilio/voice/whisper/?call=CA100&to=%2B15125550100&leg=0",
    "/twilio/voice/whisper/decide/?call=CA100&to=%2B15125550100&leg=0",
    "/twilio/voice/leg-status/?call=CA100&to=%2B15125550100&leg=0",
    "/twilio/voice/dial-done/?call=CA100&to=%2B15125550100&legs=0&of=1",
    "/twilio/voice/voicemail/?call=CA100&to=%2B15125550100",
    "/twilio/voice/recording/?call=CA100&to=%2B15125550100&kind=voicemail",
    "/twilio/voice/transcription/?call=CA100&to=%2B15125550100",
    "/twilio/voice/status/",
    "/twilio/voice/menu/?call=CA100&to=%2B15125550100&try=1",
    "/twilio/voice/agent/",
]


class TwilioPoster:
    """Posts to our webhooks as Twilio would, with a valid (or a chosen) X-Twilio-Signature."""

    def __init__(self, client: Client, *, token: str = AUTH_TOKEN, base: str = "http://testserver"):
        self.client = client
        self.token = token
        self.base = base

    def signature(self, url: str, params: dict[str, str]) -> str:
        return RequestValidator(self.token).compute_signature(url, params)

    def post(self, path: str, params: dict[str, str], *, signature: str | None = None, **extra):
        """POST `params` to `path` (which may carry a query string), signed for `self.base`."""
        params = {"AccountSid": ACCOUNT_SID, **params}
        if signature is None:
            signature = self.signature(self.base + path, params)
        return self.client.post(
            path,
            data=urlencode(params),
            content_type="application/x-www-form-urlencoded",
            headers={"X-Twilio-Signature": signature},
            **extra,
        )


def twiml(response) -> ET.Element:
    """The <Response> element of a TwiML answer (which must be XML)."""
    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith("text/xml")
    root = ET.fromstring(response.content)
    assert root.tag == "Response"
    return root


def path_of(url: str) -> str:
    """The path and query of an absolute URL found in TwiML, to post to it next."""
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}" if parts.query else parts.path
