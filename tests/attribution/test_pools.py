"""The pool backends, database and Redis, pass the same tests."""

from __future__ import annotations

from datetime import timedelta

import pytest

from attribution.models import SourceNumber, Visitor
from tests.attribution.conftest import NOW

HOLD = timedelta(minutes=30)


def _pool(source) -> list[int]:
    return list(
        SourceNumber.objects.filter(source=source, role="pool")
        .order_by("number_id")
        .values_list("number_id", flat=True)
    )


def _visitors(website, count: int) -> list[Visitor]:
    return [Visitor.objects.create(website=website) for _ in range(count)]


def _take(backend, source, visitor, now=NOW):
    return backend.take(
        source_id=source.pk,
        number_ids=_pool(source),
        visitor_id=visitor.pk,
        now=now,
        until=now + HOLD,
    )


def test_it_gives_each_live_visitor_another_number(backend, ads, website):
    taken = [_take(backend, ads, visitor) for visitor in _visitors(website, 3)]
    assert sorted(t.number_id for t in taken) == _pool(ads)
    assert [t.in_use for t in taken] == [1, 2, 3]
    assert not any(t.renewed for t in taken)


def test_it_gives_a_visitor_the_number_they_hold(backend, ads, website):
    alice, bob = _visitors(website, 2)
    first = _take(backend, ads, alice)
    _take(backend, ads, bob)
    again = _take(backend, ads, alice, now=NOW + timedelta(minutes=5))
    assert again.number_id == first.number_id
    assert again.renewed


def test_a_visitor_whose_hold_lapsed_gets_their_number_back_if_nobody_took_it(
    backend, ads, website
):
    (alice,) = _visitors(website, 1)
    first = _take(backend, ads, alice)
    later = _take(backend, ads, alice, now=NOW + HOLD + timedelta(minutes=10))
    assert later.number_id == first.number_id
    assert not later.renewed


def test_it_gives_the_number_free_longest(backend, ads, website):
    a, b, c, d = _visitors(website, 4)
    order = [
        _take(backend, ads, v, now=NOW + timedelta(minutes=n)).number_id
        for n, v in enumerate((a, b, c))
    ]
    # All three lapse; the one held earliest (a's) has been free longest.
    later = NOW + timedelta(hours=2)
    assert _take(backend, ads, d, now=later).number_id == order[0]


def test_an_exhausted_pool_gives_nothing_until_a_hold_lapses(backend, ads, website):
    visitors = _visitors(website, 4)
    for visitor in visitors[:3]:
        assert _take(backend, ads, visitor) is not None
    assert _take(backend, ads, visitors[3], now=NOW + timedelta(minutes=29)) is None
    assert _take(backend, ads, visitors[3], now=NOW + HOLD) is not None


def test_a_visitor_who_lost_their_number_gets_another(backend, ads, website):
    alice, bob, carol, dave = _visitors(website, 4)
    mine = _take(backend, ads, alice).number_id
    _take(backend, ads, bob)
    _take(backend, ads, carol)
    # Alice's hold lapses and Dave takes her number (free longest).
    later = NOW + HOLD + timedelta(minutes=1)
    assert _take(backend, ads, dave, now=later).number_id == mine
    back = _take(backend, ads, alice, now=later + timedelta(minutes=1))
    assert back.number_id != mine
    assert not back.renewed


def test_numbers_leaving_the_pool_are_no_longer_given(backend, ads, website):
    kept = _pool(ads)[1:]
    answers = [
        backend.take(source_id=ads.pk, number_ids=kept, visitor_id=v.pk, now=NOW, until=NOW + HOLD)
        for v in _visitors(website, 3)
    ]
    assert sorted(a.number_id for a in answers[:2]) == kept
    assert answers[2] is None


def test_the_rate_limit_counts_each_client_per_minute(backend, db):
    allowed = [backend.allow(client="c1", limit=3, now=NOW) for _ in range(5)]
    assert allowed == [True, True, True, False, False]
    assert backend.allow(client="c2", limit=3, now=NOW)
    assert backend.allow(client="c1", limit=3, now=NOW + timedelta(minutes=1))


@pytest.mark.parametrize("backend", ["redis"], indirect=True)
def test_a_number_given_back_is_free_at_once_and_only_its_holder_gives_it_back(
    backend, ads, website
):
    a, b, c, d = _visitors(website, 4)
    taken = [_take(backend, ads, v) for v in (a, b, c)]
    assert _take(backend, ads, d) is None
    # Only the visitor who holds a number can give it back.
    backend.release(source_id=ads.pk, number_id=taken[0].number_id, visitor_id=b.pk)
    assert _take(backend, ads, d) is None
    backend.release(source_id=ads.pk, number_id=taken[0].number_id, visitor_id=a.pk)
    again = _take(backend, ads, d)
    assert again.number_id == taken[0].number_id and not again.renewed
