"""The agent console: an admin page where an agent takes calls in the browser.

The page runs Twilio's Voice JavaScript SDK (vendored in the static files, see the README)
with an access token minted here for the signed-in agent alone. The JSON endpoints answer 403
to anyone who is not a signed-in staff user with the agent role, never a login page.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from django.conf import settings
from django.contrib import admin
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template.response import TemplateResponse
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST
from twilio.jwt.access_token import AccessToken
from twilio.jwt.access_token.grants import VoiceGrant

from tracking import phones
from tracking.agents import Agent
from tracking.models import Call, CallLeg

SDK_VERSION = "2.18.5"
SDK_PATH = f"whisper/vendor/twilio-voice-sdk-{SDK_VERSION}/twilio.min.js"
TOKEN_SETTINGS = (
    "TWILIO_ACCOUNT_SID",
    "TWILIO_API_KEY",
    "TWILIO_API_SECRET",
    "TWILIO_TWIML_APP_SID",
)


def agent_of(request: HttpRequest) -> Agent | None:
    user = request.user
    if not (user.is_authenticated and user.is_active and user.is_staff):
        return None
    return Agent.objects.filter(user=user).first()


def _forbidden() -> JsonResponse:
    return JsonResponse({"error": "Only signed-in agents may use the agent console."}, status=403)


def agent_only(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    @wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        agent = agent_of(request)
        if agent is None:
            return _forbidden()
        return view(request, agent, *args, **kwargs)

    return never_cache(wrapper)


def missing_token_settings() -> list[str]:
    return [name for name in TOKEN_SETTINGS if not getattr(settings, name)]


def access_token(agent: Agent) -> str:
    """A Voice SDK token for `agent` alone: incoming calls to their identity, through the
    configured TwiML App, for AGENT_TOKEN_TTL seconds."""
    token = AccessToken(
        settings.TWILIO_ACCOUNT_SID,
        settings.TWILIO_API_KEY,
        settings.TWILIO_API_SECRET,
        identity=agent.identity,
        ttl=settings.AGENT_TOKEN_TTL,
    )
    token.add_grant(
        VoiceGrant(outgoing_application_sid=settings.TWILIO_TWIML_APP_SID, incoming_allow=True)
    )
    return token.to_jwt()


@require_POST
@agent_only
def token(request: HttpRequest, agent: Agent) -> JsonResponse:
    missing = missing_token_settings()
    if missing:
        return JsonResponse(
            {"error": f"The agent console is not set up: {', '.join(missing)} not set."},
            status=503,
        )
    return JsonResponse(
        {"token": access_token(agent), "identity": agent.identity, "ttl": settings.AGENT_TOKEN_TTL}
    )


@require_POST
@agent_only
def availability(request: HttpRequest, agent: Agent) -> JsonResponse:
    available = request.POST.get("available", "")
    if available not in ("true", "false"):
        return JsonResponse({"error": "Send available=true or available=false."}, status=400)
    agent.is_available = available == "true"
    agent.save(update_fields=["is_available", "updated_at"])
    return JsonResponse({"available": agent.is_available})


@require_GET
@agent_only
def call_details(request: HttpRequest, agent: Agent, sid: str) -> JsonResponse:
    """What the console shows of a call ringing the agent; 404 for any call that is not."""
    rings_agent = CallLeg.objects.filter(call_id=sid[:64], destination__agent=agent).exists()
    call = Call.objects.select_related("campaign").filter(call_sid=sid[:64]).first()
    if not rings_agent or call is None:
        return JsonResponse({"error": "No such call for this agent."}, status=404)
    return JsonResponse(
        {
            "campaign": call.campaign.name if call.campaign else "",
            "caller": phones.national(call.caller_number) if call.caller_number else "",
            "place": call.place.spoken,
            "choice": call.menu_choice,
            "name": call.crm_name or call.caller_name,
            "note": call.crm_note,
        }
    )


def console_page(request: HttpRequest) -> HttpResponse:
    agent = agent_of(request)
    context = {
        **admin.site.each_context(request),
        "title": "Agent console",
        # The page is the agent's whole job: no sidebar of models they may not see anyway.
        "is_nav_sidebar_enabled": False,
        "agent": agent,
        "sdk_path": SDK_PATH,
        "missing": missing_token_settings(),
        "config": {
            "tokenUrl": reverse("agent-console-token"),
            "availabilityUrl": reverse("agent-console-availability"),
            "detailsUrl": reverse("agent-console-call", args=["CALL_SID"]),
            "available": bool(agent and agent.is_available),
        },
    }
    return TemplateResponse(
        request, "admin/agents/console.html", context, status=200 if agent else 403
    )
