"""Many processes claiming numbers from one small pool at the same moment.

Run by tests/attribution/test_concurrency.py as `python -m tests.attribution.claim_race`,
with DATABASE_URL (a fresh database it migrates) and DNI_BACKEND in the environment. Prints
one JSON list: per visitor, the number they were given (null: the pool was exhausted).
"""

from __future__ import annotations

import json
import multiprocessing
import os
import sys
from datetime import UTC, datetime, timedelta

# As tests/attribution/conftest.py's NOW (not imported: this runs outside pytest).
NOW = datetime.now(UTC).replace(hour=15, minute=0, second=0, microsecond=0) - timedelta(days=1)


def _setup() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "calltracking.settings")
    import django

    django.setup()


def _claim(args) -> list[tuple[int, int | None]]:
    start, source_id, number_ids, visitor_ids = args
    _setup()
    from django.db import connection

    from attribution import pools

    connection.close()  # a connection of this process's own
    backend = pools.backend()
    start.wait()
    answers = []
    for visitor_id in visitor_ids:
        taken = backend.take(
            source_id=source_id,
            number_ids=number_ids,
            visitor_id=visitor_id,
            now=NOW,
            until=NOW + timedelta(minutes=30),
        )
        answers.append((visitor_id, taken.number_id if taken else None))
    return answers


def main(workers: int, visitors_each: int, pool_size: int) -> None:
    _setup()
    from django.core.management import call_command

    from attribution.models import Source, SourceNumber, Visitor, Website
    from tracking.models import Campaign, TrackingNumber

    call_command("migrate", verbosity=0)
    campaign = Campaign.objects.create(name="Ads")
    website = Website.objects.create(name="Site", domains="a.example", swap_targets="+15125550100")
    source = Source.objects.create(website=website, name="Ads", rule="any", campaign=campaign)
    number_ids = []
    for n in range(pool_size):
        number = TrackingNumber.objects.create(phone_number=f"+1512555{n:04d}", campaign=campaign)
        SourceNumber.objects.create(source=source, number=number, role="pool")
        number_ids.append(number.pk)
    visitor_ids = [
        Visitor.objects.create(website=website).pk for _ in range(workers * visitors_each)
    ]
    from django.db import connection

    connection.close()
    context = multiprocessing.get_context("fork")
    with context.Manager() as manager:
        start = manager.Barrier(workers)
        jobs = [
            (start, source.pk, number_ids, visitor_ids[w * visitors_each : (w + 1) * visitors_each])
            for w in range(workers)
        ]
        with context.Pool(workers) as processes:
            results = processes.map(_claim, jobs)
    print(json.dumps([pair for answers in results for pair in answers]))


if __name__ == "__main__":
    main(*map(int, sys.argv[1:4]))
