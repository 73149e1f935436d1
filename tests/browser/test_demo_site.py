"""The demo landing page `make run` serves: the snippet installed, the numbers swapped as the
page renders (a late chat widget too), and the `simulate_call` line it shows attributing a
call to the visit. Screenshots at desktop and phone widths go to docs/screenshots/."""

from __future__ import annotations

import pytest
from django.core.management import call_command

from attribution import sites
from attribution.models import CallAttribution, Source, SourceNumber, Visitor, Website
from tracking.models import Campaign, TrackingNumber

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

POOL = ["+15125550171", "+15125550172"]


@pytest.fixture(autouse=True)
def _development(settings):
    settings.DEBUG = True
    sites.forget_configs()
    yield
    sites.forget_configs()


@pytest.fixture
def website(db) -> Website:
    campaign = Campaign.objects.create(name="Google Ads: emergency plumbing")
    campaign.destinations.create(label="Dispatch", phone_number="+15125550190")
    website = Website.objects.create(
        name="Hill Country Plumbing", domains="localhost\n127.0.0.1", swap_targets="+15125550100"
    )
    ads = website.sources.create(
        name="Google Ads", rule=Source.Rule.CLICK_ID, click_id="google", campaign=campaign
    )
    website.sources.create(
        position=1,
        name="Newsletter",
        rule=Source.Rule.UTM,
        utm_source="newsletter",
        campaign=campaign,
    )
    for phone in POOL:
        number = TrackingNumber.objects.create(phone_number=phone, campaign=campaign)
        SourceNumber.objects.create(source=ads, number=number, role=SourceNumber.Role.POOL)
    return website


def test_the_demo_page_swaps_and_its_call_line_is_attributed(
    page, live_server, website, screenshots
):
    page.goto(live_server.url + "/demo/site/")
    page.get_by_role("link", name="Google Ads").click()
    page.wait_for_function(
        "document.getElementById('call').getAttribute('href') !== 'tel:+15125550100'"
    )
    number = page.locator("#call").get_attribute("href").removeprefix("tel:")
    assert number in POOL
    national = f"({number[2:5]}) {number[5:8]}-{number[8:]}"
    assert page.locator("#header-call").inner_text() == national
    assert page.locator("#call").inner_text() == f"Call {national}"
    assert page.locator("#dots").inner_text() == national.replace("(", "").replace(
        ") ", "."
    ).replace("-", ".")
    assert page.locator("#international").inner_text() == number
    assert page.locator("#shown").inner_text() == national
    page.wait_for_function("!document.getElementById('chat').hidden")
    page.wait_for_function("!document.getElementById('chat').textContent.includes('0100')")
    assert page.locator("#chat").inner_text() == f"Need help now? Call {national}"
    command = page.locator("#command").inner_text()
    assert command == f".venv/bin/python manage.py simulate_call --to {number} --from +13125550123"
    page.screenshot(path=screenshots / "demo-site.png", full_page=True)

    # The line the page shows, as a newcomer would run it (in-process, as in the README).
    call_command(*command.split()[2:], stdout=open("/dev/null", "w"))
    attribution = CallAttribution.objects.get()
    visitor = Visitor.objects.get(website=website)
    assert attribution.kind == CallAttribution.Kind.VISIT
    assert attribution.visit == visitor.last_visit
    assert attribution.gclid.startswith("demo-")
    assert attribution.utm_term == "emergency plumber"


def test_the_demo_page_fits_a_phone(browser, live_server, website, screenshots):
    context = browser.new_context(viewport={"width": 390, "height": 844}, locale="en-US")
    page = context.new_page()
    page.goto(live_server.url + "/demo/site/?gclid=demo-phone")
    page.wait_for_function(
        "document.getElementById('call').getAttribute('href') !== 'tel:+15125550100'"
    )
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    assert page.locator("#call").is_visible()
    page.screenshot(path=screenshots / "demo-site-phone.png", full_page=True)
    context.close()
