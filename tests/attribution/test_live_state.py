"""With holds in Redis, a visitor's live state answers their requests after the claim, and
the worker writes their pages and last sight to the database behind them (`live`)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from attribution import live, pools
from attribution import tasks as attribution_tasks
from attribution.models import CallAttribution, Hold, Visit, Visitor, Website
from jobs import schedule
from tests.attribution.client import post, visit
from tests.attribution.conftest import NOW, PRINTED
from tests.whisper.steps import incoming

pytestmark = pytest.mark.parametrize("backend", ["redis"], indirect=True)

AD = "https://www.plumber.example/emergency?utm_source=google&gclid=Cj0abc"
OTHER_AD = "https://www.plumber.example/drains?utm_source=google&gclid=Cj0xyz"
PRICES = "https://www.plumber.example/prices"
ABOUT = "https://www.plumber.example/about"


def _at(clock, seconds: float, start=NOW) -> None:
    clock[0] = start + timedelta(seconds=seconds)


def _view(client, website, visitor: str, page: str, **kw) -> dict:
    answer = visit(client, website, page=page, visitor=visitor, **kw)
    assert answer.status_code == 200, answer.content
    return answer.json()


def _visit_updates(queries) -> list[str]:
    return [q["sql"] for q in queries if q["sql"].upper().startswith('UPDATE "ATTRIBUTION_VISIT"')]


def _state_key(website: Website, answer: dict) -> str:
    return live.state_key(website.pk, answer["visitor"])


def test_the_flush_writes_each_change_once(client, ads, backend, clock):
    first = _view(client, ads.website, "", AD)
    _at(clock, 10)
    _view(client, ads.website, first["visitor"], PRICES, referrer=AD)
    _at(clock, 20)
    _view(client, ads.website, first["visitor"], PRICES, referrer=AD)  # a heartbeat

    with CaptureQueriesContext(connection) as captured:
        assert live.flush() == 1
    assert len(_visit_updates(captured.captured_queries)) == 1
    row = Visit.objects.get()
    assert (row.pages, row.page_count, row.last_seen_at) == (
        ["/emergency", "/prices"],
        2,
        NOW + timedelta(seconds=20),
    )

    # Nothing changed since: a second flush writes nothing, for all or for this visitor.
    with CaptureQueriesContext(connection) as captured:
        assert live.flush() == 0
        assert live.flush([_state_key(ads.website, first)]) == 0
    assert captured.captured_queries == []
    # A heartbeat within the step changes nothing the database keeps.
    _at(clock, 30)
    _view(client, ads.website, first["visitor"], PRICES, referrer=AD)
    assert live.flush() == 0


def test_a_flush_repeated_after_a_crash_duplicates_nothing(
    client, ads, backend, clock, monkeypatch
):
    first = _view(client, ads.website, "", AD)
    _at(clock, 10)
    _view(client, ads.website, first["visitor"], PRICES, referrer=AD)
    scripts = live.scripts()
    # The worker dies after the database's commit, before Redis hears it was written.
    monkeypatch.setattr(scripts, "done", lambda **kw: 0)
    assert live.flush() == 1
    monkeypatch.undo()
    assert live.flush() == 1
    assert live.flush() == 0
    row = Visit.objects.get()
    assert (row.pages, row.page_count) == (["/emergency", "/prices"], 2)


def test_a_page_seen_while_a_flush_runs_is_flushed_next(client, ads, backend, clock, monkeypatch):
    first = _view(client, ads.website, "", AD)
    _at(clock, 10)
    _view(client, ads.website, first["visitor"], PRICES, referrer=AD)
    scripts = live.scripts()
    done = scripts.done

    def late_page_then_done(**kw):
        _at(clock, 15)
        _view(client, ads.website, first["visitor"], ABOUT, referrer=PRICES)
        return done(**kw)

    monkeypatch.setattr(scripts, "done", late_page_then_done)
    assert live.flush() == 1
    monkeypatch.undo()
    assert Visit.objects.get().pages == ["/emergency", "/prices"]
    assert live.flush() == 1
    row = Visit.objects.get()
    assert (row.pages, row.page_count) == (["/emergency", "/prices", "/about"], 3)


def test_a_flush_never_writes_a_visit_back_in_time(client, ads, backend, clock):
    first = _view(client, ads.website, "", AD)
    _at(clock, 10)
    _view(client, ads.website, first["visitor"], PRICES, referrer=AD)
    # Written meanwhile, further on, by the database path (its state lost, say).
    Visit.objects.update(pages=["/emergency", "/prices", "/about"], page_count=3)
    assert live.flush() == 1
    row = Visit.objects.get()
    assert (row.pages, row.page_count) == (["/emergency", "/prices", "/about"], 3)


def test_a_lost_state_the_database_answers_the_same_number(client, ads, backend, clock):
    first = _view(client, ads.website, "", AD)
    _at(clock, 10)
    _view(client, ads.website, first["visitor"], PRICES, referrer=AD)
    key = _state_key(ads.website, first)
    # Evicted or expired (the page view not yet flushed is lost with it).
    backend.client.delete(key)

    _at(clock, 20)
    again = _view(client, ads.website, first["visitor"], ABOUT, referrer=PRICES)
    assert again["swaps"] == first["swaps"] and again["first"] == first["first"]
    assert Visit.objects.get().pages == ["/emergency", "/about"]
    assert Hold.objects.count() == 1
    # Written again: the next request is Redis's alone.
    assert backend.client.exists(key)
    _at(clock, 30)
    with CaptureQueriesContext(connection) as captured:
        third = _view(client, ads.website, first["visitor"], ABOUT, referrer=PRICES)
    assert captured.captured_queries == []
    assert third == again


def test_a_new_visit_after_a_lapse_keeps_the_pages_of_the_one_before(client, ads, backend, clock):
    first = _view(client, ads.website, "", AD)
    _at(clock, 10)
    _view(client, ads.website, first["visitor"], PRICES, referrer=AD)
    _at(clock, 10, NOW + timedelta(minutes=45))
    _view(client, ads.website, first["visitor"], ABOUT)
    before, after = Visit.objects.order_by("pk")
    assert (before.pages, before.page_count) == (["/emergency", "/prices"], 2)
    assert after.pages == ["/about"] and after.source_id == before.source_id


def test_a_new_arrival_begins_a_new_visit(client, ads, backend, clock):
    first = _view(client, ads.website, "", AD)
    _at(clock, 10)
    _view(client, ads.website, first["visitor"], OTHER_AD, referrer="https://www.google.com/")
    before, after = Visit.objects.order_by("pk")
    assert (before.gclid, after.gclid) == ("Cj0abc", "Cj0xyz")
    assert Hold.objects.get(visit=before).held_until == NOW + timedelta(seconds=10)
    assert Hold.objects.get(visit=after).held_until == NOW + timedelta(minutes=31)


def test_a_page_view_then_a_call_is_attributed_to_the_visit(client, twilio, ads, backend, clock):
    start = timezone.now() - timedelta(minutes=5)
    _at(clock, 0, start)
    first = _view(client, ads.website, "", AD, referrer="https://www.google.com/", ga="12.34")
    _at(clock, 30, start)
    body = {
        "website": ads.website.key,
        "visitor": first["visitor"],
        "page": PRICES,
        "referrer": AD,
        "consent": {"ad_user_data": True, "ad_personalization": False},
    }
    with CaptureQueriesContext(connection) as captured:
        assert post(client, body).status_code == 200
    # The consent a call's attribution copies is written at once, nothing else.
    assert len(_visit_updates(captured.captured_queries)) == 1
    number = first["swaps"][0]["number"]

    incoming(twilio, sid="CA1", To=number)

    row = CallAttribution.objects.get(call_id="CA1")
    visit_row = Visit.objects.get()
    assert (row.kind, row.visit, row.hold) == (
        CallAttribution.Kind.VISIT,
        visit_row,
        Hold.objects.get(),
    )
    assert (row.gclid, row.utm_source, row.landing_page, row.ga_client_id) == (
        "Cj0abc",
        "google",
        AD,
        "12.34",
    )
    assert (row.ad_user_data, row.ad_personalization) == (True, False)


def test_one_visitors_state_is_never_anothers(client, ads, backend, clock):
    one = _view(client, ads.website, "", AD, address="203.0.113.1")
    two = _view(client, ads.website, "", OTHER_AD, address="203.0.113.2")
    _at(clock, 10)
    one_again = _view(client, ads.website, one["visitor"], PRICES, address="203.0.113.1")
    two_again = _view(client, ads.website, two["visitor"], ABOUT, address="203.0.113.2")
    assert (one_again["first"]["page"], two_again["first"]["page"]) == (AD, OTHER_AD)
    assert one_again["swaps"] == one["swaps"] != two_again["swaps"] == two["swaps"]
    live.flush()
    pages = {
        visitor.key: visitor.last_visit.pages
        for visitor in Visitor.objects.select_related("last_visit")
    }
    assert pages == {
        one["visitor"]: ["/emergency", "/prices"],
        two["visitor"]: ["/drains", "/about"],
    }
    # A visitor's key is theirs on their website only.
    other = Website.objects.create(name="Other", domains="www.other.example", swap_targets=PRINTED)
    elsewhere = visit(
        client,
        other,
        page="https://www.other.example/",
        visitor=one["visitor"],
        origin="https://www.other.example",
    ).json()
    assert elsewhere["visitor"] != one["visitor"]
    assert elsewhere["first"]["page"] == "https://www.other.example/"


def test_known_visitors_are_rate_limited_in_the_same_round_trip(
    client, ads, backend, clock, settings
):
    settings.DNI_RATE_LIMIT = 3
    first = _view(client, ads.website, "", AD)
    codes = [
        visit(client, ads.website, page=AD, visitor=first["visitor"]).status_code for _ in range(3)
    ]
    assert codes == [200, 200, 429]
    assert (
        visit(
            client, ads.website, page=AD, visitor=first["visitor"], address="203.0.113.99"
        ).status_code
        == 200
    )


def test_without_redis_a_known_visitor_sees_the_overflow_number(
    client, ads, backend, clock, settings
):
    first = _view(client, ads.website, "", AD)
    settings.DNI_REDIS_URL = "redis://127.0.0.1:1/0"  # nothing listens there
    pools._redis_pool.cache_clear()
    try:
        _at(clock, 10)
        answer = visit(client, ads.website, page=PRICES, visitor=first["visitor"])
    finally:
        pools._redis_pool.cache_clear()
    assert answer.status_code == 200
    assert answer.json()["swaps"] == [{"target": PRINTED, "number": "+15125550299"}]
    assert answer.json()["visitor"] == first["visitor"]


def test_the_worker_flushes_visits_every_few_seconds(client, ads, backend, clock):
    assert "attribution.tasks.flush_visits" in {job.name for job in schedule.periodic_jobs()}
    assert schedule.shortest_period() <= timedelta(seconds=5)
    first = _view(client, ads.website, "", AD)
    _at(clock, 10)
    _view(client, ads.website, first["visitor"], PRICES, referrer=AD)
    assert attribution_tasks.flush_visits.call() == 1
    assert Visit.objects.get().pages == ["/emergency", "/prices"]
