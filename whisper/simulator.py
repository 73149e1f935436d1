"""A phone call without Twilio: this module plays Twilio's part against the app.

It makes the requests Twilio makes during a call, signed as Twilio signs them, and follows the
TwiML the app answers with, verb by verb, as docs/twilio-voice.md describes Twilio doing it:

1. the incoming call on the caller's (parent) leg, to the number's Voice URL;
2. a <Dial>: the callee's phone rings; when they pick up, their own (child) leg requests the
   <Number url>, hears the whisper and answers its <Gather> (or not);
3. an empty document bridges the legs, <Hangup/> ends the callee's leg unbridged;
4. the <Dial action> on the parent leg, whose TwiML the caller hears;
5. the parent leg's status callback when the call is over.

Requests go to the app in-process (Django's test client) or over HTTP to a running server.
"""

from __future__ import annotations

import re
import secrets
import uuid
import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import format_datetime
from ipaddress import ip_address
from urllib.error import HTTPError, URLError
from urllib.parse import urlencode, urljoin, urlsplit
from urllib.request import ProxyHandler, Request, build_opener

import phonenumbers
from django.conf import settings
from django.test import Client
from django.test.utils import override_settings
from django.urls import reverse
from twilio.request_validator import RequestValidator

ANSWERS = ("accept", "decline", "silent", "no-answer", "busy", "hang-up")

# Seconds the simulated clock moves for what takes time on a real call.
RING_SECONDS = 6
BUSY_SECONDS = 2
WORDS_PER_SECOND = 2.5

DEFAULT_ACCOUNT_SID = "AC" + "0" * 32
IN_PROCESS_BASE_URL = "http://testserver"

_SPOKEN_KEYS = {"star": "*", "pound": "#", "hash": "#"}
_ACCEPT_PROMPT = re.compile(r"\bpress (\w+) to accept", re.IGNORECASE)


class SimulationError(Exception):
    """The call could not go on: what Twilio would have run into, in words."""


@dataclass(frozen=True)
class SimulatedCall:
    to: str
    caller: str
    city: str = ""
    state: str = ""
    zip: str = ""
    country: str = ""
    caller_name: str = ""
    answer: str = "accept"
    talk_seconds: int = 42


@dataclass(frozen=True)
class Reply:
    status: int
    content_type: str
    body: bytes


@dataclass(frozen=True)
class Exchange:
    """One request Twilio made and what the app answered."""

    url: str
    params: dict[str, str]
    status: int


@dataclass
class Transcript:
    call_sid: str
    child_sid: str = ""
    caller_heard: list[str] = field(default_factory=list)
    callee_heard: list[str] = field(default_factory=list)
    keys_pressed: list[str] = field(default_factory=list)
    exchanges: list[Exchange] = field(default_factory=list)
    lines: list[str] = field(default_factory=list)
    duration_seconds: int = 0

    def urls(self) -> list[str]:
        return [exchange.url for exchange in self.exchanges]


class _Done(Exception):
    """The caller's leg has ended."""


class DjangoClientTransport:
    """Requests handled in this process, by Django's test client, with the URL's own host."""

    def __init__(self) -> None:
        self.client = Client(raise_request_exception=False)

    def post(self, url: str, params: dict[str, str], signature: str) -> Reply:
        parts = urlsplit(url)
        response = self.client.post(
            parts.path + (f"?{parts.query}" if parts.query else ""),
            data=urlencode(params),
            content_type="application/x-www-form-urlencoded",
            headers={"X-Twilio-Signature": signature},
            secure=parts.scheme == "https",
            HTTP_HOST=parts.netloc,
        )
        return Reply(response.status_code, response.get("Content-Type", ""), response.content)


class HttpTransport:
    """Requests sent over HTTP to a running server at `server` (an origin such as
    http://127.0.0.1:8000), whatever public URL they are signed for."""

    def __init__(self, server: str, *, timeout: float = 20) -> None:
        parts = urlsplit(server)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise SimulationError(f"--url must look like http://127.0.0.1:8000, not “{server}”.")
        self.origin = f"{parts.scheme}://{parts.netloc}"
        self.timeout = timeout
        # A server on this machine must not be reached through a proxy from the environment.
        self.opener = build_opener(ProxyHandler({})) if _is_local(parts.hostname) else None

    def post(self, url: str, params: dict[str, str], signature: str) -> Reply:
        parts = urlsplit(url)
        target = self.origin + parts.path + (f"?{parts.query}" if parts.query else "")
        request = Request(
            target,
            data=urlencode(params).encode(),
            headers={
                "Content-Type": "application/x-www-form-urlencoded",
                "X-Twilio-Signature": signature,
                "User-Agent": "TwilioProxy/1.1 (calltracking simulate_call)",
            },
            method="POST",
        )
        open_url = self.opener.open if self.opener else build_opener().open
        try:
            with open_url(request, timeout=self.timeout) as response:
                return Reply(
                    response.status, response.headers.get("Content-Type", ""), response.read()
                )
        except HTTPError as error:
            return Reply(error.code, error.headers.get("Content-Type", ""), error.read())
        except (URLError, OSError) as error:
            raise SimulationError(f"Could not reach the server at {self.origin}: {error}") from None


def _is_local(host: str | None) -> bool:
    if host in (None, "localhost"):
        return True
    try:
        return ip_address(host).is_loopback
    except ValueError:
        return False


def _dialable(destination: str) -> bool:
    try:
        return phonenumbers.is_possible_number(phonenumbers.parse(destination, None))
    except phonenumbers.NumberParseException:
        return False


def new_sid() -> str:
    return "CA" + uuid.uuid4().hex


def _words(element: ET.Element) -> str:
    return " ".join((element.text or "").split())


class Simulator:
    """Plays Twilio for one call at a time; `echo` receives each line as it happens."""

    def __init__(
        self,
        *,
        transport: DjangoClientTransport | HttpTransport,
        token: str,
        base_url: str,
        account_sid: str = DEFAULT_ACCOUNT_SID,
        accept_key: Callable[[str], str | None] | None = None,
        echo: Callable[[str], None] | None = None,
    ) -> None:
        self.transport = transport
        self.validator = RequestValidator(token)
        self.base_url = base_url.rstrip("/")
        self.account_sid = account_sid
        self.accept_key_lookup = accept_key
        self.echo = echo

    # What happens, as it happens.

    def _say(self, line: str) -> None:
        self.transcript.lines.append(line)
        if self.echo:
            self.echo(line)

    def _hear(self, who: str, words: str) -> None:
        heard = self.transcript.caller_heard if who == "caller" else self.transcript.callee_heard
        heard.append(words)
        self._say(f"  {who.capitalize()} hears: “{words}”")
        self.clock += max(1, round(len(words.split()) / WORDS_PER_SECOND))

    def _post(self, url: str, params: dict[str, str], what: str) -> Reply:
        """One signed request, exactly as Twilio signs it: for the URL it requests."""
        params = {"AccountSid": self.account_sid, "ApiVersion": "2010-04-01", **params}
        signature = self.validator.compute_signature(url, params)
        reply = self.transport.post(url, params, signature)
        self.transcript.exchanges.append(Exchange(url, params, reply.status))
        self._say(f"→ POST {url}  ({what})  ← {reply.status}")
        if reply.status == 403:
            raise SimulationError(
                f"The app refused {url} (403): the signature did not match. The simulator signs "
                "with TWILIO_AUTH_TOKEN for the URL it posts to: the server must have the same "
                "token, and PUBLIC_BASE_URL (if set) must be the same on both sides."
            )
        return reply

    def _twiml(self, url: str, params: dict[str, str], what: str) -> ET.Element:
        reply = self._post(url, params, what)
        if reply.status != 200:
            raise SimulationError(
                f"{url} answered {reply.status}: Twilio would report error 11200 and the caller "
                "would hear an application error."
            )
        if reply.content_type.split(";")[0].strip() not in ("text/xml", "application/xml"):
            raise SimulationError(f"{url} answered {reply.content_type!r}, not XML (error 12300).")
        try:
            root = ET.fromstring(reply.body)
        except ET.ParseError as error:
            raise SimulationError(f"{url} answered TwiML that does not parse ({error}).") from None
        if root.tag != "Response":
            raise SimulationError(f"{url} answered <{root.tag}>, not <Response> (error 12100).")
        return root

    # The call.

    def run(self, call: SimulatedCall) -> Transcript:
        if call.answer not in ANSWERS:
            raise SimulationError(f"--answer must be one of {', '.join(ANSWERS)}.")
        self.call = call
        self.clock = 0
        self.transcript = Transcript(call_sid=new_sid())
        where = ", ".join(p for p in (call.city, call.state, call.zip, call.country) if p)
        self._say(
            f"Simulated call {self.transcript.call_sid} from {call.caller} to {call.to}"
            + (f" ({where})" if where else "")
            + f"; the callee will {call.answer}."
        )
        voice_url = self.base_url + reverse("whisper:incoming")
        root = self._twiml(voice_url, self._parent_params("ringing"), "incoming call")
        try:
            self._play_to_caller(root, voice_url)
            self._say("  Twilio hangs up the caller's leg.")
        except _Done:
            pass
        self._status_callback()
        self.transcript.duration_seconds = self.clock
        return self.transcript

    def _parent_params(self, status: str) -> dict[str, str]:
        call = self.call
        params = {
            "CallSid": self.transcript.call_sid,
            "From": call.caller,
            "To": call.to,
            "Caller": call.caller,
            "Called": call.to,
            "CallStatus": status,
            "Direction": "inbound",
        }
        # Twilio sends the place only "if available".
        for name, value in (
            ("FromCity", call.city),
            ("FromState", call.state),
            ("FromZip", call.zip),
            ("FromCountry", call.country),
            ("CallerName", call.caller_name),
        ):
            if value:
                params[name] = value
        return params

    def _play_to_caller(self, root: ET.Element, url: str) -> None:
        """Run a document on the caller's leg; returns at its end (Twilio then hangs up)."""
        verbs, i = list(root), 0
        while i < len(verbs):
            verb = verbs[i]
            i += 1
            if verb.tag == "Say":
                self._hear("caller", _words(verb))
            elif verb.tag == "Play":
                self._hear("caller", f"[audio {_words(verb)}]")
            elif verb.tag == "Pause":
                self.clock += int(verb.get("length", "1"))
            elif verb.tag == "Hangup":
                self._say("  <Hangup/>: Twilio ends the call.")
                raise _Done
            elif verb.tag == "Reject":
                self._say("  <Reject/>: Twilio refuses the call.")
                raise _Done
            elif verb.tag == "Redirect":
                url = urljoin(url, _words(verb))
                verbs, i = list(self._twiml(url, self._parent_params("in-progress"), "redirect")), 0
            elif verb.tag == "Dial":
                followed = self._dial(verb, url)
                if followed is not None:
                    # Verbs after a <Dial> with an action are never reached.
                    url, next_root = followed
                    verbs, i = list(next_root), 0
            else:
                self._say(f"  (the simulator does not play <{verb.tag}>; skipped)")

    def _dial(self, dial: ET.Element, url: str) -> tuple[str, ET.Element] | None:
        """Ring the callee; returns the <Dial action>'s URL and TwiML, if it has one."""
        numbers = [noun for noun in dial if noun.tag == "Number"]
        number = numbers[0] if numbers else None
        destination = _words(number) if number is not None else _words(dial)
        timeout = int(dial.get("timeout", "30"))
        answer = self.call.answer
        child_sid = new_sid()
        self.transcript.child_sid = child_sid
        self._say(f"  Twilio dials {destination} for up to {timeout} s; the caller hears ringing.")
        result = {"DialCallSid": child_sid, "DialBridged": "false"}
        caller_gone = False
        if not _dialable(destination):
            self._say(f"  Twilio cannot dial “{destination}”: the dial fails at once.")
            result["DialCallStatus"] = "failed"
        elif answer == "no-answer":
            self.clock += timeout
            self._say(f"  Nobody picks up within {timeout} s.")
            result["DialCallStatus"] = "no-answer"
        elif answer == "busy":
            self.clock += BUSY_SECONDS
            self._say("  The line is busy.")
            result["DialCallStatus"] = "busy"
        elif answer == "hang-up":
            self.clock += RING_SECONDS
            self._say(f"  The caller hangs up after {RING_SECONDS} s of ringing.")
            result["DialCallStatus"] = "canceled"
            caller_gone = True
        else:
            self.clock += RING_SECONDS
            self._say(f"  The callee picks up after {RING_SECONDS} s (their leg: {child_sid}).")
            started = self.clock
            bridged = True
            if number is not None and number.get("url"):
                child = {
                    "CallSid": child_sid,
                    "ParentCallSid": self.transcript.call_sid,
                    "From": self.call.caller,
                    "To": destination,
                    "CallStatus": "in-progress",
                    "Direction": "outbound-dial",
                }
                bridged = self._whisper(urljoin(url, number.get("url")), child)
            result["DialCallStatus"] = "completed"
            if bridged:
                talk = self.call.talk_seconds
                self.clock += talk
                self._say(f"  Caller and callee are connected and talk for {talk} s.")
                result.update(DialBridged="true", DialCallDuration=str(talk))
            if number is not None and number.get("statusCallback"):
                self._post(
                    urljoin(url, number.get("statusCallback")),
                    {
                        "CallSid": child_sid,
                        "ParentCallSid": self.transcript.call_sid,
                        "CallStatus": "completed",
                        "CallDuration": str(self.clock - started),
                        "Direction": "outbound-dial",
                        "Timestamp": format_datetime(datetime.now(UTC)),
                        "CallbackSource": "call-progress-events",
                        "SequenceNumber": "0",
                    },
                    "callee's status callback",
                )

        action = dial.get("action")
        if not action:
            if caller_gone:
                raise _Done
            return None
        action = urljoin(url, action)
        params = {
            **self._parent_params("completed" if caller_gone else "in-progress"),
            **result,
        }
        summary = " ".join(f"{k}={v}" for k, v in sorted(result.items()) if k != "DialCallSid")
        root = self._twiml(action, params, f"dial action: {summary}")
        if caller_gone:
            self._say("  (the caller has hung up: nobody hears the answer)")
            raise _Done
        return action, root

    def _whisper(self, url: str, child: dict[str, str]) -> bool:
        """The callee's leg: returns whether it ends bridged to the caller."""
        root = self._twiml(url, child, "callee picked up: whisper")
        verbs, i = list(root), 0
        while i < len(verbs):
            verb = verbs[i]
            i += 1
            if verb.tag == "Say":
                self._hear("callee", _words(verb))
            elif verb.tag == "Play":
                self._hear("callee", f"[audio {_words(verb)}]")
            elif verb.tag == "Gather":
                followed = self._gather(verb, url, child)
                if followed is not None:
                    url, next_root = followed
                    verbs, i = list(next_root), 0
            elif verb.tag == "Hangup":
                self._say("  <Hangup/> on the callee's leg: the call is not connected.")
                return False
            else:
                self._say(
                    f"  <{verb.tag}> is not allowed on a <Number url>: "
                    "Twilio ends the callee's leg."
                )
                return False
        self._say("  End of the callee's TwiML: Twilio connects the two legs.")
        return True

    def _gather(
        self, gather: ET.Element, url: str, child: dict[str, str]
    ) -> tuple[str, ET.Element] | None:
        prompt = []
        for nested in gather:
            if nested.tag in ("Say", "Play"):
                words = _words(nested) if nested.tag == "Say" else f"[audio {_words(nested)}]"
                self._hear("callee", words)
                prompt.append(words)
        key = self._key(" ".join(prompt))
        action = urljoin(url, gather.get("action") or url)
        if key:
            self.transcript.keys_pressed.append(key)
            self._say(f"  The callee presses {key}.")
            return action, self._twiml(action, {**child, "Digits": key}, f"key {key}")
        timeout = int(gather.get("timeout", "5"))
        self.clock += timeout
        self._say(f"  The callee presses nothing for {timeout} s.")
        if gather.get("actionOnEmptyResult") == "true":
            return action, self._twiml(action, {**child, "Digits": ""}, "no key")
        return None

    def _key(self, prompt: str) -> str:
        if self.call.answer == "silent":
            return ""
        accept = self._accept_key(prompt)
        if self.call.answer == "accept":
            return accept
        return next(key for key in "9753" if key != accept)

    def _accept_key(self, prompt: str) -> str:
        match = _ACCEPT_PROMPT.search(prompt)
        if match:
            word = match.group(1).lower()
            if word in _SPOKEN_KEYS:
                return _SPOKEN_KEYS[word]
            if len(word) == 1 and word in "0123456789":
                return word
        looked_up = self.accept_key_lookup(self.call.to) if self.accept_key_lookup else None
        return looked_up or "1"

    def _status_callback(self) -> None:
        """The number's Status Callback, once the caller's leg is over."""
        params = {
            **self._parent_params("completed"),
            "CallDuration": str(self.clock),
            "Timestamp": format_datetime(datetime.now(UTC)),
            "CallbackSource": "call-progress-events",
            "SequenceNumber": "0",
        }
        reply = self._post(
            self.base_url + reverse("whisper:status"),
            params,
            f"status callback: completed after {self.clock} s",
        )
        if reply.status not in (200, 204):
            raise SimulationError(f"The status callback answered {reply.status}.")


def accept_key_from_database(to: str) -> str | None:
    """The accept key of the campaign `to` reaches, for a prompt the simulator cannot read."""
    from django.db import DatabaseError

    from tracking import phones, services

    try:
        number = services.number_for(phones.normalize(to))
    except DatabaseError:
        return None
    return number.campaign.accept_digit if number else None


def simulate_in_process(
    call: SimulatedCall, *, echo: Callable[[str], None] | None = None
) -> Transcript:
    """Run the call against this process's app and database.

    URLs are built (and signed) on PUBLIC_BASE_URL when set, else on http://testserver; that
    host is let through ALLOWED_HOSTS for the run. Without TWILIO_AUTH_TOKEN a throwaway token
    is used for the run, so that signatures are still checked end to end.
    """
    token = settings.TWILIO_AUTH_TOKEN or secrets.token_hex(16)
    if not settings.TWILIO_AUTH_TOKEN and echo:
        echo("(TWILIO_AUTH_TOKEN is not set: this run signs and checks with a throwaway token.)")
    base_url = settings.PUBLIC_BASE_URL or IN_PROCESS_BASE_URL
    host = urlsplit(base_url).hostname or "testserver"
    with override_settings(TWILIO_AUTH_TOKEN=token, ALLOWED_HOSTS=[*settings.ALLOWED_HOSTS, host]):
        simulator = Simulator(
            transport=DjangoClientTransport(),
            token=token,
            base_url=base_url,
            account_sid=settings.TWILIO_ACCOUNT_SID or DEFAULT_ACCOUNT_SID,
            accept_key=accept_key_from_database,
            echo=echo,
        )
        return simulator.run(call)


def simulate_over_http(
    call: SimulatedCall, *, server: str, echo: Callable[[str], None] | None = None
) -> Transcript:
    """Run the call against a running server, signing with this side's TWILIO_AUTH_TOKEN
    (which must be the server's) for PUBLIC_BASE_URL when set, else for `server` itself."""
    if not settings.TWILIO_AUTH_TOKEN:
        raise SimulationError(
            "TWILIO_AUTH_TOKEN is not set. With --url the simulator signs requests as Twilio "
            "does, with the running server's token: set TWILIO_AUTH_TOKEN to the same value "
            "here (environment or .env) and try again."
        )
    transport = HttpTransport(server)
    simulator = Simulator(
        transport=transport,
        token=settings.TWILIO_AUTH_TOKEN,
        base_url=settings.PUBLIC_BASE_URL or transport.origin,
        account_sid=settings.TWILIO_ACCOUNT_SID or DEFAULT_ACCOUNT_SID,
        accept_key=accept_key_from_database,
        echo=echo,
    )
    return simulator.run(call)
