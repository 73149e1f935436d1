"""A marketer's first hour, in a real browser: log in, set up a campaign and its number, let
calls come in through Twilio's signed webhooks, find one call, and read the campaign's
acceptance rate off the reports page."""

from __future__ import annotations

import random
import re
import secrets
from datetime import timedelta

import pytest
from django.contrib.auth.models import User
from django.utils import timezone

from tests.browser.conftest import LiveClient
from tests.twilio_signing import TwilioPoster
from tests.whisper.steps import answered, dial_done, incoming, pressed, status
from tracking.models import Call, Campaign, TrackingNumber

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

NUMBER = "+17375550142"
NUMBER_AS_TYPED = "(737) 555-0142"


def _call(twilio: TwilioPoster, sid: str, caller: str, *, key: str | None) -> None:
    """One whole call as Twilio makes it: `key` pressed after the whisper, or never answered."""
    start = incoming(twilio, sid, From=caller, To=NUMBER, FromCity="AUSTIN", FromState="TX")
    if key is None:
        dial_done(twilio, start, sid, DialCallStatus="no-answer", DialBridged="false")
    else:
        child = f"{sid}-leg"
        pressed(twilio, answered(twilio, start, child), key, child)
        bridged = key == "1"
        dial_done(
            twilio,
            start,
            sid,
            DialCallStatus="completed",
            DialBridged="true" if bridged else "false",
            DialCallDuration="95" if bridged else "0",
            DialCallSid=child,
        )
    status(twilio, sid)


def _history() -> None:
    """Earlier weeks of another campaign, so the report's charts have something to show.

    Seeded, so the screenshots change only when the pages do.
    """
    billboard = Campaign.objects.create(name="Spring Billboard")
    billboard.destinations.create(label="Front desk", phone_number="+15125550199")
    number = TrackingNumber.objects.create(
        phone_number="+15125550100", campaign=billboard, label="I-35 billboard"
    )
    rng = random.Random(2026)
    outcomes = ["accepted"] * 6 + ["rejected", "no_input", "no_answer", "busy", "abandoned"]
    places = [("AUSTIN", "TX"), ("DALLAS", "TX"), ("HOUSTON", "TX"), ("CHICAGO", "IL"), ("", "")]
    midnight = timezone.now().replace(hour=0, minute=0, second=0, microsecond=0)
    calls = []
    for n in range(48):
        outcome = rng.choice(outcomes)
        # Business hours, Central time, mostly.
        started = midnight - timedelta(
            days=rng.randint(1, 28), hours=-rng.choice(range(13, 24)), minutes=-rng.randint(0, 59)
        )
        city, state = rng.choice(places)
        calls.append(
            Call(
                call_sid=f"CAHISTORY{n:04d}",
                tracking_number=number,
                campaign=billboard,
                called_number=number.phone_number,
                caller_number=f"+1214555{1000 + n}",
                started_at=started,
                whispered_at=started if outcome in {"accepted", "rejected", "no_input"} else None,
                outcome=outcome,
                talk_seconds=rng.randint(20, 420) if outcome == "accepted" else None,
                caller_city=city,
                caller_state=state,
                caller_country="US" if city else "",
            )
        )
    Call.objects.bulk_create(calls)


def test_a_marketer_sets_up_a_campaign_and_reads_its_acceptance_rate(page, live_server):
    password = secrets.token_urlsafe(16)
    User.objects.create_superuser("marketing", "marketing@example.com", password)
    _history()

    # 1. Log in through the login form.
    page.goto("/admin/")
    page.fill("#id_username", "marketing")
    page.fill("#id_password", password)
    page.click("input[type=submit]")
    page.wait_for_url(re.compile(r"/admin/$"))

    # 2. A campaign, the phone it rings and its first tracking number, in one form (the
    # destination and the number are inlines).
    page.goto("/admin/tracking/campaign/add/")
    page.fill("#id_name", "Summer Radio")
    page.fill("#id_destinations-0-label", "Front desk")
    page.fill("#id_destinations-0-phone_number", "(512) 555-0198")
    page.fill("#id_numbers-0-phone_number", NUMBER_AS_TYPED)
    page.fill("#id_numbers-0-label", "KUT morning show")
    page.click("input[name=_save]")
    page.wait_for_url(re.compile(r"/admin/tracking/campaign/$"))
    assert page.locator("#result_list").get_by_text("Summer Radio").count() == 1
    campaign = Campaign.objects.get(name="Summer Radio")
    assert list(campaign.numbers.values_list("phone_number", flat=True)) == [NUMBER]
    assert list(campaign.destinations.values_list("label", "phone_number")) == [
        ("Front desk", "+15125550198")
    ]

    # 3. Four calls through Twilio's webhooks: two accepted, one declined, one not answered.
    twilio = TwilioPoster(LiveClient(live_server.url), base=live_server.url)
    _call(twilio, "CA0001", "+13125550111", key="1")
    _call(twilio, "CA0002", "+13125550122", key="1")
    _call(twilio, "CA0003", "+13125550133", key="7")
    _call(twilio, "CA0004", "+13125550144", key=None)
    outcomes = Call.objects.filter(campaign=campaign).order_by("call_sid")
    assert [call.outcome for call in outcomes] == ["accepted", "accepted", "rejected", "no_answer"]

    page.goto("/admin/tracking/campaign/")

    # 4. Find one call in the log by its caller's number, typed as people write it.
    page.goto("/admin/tracking/call/")
    page.fill("#searchbar", "(312) 555-0133")
    page.press("#searchbar", "Enter")
    page.wait_for_url(re.compile(r"[?&]q="))
    rows = page.locator("#result_list tbody tr")
    assert rows.count() == 1
    assert "Summer Radio" in rows.first.inner_text()
    assert "Rejected" in rows.first.inner_text()

    # 5. The reports page, reached from the call list, for the default period (last 30 days).
    page.click("text=Reports")
    page.wait_for_url(re.compile(r"/admin/tracking/call/reports/"))
    row = page.locator("#report-campaigns tbody tr").filter(
        has=page.locator("th", has_text="Summer Radio")
    )
    # 2 accepted of the 3 calls whose whisper played; the unanswered one was never screened.
    # Rates on 3 and 4 calls: shown, and marked as resting on too few calls.
    assert row.locator("td.acceptance_rate").inner_text() == "66.7%*"
    assert row.locator("td.connect_rate").inner_text() == "50.0%*"
    assert row.locator("td.call_count").inner_text() == "4"
    assert page.locator("svg#chart-days").is_visible()

    # 6. The same figure through the campaign filter of the form.
    page.select_option("#id_campaign", label="Summer Radio")
    page.click(".report-filters button[type=submit]")
    page.wait_for_url(re.compile(rf"campaign={campaign.pk}"))
    assert page.locator(".report-summary .acceptance_rate dd").first.inner_text() == "66.7%"
