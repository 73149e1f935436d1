"""Every call the app makes to Twilio's REST API goes through this module.

One module means one place to point at a fake (TWILIO_API_BASE_URL) and one place where Twilio's
errors become sentences a marketer can act on (`TwilioError`).
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, Literal, TypeVar
from urllib.parse import urlsplit, urlunsplit

import requests
from django.conf import settings
from twilio.base.exceptions import TwilioException, TwilioRestException
from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client

logger = logging.getLogger(__name__)

# Twilio answers in well under a second; a marketer should not wait a minute for a failure.
TIMEOUT_SECONDS = 15

NumberKind = Literal["local", "toll_free"]

T = TypeVar("T")

SETUP_HELP = (
    "Set TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN (Twilio console → Account Info) in the "
    "server's environment or in .env, then restart the app."
)

# Twilio error codes, grouped by what the marketer can do about them.
_BAD_CREDENTIALS = {20003, 20005, 20006}
_NOT_AVAILABLE = {21422, 21452, 21421}
_LIMITS = {21404, 21631, 20429, 21608, 21609}
_NOT_FOUND = {20404}

TWILIO_API = "https://api.twilio.com"
# A Recording SID, and nothing else: it becomes part of a URL path on Twilio's API.
_RECORDING_SID = re.compile(r"RE[0-9a-fA-F]{32}")
# The single byte range an <audio> element asks for when it seeks, e.g. "bytes=1000-".
_BYTE_RANGE = re.compile(r"bytes=\d*-\d*")


class TwilioError(Exception):
    """A Twilio request that failed, with `message` written for the person who asked for it."""

    def __init__(self, message: str, *, code: int | None = None, status: int | None = None):
        super().__init__(message)
        self.message = message
        self.code = code
        self.status = status

    @property
    def not_found(self) -> bool:
        return self.code in _NOT_FOUND or (self.code is None and self.status == 404)

    @property
    def network(self) -> bool:
        """Twilio was not reached, or its answer was lost: the request may or may not have
        taken effect."""
        return self.status is None and self.code is None


class TwilioNotConfigured(TwilioError):
    pass


@dataclass(frozen=True)
class AvailableNumber:
    phone_number: str
    friendly_name: str
    locality: str
    region: str
    iso_country: str
    voice: bool


@dataclass(frozen=True)
class IncomingNumber:
    """A number the account owns, and where Twilio sends its calls."""

    sid: str
    phone_number: str
    friendly_name: str
    voice_url: str
    voice_method: str
    status_callback: str
    status_callback_method: str
    voice_fallback_url: str
    voice_fallback_method: str
    voice_caller_id_lookup: bool
    voice_application_sid: str


@dataclass(frozen=True)
class VoiceConfig:
    """Where a number's calls go: what the app sets on every number it owns."""

    voice_url: str
    status_callback: str
    voice_fallback_url: str
    voice_caller_id_lookup: bool

    def differences(self, number: IncomingNumber) -> list[str]:
        """What `number` has that this configuration does not, in words ([] when it matches)."""
        wanted = {
            "Voice URL": (self.voice_url, "POST"),
            "Status Callback": (self.status_callback, "POST"),
            "Voice Fallback URL": (self.voice_fallback_url, "POST"),
        }
        actual = {
            "Voice URL": (number.voice_url, number.voice_method.upper()),
            "Status Callback": (number.status_callback, number.status_callback_method.upper()),
            "Voice Fallback URL": (
                number.voice_fallback_url,
                number.voice_fallback_method.upper(),
            ),
        }
        found = [
            f"{name} is {actual[name][1]} {actual[name][0] or '(empty)'}"
            for name in wanted
            if actual[name] != wanted[name]
        ]
        if number.voice_application_sid:
            found.append(f"calls go to TwiML App {number.voice_application_sid}")
        if number.voice_caller_id_lookup != self.voice_caller_id_lookup:
            found.append(
                "caller-name lookup is " + ("on" if number.voice_caller_id_lookup else "off")
            )
        return found

    def as_params(self) -> dict[str, Any]:
        return {
            "voice_url": self.voice_url,
            "voice_method": "POST",
            "status_callback": self.status_callback,
            "status_callback_method": "POST",
            "voice_fallback_url": self.voice_fallback_url,
            "voice_fallback_method": "POST",
            "voice_caller_id_lookup": self.voice_caller_id_lookup,
            # A TwiML App on the number would win over the URLs: take it off.
            "voice_application_sid": "",
        }


class _RedirectedHttpClient(TwilioHttpClient):
    """twilio's own HTTP client, sending every request to `origin` instead of Twilio's hosts.

    The library builds absolute URLs (api.twilio.com, and next-page links from its answers), so
    rewriting the origin of each request is the one place that catches them all.
    """

    def __init__(self, origin: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        parts = urlsplit(origin)
        self.scheme, self.netloc = parts.scheme, parts.netloc
        if self.session is not None:
            # A fake on loopback must not be reached through a proxy from the environment.
            self.session.trust_env = False

    def request(self, method: str, url: str, *args: Any, **kwargs: Any):
        parts = urlsplit(url)
        url = urlunsplit((self.scheme, self.netloc, parts.path, parts.query, parts.fragment))
        return super().request(method, url, *args, **kwargs)


def missing_settings() -> list[str]:
    """Names of the settings without which the REST API cannot be used."""
    return [
        name for name in ("TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN") if not getattr(settings, name)
    ]


def client(*, timeout: float = TIMEOUT_SECONDS) -> Client:
    missing = missing_settings()
    if missing:
        raise TwilioNotConfigured(f"{' and '.join(missing)} not set. {SETUP_HELP}")
    base_url = getattr(settings, "TWILIO_API_BASE_URL", "")
    http_client = (
        _RedirectedHttpClient(base_url, timeout=timeout)
        if base_url
        else TwilioHttpClient(timeout=timeout)
    )
    return Client(settings.TWILIO_ACCOUNT_SID, settings.TWILIO_AUTH_TOKEN, http_client=http_client)


def _plain_words(status: int | None, code: int | None, twilio_says: str, doing: str) -> TwilioError:
    if code in _BAD_CREDENTIALS or status == 401:
        message = (
            f"Twilio refused the account credentials while {doing}. Check that "
            "TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN match the Twilio console (Account Info)."
        )
    elif code in _NOT_AVAILABLE:
        message = (
            f"Twilio could not complete {doing}: that number is no longer available (someone "
            "else may just have bought it). Search again and pick another one."
        )
    elif code in _LIMITS or status == 429:
        message = (
            f"Twilio refused {doing} because of a limit on the account ({twilio_says}). "
            "Upgrade the Twilio account or raise its limits, or try again later."
        )
    elif code in _NOT_FOUND or status == 404:
        message = f"Twilio could not complete {doing}: the number is not on the account."
    else:
        message = f"Twilio refused {doing}: {twilio_says}" + (f" (error {code})." if code else ".")
    return TwilioError(message, code=code, status=status)


def _from_page(error: TwilioException) -> tuple[int | None, int | None, str]:
    """Status, code and message of a failed list request, which twilio raises as a bare
    TwilioException("Unable to fetch page", response)."""
    response = error.args[1] if len(error.args) > 1 else None
    status = getattr(response, "status_code", None)
    try:
        payload = json.loads(getattr(response, "text", ""))
    except (TypeError, ValueError):
        payload = {}
    if not isinstance(payload, dict):
        payload = {}
    code = payload.get("code")
    return status, code if isinstance(code, int) else None, str(payload.get("message", ""))


def _call(doing: str, request: Callable[[], T]) -> T:
    """Run one REST request, turning whatever goes wrong into a TwilioError."""
    try:
        return request()
    except TwilioRestException as error:
        logger.warning("Twilio refused %s: %s %s", doing, error.status, error.msg)
        code = error.code if isinstance(error.code, int) else None
        twilio_says = str(error.msg).split(": ", 1)[-1]
        raise _plain_words(error.status, code, twilio_says, doing) from error
    except requests.RequestException as error:
        logger.warning("Twilio unreachable while %s: %s", doing, error)
        raise TwilioError(
            f"Could not reach Twilio while {doing} (network problem). Check the server's "
            "internet connection and try again in a minute."
        ) from error
    except TwilioException as error:
        status, code, twilio_says = _from_page(error)
        logger.warning("Twilio refused %s: %s %s", doing, status, twilio_says or error)
        if status is None:
            raise TwilioError(f"Twilio gave an unexpected answer while {doing}.") from error
        raise _plain_words(status, code, twilio_says, doing) from error


def _incoming(record: Any) -> IncomingNumber:
    return IncomingNumber(
        sid=record.sid or "",
        phone_number=record.phone_number or "",
        friendly_name=record.friendly_name or "",
        voice_url=record.voice_url or "",
        voice_method=record.voice_method or "POST",
        status_callback=record.status_callback or "",
        status_callback_method=record.status_callback_method or "POST",
        voice_fallback_url=record.voice_fallback_url or "",
        voice_fallback_method=record.voice_fallback_method or "POST",
        voice_caller_id_lookup=bool(record.voice_caller_id_lookup),
        voice_application_sid=record.voice_application_sid or "",
    )


def number_price(*, country: str, kind: NumberKind) -> str:
    """What Twilio charges a month for one number of this kind in `country`, e.g. "1.15 USD"
    (its Pricing API); empty when Twilio lists no price for that kind."""
    api = client()
    record = _call(
        "reading number prices", lambda: api.pricing.v1.phone_numbers.countries(country).fetch()
    )
    wanted = "toll free" if kind == "toll_free" else "local"
    for price in record.phone_number_prices or []:
        if str(price.get("number_type", "")).lower() == wanted:
            amount = price.get("current_price") or price.get("base_price")
            return f"{amount} {record.price_unit or ''}".strip() if amount else ""
    return ""


def available_numbers(
    *, country: str, kind: NumberKind, area_code: str = "", contains: str = "", limit: int = 20
) -> list[AvailableNumber]:
    """Numbers Twilio offers for sale that can take voice calls."""
    api = client()
    country_list = api.available_phone_numbers(country.upper())
    listing = country_list.toll_free if kind == "toll_free" else country_list.local
    filters: dict[str, Any] = {"voice_enabled": True, "limit": limit}
    if area_code:
        filters["area_code"] = area_code
    if contains:
        filters["contains"] = contains
    records = _call("searching for numbers", lambda: listing.list(**filters))
    return [
        AvailableNumber(
            phone_number=record.phone_number or "",
            friendly_name=record.friendly_name or "",
            locality=record.locality or "",
            region=record.region or "",
            iso_country=record.iso_country or "",
            voice=bool((record.capabilities or {}).get("voice", True)),
        )
        for record in records
    ]


def incoming_number_buy(*, phone_number: str, config: VoiceConfig) -> IncomingNumber:
    """Buy `phone_number` and point it at the app, in one request."""
    api = client()
    record = _call(
        f"buying {phone_number}",
        lambda: api.incoming_phone_numbers.create(phone_number=phone_number, **config.as_params()),
    )
    return _incoming(record)


def incoming_number_update(*, sid: str, config: VoiceConfig) -> IncomingNumber:
    api = client()
    record = _call(
        f"updating the webhooks of {sid}",
        lambda: api.incoming_phone_numbers(sid).update(**config.as_params()),
    )
    return _incoming(record)


def twiml_app_update(*, sid: str, voice_url: str) -> str:
    """Point the agents' TwiML App at `voice_url` (what an agent's browser calling out gets);
    returns the URL Twilio now has."""
    api = client()
    record = _call(
        f"updating the TwiML App {sid}",
        lambda: api.applications(sid).update(voice_url=voice_url, voice_method="POST"),
    )
    return record.voice_url or ""


def incoming_number_release(*, sid: str) -> None:
    """Give the number back to Twilio: it stops ringing and stops being billed."""
    api = client()
    _call(f"releasing {sid}", lambda: api.incoming_phone_numbers(sid).delete())


def incoming_numbers() -> list[IncomingNumber]:
    """Every number the account owns."""
    api = client()
    records = _call(
        "listing the account's numbers",
        lambda: api.incoming_phone_numbers.list(page_size=1000),
    )
    return [_incoming(record) for record in records]


@dataclass
class RecordingMedia:
    """A recording's audio as Twilio started sending it: iterate for the bytes, then close.

    `status` is 200, or 206 when a byte range was asked for; `headers` are the ones a player
    needs to seek (Content-Length, Content-Range, Accept-Ranges) as Twilio sent them.
    """

    status: int
    content_type: str
    headers: dict[str, str]
    response: requests.Response
    session: requests.Session

    def __iter__(self) -> Iterator[bytes]:
        return self.response.iter_content(chunk_size=64 * 1024)

    def close(self) -> None:
        self.response.close()
        self.session.close()


def recording_media(*, sid: str, byte_range: str = "") -> RecordingMedia:
    """Start downloading the MP3 of recording `sid` from Twilio's REST API.

    The address is built from the SID and the account, never taken from the RecordingUrl a
    webhook sent: nothing posted to the app can make the server fetch some other address.
    Twilio may redirect to its media host; requests drops the credentials when it does.
    """
    missing = missing_settings()
    if missing:
        raise TwilioNotConfigured(f"{' and '.join(missing)} not set. {SETUP_HELP}")
    doing = f"fetching recording {sid}"
    if not _RECORDING_SID.fullmatch(sid):
        raise TwilioError(f"“{sid}” is not a Twilio recording SID.", status=404)
    base_url = getattr(settings, "TWILIO_API_BASE_URL", "") or TWILIO_API
    url = f"{base_url}/2010-04-01/Accounts/{settings.TWILIO_ACCOUNT_SID}/Recordings/{sid}.mp3"
    # Uncompressed, so Content-Length and Content-Range count the bytes the player gets.
    headers = {"Accept-Encoding": "identity"}
    if _BYTE_RANGE.fullmatch(byte_range):
        headers["Range"] = byte_range
    session = requests.Session()
    # A fake on loopback must not be reached through a proxy from the environment.
    session.trust_env = base_url == TWILIO_API
    try:
        response = session.get(
            url,
            auth=(settings.TWILIO_ACCOUNT_SID, settings.TWILIO_AUTH_TOKEN),
            headers=headers,
            stream=True,
            timeout=TIMEOUT_SECONDS,
        )
    except requests.RequestException as error:
        session.close()
        logger.warning("Twilio unreachable while %s: %s", doing, error)
        raise TwilioError(
            f"Could not reach Twilio while {doing} (network problem). Check the server's "
            "internet connection and try again in a minute."
        ) from error
    if response.status_code not in (200, 206):
        error = _media_error(response, sid, doing)
        session.close()
        raise error
    content_type = response.headers.get("Content-Type", "").split(";")[0].strip().lower()
    return RecordingMedia(
        status=response.status_code,
        # Served from the app's own origin: never let an answer pass as anything but audio.
        content_type=content_type if content_type.startswith("audio/") else "audio/mpeg",
        headers={
            name: response.headers[name]
            for name in ("Content-Length", "Content-Range", "Accept-Ranges")
            if name in response.headers
        },
        response=response,
        session=session,
    )


def _media_error(response: requests.Response, sid: str, doing: str) -> TwilioError:
    try:
        payload = response.json()
    except ValueError:
        payload = {}
    finally:
        response.close()
    if not isinstance(payload, dict):
        payload = {}
    code = payload.get("code") if isinstance(payload.get("code"), int) else None
    twilio_says = str(payload.get("message", "")) or response.reason or "no reason given"
    status = response.status_code
    logger.warning("Twilio refused %s: %s %s", doing, status, twilio_says)
    if code in _NOT_FOUND or (code is None and status == 404):
        return TwilioError(
            f"Twilio has no recording {sid}: it was deleted, or is not ready yet.",
            code=code,
            status=status,
        )
    return _plain_words(status, code, twilio_says, doing)


def recording_delete(*, sid: str) -> None:
    """Delete recording `sid` on Twilio, with its transcriptions (separate resources there,
    which outlive the recording). One already gone counts as deleted; a SID that is not a
    recording SID names nothing Twilio could hold."""
    if not _RECORDING_SID.fullmatch(sid):
        return
    api = client()
    doing = f"deleting recording {sid}"
    transcriptions = _gone_ok(doing, lambda: api.recordings(sid).transcriptions.list()) or []
    for transcription in transcriptions:
        _gone_ok(doing, lambda sid=transcription.sid: api.transcriptions(sid).delete())
    _gone_ok(doing, lambda: api.recordings(sid).delete())


def _gone_ok(doing: str, request: Callable[[], T]) -> T | None:
    try:
        return _call(doing, request)
    except TwilioError as error:
        if error.not_found:
            return None
        raise


# A caller waits on the line-type look-up: past this, the call rings unscreened.
LOOKUP_TIMEOUT_SECONDS = 2.5


def line_type(*, phone_number: str) -> str:
    """Twilio Lookup v2's line type of `phone_number` (mobile, landline, fixedVoip,
    nonFixedVoip, tollFree…; "" when Twilio does not know). Charged by Twilio per request."""
    doing = f"looking up the line type of {phone_number}"
    result = _call(
        doing,
        lambda: (
            client(timeout=LOOKUP_TIMEOUT_SECONDS)
            .lookups.v2.phone_numbers(phone_number)
            .fetch(fields="line_type_intelligence")
        ),
    )
    intelligence = result.line_type_intelligence or {}
    kind = intelligence.get("type") if isinstance(intelligence, dict) else None
    return kind if isinstance(kind, str) else ""
