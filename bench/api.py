"""API benchmark: the calls list over a million calls in PostgreSQL, first and 1,000th page.

Seeds as bench.scale does (the same database can serve both), then, in-process with DRF's test
client and a marketer's token, times a page of the calls list and the raw SQL that reads the
same page's rows (one keyset query, its campaign and number joined), each the median of
several runs; the API's time is printed as a ratio of the raw SQL's. The 1,000th page is
reached by following `next` links, as a client would.

    python -m bench.api [--calls 1000000] [--repeats 7] [--database calltracking_scale]
"""

from __future__ import annotations

import argparse
import json
import os
import time
from urllib.parse import parse_qs, urlsplit

from bench.report import write_section
from bench.scale import _median_ms, _prepare

PAGE_SIZE = 50

RAW_PAGE_SQL = """
SELECT c.call_sid, c.started_at, c.ended_at, c.updated_at, c.outcome, c.called_number,
       c.caller_number, c.caller_name, c.caller_city, c.caller_state, c.caller_zip,
       c.caller_country, c.after_hours, c.forwarded_to, c.answered_by, c.decision,
       c.whispered_at, c.decided_at, c.voicemail_at, c.talk_seconds, c.duration_seconds,
       k.id, k.name, n.id, n.phone_number, n.label
FROM tracking_call c
LEFT JOIN tracking_campaign k ON k.id = c.campaign_id
LEFT JOIN tracking_trackingnumber n ON n.id = c.tracking_number_id
{where}
ORDER BY c.started_at DESC, c.id DESC
LIMIT %s OFFSET %s
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=1_000_000)
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--postgres", default="postgres://postgres@127.0.0.1:5432")
    parser.add_argument("--database", default="calltracking_scale")
    parser.add_argument("--pages", type=int, default=1000, help="the deep page to time")
    parser.add_argument("--no-docs", action="store_true")
    args = parser.parse_args()

    database_url = f"{args.postgres}/{args.database}"
    _prepare(database_url, f"{args.postgres}/postgres", args.database, args.calls, False)
    os.environ.update(
        {
            "DATABASE_URL": database_url,
            "DJANGO_SETTINGS_MODULE": "bench.settings",
            "SECRET_KEY": "bench",
            "DEBUG": "false",
            # Timing the list, not the throttle's refusals.
            "API_THROTTLE_RATE": "1000000/second",
        }
    )
    import django

    django.setup()
    from django.contrib.auth.models import Group, User
    from django.db import connection
    from django.utils import timezone
    from rest_framework.test import APIClient

    from api import tokens
    from tracking.models import Call, Campaign

    user, _ = User.objects.get_or_create(username="bench-marketer", defaults={"is_staff": True})
    user.groups.add(Group.objects.get(name="Marketers"))
    _token, key = tokens.token_issue(user=user, name="bench", scope="read")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    total = Call.objects.count()

    def get(url: str) -> dict:
        response = client.get(url)
        assert response.status_code == 200, (url, response.status_code)
        return response.json()

    # 1. Follow `next` from the first page to the deep one, as a client would.
    first_url = f"/api/v1/calls/?page_size={PAGE_SIZE}"
    url, started = first_url, time.perf_counter()
    for _ in range(args.pages - 1):
        url = get(url)["next"]
    walk_seconds = time.perf_counter() - started
    deep_url = url
    cursor = parse_qs(urlsplit(deep_url).query)["cursor"][0]
    position, offset = _cursor(cursor)

    # 2. The raw SQL reading the same rows (the API reads one more, to know there is a next).
    def raw(where: str, params: list, offset: int = 0) -> callable:
        def action():
            with connection.cursor() as db:
                db.execute(RAW_PAGE_SQL.format(where=where), [*params, PAGE_SIZE + 1, offset])
                db.fetchall()

        return action

    def api(url: str) -> callable:
        return lambda: get(url)

    deep_rows = [row["call_sid"] for row in get(deep_url)["results"]]
    with connection.cursor() as db:
        db.execute(
            RAW_PAGE_SQL.format(where="WHERE c.started_at < %s"),
            [position, PAGE_SIZE, offset],
        )
        assert [row[0] for row in db.fetchall()] == deep_rows, "raw SQL reads another page"

    campaign = Campaign.objects.order_by("pk").first()
    now = timezone.now()
    measured = {
        "page 1": (api(first_url), raw("", [])),
        f"page {args.pages:,}": (
            api(deep_url),
            raw("WHERE c.started_at < %s", [position], offset),
        ),
        # Filtered first pages, for the record (the aim is on the two above).
        "page 1, one campaign": (
            api(f"{first_url}&campaign={campaign.pk}"),
            raw("WHERE c.campaign_id = %s", [campaign.pk]),
        ),
        "page 1, outcome failed (1 % of calls)": (
            api(f"{first_url}&outcome=failed"),
            raw("WHERE c.outcome = %s", ["failed"]),
        ),
        "page 1, updated since now (a sync with nothing new)": (
            api(f"{first_url}&updated_since={now.isoformat().replace('+', '%2B')}"),
            raw("WHERE c.updated_at >= %s", [now]),
        ),
    }
    timings = {}
    for name, (api_action, raw_action) in measured.items():
        # Interleaved, so both see the same load on a shared machine.
        api_ms, raw_ms = [], []
        for _ in range(3):
            api_ms.append(_median_ms(api_action, args.repeats))
            raw_ms.append(_median_ms(raw_action, args.repeats))
        api_median, raw_median = sorted(api_ms)[1], sorted(raw_ms)[1]
        timings[name] = {
            "api_ms": api_median,
            "raw_sql_ms": raw_median,
            "ratio": round(api_median / raw_median, 1),
        }
        print(f"{name:52} API {api_median:7.1f} ms   raw SQL {raw_median:6.2f} ms")
    result = {
        "when": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "machine": f"{os.cpu_count()} cores",
        "calls": total,
        "page_size": PAGE_SIZE,
        "repeats": args.repeats,
        "walk_seconds": round(walk_seconds, 1),
        "pages_walked": args.pages,
        "timings": timings,
    }
    print(json.dumps(result, indent=2))
    if not args.no_docs:
        write_section("api", result)


def _cursor(cursor: str) -> tuple[str, int]:
    from base64 import b64decode

    fields = parse_qs(b64decode(cursor).decode())
    return fields["p"][0], int(fields.get("o", ["0"])[0])


if __name__ == "__main__":
    main()
