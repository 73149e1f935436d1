"""A phone call without Twilio: this module plays Twilio's part against the app.

It makes the requests Twilio makes during a call, signed as Twilio signs them, and follows the
TwiML the app answers with, verb by verb, as docs/twilio-voice.md describes Twilio doing it:

1. the incoming call on the caller's (parent) leg, to the number's Voice URL;
2. a <Dial>: its <Number>s and <Client>s (agents' browsers) ring (several ring at once); each
   that picks up gets its own (child) leg, which requests its `url`, hears the whisper and
   answers its <Gather> (or not); each one's `statusCallback` is told how its leg ended;
3. an empty document bridges a leg to the caller (the first to be bridged wins: Twilio hangs up
   the others), <Hangup/> ends that leg unbridged;
4. the <Dial action> on the parent leg, whose TwiML the caller hears: another <Dial>, a voicemail
   (<Record>, then its action, recording and transcription callbacks) or a message;
5. a recorded <Dial>'s recording callback, and the parent leg's status callback at the end.

The simulated people answer as a SimulatedCall says: one answer per phone rung, in the order they
ring; a message of so many seconds if the caller reaches voicemail.

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

# What a phone rung does. hang-up: the caller gives up while it rings; hang-up-in-whisper: it
# picks up and the caller gives up while it hears the whisper; report-spam: it presses the
# whisper's report-spam key.
ANSWERS = (
    "accept",
    "decline",
    "silent",
    "no-answer",
    "busy",
    "hang-up",
    "hang-up-in-whisper",
    "report-spam",
)
# What a caller asked to "press <digit> to be connected" does: the digit asked, another key,
# nothing, or hang up.
CHALLENGE_KEYS = ("right", "wrong", "none", "hang-up")

# Seconds the simulated clock moves for what takes time on a real call.
RING_SECONDS = 6
BUSY_SECONDS = 2
WORDS_PER_SECOND = 2.5
# Twilio transcribes messages up to two minutes long.
MAX_TRANSCRIBED_SECONDS = 120

DEFAULT_ACCOUNT_SID = "AC" + "0" * 32
IN_PROCESS_BASE_URL = "http://testserver"
DEFAULT_MESSAGE_SECONDS = 15
DEFAULT_TRANSCRIPTION = (
    "Hi, this is a test message from the call simulator. Please call me back when you can. "
    "Thank you."
)

_SPOKEN_KEYS = {"star": "*", "pound": "#", "hash": "#"}
# A caller's answer to a menu: hang up while hearing it.
HANG_UP = "hang-up"
_ACCEPT_PROMPT = re.compile(r"\bpress (\w+) to accept", re.IGNORECASE)
_REPORT_PROMPT = re.compile(r"\bpress (\w+) to report spam", re.IGNORECASE)
_CHALLENGE_PROMPT = re.compile(r"\bto be connected, press (\d)", re.IGNORECASE)


class SimulationError(Exception):
    """The call could not go on: what Twilio would have run into, in words."""


@dataclass(frozen=True)
class SimulatedCall:
    """One call, and what everybody on it does.

    `answers`: what each phone rung does, in the order the phones ring (one after another, or
    the <Number>s of one <Dial> in order); the last answer stands for every phone after it.
    Without `answers`, every phone does `answer`. `message_seconds`: how long a message the
    caller leaves on reaching voicemail (0: they hang up without leaving one).
    """

    to: str
    caller: str
    city: str = ""
    state: str = ""
    zip: str = ""
    country: str = ""
    caller_name: str = ""
    answer: str = "accept"
    talk_seconds: int = 42
    answers: tuple[str, ...] = ()
    message_seconds: int = DEFAULT_MESSAGE_SECONDS
    transcription_text: str = DEFAULT_TRANSCRIPTION
    # What the caller answers each menu they hear, in order: a key, words said (e.g.
    # "say:billing"), HANG_UP, or nothing (they wait); past the last, they wait.
    presses: tuple[str, ...] = ()
    # Twilio's StirVerstat (caller ID attestation), sent when set; what the caller does if
    # challenged (CHALLENGE_KEYS).
    stir_verstat: str = ""
    challenge_key: str = "right"

    def answer_for(self, index: int) -> str:
        """What the `index`th phone rung (from 0) does."""
        answers = self.answers or (self.answer,)
        return answers[min(index, len(answers) - 1)]


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
    """What happened on the call. `child_sid` is the last <Dial>'s DialCallSid; `leg_sids` has
    every phone's leg in the order they rang; `recording_sids` every recording Twilio made."""

    call_sid: str
    child_sid: str = ""
    leg_sids: list[str] = field(default_factory=list)
    recording_sids: list[str] = field(default_factory=list)
    caller_heard: list[str] = field(default_factory=list)
    callee_heard: list[str] = field(default_factory=list)
    keys_pressed: list[str] = field(default_factory=list)
    exchanges: list[Exchange] = field(default_factory=list)
    lines: list[str] = field(default_factory=list)
    duration_seconds: int = 0

    def urls(self) -> list[str]:
        return [exchange.url for exchange in self.exchanges]


@dataclass
class _Leg:
    """One phone a <Dial> rings, and how far it got."""

    destination: str
    answer: str
    sid: str
    number: ET.Element | None
    picked_up_at: int | None = None
    status: str = ""  # its final CallStatus, once it is over


class _Done(Exception):
    """The caller's leg has ended."""


class _CallerGone(Exception):
    """The caller hung up while a destination heard the whisper."""


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


def _destination(noun: ET.Element) -> str:
    """A <Number>'s phone number, or a <Client>'s identity as `client:identity`."""
    if noun.tag == "Client":
        return "client:" + " ".join((noun.findtext("Identity") or noun.text or "").split())
    return _words(noun)


def _dialable(destination: str) -> bool:
    if destination.startswith("client:"):
        # A browser: Twilio rings it if the identity is registered, which the simulator assumes.
        return len(destination) > len("client:")
    try:
        return phonenumbers.is_possible_number(phonenumbers.parse(destination, None))
    except phonenumbers.NumberParseException:
        return False


def new_sid() -> str:
    return "CA" + uuid.uuid4().hex


def new_recording_sid() -> str:
    return "RE" + uuid.uuid4().hex


def _words(element: ET.Element) -> str:
    return " ".join((element.text or "").split())


def _list(names: list[str]) -> str:
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def _now() -> str:
    return format_datetime(datetime.now(UTC))


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

    def _callback(self, url: str, params: dict[str, str], what: str) -> None:
        """A callback Twilio only tells: any answer but 200 or 204 is the app's failure."""
        reply = self._post(url, params, what)
        if reply.status not in (200, 204):
            raise SimulationError(f"The {what} at {url} answered {reply.status}.")

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
        wrong = [answer for answer in (call.answer, *call.answers) if answer not in ANSWERS]
        if wrong:
            raise SimulationError(f"--answer must be one of {', '.join(ANSWERS)}, not {wrong[0]}.")
        if call.challenge_key not in CHALLENGE_KEYS:
            raise SimulationError(
                f"--challenge-key must be one of {', '.join(CHALLENGE_KEYS)}, "
                f"not {call.challenge_key}."
            )
        if call.message_seconds < 0:
            raise SimulationError("--message-seconds must be 0 (no message) or more.")
        self.call = call
        self.clock = 0
        self.rung = 0
        self.menus_heard = 0
        self.transcript = Transcript(call_sid=new_sid())
        where = ", ".join(p for p in (call.city, call.state, call.zip, call.country) if p)
        if call.answers and len(call.answers) > 1:
            plan = "the phones rung answer, in order: " + ", ".join(call.answers)
        else:
            plan = f"the callee will {call.answer_for(0)}"
        self._say(
            f"Simulated call {self.transcript.call_sid} from {call.caller} to {call.to}"
            + (f" ({where})" if where else "")
            + f"; {plan}."
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
            ("StirVerstat", call.stir_verstat),
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
            followed = None
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
                followed = url, self._twiml(url, self._parent_params("in-progress"), "redirect")
            elif verb.tag == "Dial":
                followed = self._dial(verb, url)
            elif verb.tag == "Record":
                followed = self._record(verb, url)
            elif verb.tag == "Gather":
                if urlsplit(urljoin(url, verb.get("action") or url)).path.endswith(
                    "/voice/challenge/"
                ):
                    followed = self._challenge(verb, url)
                else:
                    followed = self._caller_gather(verb, url)
            else:
                self._say(f"  (the simulator does not play <{verb.tag}>; skipped)")
            if followed is not None:
                # Verbs after a <Dial> or <Record> with an action are never reached.
                url, next_root = followed
                verbs, i = list(next_root), 0

    def _caller_gather(self, gather: ET.Element, url: str) -> tuple[str, ET.Element] | None:
        """A menu on the caller's leg: they hear it, then press, say, wait or hang up."""
        for nested in gather:
            if nested.tag in ("Say", "Play"):
                self._hear("caller", _words(nested) if nested.tag == "Say" else "[audio]")
        presses = self.call.presses
        answer = presses[self.menus_heard] if self.menus_heard < len(presses) else ""
        self.menus_heard += 1
        if answer == HANG_UP:
            self._say("  The caller hangs up during the menu.")
            raise _Done
        action = urljoin(url, gather.get("action") or url)
        params = self._parent_params("in-progress")
        if answer.startswith("say:"):
            params.update(SpeechResult=answer[4:], Confidence="0.9")
            self._say(f"  The caller says “{answer[4:]}”.")
            return action, self._twiml(action, params, f"menu: said {answer[4:]!r}")
        if answer:
            self.transcript.keys_pressed.append(answer)
            self._say(f"  The caller presses {answer}.")
            return action, self._twiml(action, {**params, "Digits": answer}, f"menu: key {answer}")
        timeout = int(gather.get("timeout", "5"))
        self.clock += timeout
        self._say(f"  The caller presses nothing for {timeout} s.")
        if gather.get("actionOnEmptyResult") == "true":
            return action, self._twiml(action, {**params, "Digits": ""}, "menu: no key")
        return None

    def _challenge(self, gather: ET.Element, url: str) -> tuple[str, ET.Element] | None:
        """The caller is asked to press a key before anything rings."""
        prompt = []
        for nested in gather:
            if nested.tag == "Say":
                for _ in range(max(int(nested.get("loop", "1") or 1), 1)):
                    self._hear("caller", _words(nested))
                prompt.append(_words(nested))
        choice = self.call.challenge_key
        if choice == "hang-up":
            self._say("  The caller hangs up at the challenge.")
            raise _Done
        match = _CHALLENGE_PROMPT.search(" ".join(prompt))
        asked = match.group(1) if match else ""
        key = {"right": asked, "wrong": next(k for k in "8642" if k != asked), "none": ""}[choice]
        action = urljoin(url, gather.get("action") or url)
        params = {**self._parent_params("in-progress"), "Digits": key}
        if key:
            self._say(f"  The caller presses {key}.")
            return action, self._twiml(action, params, f"challenge key {key}")
        timeout = int(gather.get("timeout", "5"))
        self.clock += timeout
        self._say(f"  The caller presses nothing for {timeout} s.")
        if gather.get("actionOnEmptyResult") == "true":
            return action, self._twiml(action, params, "challenge: no key")
        return None

    # Ringing the destinations.

    def _dial(self, dial: ET.Element, url: str) -> tuple[str, ET.Element] | None:
        """Ring the <Dial>'s phones, all at once; returns its action's URL and TwiML, if any.

        1. Phones that cannot ring (busy, not a number) end at once.
        2. The others ring; in their order, each picks up (and hears the whisper) or not, until
           one is bridged to the caller or the caller hangs up.
        3. Twilio stops the phones still ringing: the call is taken, the caller is gone, or
           the <Dial> timed out.
        4. The bridged phone and the caller talk; their leg ends.
        5. The <Dial action> is told how it went; a recorded <Dial>'s recording is reported.
        """
        numbers = [noun for noun in dial if noun.tag in ("Number", "Client")]
        legs = [
            _Leg(
                destination=_destination(noun) if noun is not None else _words(dial),
                answer=self._next_answer(),
                sid=new_sid(),
                number=noun,
            )
            for noun in (numbers or [None])
        ]
        self.transcript.leg_sids.extend(leg.sid for leg in legs)
        timeout = int(dial.get("timeout", "30"))
        start = self.clock
        phones = _list([leg.destination for leg in legs])
        at_once = " at once" if len(legs) > 1 else ""
        self._say(
            f"  Twilio dials {phones}{at_once} for up to {timeout} s; the caller hears ringing."
        )

        # 1.
        for leg in legs:
            if not _dialable(leg.destination):
                self._say(f"  Twilio cannot dial “{leg.destination}”: the dial fails at once.")
                self._leg_over(leg, "failed", url)
            elif leg.answer == "busy":
                self.clock = max(self.clock, start + BUSY_SECONDS)
                self._say(f"  {self._who(leg, legs)} is busy.")
                self._leg_over(leg, "busy", url)

        # 2.
        winner, caller_gone = None, False
        for leg in legs:
            if leg.status or leg.answer == "no-answer":
                continue
            self.clock = max(self.clock, start + RING_SECONDS)
            if leg.answer == "hang-up":
                self._say(f"  The caller hangs up after {self.clock - start} s of ringing.")
                caller_gone = True
                break
            leg.picked_up_at = self.clock
            self._say(
                f"  {self._who(leg, legs, picks_up=True)} picks up after "
                f"{self.clock - start} s (their leg: {leg.sid})."
            )
            ended = self._answered(leg, url)
            if ended == "bridged":
                winner = leg
                break
            if ended == "caller gone":
                caller_gone = True
                break
            self._leg_over(leg, "completed", url)

        # 3.
        still = [leg for leg in legs if not leg.status and leg is not winner]
        if still and (winner or caller_gone):
            why = "the call is taken" if winner else "the caller is gone"
            for leg in still:
                picked_up = leg.picked_up_at is not None
                how = "hangs up" if picked_up else "stops ringing"
                self._say(f"  Twilio {how} {self._who(leg, legs)}: {why}.")
                self._leg_over(leg, "completed" if picked_up else "canceled", url)
        elif still:
            self.clock = max(self.clock, start + timeout)
            for leg in still:
                self._say(f"  Nobody picks up {self._who(leg, legs)} within {timeout} s.")
                self._leg_over(leg, "no-answer", url)

        # 4.
        talk = 0
        if winner is not None:
            talk = self.call.talk_seconds
            self.clock += talk
            self._say(f"  Caller and callee are connected and talk for {talk} s.")
            self._leg_over(winner, "completed", url)

        # 5.
        answered = [leg for leg in legs if leg.picked_up_at is not None]
        named = winner or (answered[-1] if answered else legs[-1])
        self.transcript.child_sid = named.sid
        result = {
            "DialCallSid": named.sid,
            "DialCallStatus": self._dial_status(legs, caller_gone=caller_gone),
            "DialBridged": "true" if winner else "false",
        }
        if winner:
            result["DialCallDuration"] = str(talk)
        action = dial.get("action")
        followed = None
        if action:
            action = urljoin(url, action)
            params = {
                **self._parent_params("completed" if caller_gone else "in-progress"),
                **result,
            }
            summary = " ".join(f"{k}={v}" for k, v in sorted(result.items()) if k != "DialCallSid")
            followed = action, self._twiml(action, params, f"dial action: {summary}")
        if winner is not None:
            self._dial_recording(dial, url, talk)
        if caller_gone:
            if followed is not None:
                self._say("  (the caller has hung up: nobody hears the answer)")
            raise _Done
        return followed

    def _next_answer(self) -> str:
        answer = self.call.answer_for(self.rung)
        self.rung += 1
        return answer

    def _who(self, leg: _Leg, legs: list[_Leg], *, picks_up: bool = False) -> str:
        if len(legs) == 1 and self.rung == 1:
            return "The callee" if picks_up else leg.destination
        return f"The callee at {leg.destination}" if picks_up else leg.destination

    @staticmethod
    def _dial_status(legs: list[_Leg], *, caller_gone: bool) -> str:
        if caller_gone:
            return "canceled"
        if any(leg.picked_up_at is not None for leg in legs):
            return "completed"
        statuses = {leg.status for leg in legs}
        return next(
            (status for status in ("no-answer", "busy") if status in statuses),
            "failed",
        )

    def _answered(self, leg: _Leg, url: str) -> str:
        """A phone picked up: "bridged", "ended" (its leg hung up) or "caller gone"."""
        number = leg.number
        if number is None or not number.get("url"):
            return "bridged"
        child = {
            "CallSid": leg.sid,
            "ParentCallSid": self.transcript.call_sid,
            "From": self.call.caller,
            "To": leg.destination,
            "CallStatus": "in-progress",
            "Direction": "outbound-dial",
        }
        try:
            bridged = self._whisper(urljoin(url, number.get("url")), child, leg.answer)
        except _CallerGone:
            return "caller gone"
        return "bridged" if bridged else "ended"

    def _leg_over(self, leg: _Leg, status: str, url: str) -> None:
        """A phone's leg has ended: Twilio tells its <Number statusCallback>."""
        leg.status = status
        callback = leg.number.get("statusCallback") if leg.number is not None else None
        if not callback:
            return
        params = {
            "CallSid": leg.sid,
            "ParentCallSid": self.transcript.call_sid,
            "From": self.call.caller,
            "To": leg.destination,
            "CallStatus": status,
            "Direction": "outbound-dial",
            "Timestamp": _now(),
            "CallbackSource": "call-progress-events",
            "SequenceNumber": "0",
        }
        if leg.picked_up_at is not None:
            params["CallDuration"] = str(self.clock - leg.picked_up_at)
        self._callback(
            urljoin(url, callback), params, f"status callback of {leg.destination}: {status}"
        )

    def _dial_recording(self, dial: ET.Element, url: str, talk: int) -> None:
        """A <Dial record> that was bridged: Twilio reports the conversation's recording."""
        record = dial.get("record", "")
        if not (record.startswith("record-from") or record == "true"):
            return
        sid = new_recording_sid()
        self.transcript.recording_sids.append(sid)
        channels = "2" if record.endswith("-dual") else "1"
        tracks = "one channel per side" if channels == "2" else "one channel"
        self._say(f"  Twilio recorded the conversation ({talk} s, {tracks}): {sid}.")
        callback = dial.get("recordingStatusCallback")
        events = dial.get("recordingStatusCallbackEvent", "completed").split()
        if callback and "completed" in events:
            self._recording_callback(
                urljoin(url, callback), sid, talk, source="DialVerb", channels=channels
            )

    # The whisper, on a destination's own leg.

    def _whisper(self, url: str, child: dict[str, str], answer: str) -> bool:
        """The callee's leg: returns whether it ends bridged to the caller."""
        root = self._twiml(url, child, "callee picked up: whisper")
        verbs, i = list(root), 0
        while i < len(verbs):
            verb = verbs[i]
            i += 1
            if verb.tag in ("Say", "Play"):
                self._hear(
                    "callee", _words(verb) if verb.tag == "Say" else f"[audio {_words(verb)}]"
                )
                self._caller_may_hang_up(answer)
            elif verb.tag == "Gather":
                followed = self._gather(verb, url, child, answer)
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

    def _caller_may_hang_up(self, answer: str) -> None:
        if answer == "hang-up-in-whisper":
            self._say("  The caller hangs up while the callee hears the whisper.")
            raise _CallerGone

    def _gather(
        self, gather: ET.Element, url: str, child: dict[str, str], answer: str
    ) -> tuple[str, ET.Element] | None:
        prompt = []
        for nested in gather:
            if nested.tag in ("Say", "Play"):
                words = _words(nested) if nested.tag == "Say" else f"[audio {_words(nested)}]"
                self._hear("callee", words)
                prompt.append(words)
        # Hung up before a key: Twilio ends both legs and requests no <Gather action>.
        self._caller_may_hang_up(answer)
        key = self._key(" ".join(prompt), answer)
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

    def _key(self, prompt: str, answer: str) -> str:
        if answer == "silent":
            return ""
        accept = self._accept_key(prompt)
        if answer == "accept":
            return accept
        if answer == "report-spam":
            match = _REPORT_PROMPT.search(prompt)
            if match is None:
                raise SimulationError(
                    "The whisper offers no report-spam key: set one on the campaign "
                    "(Spam screening → report-spam key)."
                )
            word = match.group(1).lower()
            return _SPOKEN_KEYS.get(word, word)
        report = _REPORT_PROMPT.search(prompt)
        reserved = {accept, report.group(1) if report else ""}
        return next(key for key in "9753" if key not in reserved)

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

    # Voicemail.

    def _record(self, record: ET.Element, url: str) -> tuple[str, ET.Element] | None:
        """The caller leaves a message (or hangs up without one).

        1. The beep; the caller speaks for `message_seconds` and presses the finish key, or
           the recording stops at maxLength; 0 seconds: the caller hangs up at once.
        2. The <Record action> gets the recording (Digits: the key, or "hangup").
        3. Once the file is ready, its recordingStatusCallback (a silent recording is not kept:
           only an `absent` event, if asked for, reports it); then, if asked, its transcription.
        4. The caller hears the action's answer, unless they have hung up.
        """
        # 1.
        max_length = int(record.get("maxLength", "3600")) or 3600
        finish = record.get("finishOnKey", "1234567890*#")
        if record.get("playBeep", "true") != "false":
            self._say("  Caller hears: the beep.")
        seconds = min(self.call.message_seconds, max_length)
        if seconds == 0:
            digits = "hangup"
            self._say("  The caller hangs up without leaving a message.")
        elif self.call.message_seconds >= max_length:
            digits = ""
            self._say(f"  The caller speaks for {seconds} s: the recording stops at its longest.")
        else:
            digits = "#" if "#" in finish else finish[:1]
            self._say(f"  The caller leaves a {seconds}-second message and presses {digits}.")
        self.clock += seconds
        sid = new_recording_sid()
        self.transcript.recording_sids.append(sid)
        recording_url = (
            f"https://api.twilio.com/2010-04-01/Accounts/{self.account_sid}/Recordings/{sid}"
        )

        # 2.
        action = urljoin(url, record.get("action") or url)
        params = {
            **self._parent_params("completed" if seconds == 0 else "in-progress"),
            "RecordingSid": sid,
            "RecordingUrl": recording_url,
            "RecordingDuration": str(seconds),
        }
        if digits:
            params["Digits"] = digits
        root = self._twiml(action, params, f"record action: {seconds} s, Digits={digits or '—'}")

        # 3.
        callback = record.get("recordingStatusCallback")
        events = record.get("recordingStatusCallbackEvent", "completed").split()
        if callback and seconds > 0 and "completed" in events:
            self._recording_callback(
                urljoin(url, callback), sid, seconds, source="RecordVerb", channels="1"
            )
        elif callback and seconds == 0 and "absent" in events:
            self._recording_callback(
                urljoin(url, callback), sid, 0, source="RecordVerb", channels="1", status="absent"
            )
        # A transcribeCallback implies transcribe="true".
        transcribe_url = record.get("transcribeCallback")
        if transcribe_url and seconds > 0:
            self._transcription(urljoin(url, transcribe_url), sid, seconds)

        # 4.
        if seconds == 0:
            self._say("  (the caller has hung up: nobody hears the answer)")
            raise _Done
        return action, root

    def _recording_callback(
        self,
        url: str,
        sid: str,
        seconds: int,
        *,
        source: str,
        channels: str,
        status: str = "completed",
    ) -> None:
        params = {
            "CallSid": self.transcript.call_sid,
            "RecordingSid": sid,
            "RecordingUrl": (
                f"https://api.twilio.com/2010-04-01/Accounts/{self.account_sid}/Recordings/{sid}"
            ),
            "RecordingStatus": status,
            "RecordingDuration": str(seconds),
            "RecordingChannels": channels,
            "RecordingSource": source,
            "RecordingStartTime": _now(),
        }
        self._callback(url, params, f"recording callback: {status}, {seconds} s, {source}")

    def _transcription(self, url: str, recording_sid: str, seconds: int) -> None:
        text = self.call.transcription_text if seconds <= MAX_TRANSCRIBED_SECONDS else ""
        status = "completed" if text else "failed"
        params = {
            "CallSid": self.transcript.call_sid,
            "From": self.call.caller,
            "To": self.call.to,
            "TranscriptionSid": "TR" + uuid.uuid4().hex,
            "TranscriptionStatus": status,
            "TranscriptionText": text,
            "TranscriptionType": "fast",
            "RecordingSid": recording_sid,
            "RecordingUrl": (
                f"https://api.twilio.com/2010-04-01/Accounts/{self.account_sid}"
                f"/Recordings/{recording_sid}"
            ),
        }
        self._callback(url, params, f"transcription callback: {status}")
        if text:
            self._say(f"  Twilio's transcription: “{text}”")

    def _status_callback(self) -> None:
        """The number's Status Callback, once the caller's leg is over."""
        params = {
            **self._parent_params("completed"),
            "CallDuration": str(self.clock),
            "Timestamp": _now(),
            "CallbackSource": "call-progress-events",
            "SequenceNumber": "0",
        }
        self._callback(
            self.base_url + reverse("whisper:status"),
            params,
            f"status callback: completed after {self.clock} s",
        )


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
