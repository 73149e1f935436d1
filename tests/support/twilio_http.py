"""Twilio's side of a call over real HTTP: signed form posts to a running server."""

from __future__ import annotations

import urllib.error
import urllib.request
import xml.etree.ElementTree as ET
from urllib.parse import urlencode, urlsplit

from twilio.request_validator import RequestValidator


class HttpTwilio:
    def __init__(self, base_url: str, token: str) -> None:
        self.base_url = base_url.rstrip("/")
        self.validator = RequestValidator(token)

    def post(self, url: str, params: dict[str, str], timeout: float = 20) -> tuple[int, bytes]:
        """POST to a path or an absolute URL (from TwiML), signed for the URL requested."""
        if url.startswith("/"):
            url = self.base_url + url
        parts = urlsplit(url)
        url = self.base_url + parts.path + (f"?{parts.query}" if parts.query else "")
        request = urllib.request.Request(
            url,
            data=urlencode(params).encode(),
            headers={"X-Twilio-Signature": self.validator.compute_signature(url, params)},
        )
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                return response.status, response.read()
        except urllib.error.HTTPError as error:
            return error.code, error.read()

    def twiml(self, url: str, params: dict[str, str]) -> ET.Element:
        status, body = self.post(url, params)
        assert status == 200, (status, body[:500])
        return ET.fromstring(body)
