"""Ringing agents in the browser: what their Voice SDK is told with each call."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse

from tracking.agents import client_identity
from tracking.routing import Route
from tracking.services import Target
from whisper import twiml
from whisper.security import twilio_webhook

# What an agent's browser hears if it places a call: the console only takes calls.
NO_OUTGOING = "This console takes calls; it does not place them. Goodbye."


def decline_key(accept_key: str, report_key: str = "") -> str:
    """A key the console sends to decline: any key but the accept key (and the report-spam
    key, which would block the caller) declines."""
    return next(key for key in "0*#9" if key not in (accept_key, report_key))


def call_parameters(sid: str, route: Route, target: Target, option: str) -> dict[str, str]:
    """The <Parameter>s of a <Client> leg (none for a phone): the call, for the console to read
        its details, and what it shows before they arrive: the campaign, the menu choice, the keys
    (accept, decline and, where the campaign takes reports, report spam).
    """
    if not client_identity(target.phone_number):
        return {}
    choice = route.menu_choice(option) if option else None
    return {
        "call": sid,
        "campaign": route.campaign_name,
        "choice": choice.label if choice else "",
        "accept_key": route.accept_digit,
        "decline_key": decline_key(route.accept_digit, route.spam_report_key),
        # Empty when the campaign takes no spam reports: the console then shows no button.
        "report_key": route.spam_report_key,
    }


def _no_outgoing(request: HttpRequest) -> HttpResponse:
    return twiml.response(
        twiml.say_and_hang_up(
            NO_OUTGOING, voice=twiml.FALLBACK_VOICE, language=twiml.FALLBACK_LANGUAGE
        )
    )


@twilio_webhook(fallback=_no_outgoing)
def outgoing(request: HttpRequest) -> HttpResponse:
    """Voice URL of the agents' TwiML App: a call placed from an agent's browser."""
    return _no_outgoing(request)
