"""Spam screening: the block list, the challenge suspect callers must pass, and spam marks.

A blocked caller is rejected before anything rings. A suspect caller (by the campaign's rules:
caller ID attestation, a watch-listed prefix, a burst of calls, a non-fixed VoIP line) hears
"press <digit> to be connected" first; the digit is random and travels signed in the URL Twilio
posts the answer to, so the answer is checked without trusting the caller or the database.

What screening costs while the caller waits:
- the block list is read from the cache (one cache read; one query the first time after the
  cache was emptied), for every call, whatever the campaign;
- attestation and prefix rules read only Twilio's parameters and the cached route: nothing;
- the burst rule counts the caller's recent calls: one query, only on campaigns that use it;
- the line-type rule reads the number's remembered look-up: one query, and a request to Twilio
  Lookup (at most LOOKUP_TIMEOUT_SECONDS) the first time in LOOKUP_MAX_AGE.

While the database is down, the cached block list, attestation and prefixes still screen (the
challenge needs no database: its answer is spooled like any call event), while the burst and
line-type rules are skipped: a call that cannot be screened rings, rather than being lost.
"""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from django.core import signing
from django.core.cache import cache
from django.db import DatabaseError
from django.utils import timezone

from tracking import phones, services
from tracking.models import BlockedCaller, Call, ChallengeAttestation, LineTypeLookup
from whisper import twilio_api

if TYPE_CHECKING:
    from tracking.routing import Route

logger = logging.getLogger(__name__)


BLOCK_LIST_KEY = "screening:block-list"
BLOCK_LIST_TTL = 30 * 24 * 3600
LOOKUP_MAX_AGE = timedelta(days=30)
# Long enough for the caller to hear the challenge twice and answer; a signed answer URL older
# than this is refused.
CHALLENGE_MAX_AGE = 300
CHALLENGE_DIGITS = "123456789"


# Caller ID attestation ---------------------------------------------------------------------


def attestation(verstat: str) -> str:
    """Twilio's StirVerstat, by its prefix: "passed" (A, B or C, and their -Diverted or
    -Passthrough variants), "failed", or "" (No-TN-Validation, absent, or unknown)."""
    if verstat.startswith("TN-Validation-Passed"):
        return "passed"
    if verstat.startswith("TN-Validation-Failed"):
        return "failed"
    return ""


def attestation_label(verstat: str) -> str:
    level = attestation(verstat)
    if level == "passed":
        grade = verstat.removeprefix("TN-Validation-Passed-")[:1]
        return f"Verified ({grade})" if grade in "ABC" and grade else "Verified"
    if level == "failed":
        return "Failed verification"
    return "Not verified" if verstat else "No attestation"


# The block list ----------------------------------------------------------------------------


@dataclass(frozen=True)
class BlockList:
    numbers: frozenset[str] = frozenset()
    prefixes: tuple[str, ...] = ()
    countries: frozenset[str] = frozenset()

    def match(self, caller: str, country: str) -> str:
        """What blocks this caller ("number +1…", "prefix +1900", "country NG"), or ""."""
        if caller in self.numbers:
            return f"number {caller}"
        for prefix in self.prefixes:
            if caller.startswith(prefix):
                return f"prefix {prefix}"
        if country.upper() in self.countries:
            return f"country {country.upper()}"
        return ""


def _load_block_list() -> dict:
    entries = list(BlockedCaller.objects.values_list("kind", "value"))
    Kind = BlockedCaller.Kind
    return {
        "numbers": frozenset(value for kind, value in entries if kind == Kind.NUMBER),
        "prefixes": tuple(sorted(value for kind, value in entries if kind == Kind.PREFIX)),
        "countries": frozenset(value for kind, value in entries if kind == Kind.COUNTRY),
    }


def block_list() -> BlockList:
    """The block list, from the cache; from the database (and cached) when the cache has none.
    Empty, with a log line, when neither can be read: calls ring rather than fail."""
    try:
        data = cache.get(BLOCK_LIST_KEY)
    except Exception:
        logger.exception("Block list cache unreadable")
        data = None
    if data is None:
        try:
            data = _load_block_list()
        except DatabaseError:
            logger.warning("Block list unavailable (database and cache): not applied")
            return BlockList()
        _cache_block_list(data)
    return BlockList(**data)


def _cache_block_list(data: dict) -> None:
    try:
        cache.set(BLOCK_LIST_KEY, data, BLOCK_LIST_TTL)
    except Exception:
        logger.exception("Block list cache unwritable")


def refresh_block_list() -> None:
    """Re-cache the block list after an entry changed."""
    _cache_block_list(_load_block_list())


# Whom to challenge -------------------------------------------------------------------------


@dataclass(frozen=True)
class Verdict:
    blocked: str = ""  # what on the block list matched
    challenge: str = ""  # why the caller must pass the challenge
    line_type: str = ""

    def as_event(self) -> dict:
        return {
            "spam": Call.Spam.BLOCKED if self.blocked else "",
            "screening_reason": f"blocked: {self.blocked}" if self.blocked else self.challenge,
            "line_type": self.line_type,
        }


def screen(
    *, caller: str, country: str, verstat: str, route: Route, at: datetime, database: bool = True
) -> Verdict:
    """Decide whether a caller is blocked, challenged or rung straight away.

    `database=False` (the fallback, routing from the cache) skips the rules that need it.
    """
    blocked = block_list().match(caller, country)
    if blocked:
        return Verdict(blocked=blocked)
    rule = route.challenge_attestation
    level = attestation(verstat)
    if rule and level == "failed":
        return Verdict(challenge="caller ID failed verification")
    if rule == ChallengeAttestation.UNVERIFIED and level != "passed":
        return Verdict(challenge="caller ID not verified")
    for prefix in route.challenge_prefixes:
        if caller.startswith(prefix):
            return Verdict(challenge=f"number starts with {prefix}")
    if not database:
        return Verdict()
    try:
        if route.burst_calls and _recent_calls(caller, route, at) >= route.burst_calls:
            return Verdict(
                challenge=f"more than {route.burst_calls} calls in {route.burst_minutes} min"
            )
        line_type = line_type_of(caller) if route.challenge_voip else ""
    except DatabaseError:
        logger.warning("Database unavailable: burst and line-type rules skipped for a call")
        return Verdict()
    if line_type == "nonFixedVoip":
        return Verdict(challenge="non-fixed VoIP line", line_type=line_type)
    return Verdict(line_type=line_type)


def _recent_calls(caller: str, route: Route, at: datetime) -> int:
    """Calls from `caller` in the campaign's burst window before this one (at most enough to
    decide). Callers without a number (anonymous) count together, as they should."""
    since = at - timedelta(minutes=route.burst_minutes)
    recent = Call.objects.filter(caller_number=caller, started_at__gte=since, started_at__lte=at)
    return len(recent.values_list("pk", flat=True)[: route.burst_calls])


def line_type_of(phone_number: str) -> str:
    """The line type Twilio Lookup gives `phone_number`, remembered for LOOKUP_MAX_AGE; "" when
    unknown or Twilio cannot be asked (the caller is then not challenged for it)."""
    if not phones.is_e164(phone_number):
        return ""
    known = LineTypeLookup.objects.filter(phone_number=phone_number).first()
    if known is not None and timezone.now() - known.looked_up_at < LOOKUP_MAX_AGE:
        return known.line_type
    try:
        kind = twilio_api.line_type(phone_number=phone_number)[:20]
    except twilio_api.TwilioError as error:
        logger.warning("Line type of %s unknown: %s", phone_number, error)
        return known.line_type if known is not None else ""
    LineTypeLookup.objects.update_or_create(
        phone_number=phone_number, defaults={"line_type": kind, "looked_up_at": timezone.now()}
    )
    return kind


# The challenge -----------------------------------------------------------------------------


def new_challenge_digit() -> str:
    return secrets.choice(CHALLENGE_DIGITS)


def _signer(sid: str) -> signing.TimestampSigner:
    # Bound to the call: a token of one call does not open another.
    return signing.TimestampSigner(salt=f"tracking.screening.challenge:{sid}")


def challenge_token(*, sid: str, digit: str, started_at: datetime) -> str:
    """The expected digit and the call's start, signed, to travel in the answer's URL."""
    return _signer(sid).sign(f"{digit}.{int(started_at.timestamp())}")


def read_challenge_token(token: str, *, sid: str) -> tuple[str, datetime] | None:
    """The expected digit and the call's start; None for a token that is forged, of another
    call, or too old."""
    try:
        value = _signer(sid).unsign(token[:200], max_age=CHALLENGE_MAX_AGE)
    except signing.BadSignature:
        return None
    digit, _, epoch = value.partition(".")
    if digit not in CHALLENGE_DIGITS or len(digit) != 1 or not epoch.isdigit():
        return None
    return digit, datetime.fromtimestamp(int(epoch), UTC)


def challenge_prompt(digit: str) -> str:
    return f"To be connected, press {digit}."


# Writes ------------------------------------------------------------------------------------
# Keyed by CallSid and idempotent like every call-log write (see tracking.services).


def challenge_answered(*, sid: str, passed: bool, at: datetime | None = None) -> Call:
    """The caller answered the challenge (or did not: `passed` False); the first answer
    stands. Failing it makes the call spam."""
    with services._locked(sid) as locked:
        if locked.call.challenge_passed is not None:
            return locked.call
        facts: dict[str, object] = {"challenge_passed": passed}
        if not passed:
            facts["spam"] = Call.Spam.CHALLENGE
        return services._settle(locked, **facts)


def call_set_spam(*, sid: str, spam: str) -> Call:
    """Mark a call as spam (`spam` a Call.Spam) or clear its mark (""), and derive its outcome
    anew from what happened on the line."""
    with services._locked(sid, brief=False) as locked:
        if locked.call.spam != spam:
            locked.call.spam = spam
            locked.call_changed.add("spam")
        call = services._settle(locked)
        if not spam:
            # Undoes what a report during the whisper did to the block list.
            BlockedCaller.objects.filter(reported_call_id=call.call_sid).delete()
    return call
