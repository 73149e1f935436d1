"""The attribution admin, as a marketer uses it."""

from __future__ import annotations

from datetime import timedelta
from html.parser import HTMLParser

import pytest
from django.urls import reverse
from django.utils import timezone

from attribution import api
from attribution.models import Source, SourceNumber, Visit
from tests.attribution.client import visit
from tests.attribution.test_visits_endpoint import AD
from tests.whisper.steps import incoming


class _Textareas(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.values: dict[str, str] = {}
        self._in: str | None = None

    def handle_starttag(self, tag, attrs):
        if tag == "textarea":
            self._in = dict(attrs).get("id")
            self.values[self._in] = ""

    def handle_endtag(self, tag):
        self._in = None

    def handle_data(self, data):
        if self._in:
            self.values[self._in] += data


def test_a_website_shows_its_snippet_ready_to_copy(marketer_client, website, settings):
    settings.PUBLIC_BASE_URL = "https://calls.example.com"
    page = marketer_client.get(reverse("admin:attribution_website_change", args=[website.pk]))
    assert page.status_code == 200
    parser = _Textareas()
    parser.feed(page.content.decode())
    assert parser.values["dni-snippet"] == (
        '<script async src="https://calls.example.com/dni/v1/swap.js" '
        f'data-website="{website.key}"></script>'
    )
    assert 'data-consent="wait"' in parser.values["dni-consent-snippet"]


def test_the_snippet_uses_the_admins_own_address_without_a_public_base_url(admin_client, website):
    page = admin_client.get(reverse("admin:attribution_website_change", args=[website.pk]))
    parser = _Textareas()
    parser.feed(page.content.decode())
    assert 'src="http://testserver/dni/v1/swap.js"' in parser.values["dni-snippet"]


def test_a_website_is_added_with_its_sources_in_order(marketer_client, ads_campaign):
    data = {
        "name": "Plumber",
        "domains": "https://www.plumber.example/\n*.plumber.example",
        "swap_targets": "(512) 555-0100\n512.555.0101",
        "cookie_days": "90",
        "hold_minutes": "30",
        "is_active": "on",
        "sources-TOTAL_FORMS": "2",
        "sources-INITIAL_FORMS": "0",
        "sources-0-position": "1",
        "sources-0-name": "Organic",
        "sources-0-rule": "referrer",
        "sources-0-referrer_domain": "google.com",
        "sources-0-campaign": ads_campaign.pk,
        "sources-1-position": "0",
        "sources-1-name": "Google Ads",
        "sources-1-rule": "click_id",
        "sources-1-click_id": "google",
        "sources-1-campaign": ads_campaign.pk,
    }
    response = marketer_client.post(reverse("admin:attribution_website_add"), data)
    assert response.status_code == 302, response.context["adminform"].errors
    from attribution.models import Website

    website = Website.objects.get()
    assert website.domain_list == ["www.plumber.example", "*.plumber.example"]
    assert website.target_list == ["+15125550100", "+15125550101"]
    assert website.key.startswith("wk_")
    assert list(website.sources.order_by("position").values_list("name", flat=True)) == [
        "Google Ads",
        "Organic",
    ]


def test_a_website_needs_the_number_to_replace(admin_client, db):
    response = admin_client.post(
        reverse("admin:attribution_website_add"),
        {
            "name": "X",
            "domains": "x.example",
            "swap_targets": "not a number",
            "cookie_days": "90",
            "hold_minutes": "30",
            "sources-TOTAL_FORMS": "0",
            "sources-INITIAL_FORMS": "0",
        },
    )
    assert response.status_code == 200
    assert response.context["adminform"].errors["swap_targets"] == [
        "“not a number” is not a phone number."
    ]


def test_a_source_shows_its_pool_health_and_a_suggested_size(admin_client, ads, monkeypatch):
    moment = timezone.now() - timedelta(minutes=5)
    monkeypatch.setattr(api, "clock", lambda: moment)
    for _ in range(5):
        visit(admin_client, ads.website, page=AD)
    page = admin_client.get(reverse("admin:attribution_source_change", args=[ads.pk]))
    html = page.content.decode()
    assert '<tr><th scope="row">Numbers in the pool</th><td>3</td></tr>' in html
    assert '<tr><th scope="row">In use now</th><td>3</td></tr>' in html
    assert '<tr><th scope="row">Times the pool ran out</th><td>2</td></tr>' in html
    assert '<tr><th scope="row">Busiest moment, last 7 days</th><td>5</td></tr>' in html
    assert '<tr><th scope="row">Suggested size</th><td>6</td></tr>' in html
    assert "Add 3 numbers." in html


def test_a_source_cannot_show_one_number_and_a_pool(admin_client, ads):
    single = ads.numbers.filter(role="overflow").get()
    rows = list(ads.numbers.order_by("pk"))
    data = {
        "website": ads.website.pk,
        "position": "0",
        "name": ads.name,
        "rule": ads.rule,
        "click_id": ads.click_id,
        "campaign": ads.campaign.pk,
        "numbers-TOTAL_FORMS": str(len(rows)),
        "numbers-INITIAL_FORMS": str(len(rows)),
    }
    for n, row in enumerate(rows):
        data[f"numbers-{n}-id"] = row.pk
        data[f"numbers-{n}-source"] = ads.pk
        data[f"numbers-{n}-number"] = row.number_id
        data[f"numbers-{n}-role"] = "number" if row == single else row.role
    response = admin_client.post(reverse("admin:attribution_source_change", args=[ads.pk]), data)
    assert response.status_code == 200
    assert response.context["inline_admin_formsets"][0].formset.non_form_errors() == [
        "A source shows either one number to every visitor or a pool, not both."
    ]


def test_numbers_are_bought_into_a_pool(admin_client, fake, ads):
    fake.offer("+15125550142")
    fake.offer("+15125550143")
    buy = reverse("admin:tracking_trackingnumber_buy")
    page = admin_client.get(buy, {"country": "US", "kind": "local", "pool": ads.pk})
    assert page.context["buy_form"]["pool"].value() == str(ads.pk)
    response = admin_client.post(
        buy,
        {
            "phone_numbers": ["+15125550142", "+15125550143"],
            "campaign": ads.campaign.pk,
            "pool": ads.pk,
        },
    )
    assert response.status_code == 302
    pooled = set(
        SourceNumber.objects.filter(source=ads, role="pool").values_list(
            "number__phone_number", flat=True
        )
    )
    assert {"+15125550142", "+15125550143"} <= pooled
    assert len(pooled) == 5


def test_a_pool_of_another_campaign_is_refused(admin_client, fake, ads, campaign):
    fake.offer("+15125550142")
    response = admin_client.post(
        reverse("admin:tracking_trackingnumber_buy"),
        {"phone_numbers": ["+15125550142"], "campaign": campaign.pk, "pool": ads.pk},
        follow=True,
    )
    assert [str(m) for m in response.context["messages"]] == [
        "The pool's calls go to “Google Ads”: choose that campaign."
    ]
    assert not SourceNumber.objects.filter(number__phone_number="+15125550142").exists()


def test_a_released_pool_number_is_no_longer_given(client, ads, monkeypatch):
    moment = timezone.now()
    monkeypatch.setattr(api, "clock", lambda: moment)
    first = SourceNumber.objects.filter(source=ads, role="pool").order_by("number_id")[0].number
    first.is_active = False  # as releasing on Twilio leaves it
    first.save()
    shown = {visit(client, ads.website, page=AD).json()["swaps"][0]["number"] for _ in range(3)}
    assert first.phone_number not in shown
    assert "+15125550299" in shown


def test_calls_show_their_source_and_visit(admin_client, twilio, ads, monkeypatch):
    monkeypatch.setattr(api, "clock", lambda: timezone.now() - timedelta(minutes=2))
    answer = visit(admin_client, ads.website, page=AD, referrer="https://www.google.com/").json()
    visit(
        admin_client,
        ads.website,
        page="https://www.plumber.example/prices",
        visitor=answer["visitor"],
    )
    incoming(twilio, sid="CA1", To=answer["swaps"][0]["number"])
    incoming(twilio, sid="CA2", To="+15125559999")

    listing = admin_client.get(reverse("admin:tracking_call_changelist"))
    sources = {
        call.call_sid: next(cell for cell in row if "field-call_source" in cell)
        for call, row in zip(
            listing.context["cl"].result_list, listing.context["results"], strict=True
        )
    }
    assert sources["CA1"] == '<td class="field-call_source">Google Ads</td>'
    assert sources["CA2"] == '<td class="field-call_source">—</td>'
    from tracking.models import Call

    call = Call.objects.get(call_sid="CA1")
    detail = admin_client.get(reverse("admin:tracking_call_change", args=[call.pk]))
    html = detail.content.decode()
    assert "/emergency → /prices" in html
    assert AD.replace("&", "&amp;") in html
    assert "gclid: Cj0abc" in html
    assert "was held by this visit from" in html
    visit_row = Visit.objects.get(visitor__key=answer["visitor"])
    assert visit_row.page_count == 2


@pytest.mark.parametrize("name", ["website", "source", "visit"])
def test_marketers_see_the_attribution_pages(marketer_client, ads, name):
    page = marketer_client.get(reverse(f"admin:attribution_{name}_changelist"))
    assert page.status_code == 200


def test_source_rules_are_checked(ads_campaign, website):
    source = Source(website=website, name="UTM", rule="utm", campaign=ads_campaign)
    with pytest.raises(Exception) as error:
        source.full_clean()
    assert "Enter at least one UTM value to match." in str(error.value)


def test_marketers_manage_websites_and_read_visits_and_attributions(db):
    from django.contrib.auth.models import Group

    codenames = set(
        Group.objects.get(name="Marketers")
        .permissions.filter(content_type__app_label="attribution")
        .values_list("codename", flat=True)
    )
    assert codenames == {
        *(
            f"{a}_{m}"
            for m in ("website", "source", "sourcenumber")
            for a in ("add", "change", "delete", "view")
        ),
        "view_visit",
        "view_hold",
        "view_callattribution",
    }
