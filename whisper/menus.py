"""The caller's menu: played before anything rings, and the webhook that takes the choice.

1. `incoming` answers a campaign with a menu with `offer`: the greeting and options in a
   `<Gather input="dtmf speech">` whose action is `choose`.
2. `choose` reads the key (or the words) and rings what the option rings; no answer takes the
   default option; a wrong key plays the menu once more (`try=2`), then takes the default.
Both work from the cached route, so the menu plays and routes while the database is down; the
choice is then spooled like every other call event.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from twilio.twiml.voice_response import VoiceResponse

from tracking import events, menus
from tracking.menus import MenuChoice
from tracking.routing import Route
from whisper import twiml, views
from whisper.params import TwilioParams
from whisper.security import twilio_webhook

# Seconds the caller has to press a key (or start speaking) once the menu has been read.
MENU_TIMEOUT = 5


def menu(*, route: Route, action: str, apology: bool = False) -> VoiceResponse:
    """The greeting and the options in one `<Gather>` that takes a key or words.

    actionOnEmptyResult posts silence to `action` too, for the default option; the
    `<Redirect>` after it does the same should Twilio fall through the `<Gather>` anyway.
    """
    response = VoiceResponse()
    hints = ", ".join(word for choice in route.menu for word in choice.words)
    gather = response.gather(
        input="dtmf speech",
        num_digits=1,
        action=action,
        method="POST",
        timeout=MENU_TIMEOUT,
        speech_timeout="auto",
        action_on_empty_result=True,
        language=route.language,
        **({"hints": hints} if hints else {}),
    )
    words = menus.prompt(route.menu_greeting, route.menu)
    if apology:
        words = f"{menus.WRONG_KEY} {menus.prompt('', route.menu)}"
    gather.say(words, voice=route.voice, language=route.language)
    response.redirect(action, method="POST")
    return response


def offer(request: HttpRequest, sid: str, route: Route, *, tries: int = 1) -> HttpResponse:
    action = views._url(request, "whisper:menu", sid, route.tracking_number, **{"try": tries})
    return twiml.response(menu(route=route, action=action, apology=tries > 1))


def _tries(request: HttpRequest) -> int:
    value = request.GET.get("try", "")
    return int(value) if value.isdigit() and int(value) <= menus.MENU_TRIES else 1


def _choose(request: HttpRequest, route: Route | None, *, spool: bool) -> HttpResponse:
    """1. No route or no menu (it was removed mid-call): the caller hears the apology.
    2. A key or words of an option: that option; silence: the default; a wrong key: the
       menu again, once.
    3. The choice is recorded (or spooled) and what it rings rings."""
    sid = request.GET.get("call", "")[:64]
    # 1.
    if route is None or not route.menu:
        return twiml.response(twiml.not_in_service())
    # 2.
    params = TwilioParams(request.POST)
    digits, speech = params.text("Digits"), params.text("SpeechResult")
    choice: MenuChoice | None = menus.match(route.menu, digits=digits, speech=speech)
    if choice is None and (digits or speech):
        if _tries(request) < menus.MENU_TRIES:
            return offer(request, sid, route, tries=_tries(request) + 1)
    choice = choice or menus.default_choice(route.menu)
    # 3.
    targets = route.targets_of(choice)
    event = {"sid": sid, "choice": choice.label, "targets": list(targets), "at": timezone.now()}
    if spool:
        events.put("menu_chosen", event)
    else:
        events.record("menu_chosen", **event)
    return views._begin(request, sid, route, targets, option=choice.key)


def _choose_from_cache(request: HttpRequest) -> HttpResponse:
    return _choose(request, views._cached_route(request), spool=True)


@twilio_webhook(fallback=_choose_from_cache)
def choose(request: HttpRequest) -> HttpResponse:
    """<Gather action> of the menu, on the caller's leg: ring what the caller chose."""
    return _choose(request, views._route(request), spool=False)
