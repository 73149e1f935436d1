"""Where a webhook's time goes: the app in process (no HTTP server), on PostgreSQL, profiled.

Drives the same signed requests as bench.load through Django's WSGI handler, times each webhook,
floor B (a bare view with one indexed SELECT and one INSERT) and floor C (a bare view making
only the incoming call's own writes, as the app makes them) the same way, then runs the
incoming webhook and the whole-call mix under cProfile and adds up each function's own time by
where it belongs (database, signature, TwiML, middleware...), per request.

    python -m bench.profile [--calls 2000]
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import os
import pstats
import sys
import time
import xml.etree.ElementTree as ET
from collections import defaultdict
from urllib.parse import urlencode, urlsplit

import psycopg

from bench.report import write_section

TOKEN = "bench-auth-token"
HOST = "127.0.0.1:8100"
NUMBER = "+15125550100"

# Where a function's own time belongs, by the first pattern its file matches.
CATEGORIES = [
    ("database (psycopg, waiting on PostgreSQL)", ("psycopg",)),
    ("database (Django's backend and ORM)", ("django/db/",)),
    ("signature (HMAC and its URL)", ("request_validator", "hmac", "hashlib", "base64")),
    ("TwiML building and writing", ("twilio/twiml", "xml/etree")),
    ("middleware", ("django/middleware", "django/contrib", "whitenoise")),
    ("routing cache (file cache, pickle)", ("django/core/cache", "pickle")),
    (
        "Django request/response, URL resolving",
        (
            "django/core/handlers",
            "django/http",
            "django/urls",
            "django/utils",
            "django/dispatch",
            "django/views",
        ),
    ),
    (
        "our webhook code (whisper/, tracking/)",
        ("/whisper/", "/tracking/", "/calltracking/", "/bench/"),
    ),
    ("URL parsing and query strings", ("urllib/parse",)),
    ("phone numbers", ("phonenumbers",)),
]


def _setup(database_url: str) -> None:
    os.environ.update(
        {
            "DJANGO_SETTINGS_MODULE": "bench.settings",
            "DATABASE_URL": database_url,
            "SECRET_KEY": "bench",
            "DEBUG": "false",
            "TWILIO_AUTH_TOKEN": TOKEN,
            "PUBLIC_BASE_URL": "",
            "LOG_LEVEL": "WARNING",
            "EMAIL_URL": "dummymail://",
            "ALLOWED_HOSTS": "127.0.0.1",
        }
    )
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from tracking.models import Campaign, TrackingNumber

    campaign = Campaign.objects.create(name="Profile")
    campaign.destinations.create(label="Front desk", phone_number="+15125550199")
    TrackingNumber.objects.create(phone_number=NUMBER, campaign=campaign)
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("CREATE TABLE bench_floor (call_sid text PRIMARY KEY)")


class InProcess:
    """Signed requests straight into the WSGI handler, as gunicorn would hand them over."""

    def __init__(self) -> None:
        from django.core.wsgi import get_wsgi_application
        from twilio.request_validator import RequestValidator

        self.app = get_wsgi_application()
        self.validator = RequestValidator(TOKEN)

    def post(self, url: str, params: dict[str, str]) -> tuple[int, bytes]:
        return self.send(self.environ(url, params))

    def send(self, environ: dict) -> tuple[int, bytes]:
        status = []
        chunks = self.app(environ, lambda s, h, *a: status.append(s))
        content = b"".join(chunks)
        if hasattr(chunks, "close"):
            chunks.close()
        return int(status[0].split()[0]), content

    def environ(self, url: str, params: dict[str, str]) -> dict:
        """A request as gunicorn hands it over, signed (outside whatever is being timed)."""
        parts = urlsplit(url)
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        body = urlencode(params).encode()
        environ = {
            "REQUEST_METHOD": "POST",
            "PATH_INFO": parts.path,
            "QUERY_STRING": parts.query,
            "CONTENT_TYPE": "application/x-www-form-urlencoded",
            "CONTENT_LENGTH": str(len(body)),
            "SERVER_NAME": "127.0.0.1",
            "SERVER_PORT": "8100",
            "SERVER_PROTOCOL": "HTTP/1.1",
            "HTTP_HOST": HOST,
            "HTTP_X_TWILIO_SIGNATURE": self.validator.compute_signature(
                f"http://{HOST}{path}", params
            ),
            "wsgi.input": io.BytesIO(body),
            "wsgi.url_scheme": "http",
            "wsgi.errors": sys.stderr,
        }
        return environ


def _call(
    client: InProcess,
    sid: str,
    timings: dict[str, list[float]],
    profile: cProfile.Profile | None = None,
):
    """One accepted call, its five webhooks timed (and profiled), their signing not."""

    def step(name, url, params):
        environ = client.environ(url, params)
        if profile:
            profile.enable()
        started = time.perf_counter()
        status, content = client.send(environ)
        timings[name].append(time.perf_counter() - started)
        if profile:
            profile.disable()
        assert status in (200, 204), (name, status, content[:200])
        return ET.fromstring(content) if status == 200 else None

    dial = step(
        "incoming",
        "/twilio/voice/",
        {
            "CallSid": sid,
            "From": "+13125550123",
            "To": NUMBER,
            "FromCity": "AUSTIN",
            "FromState": "TX",
        },
    ).find("Dial")
    child = sid + "C"
    whisper = step(
        "whisper", dial.find("Number").get("url"), {"CallSid": child, "ParentCallSid": sid}
    )
    step("key", whisper.find("Gather").get("action"), {"CallSid": child, "Digits": "1"})
    step(
        "dial-done",
        dial.get("action"),
        {
            "CallSid": sid,
            "DialCallStatus": "completed",
            "DialCallSid": child,
            "DialBridged": "true",
            "DialCallDuration": "30",
        },
    )
    step(
        "status",
        "/twilio/voice/status/",
        {"CallSid": sid, "CallStatus": "completed", "CallDuration": "45"},
    )


def _categorise(profile: cProfile.Profile, requests: int) -> list[tuple[str, float]]:
    stats = pstats.Stats(profile)
    totals: dict[str, float] = defaultdict(float)
    for (filename, _, _), (_, _, own, _, _) in stats.stats.items():
        name = "other (Python built-ins, logging, io...)"
        for category, patterns in CATEGORIES:
            if any(pattern in filename for pattern in patterns):
                name = category
                break
        totals[name] += own
    return sorted(
        ((name, seconds / requests * 1000) for name, seconds in totals.items()),
        key=lambda item: -item[1],
    )


def _top(profile: cProfile.Profile, limit: int = 25) -> str:
    out = io.StringIO()
    pstats.Stats(profile, stream=out).sort_stats("tottime").print_stats(limit)
    return out.getvalue()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=2000)
    parser.add_argument("--postgres", default="postgres://postgres@127.0.0.1:5432")
    parser.add_argument("--top", action="store_true", help="print the top functions too")
    parser.add_argument("--no-docs", action="store_true", help="do not update the docs")
    args = parser.parse_args()

    database = f"calltracking_profile_{os.getpid()}"
    with psycopg.connect(f"{args.postgres}/postgres", autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{database}"')
    try:
        _setup(f"{args.postgres}/{database}")
        client = InProcess()
        for n in range(200):  # warm up: imports, prepared statements, caches
            _call(client, f"CAW{n:031d}", defaultdict(list))
            client.post("/bench/floor-b/", {"CallSid": f"CAW{n:031d}", "To": NUMBER})
            client.post("/bench/floor-c/", {"CallSid": f"CAV{n:031d}", "To": NUMBER})

        timings: dict[str, list[float]] = defaultdict(list)
        for n in range(args.calls):
            _call(client, f"CAT{n:031d}", timings)
            for name, path, sid in [
                ("floor B", "/bench/floor-b/", f"CAT{n:031d}"),
                ("floor C", "/bench/floor-c/", f"CAC{n:031d}"),
                ("floor", "/bench/floor/", f"CAT{n:031d}"),
            ]:
                params = {"CallSid": sid, "From": "+13125550123", "To": NUMBER}
                environ = client.environ(path, params)
                started = time.perf_counter()
                client.send(environ)
                timings[name].append(time.perf_counter() - started)
        means = {name: sum(values) / len(values) * 1000 for name, values in timings.items()}

        incoming = cProfile.Profile()
        for n in range(args.calls):
            params = {"CallSid": f"CAP{n:031d}", "From": "+13125550123", "To": NUMBER}
            incoming.runcall(client.send, client.environ("/twilio/voice/", params))
        mix = cProfile.Profile()
        for n in range(args.calls // 5):
            _call(client, f"CAM{n:031d}", defaultdict(list), mix)
        floor_b = cProfile.Profile()
        for n in range(args.calls):
            environ = client.environ("/bench/floor-b/", {"CallSid": f"CAF{n:031d}", "To": NUMBER})
            floor_b.runcall(client.send, environ)
        result = {
            "when": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
            "machine": f"{os.cpu_count()} cores",
            "requests": args.calls,
            "mean_ms": {name: round(value, 3) for name, value in sorted(means.items())},
            "incoming_ms_by_part": [(n, round(v, 3)) for n, v in _categorise(incoming, args.calls)],
            "mix_ms_by_part": [(n, round(v, 3)) for n, v in _categorise(mix, args.calls // 5 * 5)],
            "floor_b_ms_by_part": [(n, round(v, 3)) for n, v in _categorise(floor_b, args.calls)],
        }
        print(json.dumps(result, indent=2))
        if not args.no_docs:
            write_section("profile", result)
        if args.top:
            for name, profile in [("incoming", incoming), ("whole-call mix", mix)]:
                print(f"Top functions, {name}:")
                print(_top(profile))
    finally:
        from django.db import connections

        connections.close_all()
        with psycopg.connect(f"{args.postgres}/postgres", autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')


if __name__ == "__main__":
    main()
