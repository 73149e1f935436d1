"""An agent takes calls in the browser: the console registers with (a local fake of) Twilio's
Voice SDK, shows an incoming call with what the whisper says, and answers it with the
campaign's keys. A screenshot of the console goes to docs/screenshots/."""

from __future__ import annotations

from pathlib import Path

import jwt
import pytest
from django.contrib.auth.models import User
from playwright.sync_api import expect

from tests.browser.conftest import LiveClient
from tests.menus.steps import chose
from tests.twilio_signing import TwilioPoster
from tests.whisper.steps import incoming
from tracking.agents import Agent
from tracking.models import Call, Campaign, TrackingNumber

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

FAKE_SDK = (Path(__file__).parent / "fake_voice_sdk.js").read_text()
API_SECRET = "agent-token-secret-for-the-browser-test"


@pytest.fixture
def console_settings(settings):
    settings.TWILIO_TWIML_APP_SID = "AP" + "c" * 32
    settings.TWILIO_API_KEY = "SK" + "d" * 32
    settings.TWILIO_API_SECRET = API_SECRET


def _ringing_call(live_server, agent: Agent) -> dict[str, str]:
    """A caller chooses Billing in the Support line's menu, which rings the agent: the
    <Client>'s parameters, as Twilio hands them to the agent's browser."""
    campaign = Campaign.objects.create(
        name="Support line", menu_greeting="Thanks for calling", spam_report_key="9"
    )
    destination = campaign.destinations.create(label="Ana", agent=agent)
    campaign.menu_options.create(key="1", label="Billing", is_default=True).destinations.set(
        [destination]
    )
    TrackingNumber.objects.create(phone_number="+15125550100", campaign=campaign)
    twilio = TwilioPoster(LiveClient(live_server.url), base=live_server.url)
    ringing = chose(twilio, incoming(twilio, "CA_AGENT1"), sid="CA_AGENT1", Digits="1")
    Call.objects.filter(call_sid="CA_AGENT1").update(
        crm_name="Jane Doe", crm_note="Gold customer; invoice 1042 disputed"
    )
    client = ringing.find("Dial/Client")
    return {p.get("name"): p.get("value") for p in client.findall("Parameter")}


def test_an_agent_takes_a_call_in_the_browser(page, live_server, screenshots, console_settings):
    user = User.objects.create_user(
        "ana", password="console-pass-1", is_staff=True, first_name="Ana", last_name="Ruiz"
    )
    agent = Agent.objects.create(user=user, is_available=True)
    parameters = _ringing_call(live_server, agent)
    page.route(
        "**/static/whisper/vendor/twilio-voice-sdk-*/twilio.min.js",
        lambda route: route.fulfill(body=FAKE_SDK, content_type="text/javascript"),
    )

    # 1. Sign in and open the console: it registers with a token for this agent.
    page.goto("/admin/")
    page.fill("#id_username", "ana")
    page.fill("#id_password", "console-pass-1")
    page.click("input[type=submit]")
    page.click("text=Agent console")
    expect(page.locator("#console-status")).to_have_text("Ready: calls ring here")
    token = page.evaluate("window.__fakeVoice.devices[0].token")
    claims = jwt.decode(token, API_SECRET, algorithms=["HS256"])
    assert claims["grants"]["identity"] == agent.identity

    # 2. The call rings: the console picks up (the whisper plays) and shows the call.
    first = page.evaluate("(parameters) => window.__fakeVoice.ring(parameters)", parameters)
    expect(page.locator("#call-place")).to_have_text("Austin, Texas")
    card = page.locator("#incoming-call")
    facts = dict(
        zip(card.locator("dt").all_inner_texts(), card.locator("dd").all_inner_texts(), strict=True)
    )
    assert facts == {
        "Campaign": "Support line",
        "Caller": "(312) 555-0123",
        "Calling from": "Austin, Texas",
        "Menu choice": "Billing",
        "Name": "Jane Doe",
        "CRM note": "Gold customer; invoice 1042 disputed",
        "Time": "0:00",
    }
    assert page.evaluate(f"window.__fakeVoice.calls[{first}].accepted")
    page.set_viewport_size({"width": 1200, "height": 800})
    page.screenshot(path=screenshots / "agent-console.png", full_page=True)

    # 3. Accept sends the campaign's accept key; the timer runs; Hang up ends the call.
    page.click("#call-accept")
    assert page.evaluate(f"window.__fakeVoice.calls[{first}].digits") == ["1"]
    assert page.inner_text("#call-state") == "On the call"
    expect(page.locator("#call-timer")).to_have_text("0:01")
    page.click("#call-hangup")
    assert page.evaluate(f"window.__fakeVoice.calls[{first}].disconnected")
    assert card.is_hidden()

    # 4. The next call is declined: another key.
    second = page.evaluate("(parameters) => window.__fakeVoice.ring(parameters)", parameters)
    page.click("#call-decline")
    assert page.evaluate(f"window.__fakeVoice.calls[{second}].digits") == ["0"]
    assert page.inner_text("#call-state") == "Declined"

    # 5. The next is reported as spam: the campaign's report key.
    third = page.evaluate("(parameters) => window.__fakeVoice.ring(parameters)", parameters)
    page.click("#call-report")
    assert page.evaluate(f"window.__fakeVoice.calls[{third}].digits") == ["9"]
    assert page.inner_text("#call-state") == "Reported as spam: the caller is blocked"
    assert page.locator("#call-report").is_hidden()

    # 6. A campaign that takes no reports shows no such button.
    page.evaluate(
        "(parameters) => window.__fakeVoice.ring(parameters)", {**parameters, "report_key": ""}
    )
    expect(page.locator("#call-decline")).to_be_visible()
    assert page.locator("#call-report").is_hidden()

    # 7. Going away: the campaign stops ringing this agent.
    page.click("#availability-toggle")
    expect(page.locator("#availability-state")).to_have_text("away")
    agent.refresh_from_db()
    assert not agent.is_available


def test_the_console_fits_a_phone_screen(page, live_server, console_settings):
    user = User.objects.create_user("ben", password="console-pass-2", is_staff=True)
    Agent.objects.create(user=user)
    page.route(
        "**/static/whisper/vendor/twilio-voice-sdk-*/twilio.min.js",
        lambda route: route.fulfill(body=FAKE_SDK, content_type="text/javascript"),
    )
    page.set_viewport_size({"width": 390, "height": 800})
    page.goto("/admin/login/?next=/admin/agent-console/")
    page.fill("#id_username", "ben")
    page.fill("#id_password", "console-pass-2")
    page.click("input[type=submit]")
    expect(page.locator("#console-status")).to_have_text("Ready: calls ring here")

    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    assert page.locator("#availability-toggle").is_visible()
