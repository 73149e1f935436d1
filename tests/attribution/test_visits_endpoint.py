"""POST /dni/v1/visits: the number each visitor sees, and what is recorded of their visit."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from attribution import api
from attribution.models import Hold, Source, SourceNumber, Visit, Visitor
from tests.attribution.client import post, visit
from tests.attribution.conftest import NOW, ORIGIN, PRINTED, flushed

AD = "https://www.plumber.example/emergency?utm_source=google&utm_medium=cpc&utm_campaign=spring&utm_term=plumber+near+me&gclid=Cj0abc"


@pytest.fixture
def clock(monkeypatch):
    """The endpoint's clock, frozen at NOW; `clock.at(t)` moves it."""

    class Clock:
        now = NOW

        def at(self, moment):
            self.now = moment

    frozen = Clock()
    monkeypatch.setattr(api, "clock", lambda: frozen.now)
    return frozen


def _pool_numbers(source) -> set[str]:
    return set(
        SourceNumber.objects.filter(source=source, role="pool").values_list(
            "number__phone_number", flat=True
        )
    )


def test_an_ad_visitor_gets_a_pool_number_for_the_printed_one(client, ads, backend, clock):
    response = visit(client, ads.website, page=AD, ga="123.456")
    assert response.status_code == 200
    answer = response.json()
    assert answer["visitor"].startswith("v_")
    [swap] = answer["swaps"]
    assert swap["target"] == PRINTED
    assert swap["number"] in _pool_numbers(ads)
    assert answer["heartbeat"] == 60
    assert answer["cookie_days"] == 90
    assert answer["first"] == {"page": AD, "referrer": "", "at": int(NOW.timestamp())}
    visit_row = Visit.objects.get()
    assert visit_row.source == ads
    assert (visit_row.utm_source, visit_row.utm_medium, visit_row.utm_campaign) == (
        "google",
        "cpc",
        "spring",
    )
    assert visit_row.utm_term == "plumber near me"
    assert visit_row.gclid == "Cj0abc"
    assert visit_row.ga_client_id == "123.456"
    hold = Hold.objects.get()
    assert hold.number.phone_number == swap["number"]
    assert (hold.held_from, hold.held_until) == (NOW, NOW + timedelta(minutes=30))


def test_the_answer_allows_only_the_website_origin(client, ads, backend, clock):
    response = visit(client, ads.website, page=AD)
    assert response["Access-Control-Allow-Origin"] == ORIGIN
    assert "Origin" in response["Vary"]
    assert response["Cache-Control"] == "no-store"


@pytest.mark.parametrize(
    "origin",
    ["https://evil.example", "https://plumber.example.evil.example", "null", ""],
)
def test_other_origins_are_refused(client, ads, backend, clock, origin):
    response = visit(client, ads.website, page=AD, origin=origin)
    assert response.status_code == 403
    assert "Access-Control-Allow-Origin" not in response
    assert not Visit.objects.exists()


def test_subdomains_only_where_the_website_lists_them(client, website, ads, backend, clock):
    assert visit(client, website, page=AD, origin="https://shop.plumber.example").status_code == 200
    website.domains = "www.plumber.example"
    website.save()
    assert visit(client, website, page=AD, origin="https://shop.plumber.example").status_code == 403


def test_a_preflight_is_answered_for_a_website_origin_only(client, ads):
    ok = client.options("/dni/v1/visits", HTTP_ORIGIN=ORIGIN)
    assert ok.status_code == 204
    assert ok["Access-Control-Allow-Origin"] == ORIGIN
    refused = client.options("/dni/v1/visits", HTTP_ORIGIN="https://evil.example")
    assert refused.status_code == 403
    assert "Access-Control-Allow-Origin" not in refused


def test_an_unknown_or_inactive_website_is_refused(client, website, ads, backend, clock):
    body = {"website": "wk_nope", "visitor": "", "page": AD}
    assert post(client, body).status_code == 403
    website.is_active = False
    website.save()
    assert visit(client, website, page=AD).json() == {"error": "unknown website"}


def test_the_same_visitor_keeps_their_number_and_their_visit(client, ads, backend, clock):
    first = visit(client, ads.website, page=AD).json()
    clock.at(NOW + timedelta(minutes=1))
    again = visit(
        client,
        ads.website,
        page="https://www.plumber.example/prices",
        referrer=AD,
        visitor=first["visitor"],
    ).json()
    assert again["swaps"] == first["swaps"]
    assert again["visitor"] == first["visitor"]
    flushed()
    visit_row = Visit.objects.get()
    assert visit_row.pages == ["/emergency", "/prices"]
    assert visit_row.page_count == 2
    hold = Hold.objects.get()
    assert hold.held_until == NOW + timedelta(minutes=31)


def test_a_heartbeat_extends_the_hold_without_counting_a_page(client, ads, backend, clock):
    first = visit(client, ads.website, page=AD).json()
    for minute in range(1, 4):
        clock.at(NOW + timedelta(minutes=minute))
        visit(client, ads.website, page=AD, visitor=first["visitor"])
    flushed()
    assert Visit.objects.get().page_count == 1
    assert Hold.objects.get().held_until == NOW + timedelta(minutes=33)


def test_visitors_at_once_get_different_numbers(client, ads, backend, clock):
    numbers = [visit(client, ads.website, page=AD).json()["swaps"][0]["number"] for _ in range(3)]
    assert set(numbers) == _pool_numbers(ads)


def test_an_exhausted_pool_shows_the_overflow_number_and_counts_it(
    client, ads, backend, clock, django_capture_on_commit_callbacks
):
    # The peak in use is raised once each claim has committed.
    with django_capture_on_commit_callbacks(execute=True):
        for _ in range(3):
            visit(client, ads.website, page=AD)
    late = visit(client, ads.website, page=AD).json()
    assert late["swaps"] == [{"target": PRINTED, "number": "+15125550299"}]
    # The overflowed visit keeps the overflow number (the page shows it), counted once.
    clock.at(NOW + timedelta(minutes=1))
    visit(client, ads.website, page=AD, visitor=late["visitor"])
    ads.refresh_from_db()
    assert ads.exhausted_count == 1
    assert ads.last_exhausted_at == NOW
    assert ads.peak_in_use == 3
    assert Visit.objects.filter(overflow=True).count() == 1


def test_a_source_number_is_the_same_for_every_visitor(client, ads, organic, backend, clock):
    answers = [
        visit(client, organic.website, referrer="https://www.google.com/").json() for _ in range(4)
    ]
    assert {a["swaps"][0]["number"] for a in answers} == {"+15125550300"}
    assert not Hold.objects.exists()
    assert set(Visit.objects.values_list("source", flat=True)) == {organic.pk}


def test_no_matching_source_leaves_the_page_alone(client, ads, backend, clock):
    answer = visit(client, ads.website, referrer="https://duckduckgo.com/").json()
    assert answer["swaps"] == []
    assert Visit.objects.get().source is None


def test_a_direct_return_keeps_the_source_that_brought_the_visitor(
    client, ads, organic, backend, clock
):
    first = visit(client, ads.website, referrer="https://www.google.com/").json()
    clock.at(NOW + timedelta(days=3))
    back = visit(client, ads.website, visitor=first["visitor"]).json()
    assert back["swaps"] == [{"target": PRINTED, "number": "+15125550300"}]
    assert Visit.objects.count() == 2
    assert back["first"]["at"] == int(NOW.timestamp())


def test_a_new_ad_click_starts_a_new_visit(client, ads, organic, backend, clock):
    first = visit(client, ads.website, referrer="https://www.google.com/").json()
    clock.at(NOW + timedelta(minutes=2))
    second = visit(client, ads.website, page=AD, visitor=first["visitor"]).json()
    assert second["swaps"][0]["number"] in _pool_numbers(ads)
    visitor = Visitor.objects.get()
    assert visitor.first_visit.source == organic
    assert visitor.last_visit.source == ads


def test_a_lapsed_session_starts_a_new_visit_with_a_new_hold(client, ads, backend, clock):
    first = visit(client, ads.website, page=AD).json()
    clock.at(NOW + timedelta(hours=2))
    visit(client, ads.website, page=AD, visitor=first["visitor"])
    assert Visit.objects.count() == 2
    holds = list(Hold.objects.order_by("held_from"))
    assert len(holds) == 2
    assert holds[0].held_until <= holds[1].held_from


def test_a_first_touch_the_browser_remembers_is_kept_for_a_new_visitor(client, ads, backend, clock):
    remembered = {"page": AD, "referrer": "", "at": int((NOW - timedelta(days=2)).timestamp())}
    answer = visit(
        client,
        ads.website,
        page="https://www.plumber.example/contact",
        first=remembered,
    ).json()
    assert answer["first"] == remembered
    visitor = Visitor.objects.get()
    assert visitor.first_visit.gclid == "Cj0abc"
    assert visitor.last_visit.landing_page == "https://www.plumber.example/contact"


def test_one_visitor_sees_nothing_of_another(client, ads, backend, clock):
    alice = visit(client, ads.website, page=AD, ga="111.222").json()
    bob = visit(
        client, ads.website, page="https://www.plumber.example/?utm_source=google&gclid=X"
    ).json()
    text = json.dumps(bob)
    assert alice["visitor"] not in text
    assert "Cj0abc" not in text and "111.222" not in text and "spring" not in text
    assert bob["swaps"][0]["number"] != alice["swaps"][0]["number"]


def test_a_key_of_another_website_starts_a_new_visitor(client, ads, backend, clock):
    from attribution.models import Website

    other = Website.objects.create(
        name="Other", domains="www.plumber.example", swap_targets=PRINTED
    )
    alice = visit(client, ads.website, page=AD).json()
    answer = visit(client, other, page=AD, visitor=alice["visitor"]).json()
    assert answer["visitor"] != alice["visitor"]
    assert answer["first"]["page"] == AD
    assert Visitor.objects.filter(website=other).count() == 1


def test_no_ip_address_is_stored(client, ads, backend, clock, django_db_blocker):
    visit(client, ads.website, page=AD, address="198.51.100.23")
    from django.db import connection

    with connection.cursor() as cursor:
        for model in (Visit, Visitor, Hold):
            cursor.execute(f"SELECT * FROM {model._meta.db_table}")
            assert "198.51.100.23" not in repr(cursor.fetchall())


def test_each_client_is_rate_limited(client, ads, backend, clock, settings):
    settings.DNI_RATE_LIMIT = 3
    codes = [visit(client, ads.website, page=AD).status_code for _ in range(4)]
    assert codes == [200, 200, 200, 429]
    limited = visit(client, ads.website, page=AD)
    assert limited.json() == {"error": "too many requests"}
    assert int(limited["Retry-After"]) <= 60
    assert visit(client, ads.website, page=AD, address="203.0.113.99").status_code == 200
    clock.at(NOW + timedelta(minutes=1))
    assert visit(client, ads.website, page=AD).status_code == 200


@pytest.mark.parametrize(
    "body",
    [
        "",
        "not json",
        "[]",
        '{"website": 5, "page": "https://www.plumber.example/"}',
        '{"website": "wk_x", "page": "javascript:alert(1)"}',
        '{"website": "wk_x", "page": "https://www.plumber.example/", "ga": "' + "1" * 100 + '"}',
        "{" + '"a":' * 3000,
        json.dumps({"website": "wk_x", "page": "https://x/" + "a" * 5000}),
    ],
)
def test_bad_input_is_a_clear_400(client, ads, backend, clock, body):
    response = post(client, body, raw=True)
    assert response.status_code == 400
    assert response.json()["error"]


def test_only_post_and_options(client, ads):
    response = client.get("/dni/v1/visits", HTTP_ORIGIN=ORIGIN)
    assert response.status_code == 405
    assert response.json() == {"error": "use POST"}


def test_without_redis_a_pool_visitor_sees_the_overflow_number(client, ads, clock, settings):
    from attribution import pools

    settings.DNI_BACKEND = "redis"
    settings.DNI_REDIS_URL = "redis://127.0.0.1:1/0"  # nothing listens there
    pools._redis_pool.cache_clear()
    try:
        response = visit(client, ads.website, page=AD)
    finally:
        pools._redis_pool.cache_clear()
    assert response.status_code == 200
    assert response.json()["swaps"] == [{"target": PRINTED, "number": "+15125550299"}]
    ads.refresh_from_db()
    assert ads.exhausted_count == 0
    assert not Hold.objects.exists()


def test_without_its_database_the_endpoint_answers_503(client, ads, clock):
    from django.db import connection

    # The table visitors are written to is gone (until the test's transaction is rolled
    # back): as good as a database that refuses them.
    table = Visitor._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(f"ALTER TABLE {table} RENAME TO {table}_gone")
    response = visit(client, ads.website, page=AD)
    assert response.status_code == 503
    assert response.json() == {"error": "temporarily unavailable"}


def test_a_source_rule_can_match_utm_values(client, website, ads_campaign, backend, clock):
    from tests.attribution.conftest import buy

    source = website.sources.create(
        name="Newsletter", rule=Source.Rule.UTM, utm_medium="email", campaign=ads_campaign
    )
    SourceNumber.objects.create(
        source=source, number=buy(ads_campaign, "+15125550400"), role="number"
    )
    answer = visit(
        client, website, page="https://www.plumber.example/?utm_source=news&utm_medium=EMAIL"
    ).json()
    assert answer["swaps"][0]["number"] == "+15125550400"


def test_a_direct_visit_keeps_the_source_the_browser_remembers(
    client, ads, organic, backend, clock
):
    remembered = {
        "page": "https://www.plumber.example/",
        "referrer": "https://www.google.com/",
        "at": int((NOW - timedelta(days=5)).timestamp()),
    }
    answer = visit(
        client, ads.website, page="https://www.plumber.example/contact", first=remembered
    )
    assert answer.json()["swaps"] == [{"target": PRINTED, "number": "+15125550300"}]


def test_control_characters_never_reach_the_database(client, ads, backend, clock):
    page = "https://www.plumber.example/?utm_source=go%00ogle&gclid=a%01b&utm_term=x\u0000y"
    response = visit(
        client, ads.website, page=page, referrer="https://www.google.com/\u0000", ga="1.\u00002"
    )
    assert response.status_code == 200
    row = Visit.objects.get()
    assert (row.utm_source, row.gclid, row.ga_client_id) == ("google", "ab", "1.2")
    assert "\x00" not in row.landing_page + row.referrer
