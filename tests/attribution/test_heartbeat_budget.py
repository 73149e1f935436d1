"""A heartbeat only keeps what the visitor already has: it reads, and writes nothing but the
rate limit's count (on the database backend), until the hold's end moves. With holds in
Redis, a heartbeat or a page view of a visit whose state Redis has sends no query at all."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from attribution import live
from attribution.models import Hold, Visit, Visitor
from tests.attribution.client import visit
from tests.attribution.conftest import NOW
from tracking import sql as tracking_sql

AD = "https://www.plumber.example/emergency?utm_source=google&gclid=Cj0abc"
PRICES = "https://www.plumber.example/prices"


def _statements(queries) -> list[str]:
    # Savepoints are the test's own transaction showing through, and SET LOCAL only chooses
    # whether a commit waits for the disk: neither is the endpoint's work.
    return [
        query["sql"]
        for query in queries
        if not query["sql"].upper().startswith(("SAVEPOINT", "RELEASE SAVEPOINT", "SET LOCAL"))
    ]


def _heartbeat(client, website, visitor, opened: list | None = None) -> list[str]:
    with CaptureQueriesContext(connection) as captured:
        answer = visit(client, website, page=AD, visitor=visitor)
    assert answer.status_code == 200
    if opened is not None:
        # Inside the test's transaction an atomic block shows as a savepoint.
        opened.extend(q["sql"] for q in captured.captured_queries if "SAVEPOINT" in q["sql"])
    return _statements(captured.captured_queries)


def test_a_heartbeat_reads_and_writes_no_history(client, ads, backend, clock):
    clock[0] = NOW + timedelta(seconds=10)
    first = visit(client, ads.website, page=AD).json()
    # Within the same step: the hold already ends at 15:31.
    clock[0] = NOW + timedelta(seconds=40)
    transactions = []
    statements = _heartbeat(client, ads.website, first["visitor"], transactions)
    writes = [sql for sql in statements if not sql.upper().startswith("SELECT")]
    if backend.__class__.__name__ == "RedisPool":
        # The visitor's state, the pool and the rate limit live in Redis.
        assert statements == []
        assert transactions == []
    else:
        # The rate limit's count, the visitor, the visitor's own pool number.
        assert len(statements) == 3
        assert len(writes) == 1 and "attribution_ratewindow" in writes[0]
    assert Hold.objects.get().held_until == NOW + timedelta(minutes=31)


def test_a_page_view_on_redis_sends_no_query(client, ads, backend, clock):
    # Within the same step as the claim: the hold already ends at 15:31.
    clock[0] = NOW + timedelta(seconds=5)
    first = visit(client, ads.website, page=AD).json()
    clock[0] = NOW + timedelta(seconds=20)
    with CaptureQueriesContext(connection) as captured:
        answer = visit(client, ads.website, page=PRICES, referrer=AD, visitor=first["visitor"])
    assert answer.json()["swaps"] == first["swaps"]
    if backend.__class__.__name__ == "RedisPool":
        assert _statements(captured.captured_queries) == []
        # Written behind, by the worker's flush.
        assert Visit.objects.get().pages == ["/emergency"]
        live.flush()
    assert Visit.objects.get().pages == ["/emergency", "/prices"]
    assert Visit.objects.get().page_count == 2


def test_a_heartbeat_a_step_later_extends_the_hold_in_one_statement(client, ads, backend, clock):
    first = visit(client, ads.website, page=AD).json()
    clock[0] = NOW + timedelta(seconds=90)
    statements = _heartbeat(client, ads.website, first["visitor"])
    hold_writes = [sql for sql in statements if "attribution_hold" in sql]
    visit_writes = [
        sql for sql in statements if sql.upper().startswith('UPDATE "ATTRIBUTION_VISIT"')
    ]
    assert len(hold_writes) == 1 and hold_writes[0].upper().startswith("UPDATE")
    # The rate limit's count opens a new minute here (its own statements, once a minute).
    work = [sql for sql in statements if "attribution_ratewindow" not in sql]
    if backend.__class__.__name__ == "DatabasePool":
        # The visitor, the visit's last sight, the hold's end, the visitor's pool number read
        # then extended.
        assert len(visit_writes) == 1
        assert len(work) == 5
    else:
        # The hold's end alone, in the request: a call is matched to the history. The visit's
        # last sight is written behind.
        assert work == hold_writes
        live.flush()
    assert Hold.objects.get().held_until == NOW + timedelta(minutes=32)
    assert Visit.objects.get().last_seen_at == clock[0]


RELAXED = "RETURNING set_config('synchronous_commit', 'off', true)"


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="synchronous_commit is PostgreSQL's")
def test_only_a_page_view_alone_skips_waiting_for_the_disk(client, ads, backend, clock):
    clock[0] = NOW + timedelta(seconds=5)
    first = visit(client, ads.website, page=AD).json()

    def writes_of(moment, page):
        clock[0] = moment
        with CaptureQueriesContext(connection) as captured:
            visit(client, ads.website, page=page, visitor=first["visitor"])
        return [
            q["sql"]
            for q in captured.captured_queries
            if q["sql"].upper().startswith(("UPDATE", "INSERT", "WITH", "SET"))
            and "attribution_ratewindow" not in q["sql"]
        ]

    # A new page within the hold's step: the visit alone is written, in one statement whose
    # commit does not wait for the disk.
    page_view = writes_of(NOW + timedelta(seconds=10), "https://www.plumber.example/prices")
    if backend.__class__.__name__ == "RedisPool":
        # Nothing in the request but, a step later, the hold's end, which waits for the disk.
        assert page_view == []
        with_hold = writes_of(NOW + timedelta(seconds=90), "https://www.plumber.example/about")
        assert len(with_hold) == 1 and 'UPDATE "attribution_hold"' in with_hold[0]
        assert "synchronous_commit" not in with_hold[0]
        return
    assert len(page_view) == 1
    assert 'UPDATE "attribution_visit"' in page_view[0] and page_view[0].endswith(RELAXED)
    # A page a step later also moves the hold's end, and that write waits for the disk.
    with_hold = writes_of(NOW + timedelta(seconds=90), "https://www.plumber.example/about")
    relaxed = [sql for sql in with_hold if "synchronous_commit" in sql]
    assert len(relaxed) == 1 and 'UPDATE "attribution_visit"' in relaxed[0]
    assert any('UPDATE "attribution_hold"' in sql for sql in with_hold)


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="synchronous_commit is PostgreSQL's")
def test_a_new_visitors_claim_writes_once_and_raises_the_peak_in_one_statement(
    client, ads, backend, clock
):
    tracking_sql.forget_keys()
    with CaptureQueriesContext(connection) as captured:
        answer = visit(client, ads.website, page=AD).json()

    statements = [q["sql"] for q in captured.captured_queries]
    holds = [sql for sql in statements if '"attribution_hold"' in sql]
    assert len(holds) == 1
    if backend.separate:
        # The keys drawn first (a block of them, nothing written), then the visitor, their
        # visit and their hold in one statement: one commit.
        assert sum("nextval(" in sql for sql in statements) == 2
        tables = [
            sql.split(" (", 1)[0]
            for sql in holds[0].replace("WITH s0 AS (", "").split("INSERT INTO ")[1:]
        ]
        assert tables == ['"attribution_visitor"', '"attribution_visit"', '"attribution_hold"']
        assert not any(
            sql.startswith(('INSERT INTO "attribution_visit', 'UPDATE "attribution_visit'))
            for sql in statements
        )
    else:
        # The pool's row refers to the visitor, written before it; the hold then goes alone
        # (nothing of theirs to end: no UPDATE of earlier holds).
        assert holds[0].startswith('INSERT INTO "attribution_hold"')
    peaks = [sql for sql in statements if sql.startswith('UPDATE "attribution_source"')]
    assert len(peaks) == 1 and peaks[0].endswith(RELAXED)
    assert not any(sql.upper().startswith("SET LOCAL") for sql in statements)

    visitor = Visitor.objects.get(key=answer["visitor"])
    hold = Hold.objects.get()
    assert visitor.first_visit_id == visitor.last_visit_id == hold.visit_id
    assert hold.visitor_id == visitor.pk and hold.visit.visitor_id == visitor.pk
    assert hold.visit.gclid == "Cj0abc" and hold.visit.source_id == ads.pk
    assert [s["number"] for s in answer["swaps"]] == [hold.number.phone_number]
    ads.refresh_from_db()
    assert ads.peak_in_use == 1
    with CaptureQueriesContext(connection) as captured:
        visit(client, ads.website, page=AD)
    # The next visitor's keys come from the block drawn.
    assert not any("nextval(" in q["sql"] for q in captured.captured_queries)
    ads.refresh_from_db()
    assert ads.peak_in_use == 2


def _redis_calls(client) -> dict[str, int]:
    stats = client.info("commandstats")
    return {name.removeprefix("cmdstat_"): each["calls"] for name, each in stats.items()}


@pytest.mark.skipif(connection.vendor != "postgresql", reason="keys drawn ahead are PostgreSQL's")
@pytest.mark.parametrize("backend", ["redis"], indirect=True)
def test_a_new_visitors_number_and_live_state_take_one_round_trip_to_redis(
    client, ads, backend, clock
):
    # Within the step of the claim below: the hold already ends at 15:31.
    clock[0] = NOW + timedelta(seconds=5)
    # The pool's first claim brings it in step with the pool's numbers (a second call).
    visit(client, ads.website, page=AD)
    before = _redis_calls(backend.client)
    first = visit(client, ads.website, page=AD).json()
    sent = {
        name: calls - before.get(name, 0)
        for name, calls in _redis_calls(backend.client).items()
        if calls != before.get(name, 0)
    }
    # Two scripts (Redis counts the commands they run as well): the rate limit, then the
    # pool's number and the visitor's state at once; no transaction of commands after it.
    assert sent["evalsha"] == 2 and "eval" not in sent
    assert "multi" not in sent and "exec" not in sent

    # The state answers the next request alone, with the number the claim took.
    clock[0] = NOW + timedelta(seconds=20)
    with CaptureQueriesContext(connection) as captured:
        again = visit(client, ads.website, page=PRICES, referrer=AD, visitor=first["visitor"])
    assert _statements(captured.captured_queries) == []
    assert again.json()["swaps"] == first["swaps"]


@pytest.mark.skipif(connection.vendor != "postgresql", reason="keys drawn ahead are PostgreSQL's")
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("backend", ["redis"], indirect=True)
def test_a_claim_whose_rows_fail_to_be_written_gives_its_number_back(client, ads, backend, clock):
    from attribution import pools

    # The next key drawn is already taken (a row written by hand with an explicit key): the
    # claim's statement fails after the pool's number was taken for it.
    tracking_sql.forget_keys()
    (drawn,) = tracking_sql.next_keys(Visitor)
    Visitor.objects.create(pk=drawn + 1, website=ads.website)

    failed = visit(client, ads.website, page=AD)

    assert failed.status_code == 503
    assert not Visitor.objects.exclude(pk=drawn + 1).exists() and not Hold.objects.exists()
    holders = backend.client.hgetall(pools.pool_keys(ads.pk)[1])
    assert holders == {}
    # Every number is free: three visitors get three numbers.
    numbers = {visit(client, ads.website, page=AD).json()["swaps"][0]["number"] for _ in range(3)}
    assert len(numbers) == 3
