"""Twilio's webhooks: check, read, hand to one service, answer with TwiML.

Every call event goes through `events.record`, which writes it or, when the database cannot
take it, spools it; routing comes from `routing`, which remembers every route it reads. So
while the database is down a call to a known number still rings the business with its whisper.
"""

from __future__ import annotations

import logging
from urllib.parse import urlencode

from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.utils import timezone

from tracking import events, routing
from tracking.announcement import CallerPlace, announcement
from tracking.models import DEFAULT_ACCEPT_DIGIT, Call
from tracking.routing import Route
from tracking.services import IncomingCall
from whisper import twiml
from whisper.params import TwilioParams
from whisper.security import public_url, twilio_webhook

logger = logging.getLogger(__name__)


def _url(request: HttpRequest, name: str, call_sid: str, tracking_number: str) -> str:
    # The parent CallSid travels in the URL (the callee's leg has its own CallSid), and so does
    # the tracking number, to route from the cache if the database is down. The signature
    # covers the query string, so neither can be tampered with.
    query = urlencode({"call": call_sid, "to": tracking_number})
    return public_url(request, f"{reverse(name)}?{query}")


def _parent_sid(request: HttpRequest, params: TwilioParams) -> str:
    return request.GET.get("call", "")[:64] or params.parent_call_sid or params.call_sid


def _cached_route(request: HttpRequest) -> Route | None:
    return routing.cached_route(request.GET.get("to", "")[:32])


def _forward(request: HttpRequest, sid: str, route: Route) -> HttpResponse:
    return twiml.response(
        twiml.forward(
            destination=route.destination,
            ring_timeout=route.ring_timeout,
            dial_action=_url(request, "whisper:dial-done", sid, route.tracking_number),
            whisper_url=_url(request, "whisper:screen", sid, route.tracking_number),
        )
    )


def _start_event(call: IncomingCall, route: Route | None) -> dict:
    """What the call log needs to know of a call that has just come in."""
    return {
        "call": call,
        "number_id": route.number_id if route else None,
        "campaign_id": route.campaign_id if route else None,
        "destination": route.destination if route else "",
        "at": timezone.now(),
    }


def _forward_from_cache(request: HttpRequest) -> HttpResponse:
    """Route without the database at all: for the Voice Fallback URL and as the incoming
    webhook's last resort. The start of the call is spooled, to be logged later."""
    try:
        call = TwilioParams(request.POST).incoming_call()
        route = routing.cached_route(call.called)
        if route is None:
            return twiml.response(twiml.not_in_service())
        events.put("start", _start_event(call, route))
        return _forward(request, call.sid, route)
    except Exception:
        logger.exception("Could not route %s from the cache", request.path)
        return twiml.response(twiml.not_in_service())


@twilio_webhook(fallback=_forward_from_cache)
def incoming(request: HttpRequest) -> HttpResponse:
    """Voice URL of every tracking number: log the call and ring the business."""
    call = TwilioParams(request.POST).incoming_call()
    route = routing.route_for(call.called)
    events.record("start", **_start_event(call, route))
    if route is None:
        return twiml.response(twiml.not_in_service())
    return _forward(request, call.sid, route)


@twilio_webhook(fallback=_forward_from_cache)
def fallback(request: HttpRequest) -> HttpResponse:
    """Voice Fallback URL: Twilio asks here when the Voice URL failed or was too slow. The
    database may be what failed, so this routes from the cache and spools the call's start."""
    logger.error(
        "Voice URL failed for %s (Twilio error %s); answering from the fallback",
        request.POST.get("CallSid", "")[:64],
        request.POST.get("ErrorCode", "")[:16],
    )
    return _forward_from_cache(request)


def _screen(request: HttpRequest, parent_sid: str, *, words: str, voice: str, language: str):
    return twiml.response(
        twiml.screen(
            words=words,
            voice=voice,
            language=language,
            decide_url=_url(request, "whisper:decide", parent_sid, request.GET.get("to", "")[:32]),
        )
    )


def _screen_from_cache(request: HttpRequest, parent_sid: str) -> HttpResponse:
    # The database did not give us the call: the cached route still names the campaign (the
    # caller's place is not known here). Without even that, screen with the default key.
    route = _cached_route(request)
    if route is not None:
        return _screen(
            request,
            parent_sid,
            words=route.whisper_for(CallerPlace()),
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
    return _screen_from_cache(request, request.GET.get("call", "")[:64])


@twilio_webhook(fallback=_screen_fallback)
def screen(request: HttpRequest) -> HttpResponse:
    """<Number url>: the callee picked up; only they hear this."""
    params = TwilioParams(request.POST)
    parent_sid = _parent_sid(request, params)
    call = events.record(
        "whispered", sid=parent_sid, dial_call_sid=params.call_sid, at=timezone.now()
    )
    if call is None or call.campaign is None:
        return _screen_from_cache(request, parent_sid)
    campaign = call.campaign
    return _screen(
        request,
        parent_sid,
        words=campaign.whisper_for(call.place),
        voice=campaign.whisper_voice,
        language=campaign.whisper_language,
    )


def _decide_from_cache(request: HttpRequest) -> HttpResponse:
    route = _cached_route(request)
    accept = route.accept_digit if route else DEFAULT_ACCEPT_DIGIT
    digits = request.POST.get("Digits", "")[:1]
    return twiml.response(twiml.bridge() if digits and digits == accept else twiml.hang_up())


@twilio_webhook(fallback=_decide_from_cache)
def decide(request: HttpRequest) -> HttpResponse:
    """<Gather action>: the callee's key joins them to the caller, or ends their leg."""
    params = TwilioParams(request.POST)
    call = events.record(
        "decided",
        sid=_parent_sid(request, params),
        digits=params.text("Digits"),
        at=timezone.now(),
    )
    if call is None:
        return _decide_from_cache(request)
    accepted = call.decision == Call.Decision.ACCEPTED
    return twiml.response(twiml.bridge() if accepted else twiml.hang_up())


def _after_dial_from_cache(request: HttpRequest) -> HttpResponse:
    route = _cached_route(request)
    if route is None or request.POST.get("DialBridged") == "true":
        return twiml.response(twiml.hang_up())
    return twiml.response(
        twiml.say_and_hang_up(route.missed_message, voice=route.voice, language=route.language)
    )


@twilio_webhook(fallback=_after_dial_from_cache)
def dial_done(request: HttpRequest) -> HttpResponse:
    """<Dial action>, on the caller's leg: settle the outcome, then tell a caller who was not
    connected something useful before hanging up."""
    params = TwilioParams(request.POST)
    call = events.record(
        "dial_finished",
        sid=_parent_sid(request, params),
        dial_status=params.text("DialCallStatus"),
        dial_call_sid=params.text("DialCallSid"),
        bridged=params.boolean("DialBridged"),
        talk_seconds=params.seconds("DialCallDuration"),
    )
    if call is None:
        return _after_dial_from_cache(request)
    if call.outcome == Call.Outcome.ACCEPTED or call.campaign is None:
        return twiml.response(twiml.hang_up())
    campaign = call.campaign
    return twiml.response(
        twiml.say_and_hang_up(
            campaign.missed_message,
            voice=campaign.whisper_voice,
            language=campaign.whisper_language,
        )
    )


def _no_content(request: HttpRequest) -> HttpResponse:
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
