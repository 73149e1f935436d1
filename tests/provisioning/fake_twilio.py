"""A small Twilio REST API on loopback: the endpoints the app uses, answered as Twilio answers.

It keeps the numbers for sale, the numbers the account owns and the recordings' audio, records
every request it gets, and can be told to fail the next matching request (or to stop, so
connections are refused).
"""

from __future__ import annotations

import base64
import json
import re
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, unquote, urlsplit

API = "/2010-04-01/Accounts/(?P<account>AC\\w+)"
ROUTES = [
    (
        "GET",
        re.compile(
            API + r"/AvailablePhoneNumbers/(?P<country>\w+)/(?P<kind>Local|TollFree)\.json$"
        ),
        "search",
    ),
    ("GET", re.compile(API + r"/IncomingPhoneNumbers\.json$"), "list"),
    ("POST", re.compile(API + r"/IncomingPhoneNumbers\.json$"), "create"),
    ("GET", re.compile(API + r"/IncomingPhoneNumbers/(?P<sid>PN\w+)\.json$"), "fetch"),
    ("POST", re.compile(API + r"/IncomingPhoneNumbers/(?P<sid>PN\w+)\.json$"), "update"),
    ("DELETE", re.compile(API + r"/IncomingPhoneNumbers/(?P<sid>PN\w+)\.json$"), "delete"),
    ("GET", re.compile(API + r"/Recordings/(?P<sid>RE\w+)\.mp3$"), "media"),
    ("DELETE", re.compile(API + r"/Recordings/(?P<sid>RE\w+)\.json$"), "delete_recording"),
    (
        "GET",
        re.compile(API + r"/Recordings/(?P<sid>RE\w+)/Transcriptions\.json$"),
        "transcriptions",
    ),
    ("DELETE", re.compile(API + r"/Transcriptions/(?P<sid>TR\w+)\.json$"), "delete_transcription"),
    ("GET", re.compile(r"^/v1/PhoneNumbers/Countries/(?P<country>\w+)$"), "prices"),
    ("POST", re.compile(API + r"/Applications/(?P<sid>AP\w+)\.json$"), "update_app"),
    # Lookup v2 (lookups.twilio.com): no account in the path.
    ("GET", re.compile(r"^/v2/PhoneNumbers/(?P<number>[^/]+)$"), "lookup"),
]
BYTE_RANGE = re.compile(r"bytes=(?P<first>\d*)-(?P<last>\d*)$")

# Form fields of an IncomingPhoneNumber and their JSON names.
SETTABLE = {
    "VoiceUrl": "voice_url",
    "VoiceMethod": "voice_method",
    "StatusCallback": "status_callback",
    "StatusCallbackMethod": "status_callback_method",
    "VoiceFallbackUrl": "voice_fallback_url",
    "VoiceFallbackMethod": "voice_fallback_method",
    "VoiceApplicationSid": "voice_application_sid",
    "FriendlyName": "friendly_name",
}


@dataclass
class Received:
    method: str
    path: str
    query: dict[str, str]
    form: dict[str, str]
    auth: tuple[str, str] | None
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class Failure:
    status: int
    code: int
    message: str
    method: str | None
    path_contains: str | None


@dataclass
class Media:
    """A non-JSON answer: a recording's bytes."""

    content: bytes
    content_type: str
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class FakeTwilio:
    account_sid: str
    auth_token: str
    for_sale: dict[tuple[str, str], list[dict]] = field(default_factory=dict)
    owned: dict[str, dict] = field(default_factory=dict)
    recordings: dict[str, tuple[bytes, str]] = field(default_factory=dict)
    # Transcription SID → (its recording's SID, its text).
    transcriptions: dict[str, tuple[str, str]] = field(default_factory=dict)
    applications: dict[str, dict] = field(default_factory=dict)
    requests: list[Received] = field(default_factory=list)
    failures: list[Failure] = field(default_factory=list)
    next_sids: list[str] = field(default_factory=list)
    # Lookup v2: the line type of each number it knows.
    line_types: dict[str, str] = field(default_factory=dict)
    _counter: int = 0

    # Set-up helpers for tests.

    def offer(
        self, phone_number: str, *, country: str = "US", kind: str = "Local", **extra
    ) -> None:
        self.for_sale.setdefault((country, kind), []).append(
            {
                "friendly_name": phone_number,
                "phone_number": phone_number,
                "locality": extra.get("locality", "Austin"),
                "region": extra.get("region", "TX"),
                "iso_country": country,
                "postal_code": None,
                "capabilities": {"voice": True, "SMS": True, "MMS": False},
                "beta": False,
            }
        )

    def own(self, phone_number: str, **values) -> dict:
        """A number already on the account, e.g. bought in Twilio's console."""
        record = self._record(phone_number)
        record.update(values)
        self.owned[record["sid"]] = record
        return record

    def record(self, sid: str, audio: bytes, content_type: str = "audio/mpeg") -> None:
        """A recording on the account, served as Twilio serves `<sid>.mp3`."""
        self.recordings[sid] = (audio, content_type)

    def transcribe(self, recording_sid: str, text: str) -> str:
        """A transcription of a recording on the account; its SID."""
        self._counter += 1
        sid = f"TR{self._counter:032x}"
        self.transcriptions[sid] = (recording_sid, text)
        return sid

    def fail_next(
        self,
        status: int,
        code: int,
        message: str,
        *,
        method: str | None = None,
        path_contains: str | None = None,
    ) -> None:
        self.failures.append(Failure(status, code, message, method, path_contains))

    def received(self, method: str | None = None, contains: str = "") -> list[Received]:
        return [
            r
            for r in self.requests
            if (method is None or r.method == method) and contains in r.path
        ]

    # Serving.

    def _record(self, phone_number: str) -> dict:
        self._counter += 1
        sid = self.next_sids.pop(0) if self.next_sids else f"PN{self._counter:032x}"
        return {
            "sid": sid,
            "account_sid": self.account_sid,
            "phone_number": phone_number,
            "friendly_name": phone_number,
            "voice_url": "",
            "voice_method": "POST",
            "status_callback": "",
            "status_callback_method": "POST",
            "voice_fallback_url": "",
            "voice_fallback_method": "POST",
            "voice_caller_id_lookup": False,
            "voice_application_sid": "",
            "uri": f"/2010-04-01/Accounts/{self.account_sid}/IncomingPhoneNumbers/{sid}.json",
        }

    def handle(self, received: Received) -> tuple[int, object]:
        self.requests.append(received)
        for failure in list(self.failures):
            if (failure.method in (None, received.method)) and (
                failure.path_contains is None or failure.path_contains in received.path
            ):
                self.failures.remove(failure)
                return failure.status, _error(failure.status, failure.code, failure.message)
        if received.auth != (self.account_sid, self.auth_token):
            return 401, _error(401, 20003, "Authentication Error - invalid username")
        for method, pattern, name in ROUTES:
            match = pattern.search(received.path)
            if method == received.method and match:
                if match.groupdict().get("account", self.account_sid) != self.account_sid:
                    return 403, _error(403, 20003, "Wrong account")
                return getattr(self, f"_{name}")(received, **match.groupdict())
        return 404, _error(404, 20404, "The requested resource was not found")

    def _prices(self, received, *, country):
        # Twilio's Pricing API: what a number of each type costs a month in `country`.
        return 200, {
            "country": country,
            "iso_country": country,
            "price_unit": "USD",
            "phone_number_prices": [
                {"number_type": "local", "base_price": "1.15", "current_price": "1.15"},
                {"number_type": "toll free", "base_price": "2.15", "current_price": "2.15"},
            ],
            "url": f"https://pricing.twilio.com{received.path}",
        }

    def _search(self, received, *, account, country, kind):
        kind = "TollFree" if kind == "TollFree" else "Local"
        offers = self.for_sale.get((country, kind), [])
        area_code = received.query.get("AreaCode", "")
        contains = received.query.get("Contains", "")
        found = [
            o
            for o in offers
            if o["phone_number"][2:].startswith(area_code)
            and (not contains or contains in o["phone_number"])
        ]
        size = int(received.query.get("PageSize", "50"))
        return 200, {"available_phone_numbers": found[:size], "uri": received.path}

    def _list(self, received, *, account):
        numbers = list(self.owned.values())
        if "PhoneNumber" in received.query:
            numbers = [n for n in numbers if n["phone_number"] == received.query["PhoneNumber"]]
        size = int(received.query.get("PageSize", "50"))
        page = int(received.query.get("Page", "0"))
        chunk = numbers[page * size : (page + 1) * size]
        more = (page + 1) * size < len(numbers)
        base = f"/2010-04-01/Accounts/{account}/IncomingPhoneNumbers.json"
        return 200, {
            "incoming_phone_numbers": chunk,
            "page": page,
            "page_size": size,
            "uri": f"{base}?PageSize={size}&Page={page}",
            "next_page_uri": f"{base}?PageSize={size}&Page={page + 1}" if more else None,
        }

    def _create(self, received, *, account):
        phone_number = received.form.get("PhoneNumber", "")
        offers = [o for offers in self.for_sale.values() for o in offers]
        offer = next((o for o in offers if o["phone_number"] == phone_number), None)
        if offer is None:
            return 400, _error(400, 21422, "PhoneNumber requested is not available")
        for offers_list in self.for_sale.values():
            if offer in offers_list:
                offers_list.remove(offer)
        record = self._record(phone_number)
        _apply(record, received.form)
        self.owned[record["sid"]] = record
        return 201, record

    def _fetch(self, received, *, account, sid):
        if sid not in self.owned:
            return 404, _error(404, 20404, f"The requested resource {received.path} was not found")
        return 200, self.owned[sid]

    def _update(self, received, *, account, sid):
        if sid not in self.owned:
            return 404, _error(404, 20404, f"The requested resource {received.path} was not found")
        _apply(self.owned[sid], received.form)
        return 200, self.owned[sid]

    def _update_app(self, received, *, account, sid):
        if sid not in self.applications:
            return 404, _error(404, 20404, f"The requested resource {received.path} was not found")
        _apply(self.applications[sid], received.form)
        return 200, self.applications[sid]

    def _delete(self, received, *, account, sid):
        if sid not in self.owned:
            return 404, _error(404, 20404, f"The requested resource {received.path} was not found")
        del self.owned[sid]
        return 204, None

    def _media(self, received, *, account, sid):
        if sid not in self.recordings:
            return 404, _error(404, 20404, f"The requested resource {received.path} was not found")
        audio, content_type = self.recordings[sid]
        ranged = BYTE_RANGE.match(received.headers.get("Range", ""))
        if not ranged:
            return 200, Media(audio, content_type, {"Accept-Ranges": "bytes"})
        first = int(ranged["first"] or 0)
        last = min(int(ranged["last"] or len(audio) - 1), len(audio) - 1)
        return 206, Media(
            audio[first : last + 1],
            content_type,
            {"Accept-Ranges": "bytes", "Content-Range": f"bytes {first}-{last}/{len(audio)}"},
        )

    def _delete_recording(self, received, *, account, sid):
        if sid not in self.recordings:
            return 404, _error(404, 20404, f"The requested resource {received.path} was not found")
        del self.recordings[sid]
        return 204, None

    def _transcriptions(self, received, *, account, sid):
        base = f"/2010-04-01/Accounts/{account}/Recordings/{sid}/Transcriptions.json"
        found = [
            {
                "sid": tsid,
                "account_sid": account,
                "recording_sid": recording,
                "transcription_text": text,
                "status": "completed",
                "uri": f"/2010-04-01/Accounts/{account}/Transcriptions/{tsid}.json",
            }
            for tsid, (recording, text) in self.transcriptions.items()
            if recording == sid
        ]
        return 200, {
            "transcriptions": found,
            "page": 0,
            "page_size": 50,
            "uri": base,
            "next_page_uri": None,
        }

    def _delete_transcription(self, received, *, account, sid):
        if sid not in self.transcriptions:
            return 404, _error(404, 20404, f"The requested resource {received.path} was not found")
        del self.transcriptions[sid]
        return 204, None

    def _lookup(self, received, *, number):
        number = unquote(number)
        if not re.fullmatch(r"\+[1-9]\d{1,14}", number):
            return 404, _error(404, 20404, "The requested resource was not found")
        fields = received.query.get("Fields", "")
        body = {
            "phone_number": number,
            "valid": True,
            "calling_country_code": "1",
            "country_code": "US",
            "line_type_intelligence": None,
            "url": f"https://lookups.twilio.com/v2/PhoneNumbers/{number}",
        }
        if "line_type_intelligence" in fields.split(","):
            kind = self.line_types.get(number)
            body["line_type_intelligence"] = {
                "type": kind,
                "carrier_name": "Fake Carrier" if kind else None,
                "error_code": None if kind else 60600,
                "mobile_country_code": None,
                "mobile_network_code": None,
            }
        return 200, body


def _apply(record: dict, form: dict[str, str]) -> None:
    for name, key in SETTABLE.items():
        if name in form:
            record[key] = form[name]
    if "VoiceCallerIdLookup" in form:
        record["voice_caller_id_lookup"] = form["VoiceCallerIdLookup"] == "true"


def _error(status: int, code: int, message: str) -> dict:
    return {
        "code": code,
        "message": message,
        "more_info": f"https://www.twilio.com/docs/errors/{code}",
        "status": status,
    }


class FakeTwilioServer:
    """Serves a FakeTwilio on 127.0.0.1, on a port of its own, in a thread."""

    def __init__(self, fake: FakeTwilio) -> None:
        self.fake = fake
        lock = threading.Lock()

        class Handler(BaseHTTPRequestHandler):
            def _serve(self) -> None:
                parts = urlsplit(self.path)
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length).decode() if length else ""
                received = Received(
                    method=self.command,
                    path=parts.path,
                    query={k: v[-1] for k, v in parse_qs(parts.query).items()},
                    form={k: v[-1] for k, v in parse_qs(body, keep_blank_values=True).items()},
                    auth=_basic_auth(self.headers.get("Authorization", "")),
                    headers=dict(self.headers.items()),
                )
                with lock:
                    status, payload = fake.handle(received)
                self.send_response(status)
                if isinstance(payload, Media):
                    data = payload.content
                    self.send_header("Content-Type", payload.content_type)
                    for name, value in payload.headers.items():
                        self.send_header(name, value)
                elif payload is not None:
                    data = json.dumps(payload).encode()
                    self.send_header("Content-Type", "application/json")
                else:
                    data = b""
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_DELETE = _serve

            def log_message(self, format, *args) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()
        self.running = True

    def stop(self) -> None:
        """Close the socket: from now on every connection is refused."""
        if self.running:
            self.httpd.shutdown()
            self.httpd.server_close()
            self.running = False


def _basic_auth(header: str) -> tuple[str, str] | None:
    if not header.startswith("Basic "):
        return None
    user, _, password = base64.b64decode(header[6:]).decode().partition(":")
    return user, password
