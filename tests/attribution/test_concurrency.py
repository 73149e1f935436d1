"""Many visitors claiming from a small pool at the same moment, on SQLite, PostgreSQL and
Redis: never two live holders of one number, and every free number is given out."""

from __future__ import annotations

import itertools
import json
import os
import subprocess
import sys
import threading
from collections import Counter
from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client

from attribution import pools
from attribution.models import Hold, SourceNumber, Visitor
from tests.attribution.client import visit
from tests.attribution.conftest import NOW, redis_url
from tests.attribution.test_visits_endpoint import AD
from tests.support.servers import ROOT

POOL = 3


def _at_once(count: int, work) -> list:
    start = threading.Barrier(count)
    answers = [None] * count

    def run(n: int) -> None:
        try:
            start.wait()
            answers[n] = work(n)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(n,)) for n in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return answers


def _assert_one_holder_each(given: list[int | None]) -> None:
    held = [number for number in given if number is not None]
    assert len(held) == POOL, given
    assert max(Counter(held).values()) == 1, given


def test_processes_on_sqlite_never_share_a_number(tmp_path):
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'race.sqlite3'}",
        "DNI_BACKEND": "database",
        "SECRET_KEY": "x",
    }
    for _ in range(2):
        (tmp_path / "race.sqlite3").unlink(missing_ok=True)
        result = subprocess.run(
            [sys.executable, "-m", "tests.attribution.claim_race", "6", "2", str(POOL)],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert result.returncode == 0, result.stderr[-2000:]
        _assert_one_holder_each([number for _, number in json.loads(result.stdout)])


@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="SQLite runs one write transaction at a time"
)
@pytest.mark.django_db(transaction=True)
def test_visitors_on_postgresql_never_share_a_number(ads, settings, monkeypatch):
    from attribution import api

    settings.DNI_BACKEND = "database"
    for round_ in range(3):
        moment = NOW + timedelta(hours=round_)
        monkeypatch.setattr(api, "clock", lambda moment=moment: moment)
        answers = _at_once(12, lambda n: visit(Client(), ads.website, page=AD).json())
        pool = set(
            SourceNumber.objects.filter(source=ads, role="pool").values_list(
                "number__phone_number", flat=True
            )
        )
        shown = [a["swaps"][0]["number"] for a in answers]
        _assert_one_holder_each([n if n in pool else None for n in shown])
        assert shown.count("+15125550299") == 12 - POOL
    # The history agrees: no two holds of one number overlap.
    for number in {hold.number_id for hold in Hold.objects.all()}:
        holds = list(Hold.objects.filter(number_id=number).order_by("held_from"))
        for before, after in itertools.pairwise(holds):
            assert before.held_until <= after.held_from


@pytest.mark.django_db(transaction=True)
def test_threads_on_redis_never_share_a_number(ads, website, settings):
    settings.DNI_BACKEND = "redis"
    settings.DNI_REDIS_URL = redis_url()
    pools._redis_pool.cache_clear()
    backend = pools.backend()
    backend.client.flushdb()
    number_ids = list(
        SourceNumber.objects.filter(source=ads, role="pool").values_list("number_id", flat=True)
    )
    visitors = [Visitor.objects.create(website=website).pk for _ in range(16)]
    for round_ in range(5):
        moment = NOW + timedelta(hours=round_)

        def claim(n: int, moment=moment, round_=round_):
            taken = backend.take(
                source_id=ads.pk,
                number_ids=number_ids,
                visitor_id=visitors[n] * 100 + round_,  # new visitors each round
                now=moment,
                until=moment + timedelta(minutes=30),
            )
            return taken.number_id if taken else None

        _assert_one_holder_each(_at_once(16, claim))
