"""The website script in a real browser, on a customer's site of another origin: every way the
site writes its number is swapped for the visitor's own, visitors get numbers of their own, an
exhausted pool shows the overflow number, nothing happens without consent, a failing app leaves
the page as it was, and a call to the number shown is attributed to the visit that showed it."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from urllib.parse import unquote, urlencode

import phonenumbers
import pytest

from attribution import sites
from attribution.models import CallAttribution, Source, SourceNumber, Visitor, Website
from attribution.models import Visit as VisitRow
from tests.browser.sites import CustomerSite
from tracking.models import Campaign, TrackingNumber
from whisper.simulator import SimulatedCall, simulate_over_http

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PRINTED = "+15125550100"
FAX = "(512) 555-0199"
OVERFLOW = "+15125550190"

# The site's number as its pages write it, by element id.
FORMATS = {
    "parens": "(512) 555-0100",
    "dots": "512.555.0100",
    "dashes": "512-555-0100",
    "international": "+1 512 555 0100",
}


def written_as(number: str, like: str) -> str:
    """`number` (E.164) in the format of `like`, digit for digit, as the script writes it."""
    digits = iter(number[-10:] if not like.startswith("+") else number[1:])
    return "".join(next(digits) if c.isdigit() else c for c in like)


def site_page(app: str, key: str, *, consent: str = "") -> str:
    consent_attribute = f' data-consent="{consent}"' if consent else ""
    paragraphs = "\n".join(f'<p id="{name}">{text}</p>' for name, text in FORMATS.items())
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<title>Hill Country Plumbing · (512) 555-0100</title>
<script async src="{app}/dni/v1/swap.js" data-website="{key}"{consent_attribute}></script>
</head><body>
<h1>Hill Country Plumbing</h1>
{paragraphs}
<p><a id="call" href="tel:+15125550100" title="Call 512-555-0100">Call now</a></p>
<p id="fax">Fax: {FAX}</p>
<p id="kept" data-keep-number>Until May we were on <b>(512) 555-0100</b>.</p>
<div id="later"></div>
<script>
  // A widget that renders its own copy of the number after the page has loaded.
  function addLater() {{
    var p = document.createElement("p");
    p.id = "late";
    p.textContent = "Text us: 1-512-555-0100";
    document.getElementById("later").appendChild(p);
  }}
</script>
</body></html>"""


@pytest.fixture(autouse=True)
def _fresh_configs():
    sites.forget_configs()
    yield
    sites.forget_configs()


@pytest.fixture(scope="module")
def site() -> Iterator[CustomerSite]:
    server = CustomerSite().start()
    yield server
    server.stop()


@pytest.fixture
def campaign(db) -> Campaign:
    campaign = Campaign.objects.create(name="Google Ads")
    campaign.destinations.create(label="Front desk", phone_number="+15125550199")
    return campaign


def make_website(campaign: Campaign, pool: list[str], overflow: str = OVERFLOW) -> Website:
    website = Website.objects.create(
        name="Hill Country Plumbing", domains="127.0.0.1", swap_targets=PRINTED
    )
    source = website.sources.create(name="Any visit", rule=Source.Rule.ANY, campaign=campaign)
    for phone in pool:
        number = TrackingNumber.objects.create(phone_number=phone, campaign=campaign)
        SourceNumber.objects.create(source=source, number=number, role=SourceNumber.Role.POOL)
    number = TrackingNumber.objects.create(phone_number=overflow, campaign=campaign)
    SourceNumber.objects.create(source=source, number=number, role=SourceNumber.Role.OVERFLOW)
    return website


class Visit:
    """One browser (its own cookies) on the customer's site, with what it logged."""

    def __init__(
        self, browser, url: str, *, clock: bool = False, permissions: list[str] = ()
    ) -> None:
        self.context = browser.new_context(locale="en-US", permissions=list(permissions))
        self.context.set_default_timeout(15_000)
        self.page = self.context.new_page()
        self.errors: list[str] = []
        self.requests: list[dict] = []
        self.page.on("pageerror", lambda error: self.errors.append(str(error)))
        self.page.on("request", self._request)
        if clock:
            self.page.clock.install()
        self.url = url

    def _request(self, request) -> None:
        if request.url.endswith("/dni/v1/visits") and request.method == "POST":
            self.requests.append(json.loads(request.post_data))

    def open(self) -> Visit:
        self.page.goto(self.url)
        self.page.wait_for_function("window.CallTracking !== undefined")
        return self

    def text(self, element_id: str) -> str:
        return self.page.locator(f"#{element_id}").inner_text()

    def shown(self) -> str:
        """The number the page's call link dials, once the script has swapped it."""
        self.page.wait_for_function(
            "document.getElementById('call').getAttribute('href') !== 'tel:+15125550100'"
        )
        return self.page.locator("#call").get_attribute("href").removeprefix("tel:")

    def cookies(self) -> dict[str, str]:
        return {cookie["name"]: cookie for cookie in self.context.cookies()}

    def close(self) -> None:
        self.context.close()


@pytest.fixture
def visits_opened(browser) -> Iterator[list[Visit]]:
    opened: list[Visit] = []
    yield opened
    for visit in opened:
        visit.close()


def open_visit(browser, opened: list[Visit], url: str, **options) -> Visit:
    visit = Visit(browser, url, **options)
    opened.append(visit)
    return visit.open()


def assert_untouched(visit: Visit) -> None:
    for name, text in FORMATS.items():
        assert visit.text(name) == text
    assert visit.page.locator("#call").get_attribute("href") == "tel:+15125550100"
    assert visit.page.title() == "Hill Country Plumbing · (512) 555-0100"


def test_every_format_swapped_and_each_visitor_has_a_number(
    browser, live_server, site, campaign, visits_opened
):
    pool = ["+15125550177", "+15125550178", "+15125550179"]
    website = make_website(campaign, pool)
    url = site.publish("/plumbing", site_page(live_server.url, website.key))

    first = open_visit(browser, visits_opened, url)
    number = first.shown()
    assert number in pool
    for name, text in FORMATS.items():
        assert first.text(name) == written_as(number, text)
    call = first.page.locator("#call")
    assert call.get_attribute("title") == "Call " + written_as(number, "512-555-0100")
    assert first.page.title() == "Hill Country Plumbing · " + written_as(number, "(512) 555-0100")
    assert first.text("fax") == f"Fax: {FAX}"
    assert first.text("kept") == "Until May we were on (512) 555-0100."

    # A number the page adds later is swapped too, in its own format.
    first.page.evaluate("addLater()")
    first.page.evaluate("document.querySelector('#kept b').textContent += ' or 512-555-0100'")
    first.page.wait_for_function("!document.getElementById('late').textContent.includes('0100')")
    assert first.text("late") == "Text us: 1-" + written_as(number, "512-555-0100")
    assert first.text("kept") == "Until May we were on (512) 555-0100 or 512-555-0100."

    # The visitor is remembered in first-party cookies on the site itself.
    cookies = first.cookies()
    visitor = Visitor.objects.get(website=website)
    assert cookies["_ctv"]["value"] == visitor.key
    assert cookies["_ctv"]["domain"] == "127.0.0.1"
    assert cookies["_ctv"]["sameSite"] == "Lax"
    assert cookies["_ctv"]["expires"] > time.time() + 89 * 86400
    assert json.loads(unquote(cookies["_ctf"]["value"]))["page"] == url

    # Another browser at the same time gets another number of the pool.
    second = open_visit(browser, visits_opened, url)
    other = second.shown()
    assert other in pool and other != number
    assert second.text("parens") == written_as(other, "(512) 555-0100")

    # Coming back keeps the number: the visitor is known by their cookie.
    first.page.reload()
    assert first.shown() == number
    assert first.requests[-1]["visitor"] == visitor.key
    assert first.errors == second.errors == []


def test_an_exhausted_pool_shows_the_overflow_number(
    browser, live_server, site, campaign, visits_opened
):
    website = make_website(campaign, ["+15125550177"])
    url = site.publish("/one-number", site_page(live_server.url, website.key))

    assert open_visit(browser, visits_opened, url).shown() == "+15125550177"
    late = open_visit(browser, visits_opened, url)
    assert late.shown() == OVERFLOW
    assert late.text("dots") == "512.555.0190"
    assert Source.objects.get(website=website).exhausted_count == 1


def test_nothing_happens_before_consent(browser, live_server, site, campaign, visits_opened):
    website = make_website(campaign, ["+15125550177"])
    url = site.publish("/consent", site_page(live_server.url, website.key, consent="wait"))

    visit = open_visit(browser, visits_opened, url)
    visit.page.wait_for_load_state("networkidle")
    visit.page.wait_for_timeout(500)
    assert_untouched(visit)
    assert visit.requests == []
    assert visit.cookies() == {}

    visit.page.evaluate("CallTracking.consent()")
    assert visit.shown() == "+15125550177"
    assert set(visit.cookies()) == {"_ctv", "_ctf"}
    assert len(visit.requests) == 1

    # Consent may also arrive as an event from the site's consent banner.
    other = open_visit(browser, visits_opened, url)
    other.page.wait_for_load_state("networkidle")
    assert other.requests == []
    other.page.evaluate("document.dispatchEvent(new Event('calltracking:consent'))")
    assert other.shown() == OVERFLOW
    assert visit.errors == other.errors == []


def _refused(route) -> None:
    route.abort("connectionrefused")


def _server_error(route) -> None:
    route.fulfill(status=503, content_type="application/json", body='{"error": "down"}')


def _not_json(route) -> None:
    route.fulfill(status=200, content_type="application/json", body="<html>proxy error</html>")


def _wrong_shapes(route) -> None:
    body = {
        "visitor": "<script>",
        "swaps": [{"target": 5125550100}, {"target": PRINTED, "number": "javascript:alert(1)"}],
        "first": None,
        "heartbeat": "soon",
    }
    route.fulfill(status=200, content_type="application/json", body=json.dumps(body))


@pytest.mark.parametrize(
    "failure", [_refused, _server_error, _not_json, _wrong_shapes], ids=lambda f: f.__name__[1:]
)
def test_a_failing_app_leaves_the_site_number(
    browser, live_server, site, campaign, visits_opened, failure
):
    website = make_website(campaign, ["+15125550177"])
    url = site.publish("/down", site_page(live_server.url, website.key))
    visit = Visit(browser, url)
    visits_opened.append(visit)
    visit.page.route("**/dni/v1/visits", failure)
    if failure is _refused:
        answered = visit.page.expect_event("requestfailed")
    else:
        answered = visit.page.expect_response("**/dni/v1/visits")
    with answered:
        visit.open()
    visit.page.wait_for_timeout(300)
    assert_untouched(visit)
    assert "_ctv" not in visit.cookies()
    assert visit.errors == []


def test_a_silent_app_times_out_and_leaves_the_site_number(
    browser, live_server, site, campaign, visits_opened
):
    website = make_website(campaign, ["+15125550177"])
    url = site.publish("/slow", site_page(live_server.url, website.key))
    visit = Visit(browser, url)
    visits_opened.append(visit)
    held: list = []
    visit.page.route("**/dni/v1/visits", lambda route: held.append(route))  # never answered
    started = time.monotonic()
    with visit.page.expect_event("requestfailed", timeout=10_000) as failed:
        visit.open()
    assert "/dni/v1/visits" in failed.value.url
    # Given up by the script itself after its 3 s, not by the browser.
    assert time.monotonic() - started > 2.5
    assert_untouched(visit)
    assert visit.errors == []
    visit.page.unroute_all(behavior="ignoreErrors")


def test_the_app_unreachable_leaves_the_site_number(browser, site, campaign, visits_opened):
    # The snippet of an app that is down: the script itself cannot load.
    website = make_website(campaign, ["+15125550177"])
    url = site.publish("/app-down", site_page("http://127.0.0.1:9", website.key))
    visit = Visit(browser, url)
    visits_opened.append(visit)
    visit.page.goto(url)
    visit.page.wait_for_load_state("networkidle")
    assert_untouched(visit)
    assert visit.errors == []


def test_the_heartbeat_keeps_the_number_while_the_page_is_open(
    browser, live_server, site, campaign, visits_opened
):
    website = make_website(campaign, ["+15125550177", "+15125550178"])
    url = site.publish("/heartbeat", site_page(live_server.url, website.key))
    visit = open_visit(browser, visits_opened, url, clock=True)
    number = visit.shown()
    assert len(visit.requests) == 1
    visitor = Visitor.objects.get(website=website)
    until = visitor.holds.get().held_until
    with visit.page.expect_response("**/dni/v1/visits"):
        visit.page.clock.run_for(61_000)
    assert len(visit.requests) == 2
    assert visit.requests[1]["visitor"] == visitor.key
    assert visit.shown() == number
    # The same hold, kept: holds end on whole minutes, so a heartbeat in the server's same
    # minute finds it long enough already (tests/attribution/test_heartbeat_budget.py shows
    # the extension a minute later).
    assert visitor.holds.get().held_until >= until


def test_a_call_to_the_number_shown_is_attributed_to_the_visit(
    browser, live_server, site, campaign, visits_opened
):
    website = make_website(campaign, ["+15125550177", "+15125550178"])
    landing = site.publish("/spring-offer", site_page(live_server.url, website.key))
    query = {
        "utm_source": "google",
        "utm_medium": "cpc",
        "utm_campaign": "spring-drains",
        "utm_term": "plumber near me",
        "gclid": "Cj0KCQiA-test-click",
    }
    # Someone else is on the site too, with the pool's other number.
    open_visit(browser, visits_opened, landing).shown()
    visit = open_visit(browser, visits_opened, f"{landing}?{urlencode(query)}")
    shown = visit.shown()
    dialled = phonenumbers.format_number(
        phonenumbers.parse(visit.text("parens"), "US"), phonenumbers.PhoneNumberFormat.E164
    )
    assert dialled == shown

    transcript = simulate_over_http(
        SimulatedCall(to=dialled, caller="+13125550123", answer="accept"), server=live_server.url
    )

    attribution = CallAttribution.objects.get(call_id=transcript.call_sid)
    visitor = Visitor.objects.get(key=visit.cookies()["_ctv"]["value"])
    assert attribution.kind == CallAttribution.Kind.VISIT
    assert attribution.visit == visitor.last_visit
    assert attribution.utm_source == "google"
    assert attribution.utm_medium == "cpc"
    assert attribution.utm_campaign == "spring-drains"
    assert attribution.utm_term == "plumber near me"
    assert attribution.gclid == "Cj0KCQiA-test-click"
    assert attribution.landing_page == f"{landing}?{urlencode(query)}"
    assert attribution.first_time_caller is True


def test_on_an_https_site_the_cookies_are_secure(browser, live_server, campaign, visits_opened):
    # The customer's site under its own https name (served by the browser's router), with the
    # app on http://localhost, which a public page may reach once the visitor allows it.
    website = make_website(campaign, ["+15125550177"])
    website.domains = "www.hillcountryplumbing.example"
    website.save()
    url = "https://www.hillcountryplumbing.example/"
    html = site_page(live_server.url, website.key)
    visit = Visit(browser, url, permissions=["local-network-access"])
    visits_opened.append(visit)
    visit.context.route(url, lambda route: route.fulfill(content_type="text/html", body=html))
    visit.open()
    assert visit.shown() == "+15125550177"
    cookies = visit.cookies()
    assert cookies["_ctv"]["domain"] == "www.hillcountryplumbing.example"
    assert cookies["_ctv"]["secure"] is True
    assert cookies["_ctf"]["secure"] is True
    assert cookies["_ctv"]["sameSite"] == "Lax"
    assert visit.errors == []


def _visit_consent() -> tuple[bool | None, bool | None]:
    row = VisitRow.objects.get()
    return (row.ad_user_data, row.ad_personalization)


def test_the_sites_consent_for_ads_reaches_the_visit(
    browser, live_server, site, campaign, visits_opened
):
    website = make_website(campaign, ["+15125550177"])
    url = site.publish("/ads-consent", site_page(live_server.url, website.key, consent="wait"))
    visit = open_visit(browser, visits_opened, url)
    visit.page.wait_for_load_state("networkidle")
    assert visit.requests == []

    visit.page.evaluate("CallTracking.consent({ad_user_data: true, ad_personalization: false})")
    assert visit.shown() == "+15125550177"
    assert visit.requests[0]["consent"] == {"ad_user_data": True, "ad_personalization": False}
    assert _visit_consent() == (True, False)

    # Later, from the banner, as the event's detail: sent at once, the visit follows. (The
    # database is read once the app has answered: SQLite's shared test database refuses a
    # write while another thread reads.)
    with visit.page.expect_response(
        lambda response: (
            response.url.endswith("/dni/v1/visits") and response.request.method == "POST"
        )
    ) as sent:
        visit.page.evaluate(
            "document.dispatchEvent(new CustomEvent('calltracking:consent', "
            "{detail: {ad_user_data: false, ad_personalization: false}}))"
        )
    assert sent.value.status == 200
    assert visit.requests[-1]["consent"] == {"ad_user_data": False, "ad_personalization": False}
    assert _visit_consent() == (False, False)
    assert visit.errors == []
