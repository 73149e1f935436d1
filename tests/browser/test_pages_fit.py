"""Every page a marketer reads, at a laptop's width (1440 × 900) and a phone's (390 × 844):
nothing is wider than the screen, and the key figures show without scrolling. The screenshots
go to docs/screenshots/ (the README shows them)."""

from __future__ import annotations

import io
import re
import secrets

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command

from tracking.models import Call, Campaign, TrackingNumber

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

VIEWPORTS = {1440: 900, 390: 844}
# A name typed (or pasted) without a space: it must wrap, not push the page wider.
LONG_NAME = "Summer" + "X" * 109 + "Radio"  # 120 characters, the most a name may have

# Elements whose right edge is past the viewport, outside any box that scrolls on its own.
OVERFLOWING = """
() => {
  const width = document.documentElement.clientWidth;
  const scrolls = (el) => {
    for (let p = el.parentElement; p; p = p.parentElement) {
      const overflow = getComputedStyle(p).overflowX;
      if (overflow === "auto" || overflow === "scroll" || overflow === "hidden") return true;
    }
    return false;
  };
  const out = [];
  for (const el of document.body.querySelectorAll("*")) {
    const box = el.getBoundingClientRect();
    if (box.width === 0 || getComputedStyle(el).visibility === "hidden") continue;
    if (box.right > width + 1 && !scrolls(el)) {
      out.push(`${el.tagName.toLowerCase()}#${el.id}.${el.className}`.slice(0, 120));
    }
  }
  // Boxes that scroll sideways: content hidden behind a scrollbar.
  const sideways = [];
  for (const el of document.body.querySelectorAll("*")) {
    const overflow = getComputedStyle(el).overflowX;
    if ((overflow === "auto" || overflow === "scroll" || overflow === "hidden")
        && el.scrollWidth > el.clientWidth + 1 && el.clientWidth > 2) {  // not screen-reader text
      sideways.push(`${el.tagName.toLowerCase()}#${el.id}.${el.className}`.slice(0, 120));
    }
  }
  return {scrollWidth: document.documentElement.scrollWidth, width, out: out.slice(0, 5), sideways};
}
"""


@pytest.fixture
def signed_in(browser, live_server):
    """A marketer's browser at each width, signed in, over the demo data."""
    call_command("seed_demo", "--calls", "1500", "--seed", "7", stdout=io.StringIO())
    campaign = Campaign.objects.create(name=LONG_NAME)
    TrackingNumber.objects.create(phone_number="+15125550177", campaign=campaign, label=LONG_NAME)
    password = secrets.token_urlsafe(16)
    User.objects.create_superuser("marketing", "marketing@example.com", password)

    contexts = []

    def open_at(width: int):
        context = browser.new_context(
            base_url=live_server.url,
            viewport={"width": width, "height": VIEWPORTS[width]},
            locale="en-US",
        )
        context.set_default_timeout(15_000)
        contexts.append(context)
        page = context.new_page()
        page.goto("/admin/login/")
        page.fill("#id_username", "marketing")
        page.fill("#id_password", password)
        page.click("input[type=submit]")
        page.wait_for_url(re.compile(r"/admin/$"))
        return page

    yield open_at
    for context in contexts:
        context.close()


def _fits(page, name: str, width: int, screenshots) -> None:
    page.screenshot(path=screenshots / f"{name}-{width}.png")
    found = page.evaluate(OVERFLOWING)
    assert found["scrollWidth"] <= width, (name, width, found)
    assert found["out"] == [], (name, width, found)
    # Nothing behind a sideways scrollbar, except on a phone a report's wide tables (their
    # first column stays in view) and a call's raw Twilio record (folded under the timeline).
    allowed = ("report-table-wrap", "tabular") if width < 768 else ()
    hidden = [box for box in found["sideways"] if not any(a in box for a in allowed)]
    assert hidden == [], (name, width, hidden)


def _above_the_fold(page, selector: str) -> None:
    element = page.locator(selector).first
    assert element.is_visible(), selector
    box = element.bounding_box()
    height = page.viewport_size["height"]
    assert box["y"] >= 0 and box["y"] + box["height"] <= height, (selector, box, height)


@pytest.mark.parametrize("width", sorted(VIEWPORTS, reverse=True))
def test_every_page_fits_and_shows_its_key_figures(signed_in, width, screenshots):
    page = signed_in(width)

    # The dashboard: the last 7 days' calls and acceptance rate, first thing.
    page.goto("/admin/")
    _fits(page, "dashboard", width, screenshots)
    _above_the_fold(page, "#dash-window-7 .call_count .dash-value")
    _above_the_fold(page, "#dash-window-7 .acceptance_rate .dash-value")
    assert re.fullmatch(r"\d+\.\d%", page.inner_text("#dash-window-7 .acceptance_rate .dash-value"))
    if width == 1440:
        _above_the_fold(page, "#dash-window-30 .acceptance_rate .dash-value")
        assert page.locator("svg#chart-dashboard-days").is_visible()
    # The demo's website sources, beside the top campaigns, within the page at either width.
    assert page.locator("#dash-top-sources tbody tr").count() > 0

    # The call list: its first calls, with who called and who took it.
    page.goto("/admin/tracking/call/")
    _fits(page, "calls", width, screenshots)
    _above_the_fold(page, "#result_list tbody tr:first-child td.field-caller")
    if width == 1440:
        _above_the_fold(page, "#result_list tbody tr:first-child td.field-taken_by")
    else:
        # On a phone the filters come first, folded, so the calls follow at once.
        _above_the_fold(page, "#changelist-filter")

    # A call with a voicemail: its timeline.
    call = Call.objects.filter(outcome=Call.Outcome.VOICEMAIL).order_by("-started_at").first()
    page.goto(f"/admin/tracking/call/{call.pk}/change/")
    _fits(page, "call", width, screenshots)
    _above_the_fold(page, ".call-summary .call-outcome")
    _above_the_fold(page, "ol.timeline li.event:first-child")

    # Campaigns and numbers, the long name included.
    page.goto("/admin/tracking/campaign/")
    _fits(page, "campaigns", width, screenshots)
    _above_the_fold(page, "#result_list tbody tr:first-child td.field-acceptance_rate")
    page.goto("/admin/tracking/trackingnumber/")
    _fits(page, "numbers", width, screenshots)
    _above_the_fold(page, "#result_list tbody tr:first-child td.field-calls")

    # Deleting the long-named campaign: its name wraps too.
    long_named = Campaign.objects.get(name=LONG_NAME)
    page.goto(f"/admin/tracking/campaign/{long_named.pk}/delete/")
    found = page.evaluate(OVERFLOWING)
    assert found["scrollWidth"] <= width and found["out"] == [], found

    # The report: the acceptance rate among the first figures.
    page.goto("/admin/tracking/call/reports/")
    _fits(page, "report", width, screenshots)
    _above_the_fold(page, ".report-summary .acceptance_rate dd")
    _above_the_fold(page, ".report-summary .connect_rate dd")


def test_a_call_back_is_marked_done_from_the_dashboard(signed_in):
    page = signed_in(1440)
    page.goto("/admin/")
    first = page.locator(".callback-list li.callback").first
    sid = first.get_attribute("data-call")
    count = int(page.inner_text(".dash-count").rstrip("+"))

    first.locator("button", has_text="Called back").click()
    page.wait_for_url(re.compile(r"/admin/#call-backs$"))

    assert "as called back" in page.inner_text(".messagelist")
    assert page.locator(f'.callback-list li[data-call="{sid}"]').count() == 0
    assert Call.objects.get(call_sid=sid).callback_done_by == "marketing"
    if count < 100:
        assert int(page.inner_text(".dash-count").rstrip("+")) == count - 1


def test_a_pasted_name_too_long_is_refused_with_a_reason(signed_in):
    page = signed_in(1440)
    page.goto("/admin/tracking/campaign/add/")
    page.fill("#id_name", "N" * 10_000)  # what a paste puts in the box: not cut at 120
    page.fill("#id_destinations-0-label", "Front desk")
    page.fill("#id_destinations-0-phone_number", "(512) 555-0198")
    page.fill("#id_numbers-0-phone_number", "(737) 555-0143")
    page.click("input[name=_save]")

    errors = page.inner_text(".field-name .errorlist")
    assert "at most 120 characters (it has 10000)" in errors
    assert not Campaign.objects.filter(name__startswith="NNN").exists()
    assert page.evaluate("document.documentElement.scrollWidth") <= 1440
