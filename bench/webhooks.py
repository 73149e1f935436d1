"""What outbound webhooks cost a caller: the incoming and status webhooks, in process on
PostgreSQL, with no webhook endpoint and with one that wants every call event (the worker is
not running: only the caller's path is measured). Rounds of each alternate, and the result is
the ratio of the medians, measured in the same run.

    python -m bench.webhooks [--calls 300] [--repeats 5]
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import time
from datetime import UTC, datetime

import psycopg

from bench.report import write_section


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=300, help="calls per round")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--postgres", default="postgres://postgres@127.0.0.1:5432")
    parser.add_argument("--database", default="calltracking_bench_webhooks")
    parser.add_argument("--no-docs", action="store_true")
    args = parser.parse_args()

    with psycopg.connect(f"{args.postgres}/postgres", autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{args.database}" WITH (FORCE)')
        connection.execute(f'CREATE DATABASE "{args.database}"')
    from tests.twilio_signing import AUTH_TOKEN

    os.environ.update(
        {
            "DATABASE_URL": f"{args.postgres}/{args.database}",
            "DJANGO_SETTINGS_MODULE": "bench.settings",
            "SECRET_KEY": "bench",
            "DEBUG": "false",
            "CACHE_URL": "locmemcache://",
            "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
            "LOG_LEVEL": "WARNING",
        }
    )
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    try:
        result = _measure(args.calls, args.repeats)
    finally:
        from django.db import connections

        connections.close_all()
        with psycopg.connect(f"{args.postgres}/postgres", autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{args.database}" WITH (FORCE)')
    print(result)
    if not args.no_docs:
        write_section("webhooks", result)


def _measure(calls: int, repeats: int) -> dict:
    from django.test import Client
    from django_tasks_db.models import DBTaskResult

    from integrations.models import Endpoint, EventType
    from tests.twilio_signing import TwilioPoster
    from tracking.models import Campaign, TrackingNumber

    campaign = Campaign.objects.create(name="Bench")
    campaign.destinations.create(label="Front desk", phone_number="+15125550199")
    TrackingNumber.objects.create(phone_number="+15125550100", campaign=campaign)
    twilio = TwilioPoster(Client())
    serial = iter(range(10**9))

    def call() -> tuple[float, float]:
        sid = f"CA{next(serial):032d}"
        started = time.perf_counter()
        response = twilio.post(
            "/twilio/voice/", {"CallSid": sid, "From": "+13125550123", "To": "+15125550100"}
        )
        middle = time.perf_counter()
        ended = twilio.post(
            "/twilio/voice/status/",
            {"CallSid": sid, "CallStatus": "completed", "CallDuration": "30"},
        )
        done = time.perf_counter()
        assert response.status_code == 200 and ended.status_code == 204
        return middle - started, done - middle

    endpoint = Endpoint.objects.create(
        url="http://127.0.0.1:9/", events=list(EventType.values), is_active=False
    )
    for _ in range(50):  # warm up: connections, prepared statements, caches
        call()
    timings: dict[str, dict[str, list[float]]] = {
        mode: {"incoming": [], "status": []} for mode in ("none", "endpoint")
    }
    jobs = {}
    for _ in range(repeats):
        for mode in ("none", "endpoint"):
            endpoint.is_active = mode == "endpoint"
            endpoint.save()
            before = DBTaskResult.objects.count()
            for _ in range(calls):
                incoming, status = call()
                timings[mode]["incoming"].append(incoming)
                timings[mode]["status"].append(status)
            jobs[mode] = (DBTaskResult.objects.count() - before) / calls
    medians = {
        mode: {hook: round(statistics.median(values) * 1000, 3) for hook, values in by.items()}
        for mode, by in timings.items()
    }
    return {
        "when": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": f"{os.cpu_count()} cores, {platform.python_implementation()}",
        "calls": calls,
        "repeats": repeats,
        "median_ms": medians,
        "ratio": {
            hook: round(medians["endpoint"][hook] / medians["none"][hook], 2)
            for hook in ("incoming", "status")
        },
        "jobs_per_call": jobs,
    }


if __name__ == "__main__":
    main()
