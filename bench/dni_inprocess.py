"""What one request of the number endpoint costs in process (no HTTP server), on PostgreSQL:
a heartbeat, a page view and the bare floor view, each timed over a run of requests of one
visitor, best of several runs. Prints milliseconds per request.

    DATABASE_URL=postgres://... python -m bench.dni_inprocess [--backend redis]
        [--redis redis://127.0.0.1:6379/8] [--requests 500] [--runs 3]

The database is migrated and given one website with a pool (its tables are emptied first);
Redis's database is emptied.
"""

from __future__ import annotations

import argparse
import json
import os
import time


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--backend", choices=["database", "redis"], default="redis")
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/0")
    parser.add_argument("--requests", type=int, default=500)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    os.environ.update(
        DJANGO_SETTINGS_MODULE="bench.settings",
        DNI_BACKEND=args.backend,
        DNI_REDIS_URL=args.redis,
        DNI_RATE_LIMIT="100000000",
        SECRET_KEY=os.environ.get("SECRET_KEY", "bench"),
        DEBUG="false",
        ALLOWED_HOSTS="testserver",
        LOG_LEVEL="WARNING",
    )
    import django

    django.setup()
    import redis
    from django.core.management import call_command
    from django.test import Client

    from attribution.models import SourceNumber, Visit, Visitor, Website
    from tracking.models import Campaign, TrackingNumber

    call_command("migrate", "--noinput", verbosity=0)
    redis.Redis.from_url(args.redis).flushdb()
    Visitor.objects.all().delete()
    Website.objects.filter(name="bench-inprocess").delete()
    campaign = Campaign.objects.create(name="bench-inprocess")
    website = Website.objects.create(
        name="bench-inprocess", domains="www.plumber.example", swap_targets="+15125550100"
    )
    source = website.sources.create(
        name="Google Ads", rule="click_id", click_id="google", campaign=campaign
    )
    TrackingNumber.objects.filter(phone_number__startswith="+1999").delete()
    for n in range(8):
        number = TrackingNumber.objects.create(phone_number=f"+199900{n:05d}", campaign=campaign)
        SourceNumber.objects.create(source=source, number=number, role="pool")

    client = Client()
    origin = "https://www.plumber.example"
    landing = origin + "/emergency?utm_source=google&gclid=Cj0bench"

    def post(path: str, body: dict) -> dict:
        response = client.generic(
            "POST",
            path,
            json.dumps(body),
            content_type="text/plain;charset=UTF-8",
            HTTP_ORIGIN=origin,
        )
        assert response.status_code == 200, response.content
        return json.loads(response.content)

    def body(visitor: str, page: str) -> dict:
        return {"website": website.key, "visitor": visitor, "page": page, "referrer": ""}

    visitor = post("/dni/v1/visits", body("", landing))["visitor"]

    def timed(kind: str) -> float:
        best = float("inf")
        for _ in range(args.runs):
            started = time.perf_counter()
            for n in range(args.requests):
                if kind == "floor":
                    post("/bench/dni-floor/", body(visitor, landing))
                elif kind == "heartbeat":
                    post("/dni/v1/visits", body(visitor, landing))
                else:
                    post("/dni/v1/visits", body(visitor, f"{origin}/services/{n % 2}"))
            best = min(best, (time.perf_counter() - started) / args.requests * 1000)
        return best

    figures = {kind: round(timed(kind), 3) for kind in ("floor", "heartbeat", "page view")}
    print(json.dumps({"backend": args.backend, "ms_per_request": figures}))
    Visit.objects.filter(visitor__website=website).delete()
    website.delete()
    campaign.delete()


if __name__ == "__main__":
    main()
