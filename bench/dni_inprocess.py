"""What one request of the number endpoint costs in process (Django's WSGI handler), on PostgreSQL:
a heartbeat, a page view and the bare floor view, each timed over a run of requests of one
visitor, and a claim (a new visitor's first request, taking a pool number), timed over a run of
new visitors; best of several runs. Prints milliseconds per request.

    DATABASE_URL=postgres://... python -m bench.dni_inprocess [--backend redis]
        [--redis redis://127.0.0.1:6379/8] [--requests 500] [--runs 3]

The database is migrated and given one website with a pool (its tables are emptied first);
Redis's database is emptied.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import sys
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
    from django.core.handlers.wsgi import WSGIHandler
    from django.core.management import call_command

    from attribution.models import SourceNumber, Visitor, Website
    from tracking.models import Campaign, TrackingNumber

    call_command("migrate", "--noinput", verbosity=0)
    redis.Redis.from_url(args.redis).flushdb()
    # What an earlier run left.
    Visitor.objects.filter(website__name="bench-inprocess").delete()
    Website.objects.filter(name="bench-inprocess").delete()
    TrackingNumber.objects.filter(phone_number__startswith="+1999").delete()
    Campaign.objects.filter(name="bench-inprocess").delete()
    campaign = Campaign.objects.create(name="bench-inprocess")
    website = Website.objects.create(
        name="bench-inprocess", domains="www.plumber.example", swap_targets="+15125550100"
    )
    source = website.sources.create(
        name="Google Ads", rule="click_id", click_id="google", campaign=campaign
    )
    # Every claim takes a number of its own: one per new visitor of every run, and one more.
    numbers = TrackingNumber.objects.bulk_create(
        TrackingNumber(phone_number=f"+199900{n:05d}", campaign=campaign)
        for n in range(args.requests * args.runs + 1)
    )
    SourceNumber.objects.bulk_create(
        SourceNumber(source=source, number=number, role="pool") for number in numbers
    )

    handler = WSGIHandler()
    origin = "https://www.plumber.example"
    landing = origin + "/emergency?utm_source=google&gclid=Cj0bench"

    def post(path: str, body: dict) -> dict:
        data = json.dumps(body).encode()
        environ = {
            "REQUEST_METHOD": "POST",
            "PATH_INFO": path,
            "SCRIPT_NAME": "",
            "QUERY_STRING": "",
            "SERVER_NAME": "testserver",
            "SERVER_PORT": "80",
            "SERVER_PROTOCOL": "HTTP/1.1",
            "REMOTE_ADDR": "203.0.113.7",
            "HTTP_HOST": "testserver",
            "HTTP_ORIGIN": origin,
            "CONTENT_TYPE": "text/plain;charset=UTF-8",
            "CONTENT_LENGTH": str(len(data)),
            "wsgi.input": io.BytesIO(data),
            "wsgi.url_scheme": "http",
            "wsgi.errors": sys.stderr,
        }
        status = []
        content = b"".join(handler(environ, lambda code, headers: status.append(code)))
        assert status[0].startswith("200"), content
        return json.loads(content)

    def body(visitor: str, page: str) -> dict:
        return {"website": website.key, "visitor": visitor, "page": page, "referrer": ""}

    visitor = post("/dni/v1/visits", body("", landing))["visitor"]

    def timed(kind: str) -> float:
        best = float("inf")
        for _ in range(args.runs):
            started = time.perf_counter()
            for n in range(args.requests):
                if kind == "claim":
                    answer = post("/dni/v1/visits", body("", f"{landing}{n}"))
                    assert answer["swaps"][0]["number"].startswith("+1999"), answer
                elif kind == "floor":
                    post("/bench/dni-floor/", body(visitor, landing))
                elif kind == "heartbeat":
                    post("/dni/v1/visits", body(visitor, landing))
                else:
                    post("/dni/v1/visits", body(visitor, f"{origin}/services/{n % 2}"))
            best = min(best, (time.perf_counter() - started) / args.requests * 1000)
        return best

    figures = {kind: round(timed(kind), 3) for kind in ("floor", "heartbeat", "page view", "claim")}
    print(json.dumps({"backend": args.backend, "ms_per_request": figures}))


if __name__ == "__main__":
    main()
