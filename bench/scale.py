"""Scale benchmark: the dashboard, the reports page and the call list over a million calls in
PostgreSQL.

Seeds the calls once by bulk insert (`seed_demo --calls N`) into a database kept between runs,
then times, in-process with Django's test client as a signed-in marketer, the reports page and
the call list, and the raw SQL aggregate over the same rows that the report's main table needs;
the report's and the dashboard's times are printed as a ratio of that raw SQL.

    python -m bench.scale [--calls 1000000] [--repeats 5] [--fresh]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

import psycopg

from bench.report import write_section

ROOT = Path(__file__).resolve().parent.parent

RAW_REPORT_SQL = """
SELECT campaign_id,
       COUNT(*),
       COUNT(*) FILTER (WHERE whispered_at IS NOT NULL),
       COUNT(*) FILTER (WHERE outcome = 'accepted'),
       COUNT(*) FILTER (WHERE outcome = 'rejected'),
       COUNT(*) FILTER (WHERE outcome = 'no_input'),
       COUNT(*) FILTER (WHERE outcome IN ('no_answer', 'busy', 'failed')),
       COUNT(*) FILTER (WHERE outcome = 'abandoned'),
       AVG(talk_seconds) FILTER (WHERE outcome = 'accepted')
FROM tracking_call
WHERE started_at >= now() - interval '30 days'
GROUP BY campaign_id
"""


def _median_ms(action, repeats: int) -> float:
    action()  # warm: plans, caches, imports
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        action()
        times.append(time.perf_counter() - started)
    return round(statistics.median(times) * 1000, 1)


def _prepare(database_url: str, admin_url: str, database: str, calls: int, fresh: bool) -> None:
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "DJANGO_SETTINGS_MODULE": "bench.settings",
        "SECRET_KEY": "bench",
        "DEBUG": "false",
    }
    with psycopg.connect(admin_url, autocommit=True) as connection:
        if fresh:
            connection.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
        exists = connection.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", [database]
        ).fetchone()
        if not exists:
            connection.execute(f'CREATE DATABASE "{database}"')

    def manage(*args: str) -> None:
        subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env, check=True)

    manage("migrate", "--noinput", "-v", "0")
    with psycopg.connect(database_url) as connection:
        have = connection.execute("SELECT COUNT(*) FROM tracking_call").fetchone()[0]
    if have < calls:
        with psycopg.connect(database_url, autocommit=True) as connection:
            connection.execute(
                "TRUNCATE tracking_recording, tracking_callleg, tracking_call, "
                "tracking_trackingnumber, tracking_destination, tracking_campaign "
                "RESTART IDENTITY CASCADE"
            )
        started = time.perf_counter()
        manage("seed_demo", "--calls", str(calls))
        print(f"seeded {calls:,} calls in {time.perf_counter() - started:.0f} s")
        with psycopg.connect(database_url, autocommit=True) as connection:
            connection.execute("VACUUM ANALYZE tracking_call")
            connection.execute("VACUUM ANALYZE tracking_callleg")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=1_000_000)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--postgres", default="postgres://postgres@127.0.0.1:5432")
    parser.add_argument("--database", default="calltracking_scale")
    parser.add_argument("--fresh", action="store_true", help="drop and seed again")
    parser.add_argument("--no-docs", action="store_true")
    args = parser.parse_args()

    database_url = f"{args.postgres}/{args.database}"
    _prepare(database_url, f"{args.postgres}/postgres", args.database, args.calls, args.fresh)

    os.environ.update(
        {
            "DATABASE_URL": database_url,
            "DJANGO_SETTINGS_MODULE": "bench.settings",
            "SECRET_KEY": "bench",
            "DEBUG": "false",
        }
    )
    import django

    django.setup()
    from django.contrib.auth.models import User
    from django.db import connection
    from django.test import Client

    from tracking.models import Call, Campaign

    user, _ = User.objects.get_or_create(
        username="bench", defaults={"is_staff": True, "is_superuser": True}
    )
    client = Client()
    client.force_login(user)
    campaign = Campaign.objects.order_by("pk").first()
    total = Call.objects.count()

    def get(url: str):
        def action():
            response = client.get(url)
            assert response.status_code == 200, (url, response.status_code)

        return action

    def raw_sql():
        with connection.cursor() as cursor:
            cursor.execute(RAW_REPORT_SQL)
            cursor.fetchall()

    raw = _median_ms(raw_sql, args.repeats)
    reports, calls = "/admin/tracking/call/reports/", "/admin/tracking/call/"
    pages = {
        "raw SQL: 30-day aggregate by campaign": None,
        "dashboard (admin index)": "/admin/",
        "reports page, last 30 days": reports,
        "reports page, last 30 days, one campaign": f"{reports}?campaign={campaign.pk}",
        "call list, first page": calls,
        "call list, filtered by campaign": f"{calls}?campaign__id__exact={campaign.pk}",
        "call list, filtered by outcome": "/admin/tracking/call/?outcome__exact=rejected",
        "call list, search by caller number": "/admin/tracking/call/?q=%2B1512",
        "call list, search by part of a number": "/admin/tracking/call/?q=555-0165",
        "call list, search by caller name": "/admin/tracking/call/?q=garcia",
        "call list, search by city": "/admin/tracking/call/?q=round+rock",
        "call list, search by the start of a Call SID": "/admin/tracking/call/?q=CA1ad4",
        "call list, page 50": "/admin/tracking/call/?p=50",
    }
    timings = {}
    for name, url in pages.items():
        median = raw if url is None else _median_ms(get(url), args.repeats)
        timings[name] = {"median_ms": median}
        if url and (url.startswith(reports) or url == "/admin/"):
            timings[name]["ratio"] = round(median / raw, 1)
        elif name.startswith("call list, ") and name != "call list, first page":
            # Against the unfiltered first page, measured in the same run.
            first_page = timings["call list, first page"]["median_ms"]
            timings[name]["ratio"] = f"{median / first_page:.1f} of the first page"
        print(f"{name:45} {median:8.1f} ms")
    result = {
        "when": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "machine": f"{os.cpu_count()} cores",
        "calls": total,
        "repeats": args.repeats,
        "timings": timings,
    }
    print(json.dumps(result, indent=2))
    if not args.no_docs:
        write_section("scale", result)


if __name__ == "__main__":
    main()
