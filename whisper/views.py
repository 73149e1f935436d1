"""Twilio's webhooks: check, read, hand to one service, answer with TwiML."""

from __future__ import annotations

from urllib.parse import urlencode

from django.http import HttpRequest, HttpResponse
from django.urls import reverse

from tracking import services
from tracking.announcement import CallerPlace, announcement
from tracking.models import DEFAULT_ACCEPT_DIGIT, Call
from whisper import twiml
from whisper.params import TwilioParams
from whisper.security import public_url, twilio_webhook


def _url(request: HttpRequest, name: str, call_sid: str) -> str:
    # The parent CallSid travels in the URL: the callee's leg carries its own CallSid, and the
    # signature covers the query string, so it cannot be tampered with.
    return public_url(request, f"{reverse(name)}?{urlencode({'call': call_sid})}")


def _parent_sid(request: HttpRequest, params: TwilioParams) -> str:
    return request.GET.get("call", "")[:64] or params.parent_call_sid or params.call_sid


def _not_in_service(request: HttpRequest) -> HttpResponse:
    return twiml.response(twiml.not_in_service())


def _hang_up(request: HttpRequest) -> HttpResponse:
    return twiml.response(twiml.hang_up())


def _no_content(request: HttpRequest) -> HttpResponse:
    return HttpResponse(status=204)


@twilio_webhook(fallback=_not_in_service)
def incoming(request: HttpRequest) -> HttpResponse:
    """Voice URL of every tracking number: log the call and ring the business."""
    params = TwilioParams(request.POST)
    number = services.call_start(call=params.incoming_call())
    if number is None:
        return twiml.response(twiml.not_in_service())
    return twiml.response(
        twiml.forward(
            destination=number.destination,
            ring_timeout=number.campaign.ring_timeout,
            dial_action=_url(request, "whisper:dial-done", params.call_sid),
            whisper_url=_url(request, "whisper:screen", params.call_sid),
        )
    )


def _generic_screen(request: HttpRequest, parent_sid: str) -> HttpResponse:
    # Without the call's campaign we still screen: the callee decides with the default key.
    words = announcement(
        campaign="a tracked number",
        place=CallerPlace(),
        announce_location=False,
        template="",
        accept_digit=DEFAULT_ACCEPT_DIGIT,
    )
    return twiml.response(
        twiml.screen(
            words=words,
            voice=twiml.FALLBACK_VOICE,
            language=twiml.FALLBACK_LANGUAGE,
            decide_url=_url(request, "whisper:decide", parent_sid),
        )
    )


def _screen_fallback(request: HttpRequest) -> HttpResponse:
    return _generic_screen(request, request.GET.get("call", "")[:64])


@twilio_webhook(fallback=_screen_fallback)
def screen(request: HttpRequest) -> HttpResponse:
    """<Number url>: the callee picked up; only they hear this."""
    params = TwilioParams(request.POST)
    parent_sid = _parent_sid(request, params)
    call = services.call_whispered(sid=parent_sid, dial_call_sid=params.call_sid)
    if call is None or call.campaign is None:
        return _generic_screen(request, parent_sid)
    campaign = call.campaign
    return twiml.response(
        twiml.screen(
            words=campaign.whisper_for(call.place),
            voice=campaign.whisper_voice,
            language=campaign.whisper_language,
            decide_url=_url(request, "whisper:decide", parent_sid),
        )
    )


@twilio_webhook(fallback=_hang_up)
def decide(request: HttpRequest) -> HttpResponse:
    """<Gather action>: the callee's key joins them to the caller, or ends their leg."""
    params = TwilioParams(request.POST)
    call = services.call_decided(sid=_parent_sid(request, params), digits=params.text("Digits"))
    if call is not None and call.decision == Call.Decision.ACCEPTED:
        return twiml.response(twiml.bridge())
    return twiml.response(twiml.hang_up())


@twilio_webhook(fallback=_hang_up)
def dial_done(request: HttpRequest) -> HttpResponse:
    """<Dial action>, on the caller's leg: settle the outcome, then tell a caller who was not
    connected something useful before hanging up."""
    params = TwilioParams(request.POST)
    call = services.call_dial_finished(
        sid=_parent_sid(request, params),
        dial_status=params.text("DialCallStatus"),
        dial_call_sid=params.text("DialCallSid"),
        bridged=params.boolean("DialBridged"),
        talk_seconds=params.seconds("DialCallDuration"),
    )
    if call is None or call.outcome == Call.Outcome.ACCEPTED or call.campaign is None:
        return twiml.response(twiml.hang_up())
    campaign = call.campaign
    return twiml.response(
        twiml.say_and_hang_up(
            campaign.missed_message,
            voice=campaign.whisper_voice,
            language=campaign.whisper_language,
        )
    )


@twilio_webhook(fallback=_no_content)
def status(request: HttpRequest) -> HttpResponse:
    """Status Callback of the caller's leg: when and how long."""
    params = TwilioParams(request.POST)
    services.call_status_changed(
        sid=params.call_sid,
        call_status=params.text("CallStatus"),
        duration_seconds=params.seconds("CallDuration"),
        at=params.timestamp("Timestamp"),
    )
    return HttpResponse(status=204)
