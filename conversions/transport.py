"""Google's two endpoints over HTTPS: the Data Manager API (`events:ingest`, OAuth with a
service account through google-auth) and GA4's Measurement Protocol. Each request's answer
comes back as an `Answer`; nothing here raises for what Google or the network does."""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from datetime import timedelta
from urllib.parse import quote

import requests
from django.conf import settings
from google.auth.exceptions import GoogleAuthError
from google.auth.transport.requests import AuthorizedSession
from google.oauth2 import service_account

from conversions.config import GA4, SCOPE, GoogleAds
from integrations.delivery import retry_after

EXCERPT_CHARS = 1000
_EVENT_FIELD = re.compile(r"events\[(\d+)\]")


@dataclass
class Answer:
    status: int | None  # None: no answer (network, or no token could be had)
    body: dict = field(default_factory=dict)
    text: str = ""
    retry_after: timedelta | None = None

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300

    @property
    def message(self) -> str:
        """Google's error message, else what came back, for the upload's last error."""
        error = self.body.get("error") if isinstance(self.body, dict) else None
        if isinstance(error, dict) and error.get("message"):
            code = f"{self.status} {error['status']}" if error.get("status") else f"{self.status}"
            return f"{code}: {error['message']}"[:EXCERPT_CHARS]
        if self.status is None:
            return self.text[:EXCERPT_CHARS]
        return (f"HTTP {self.status}: {self.text}" if self.text else f"HTTP {self.status}")[
            :EXCERPT_CHARS
        ]


@dataclass(frozen=True)
class Rejection:
    """A 400 from the Data Manager API. One bad event rejects the whole request (Google's
    fast-fail model); its BadRequest details name the fields at fault, events by index."""

    events: dict[int, str]
    other: list[str]
    message: str


def rejection(answer: Answer) -> Rejection:
    error = answer.body.get("error") if isinstance(answer.body, dict) else None
    error = error if isinstance(error, dict) else {}
    events: dict[int, str] = {}
    other: list[str] = []
    details = error.get("details")
    for detail in details if isinstance(details, list) else []:
        violations = detail.get("fieldViolations") if isinstance(detail, dict) else None
        for violation in violations if isinstance(violations, list) else []:
            if not isinstance(violation, dict):
                continue
            name = str(violation.get("field", ""))
            why = f"{name}: {violation.get('description', '')}".strip(": ")
            found = _EVENT_FIELD.match(name)
            if found:
                index = int(found.group(1))
                events[index] = f"{events[index]}; {why}" if index in events else why
            elif name:
                other.append(why)
    return Rejection(events, other, answer.message)


# A session per service account key, kept by the process: its access token is reused until
# it expires (google-auth refreshes it then, and once on a 401).
_sessions: dict[str, AuthorizedSession] = {}


def _session(ads: GoogleAds) -> AuthorizedSession:
    key = hashlib.sha256(json.dumps(ads.service_account, sort_keys=True).encode()).hexdigest()
    session = _sessions.get(key)
    if session is None:
        credentials = service_account.Credentials.from_service_account_info(
            ads.service_account, scopes=[SCOPE]
        )
        session = AuthorizedSession(
            credentials,
            # An expired or revoked token: a new one, and the request once more.
            refresh_status_codes=(401,),
            max_refresh_attempts=1,
            refresh_timeout=settings.CONVERSIONS_TIMEOUT,
        )
        if len(_sessions) > 4:
            _sessions.clear()
        _sessions[key] = session
    return session


def ingest(ads: GoogleAds, body: dict) -> Answer:
    """POST one `events:ingest` request."""
    try:
        response = _session(ads).post(
            f"{ads.url}/v1/events:ingest", json=body, timeout=settings.CONVERSIONS_TIMEOUT
        )
    except (requests.RequestException, GoogleAuthError, ValueError) as error:
        return Answer(None, text=f"{type(error).__name__}: {error}")
    return _answer(response)


def collect(ga4: GA4, body: dict) -> Answer:
    """POST one Measurement Protocol request. The API secret travels in the URL, so it is
    taken out of any error kept."""
    url = f"{ga4.url}/mp/collect"
    params = {"measurement_id": ga4.measurement_id, "api_secret": ga4.api_secret}
    try:
        response = requests.post(
            url,
            params=params,
            json=body,
            timeout=settings.CONVERSIONS_TIMEOUT,
            allow_redirects=False,
        )
    except requests.RequestException as error:
        text = f"{type(error).__name__}: {error}"
        for secret in (ga4.api_secret, quote(ga4.api_secret, safe="")):
            text = text.replace(secret, "…")
        return Answer(None, text=text)
    return _answer(response)


def _answer(response: requests.Response) -> Answer:
    text = response.text[: 4 * EXCERPT_CHARS]
    try:
        body = response.json() if text.strip() else {}
    except ValueError:
        body = {}
    return Answer(
        response.status_code,
        body=body if isinstance(body, dict) else {},
        text=text[:EXCERPT_CHARS],
        retry_after=retry_after(response.headers.get("Retry-After", "")),
    )
