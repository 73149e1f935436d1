"""The agent console's page and endpoints: tokens for the signed-in agent only, availability,
and the details of a call that rings them."""

from __future__ import annotations

import time
from io import StringIO

import jwt
import pytest
from django.contrib.auth.models import User
from django.core.management import CommandError, call_command
from django.test import Client
from django.urls import reverse

from tests.agents.conftest import API_KEY, API_SECRET, TWIML_APP_SID
from tests.twilio_signing import ACCOUNT_SID
from tests.whisper.steps import incoming
from tracking.agents import Agent
from tracking.models import Call

TOKEN = reverse("agent-console-token")
AVAILABILITY = reverse("agent-console-availability")
CONSOLE = reverse("agent-console")


def _claims(token: str) -> dict:
    # Verified with the API secret: a token Twilio would accept.
    return jwt.decode(token, API_SECRET, algorithms=["HS256"])


@pytest.mark.django_db
def test_an_anonymous_visitor_gets_no_token(client):
    response = client.post(TOKEN)

    assert response.status_code == 403
    assert "token" not in response.json()


@pytest.mark.django_db
def test_a_staff_user_who_is_no_agent_gets_no_token(admin_client):
    assert admin_client.post(TOKEN).status_code == 403
    assert admin_client.post(AVAILABILITY, {"available": "true"}).status_code == 403


@pytest.mark.django_db
def test_an_inactive_or_non_staff_agent_gets_no_token(ana, ana_client):
    User.objects.filter(pk=ana.user_id).update(is_staff=False)

    assert ana_client.post(TOKEN).status_code == 403


@pytest.mark.django_db
def test_the_token_is_the_signed_in_agents_short_lived_and_names_the_twiml_app(ana, ana_client):
    before = int(time.time())
    response = ana_client.post(TOKEN, {"identity": "agent_999"})

    assert response.status_code == 200
    assert response["Cache-Control"].startswith("max-age=0")
    body = response.json()
    assert body["identity"] == ana.identity == f"agent_{ana.user_id}"
    claims = _claims(body["token"])
    assert claims["iss"] == API_KEY and claims["sub"] == ACCOUNT_SID
    assert claims["grants"]["identity"] == ana.identity, "a posted identity is ignored"
    assert claims["grants"]["voice"] == {
        "incoming": {"allow": True},
        "outgoing": {"application_sid": TWIML_APP_SID},
    }
    assert before + 590 <= claims["exp"] <= int(time.time()) + 600


@pytest.mark.django_db
def test_the_token_endpoint_is_post_only_and_csrf_protected(ana):
    client = Client(enforce_csrf_checks=True)
    client.force_login(ana.user)

    assert client.get(TOKEN).status_code == 405
    assert client.post(TOKEN).status_code == 403


@pytest.mark.django_db
def test_without_the_settings_the_token_endpoint_says_what_is_missing(ana_client, settings):
    settings.TWILIO_API_SECRET = ""

    response = ana_client.post(TOKEN)

    assert response.status_code == 503
    assert "TWILIO_API_SECRET" in response.json()["error"]


@pytest.mark.django_db
def test_the_agent_sets_their_availability(ana, ana_client):
    assert ana_client.post(AVAILABILITY, {"available": "false"}).json() == {"available": False}
    ana.refresh_from_db()
    assert not ana.is_available

    assert ana_client.post(AVAILABILITY, {"available": "maybe"}).status_code == 400
    ana.refresh_from_db()
    assert not ana.is_available


@pytest.mark.django_db
def test_call_details_are_for_the_agent_the_call_rings(twilio, agent_number, ana, ben):
    incoming(twilio, CallerName="JANE DOE")
    Call.objects.update(crm_note="<script>alert(1)</script>", menu_choice="Billing")
    url = reverse("agent-console-call", args=["CA100"])

    response = Client()
    response.force_login(ana.user)
    details = response.get(url).json()

    assert details == {
        "campaign": "Spring Billboard",
        "caller": "(312) 555-0123",
        "place": "Austin, Texas",
        "choice": "Billing",
        "name": "JANE DOE",
        "note": "<script>alert(1)</script>",
    }
    other = make_other_agent_client()
    assert other.get(url).status_code == 404
    assert Client().get(url).status_code == 403
    assert response.get(reverse("agent-console-call", args=["CA404"])).status_code == 404


def make_other_agent_client() -> Client:
    user = User.objects.create_user("cleo", password="x", is_staff=True)
    Agent.objects.create(user=user)
    client = Client()
    client.force_login(user)
    return client


@pytest.mark.django_db
def test_the_console_page_loads_the_vendored_sdk_for_agents_only(ana_client, admin_client):
    page = ana_client.get(CONSOLE)

    assert page.status_code == 200
    html = page.content.decode()
    assert "/static/whisper/vendor/twilio-voice-sdk-2.18.5/twilio.min.js" in html
    assert "agent-console-config" in html
    assert admin_client.get(CONSOLE).status_code == 403
    assert Client().get(CONSOLE).status_code == 302, "the admin's sign-in page"


@pytest.mark.django_db
def test_the_vendored_sdk_is_served_as_a_static_file(ana_client):
    from django.contrib.staticfiles import finders

    path = finders.find("whisper/vendor/twilio-voice-sdk-2.18.5/twilio.min.js")
    assert path is not None
    with open(path, encoding="utf-8") as bundle:
        assert "Device" in bundle.read()


@pytest.mark.django_db
def test_the_home_page_links_agents_to_their_console(ana_client, admin_client):
    ana_client.force_login(Agent.objects.get().user)
    User.objects.filter(username="ana").update(is_superuser=True)

    assert CONSOLE.encode() in ana_client.get(reverse("admin:index")).content
    assert CONSOLE.encode() not in admin_client.get(reverse("admin:index")).content


@pytest.mark.django_db
def test_point_agent_app_sets_the_twiml_apps_voice_url(settings):
    from tests.provisioning.fake_twilio import FakeTwilio, FakeTwilioServer
    from tests.twilio_signing import AUTH_TOKEN

    server = FakeTwilioServer(FakeTwilio(account_sid=ACCOUNT_SID, auth_token=AUTH_TOKEN))
    server.fake.applications[TWIML_APP_SID] = {"sid": TWIML_APP_SID, "voice_url": ""}
    settings.TWILIO_API_BASE_URL = server.url
    settings.PUBLIC_BASE_URL = "https://calls.example.com"
    try:
        out = StringIO()
        call_command("point_agent_app", stdout=out)
        assert server.fake.applications[TWIML_APP_SID]["voice_url"] == (
            "https://calls.example.com/twilio/voice/agent/"
        )
        assert "Voice URL https://calls.example.com/twilio/voice/agent/" in out.getvalue()
        settings.TWILIO_TWIML_APP_SID = "AP" + "f" * 32
        with pytest.raises(CommandError, match="could not complete updating the TwiML App"):
            call_command("point_agent_app", stdout=StringIO())
    finally:
        server.stop()


@pytest.mark.django_db
def test_a_call_placed_from_a_browser_is_politely_refused(twilio):
    from tests.twilio_signing import twiml

    response = twiml(twilio.post("/twilio/voice/agent/", {"CallSid": "CA9", "From": "client:x"}))

    assert [el.tag for el in response] == ["Say", "Hangup"]
    assert twilio.post("/twilio/voice/agent/", {}, signature="bad").status_code == 403
