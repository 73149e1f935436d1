"""Twilio's webhooks: check, read, hand to one service, answer with TwiML.

Every call event goes through `events.record`, which writes it or, when the database cannot
take it, spools it; routing comes from `routing`, which remembers every route it reads. So
while the database is down a call to a known number still rings its destinations with the
whisper, and still reaches voicemail.

A call's path:
1. `incoming` logs the call with the destinations it will ring (business hours decide which),
   then rings the first (one after another) or all of them (all at once). Screening comes
   first (tracking.screening): a blocked caller is rejected, a suspect one must answer the
   challenge (`challenge`) before anything rings.
2. Each destination that picks up hears the whisper (`screen`) and presses a key (`decide`).
   Its phone's own status callback (`leg_status`) says how it stopped ringing.
3. When a <Dial> ends (`dial_done`), an accepted call is over; otherwise the next destination
   rings, or the caller reaches voicemail (`voicemail_done`, `recording`, `transcription`) or
   hears the missed-call message.
4. The caller's status callback (`status`) closes the call.
"""

from __future__ import annotations

import functools
import logging
from urllib.parse import quote_plus

from django.http import HttpRequest, HttpResponse
from django.urls import get_script_prefix, reverse
from django.utils import timezone

from attribution.calls import whisper_facts
from tracking import caller_context, events, routing, screening
from tracking.announcement import CallerContext, CallerPlace, announcement
from tracking.models import DEFAULT_ACCEPT_DIGIT, CallLeg, Recording
from tracking.routing import Route
from tracking.services import IncomingCall, Target
from whisper import agents, twiml
from whisper.params import TwilioParams
from whisper.security import public_url, twilio_webhook

logger = logging.getLogger(__name__)

# More destinations than any campaign has; bounds what a URL can make us parse.
MAX_LEGS = 50


@functools.cache
def _path(name: str, prefix: str) -> str:
    # The URLconf does not change while the process runs: each path is reversed once (per
    # script prefix, which `reverse` puts in front and which is part of the key).
    return reverse(name)


def _url(request: HttpRequest, name: str, call_sid: str, tracking_number: str, **extra) -> str:
    # The parent CallSid travels in the URL (each destination's leg has its own CallSid), and
    # so does the tracking number, to route from the cache if the database is down. The
    # signature covers the query string, so none of it can be tampered with.
    query = _query_string({"call": call_sid, "to": tracking_number, **extra})
    return public_url(request, f"{_path(name, get_script_prefix())}?{query}")


def _query_string(values: dict[str, object]) -> str:
    """As `urlencode` (whose every value and name goes through `quote_plus`, several times per
    webhook), quoting only the values that need it; the names are ours."""
    return "&".join(
        f"{name}={text if text.isascii() and text.isalnum() else quote_plus(text)}"
        for name, text in ((name, str(value)) for name, value in values.items())
    )


def _query(request: HttpRequest) -> TwilioParams:
    """The query string of a URL our own TwiML named: read with the same strict rules."""
    return TwilioParams(request.GET)


def _call_param(request: HttpRequest) -> str:
    return _query(request).text("call", limit=64)


def _to_param(request: HttpRequest) -> str:
    return _query(request).text("to", limit=32)


def _parent_sid(request: HttpRequest, params: TwilioParams) -> str:
    return _call_param(request) or params.parent_call_sid or params.call_sid


def _leg(request: HttpRequest) -> int:
    """The position of the destination a request is about (URLs from before legs: 0)."""
    leg = _query(request).integer("leg", maximum=MAX_LEGS - 1)
    return 0 if leg is None else leg


def _positions(request: HttpRequest) -> list[int]:
    if "legs" not in request.GET:
        return [0]
    return _query(request).integers("legs", maximum=MAX_LEGS - 1, count=MAX_LEGS) or [0]


def _planned(request: HttpRequest) -> int:
    return _query(request).integer("of", maximum=MAX_LEGS) or 1


def _cached_route(request: HttpRequest) -> Route | None:
    return routing.cached_route(_to_param(request))


def _route(request: HttpRequest) -> Route | None:
    """The call's route: from the cache (kept in step with every change), else the database."""
    to = _to_param(request)
    return routing.cached_route(to) or routing.route_for(to)


def _voice(route: Route, words: str) -> twiml.VoiceNotice:
    return twiml.VoiceNotice(words, route.voice, route.language)


def _ring(
    request: HttpRequest,
    sid: str,
    route: Route,
    targets: tuple[Target, ...],
    positions: list[int],
    *,
    first: bool = False,
    option: str = "",
) -> HttpResponse:
    def url(name: str, **extra) -> str:
        return _url(request, name, sid, route.tracking_number, **extra)

    # The menu option chosen travels with the <Dial>, for the next destination to ring.
    chosen = {"opt": option} if option else {}

    legs = [
        twiml.Leg(
            phone_number=targets[position].phone_number,
            whisper_url=url("whisper:screen", leg=position, **chosen),
            status_url=url("whisper:leg-status", leg=position),
            parameters=agents.call_parameters(sid, route, targets[position], option),
        )
        for position in positions
    ]
    # Route.recording_notice is empty unless the campaign records its calls.
    notice = route.recording_notice if first else ""
    return twiml.response(
        twiml.ring(
            legs=legs,
            ring_timeout=route.ring_timeout,
            dial_action=url(
                "whisper:dial-done",
                legs=",".join(map(str, positions)),
                of=len(targets),
                **chosen,
            ),
            notice=_voice(route, notice) if notice else None,
            recording_url=url("whisper:recording", kind="conversation")
            if route.record_calls
            else "",
        )
    )


def _begin(
    request: HttpRequest,
    sid: str,
    route: Route,
    targets: tuple[Target, ...],
    *,
    option: str = "",
) -> HttpResponse:
    """The first thing a caller hears: ringing, or (nobody to ring) voicemail."""
    # Agents who are away keep their place in the call's plan, but are not rung.
    reachable = [position for position, target in enumerate(targets) if not target.away]
    if not reachable:
        return _missed(request, sid, route)
    positions = reachable if route.simultaneous else reachable[:1]
    return _ring(request, sid, route, targets, positions, first=True, option=option)


def _answer(
    request: HttpRequest, sid: str, route: Route, *, menu: bool, targets: tuple[Target, ...]
) -> HttpResponse:
    """A new call (or one that passed the challenge) hears the campaign's menu, or rings."""
    if menu:
        # Imported here: the menu's own webhook builds on this module.
        from whisper import menus

        return menus.offer(request, sid, route)
    return _begin(request, sid, route, targets)


def _targets(request: HttpRequest, route: Route) -> tuple[Target, ...]:
    """What the call rings: the menu option's destinations, when the caller chose one."""
    choice = route.menu_choice(request.GET.get("opt", "")[:1]) if route.menu else None
    return route.targets_of(choice) if choice else route.targets


def _missed(request: HttpRequest, sid: str, route: Route) -> HttpResponse:
    """Nobody took the call: voicemail if the campaign has it, else its missed-call message."""
    if not route.voicemail_enabled:
        return twiml.response(
            twiml.say_and_hang_up(route.missed_message, voice=route.voice, language=route.language)
        )
    events.record("voicemail_started", sid=sid, at=timezone.now())

    def url(name: str, **extra) -> str:
        return _url(request, name, sid, route.tracking_number, **extra)

    return twiml.response(
        twiml.voicemail(
            greeting=_voice(route, route.voicemail_greeting),
            audio_url=route.voicemail_audio_url,
            max_seconds=route.voicemail_max_seconds,
            action=url("whisper:voicemail-done"),
            recording_url=url("whisper:recording", kind=Recording.Kind.VOICEMAIL),
            transcription_url=url("whisper:transcription") if route.voicemail_transcribe else "",
        )
    )


def _after_unanswered(request: HttpRequest, sid: str, route: Route) -> HttpResponse:
    """A <Dial> ended and nobody took the call: the next destination, or voicemail."""
    targets = _targets(request, route)
    planned = range(max(_positions(request)) + 1, min(_planned(request), len(targets)))
    following = next((position for position in planned if not targets[position].away), None)
    if not route.simultaneous and following is not None:
        option = request.GET.get("opt", "")[:1] if targets is not route.targets else ""
        return _ring(request, sid, route, targets, [following], option=option)
    return _missed(request, sid, route)


def _start_event(
    call: IncomingCall, route: Route | None, *, database: bool = True
) -> tuple[dict, screening.Verdict]:
    """What the call log needs to know of a call that has just come in (with whom it rings),
    and what screening decided (`database=False`: the rules that need it are skipped)."""
    at = timezone.now()
    verdict = (
        screening.screen(
            caller=call.caller,
            country=call.country,
            verstat=call.stir_verstat,
            route=route,
            at=at,
            database=database,
        )
        if route
        else screening.Verdict()
    )
    # A blocked caller rings nobody: no destinations are planned.
    plan = route.plan(at) if route and not verdict.blocked else None
    # Screening comes first: a challenged caller hears the menu once they pass.
    menu = route.offers_menu(plan) if route and plan else False
    event = {
        "call": call,
        "number_id": route.number_id if route else None,
        "campaign_id": route.campaign_id if route else None,
        "targets": list(plan.targets) if plan and not menu else [],
        "after_hours": plan.after_hours if plan else False,
        "at": at,
        "menu": menu,
        **verdict.as_event(),
    }
    return event, verdict


def _answer_start(
    request: HttpRequest, call: IncomingCall, route: Route, event: dict, verdict
) -> HttpResponse:
    """The caller's first answer: rejected, challenged, or on to the menu or ringing."""
    if verdict.blocked:
        return twiml.response(twiml.reject())
    if verdict.challenge:
        return _challenge(request, call.sid, route, event["at"])
    return _answer(request, call.sid, route, menu=event["menu"], targets=tuple(event["targets"]))


def _challenge(request: HttpRequest, sid: str, route: Route, started_at) -> HttpResponse:
    digit = screening.new_challenge_digit()
    token = screening.challenge_token(sid=sid, digit=digit, started_at=started_at)
    return twiml.response(
        twiml.challenge(
            prompt=screening.challenge_prompt(digit),
            action=_url(request, "whisper:challenge", sid, route.tracking_number, t=token),
            voice=route.voice,
            language=route.language,
        )
    )


def _forward_from_cache(request: HttpRequest) -> HttpResponse:
    """Route without the database at all: for the Voice Fallback URL and as the incoming
    webhook's last resort. The start of the call is spooled, to be logged later."""
    try:
        call = TwilioParams(request.POST).incoming_call()
        route = routing.cached_route(call.called)
        event, verdict = _start_event(call, route, database=False)
        if call.sid:
            # Without a route the call is logged as unmatched, as the caller heard it.
            events.put("start", event)
        if route is None:
            return twiml.response(twiml.not_in_service())
        return _answer_start(request, call, route, event, verdict)
    except Exception:
        logger.exception("Could not route %s from the cache", request.path)
        return twiml.response(twiml.not_in_service())


@twilio_webhook(fallback=_forward_from_cache)
def incoming(request: HttpRequest) -> HttpResponse:
    """Voice URL of every tracking number: log the call and ring the business."""
    call = TwilioParams(request.POST).incoming_call()
    route = routing.route_for(call.called)
    event, verdict = _start_event(call, route)
    if route is not None:
        event.update(caller_context.crm_facts(route, call))
    events.record("start", **event)
    if route is None:
        return twiml.response(twiml.not_in_service())
    return _answer_start(request, call, route, event, verdict)


def _challenge_answer(request: HttpRequest, *, database: bool = True) -> HttpResponse:
    """The caller's key, checked against the signed digit in the URL: on to ringing, or the
    call ends as spam. `database=False` routes from the cache and spools the answer."""
    params = TwilioParams(request.POST)
    sid = _call_param(request) or params.call_sid
    expected = screening.read_challenge_token(_query(request).text("t", limit=200), sid=sid)
    passed = expected is not None and params.text("Digits", limit=1) == expected[0]
    event = {"sid": sid, "passed": passed, "at": timezone.now()}
    if database:
        events.record("challenge_answered", **event)
    else:
        events.put("challenge_answered", event)
    route = _route(request) if database else _cached_route(request)
    if route is None:
        return twiml.response(twiml.not_in_service())
    if not passed:
        return twiml.response(
            twiml.say_and_hang_up(
                twiml.CHALLENGE_FAILED, voice=route.voice, language=route.language
            )
        )
    # The menu and whom to ring were planned when the call came in: the same instant plans
    # the same.
    plan = route.plan(expected[1])
    return _answer(request, sid, route, menu=route.offers_menu(plan), targets=plan.targets)


def _challenge_from_cache(request: HttpRequest) -> HttpResponse:
    try:
        return _challenge_answer(request, database=False)
    except Exception:
        logger.exception("Could not answer a challenge from the cache")
        return twiml.response(twiml.not_in_service())


@twilio_webhook(fallback=_challenge_from_cache)
def challenge(request: HttpRequest) -> HttpResponse:
    """<Gather action> of the challenge: the suspect caller's key."""
    return _challenge_answer(request)


@twilio_webhook(fallback=_forward_from_cache)
def fallback(request: HttpRequest) -> HttpResponse:
    """Voice Fallback URL: Twilio asks here when the Voice URL failed or was too slow. The
    database may be what failed, so this routes from the cache and spools the call's start."""
    logger.error(
        "Voice URL failed for %s (Twilio error %s); answering from the fallback",
        TwilioParams(request.POST).call_sid,
        TwilioParams(request.POST).text("ErrorCode", limit=16),
    )
    return _forward_from_cache(request)


def _screen(request: HttpRequest, parent_sid: str, *, words: str, voice: str, language: str):
    decide_url = _url(
        request,
        "whisper:decide",
        parent_sid,
        _to_param(request),
        leg=_leg(request),
    )
    return twiml.response(
        twiml.screen(words=words, voice=voice, language=language, decide_url=decide_url)
    )


def _screen_from_cache(request: HttpRequest, parent_sid: str) -> HttpResponse:
    # The database did not give us the call: the cached route still names the campaign (the
    # caller's place is not known here). Without even that, screen with the default key.
    route = _cached_route(request)
    if route is not None:
        choice = route.menu_choice(request.GET.get("opt", "")[:1])
        return _screen(
            request,
            parent_sid,
            words=route.whisper_for(
                CallerPlace(), CallerContext(choice=choice.label if choice else "")
            ),
            voice=route.voice,
            language=route.language,
        )
    words = announcement(
        campaign="a tracked number",
        place=CallerPlace(),
        announce_location=False,
        template="",
        accept_digit=DEFAULT_ACCEPT_DIGIT,
    )
    return _screen(
        request,
        parent_sid,
        words=words,
        voice=twiml.FALLBACK_VOICE,
        language=twiml.FALLBACK_LANGUAGE,
    )


def _screen_fallback(request: HttpRequest) -> HttpResponse:
    return _screen_from_cache(request, _call_param(request))


@twilio_webhook(fallback=_screen_fallback)
def screen(request: HttpRequest) -> HttpResponse:
    """<Number url>: a destination picked up; only they hear this."""
    params = TwilioParams(request.POST)
    parent_sid = _parent_sid(request, params)
    call = events.record(
        "whispered",
        sid=parent_sid,
        leg=_leg(request),
        leg_sid=params.call_sid,
        at=timezone.now(),
    )
    if call is None or call.campaign is None:
        return _screen_from_cache(request, parent_sid)
    campaign = call.campaign
    if call.spam:
        # Ringing at once, another destination reported it while this one was ringing.
        return twiml.response(
            twiml.say_and_hang_up(
                twiml.REPORTED_AS_SPAM,
                voice=campaign.whisper_voice,
                language=campaign.whisper_language,
            )
        )
    return _screen(
        request,
        parent_sid,
        words=campaign.whisper_for(call.place, caller_context.of(call), **whisper_facts(call)),
        voice=campaign.whisper_voice,
        language=campaign.whisper_language,
    )


def _decide_from_cache(request: HttpRequest) -> HttpResponse:
    route = _cached_route(request)
    accept = route.accept_digit if route else DEFAULT_ACCEPT_DIGIT
    digits = TwilioParams(request.POST).text("Digits")[:1]
    return twiml.response(twiml.bridge() if digits and digits == accept else twiml.hang_up())


@twilio_webhook(fallback=_decide_from_cache)
def decide(request: HttpRequest) -> HttpResponse:
    """<Gather action>: the destination's key joins them to the caller, or ends their leg.
    Of destinations ringing at once, only the first to accept is joined."""
    params = TwilioParams(request.POST)
    leg = _leg(request)
    call = events.record(
        "decided",
        sid=_parent_sid(request, params),
        leg=leg,
        digits=params.text("Digits"),
        at=timezone.now(),
    )
    if call is None:
        return _decide_from_cache(request)
    took_it = call.leg_results.get(leg) == CallLeg.Result.ACCEPTED
    return twiml.response(twiml.bridge() if took_it else twiml.hang_up())


def _no_content(request: HttpRequest) -> HttpResponse:
    return HttpResponse(status=204)


@twilio_webhook(fallback=_no_content)
def leg_status(request: HttpRequest) -> HttpResponse:
    """A destination's status callback: how its phone stopped ringing."""
    params = TwilioParams(request.POST)
    events.record(
        "leg_ended",
        sid=_call_param(request) or params.parent_call_sid,
        leg=_leg(request),
        leg_sid=params.call_sid,
        leg_status=params.text("CallStatus"),
    )
    return HttpResponse(status=204)


def _after_dial_from_cache(request: HttpRequest) -> HttpResponse:
    params = TwilioParams(request.POST)
    route = _cached_route(request)
    # Bridged: the call is over. `canceled`: the caller hung up, and Twilio would ignore
    # anything more; no voicemail was offered.
    if route is None or params.boolean("DialBridged") or _caller_gone(params):
        return twiml.response(twiml.hang_up())
    return _after_unanswered(request, _call_param(request), route)


def _caller_gone(params: TwilioParams) -> bool:
    return params.text("DialCallStatus") == "canceled"


@twilio_webhook(fallback=_after_dial_from_cache)
def dial_done(request: HttpRequest) -> HttpResponse:
    """<Dial action>, on the caller's leg: settle the destinations' results, then ring the
    next one, or take a message, or tell the caller nobody could answer."""
    params = TwilioParams(request.POST)
    sid = _parent_sid(request, params)
    dial_status = params.text("DialCallStatus")
    call = events.record(
        "dial_finished",
        sid=sid,
        legs=_positions(request),
        dial_status=dial_status,
        dial_call_sid=params.text("DialCallSid"),
        bridged=params.boolean("DialBridged"),
        talk_seconds=params.seconds("DialCallDuration"),
    )
    if call is None:
        return _after_dial_from_cache(request)
    taken = CallLeg.Result.ACCEPTED in call.leg_results.values()
    # A call reported as spam rings nobody else and leaves no message.
    if taken or _caller_gone(params) or call.campaign is None or call.spam:
        return twiml.response(twiml.hang_up())
    route = _route(request)
    if route is None:
        campaign = call.campaign
        return twiml.response(
            twiml.say_and_hang_up(
                campaign.missed_message,
                voice=campaign.whisper_voice,
                language=campaign.whisper_language,
            )
        )
    return _after_unanswered(request, sid, route)


def _thanks(request: HttpRequest) -> HttpResponse:
    route = _cached_route(request)
    voice = route.voice if route else twiml.FALLBACK_VOICE
    language = route.language if route else twiml.FALLBACK_LANGUAGE
    return twiml.response(
        twiml.say_and_hang_up(twiml.THANKS_FOR_MESSAGE, voice=voice, language=language)
    )


def _recording_event(
    request: HttpRequest, params: TwilioParams, kind: str, *, notify: bool = True
) -> None:
    events.record(
        "recording",
        notify=notify,
        sid=_parent_sid(request, params),
        recording_sid=params.text("RecordingSid"),
        kind=kind,
        url=params.text("RecordingUrl"),
        duration_seconds=params.seconds("RecordingDuration"),
        status=params.text("RecordingStatus"),
        at=timezone.now(),
    )


@twilio_webhook(fallback=_thanks)
def voicemail_done(request: HttpRequest) -> HttpResponse:
    """<Record action>: the caller finished the message (# or silence or the time limit)."""
    # The caller is still listening: the e-mail waits for the recording callback.
    _recording_event(request, TwilioParams(request.POST), Recording.Kind.VOICEMAIL, notify=False)
    return _thanks(request)


@twilio_webhook(fallback=_no_content)
def recording(request: HttpRequest) -> HttpResponse:
    """Recording status callback: a voicemail or a conversation is ready at Twilio."""
    _recording_event(request, TwilioParams(request.POST), _query(request).text("kind", limit=16))
    return HttpResponse(status=204)


@twilio_webhook(fallback=_no_content)
def transcription(request: HttpRequest) -> HttpResponse:
    """<Record transcribeCallback>: the text of a voicemail (or why there is none)."""
    params = TwilioParams(request.POST)
    events.record(
        "transcription",
        sid=_parent_sid(request, params),
        recording_sid=params.text("RecordingSid"),
        text=params.text("TranscriptionText", limit=5000),
        status=params.text("TranscriptionStatus"),
    )
    return HttpResponse(status=204)


@twilio_webhook(fallback=_no_content)
def status(request: HttpRequest) -> HttpResponse:
    """Status Callback of the caller's leg: when and how long."""
    params = TwilioParams(request.POST)
    events.record(
        "status_changed",
        sid=params.call_sid,
        call_status=params.text("CallStatus"),
        duration_seconds=params.seconds("CallDuration"),
        # Stamped now when Twilio sent no time: a spooled event is replayed later.
        at=params.timestamp("Timestamp") or timezone.now(),
    )
    return HttpResponse(status=204)
