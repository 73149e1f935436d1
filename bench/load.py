"""Load benchmark: many concurrent whole calls against the app under gunicorn on PostgreSQL.

Each simulated call makes Twilio's requests in order, every one signed: incoming, whisper, key
press, dial action, status callback (calls nobody answers skip the whisper). The load comes from
separate processes. The framework floor, a bare Django view returning a fixed TwiML document on
the same server and settings, is measured in the same run, and our throughput is reported as a
ratio of it. So is the write floor: the same view making one durable INSERT, the least a webhook
that logs a call can do. Afterwards every call must have exactly one row with the outcome it was
driven to.

    python -m bench.load [--concurrency 32] [--seconds 15]
"""

from __future__ import annotations

import argparse
import http.client
import itertools
import json
import multiprocessing
import os
import sys
import tempfile
import threading
import time
import xml.etree.ElementTree as ET
from pathlib import Path
from urllib.parse import urlencode, urlsplit

import psycopg
from twilio.request_validator import RequestValidator

from bench.report import percentiles, write_section
from tests.support.servers import AppServer

TOKEN = "bench-auth-token"
NUMBERS = [f"+1512555010{n}" for n in range(5)]
# Outcome mix of the simulated calls, roughly what the demo data shows.
PLAN = ["accept"] * 6 + ["decline", "silent", "no-answer", "busy"]
EXPECTED = {
    "accept": "accepted",
    "decline": "rejected",
    "silent": "no_input",
    "no-answer": "no_answer",
    "busy": "busy",
}
SETUP = """
from tracking.models import Campaign, TrackingNumber
campaign = Campaign.objects.create(name="Load Test")
campaign.destinations.create(label="Front desk", phone_number="+15125550199")
for number in {numbers!r}:
    TrackingNumber.objects.create(phone_number=number, campaign=campaign)
"""


class Twilio:
    """One keep-alive connection that signs each request as Twilio would."""

    def __init__(self, port: int) -> None:
        self.origin = f"http://127.0.0.1:{port}"
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        self.validator = RequestValidator(TOKEN)

    def post(self, url: str, params: dict[str, str]) -> tuple[int, bytes, float]:
        parts = urlsplit(url)
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        signature = self.validator.compute_signature(self.origin + path, params)
        body = urlencode(params)
        started = time.perf_counter()
        self.connection.request(
            "POST",
            path,
            body=body,
            headers={
                "Content-Type": "application/x-www-form-urlencoded",
                "X-Twilio-Signature": signature,
            },
        )
        response = self.connection.getresponse()
        content = response.read()
        return response.status, content, time.perf_counter() - started


# Seconds a real call spends between webhooks (ringing, whisper and key, talk), divided by the
# --pace factor in the paced phase; the saturation phase uses none.
GAPS = {"whisper": 4.0, "key": 5.0, "dial-done": 10.0, "status": 1.0}


def _call(
    twilio: Twilio, sid: str, to: str, plan: str, timings: dict[str, list[float]], pace: float
) -> None:
    def step(name: str, url: str, params: dict[str, str]) -> ET.Element | None:
        if pace:
            time.sleep(GAPS.get(name, 0.0) / pace)
        status, content, seconds = twilio.post(url, params)
        timings.setdefault(name, []).append(seconds)
        if status not in (200, 204):
            raise RuntimeError(f"{name} answered {status}: {content[:200]!r}")
        return ET.fromstring(content) if status == 200 else None

    caller = {"From": "+13125550123", "To": to, "FromCity": "AUSTIN", "FromState": "TX"}
    dial = step("incoming", "/twilio/voice/", {"CallSid": sid, **caller}).find("Dial")
    child = sid + "C"
    if plan in ("no-answer", "busy"):
        step(
            "dial-done",
            dial.get("action"),
            {"CallSid": sid, "DialCallStatus": plan, "DialCallSid": child},
        )
    else:
        whisper = step(
            "whisper", dial.find("Number").get("url"), {"CallSid": child, "ParentCallSid": sid}
        )
        digits = {"accept": "1", "decline": "2", "silent": ""}[plan]
        step("key", whisper.find("Gather").get("action"), {"CallSid": child, "Digits": digits})
        bridged = plan == "accept"
        step(
            "dial-done",
            dial.get("action"),
            {
                "CallSid": sid,
                "DialCallStatus": "completed",
                "DialCallSid": child,
                "DialBridged": "true" if bridged else "false",
                **({"DialCallDuration": "30"} if bridged else {}),
            },
        )
    step(
        "status",
        "/twilio/voice/status/",
        {"CallSid": sid, "CallStatus": "completed", "CallDuration": "45"},
    )


# The baselines: a bare view, and the same view making one INSERT first.
FLOORS = {"floor": "/bench/floor/", "write-floor": "/bench/write-floor/"}


def _floor_request(twilio: Twilio, timings: dict[str, list[float]], mode: str, sid: str) -> None:
    status, _, seconds = twilio.post(FLOORS[mode], {"CallSid": sid})
    assert status == 200
    timings.setdefault(mode, []).append(seconds)


def _client(job: tuple[str, int, int, int, float, float]) -> dict:
    """One load process: `threads` callers, each making calls back to back until time is up."""
    mode, index, port, threads, seconds, pace = job
    results = {"timings": {}, "calls": [], "errors": []}
    lock = threading.Lock()
    deadline = time.monotonic() + seconds

    def caller(slot: int) -> None:
        twilio = Twilio(port)
        timings: dict[str, list[float]] = {}
        calls = []
        for n in itertools.count():
            if time.monotonic() > deadline:
                break
            sid = f"CA{mode[0]}{index:02d}{slot:03d}{n:07d}".ljust(34, "0")
            try:
                if mode in FLOORS:
                    _floor_request(twilio, timings, mode, sid)
                else:
                    plan = PLAN[n % len(PLAN)]
                    _call(twilio, sid, NUMBERS[n % len(NUMBERS)], plan, timings, pace)
                    calls.append((sid, EXPECTED[plan]))
            except Exception as error:  # recorded and reported: a benchmark must not hide them
                with lock:
                    results["errors"].append(repr(error))
                twilio = Twilio(port)
        with lock:
            for name, values in timings.items():
                results["timings"].setdefault(name, []).extend(values)
            results["calls"].extend(calls)

    workers = [threading.Thread(target=caller, args=(slot,)) for slot in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return results


def _drive(
    mode: str, port: int, concurrency: int, processes: int, seconds: float, pace: float = 0.0
) -> dict:
    per_process = concurrency // processes
    jobs = [(mode, index, port, per_process, seconds, pace) for index in range(processes)]
    started = time.perf_counter()
    with multiprocessing.get_context("spawn").Pool(processes) as pool:
        parts = pool.map(_client, jobs)
    elapsed = time.perf_counter() - started
    merged = {"timings": {}, "calls": [], "errors": [], "seconds": elapsed}
    for part in parts:
        for name, values in part["timings"].items():
            merged["timings"].setdefault(name, []).extend(values)
        merged["calls"].extend(part["calls"])
        merged["errors"].extend(part["errors"])
    return merged


def _verify(database_url: str, calls: list[tuple[str, str]]) -> dict:
    with psycopg.connect(database_url) as connection:
        rows = connection.execute(
            "SELECT call_sid, outcome, COUNT(*) OVER (PARTITION BY call_sid) FROM tracking_call"
        ).fetchall()
    found = {sid: (outcome, count) for sid, outcome, count in rows}
    expected = dict(calls)
    return {
        "calls": len(expected),
        "rows": len(rows),
        "missing": sum(1 for sid in expected if sid not in found),
        "duplicated": sum(1 for _, count in found.values() if count > 1),
        "wrong_outcome": sum(
            1 for sid, outcome in expected.items() if sid in found and found[sid][0] != outcome
        ),
        "unexpected": sum(1 for sid in found if sid not in expected),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--concurrency", type=int, default=32, help="simultaneous calls")
    parser.add_argument("--processes", type=int, default=4, help="load-generating processes")
    parser.add_argument("--seconds", type=float, default=15.0, help="per phase")
    # Processes rather than threads: threads of one process take turns on the GIL, which shows
    # in the latency tail (3 x 4 gave a paced p99 about twice that of 5 x 1 here).
    parser.add_argument("--workers", type=int, default=5, help="gunicorn worker processes")
    parser.add_argument("--threads", type=int, default=1, help="gunicorn threads per worker")
    parser.add_argument("--postgres", default="postgres://postgres@127.0.0.1:5432")
    parser.add_argument(
        "--pace", type=float, default=10.0, help="paced phase: real gaps divided by this"
    )
    parser.add_argument("--no-docs", action="store_true", help="do not update the docs")
    args = parser.parse_args()

    database = f"calltracking_bench_{os.getpid()}"
    database_url = f"{args.postgres}/{database}"
    admin_url = f"{args.postgres}/postgres"
    scratch = Path(tempfile.mkdtemp(prefix="calltracking-bench-"))
    with psycopg.connect(admin_url, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{database}"')
    server = AppServer(
        {
            "DJANGO_SETTINGS_MODULE": "bench.settings",
            "DATABASE_URL": database_url,
            "SECRET_KEY": "bench",
            "DEBUG": "false",
            "ALLOWED_HOSTS": "127.0.0.1",
            "TWILIO_AUTH_TOKEN": TOKEN,
            "PUBLIC_BASE_URL": "",
            "CACHE_URL": f"filecache://{scratch / 'cache'}",
            "CALL_SPOOL_DIR": str(scratch / "spool"),
            "EMAIL_URL": "dummymail://",
            "LOG_LEVEL": "WARNING",
        },
        workers=args.workers,
        threads=args.threads,
    )
    try:
        server.manage("migrate", "--noinput")
        server.manage("shell", "-c", SETUP.format(numbers=NUMBERS))
        with psycopg.connect(database_url, autocommit=True) as connection:
            connection.execute("CREATE TABLE bench_floor (call_sid text PRIMARY KEY)")
        server.start()
        _drive("calls", server.port, 4, 1, 2.0)  # warm up workers, connections and caches
        with psycopg.connect(database_url, autocommit=True) as connection:
            connection.execute("TRUNCATE tracking_recording, tracking_callleg, tracking_call")

        floor = _drive("floor", server.port, args.concurrency, args.processes, args.seconds)
        write_floor = _drive(
            "write-floor", server.port, args.concurrency, args.processes, args.seconds
        )
        calls = _drive("calls", server.port, args.concurrency, args.processes, args.seconds)
        paced = _drive(
            "paced", server.port, args.concurrency, args.processes, args.seconds * 2, args.pace
        )
        check = _verify(database_url, calls["calls"] + paced["calls"])
    finally:
        server.stop()
        with psycopg.connect(admin_url, autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')

    floor_rps = len(floor["timings"]["floor"]) / floor["seconds"]
    write_floor_rps = len(write_floor["timings"]["write-floor"]) / write_floor["seconds"]
    requests = sum(len(values) for values in calls["timings"].values())
    rps = requests / calls["seconds"]
    result = {
        "when": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "machine": f"{os.cpu_count()} cores",
        "server": f"gunicorn, {args.workers} workers x {args.threads} threads, PostgreSQL",
        "concurrency": args.concurrency,
        "seconds": round(calls["seconds"], 1),
        "calls_per_second": round(len(calls["calls"]) / calls["seconds"], 1),
        "webhook_requests_per_second": round(rps, 1),
        "floor_requests_per_second": round(floor_rps, 1),
        "ratio_to_floor": round(rps / floor_rps, 2),
        "write_floor_requests_per_second": round(write_floor_rps, 1),
        "write_floor_ratio_to_floor": round(write_floor_rps / floor_rps, 2),
        "ratio_to_write_floor": round(rps / write_floor_rps, 2),
        "latency_ms": {
            name: percentiles(values) for name, values in sorted(calls["timings"].items())
        },
        "floor_latency_ms": percentiles(floor["timings"]["floor"]),
        "write_floor_latency_ms": percentiles(write_floor["timings"]["write-floor"]),
        "all_webhooks_latency_ms": percentiles(
            [v for values in calls["timings"].values() for v in values]
        ),
        "paced": {
            "pace": args.pace,
            "calls": len(paced["calls"]),
            "requests_per_second": round(
                sum(len(v) for v in paced["timings"].values()) / paced["seconds"], 1
            ),
            "latency_ms": {
                name: percentiles(values) for name, values in sorted(paced["timings"].items())
            },
            "all_webhooks_latency_ms": percentiles(
                [v for values in paced["timings"].values() for v in values]
            ),
        },
        "errors": sum(len(phase["errors"]) for phase in (floor, write_floor, calls, paced)),
        "first_errors": [
            error for phase in (floor, write_floor, calls, paced) for error in phase["errors"]
        ][:5],
        "rows": check,
    }
    print(json.dumps(result, indent=2))
    if not args.no_docs:
        write_section("load", result)
    ok = check["missing"] == check["duplicated"] == check["wrong_outcome"] == 0
    sys.exit(0 if ok and not result["errors"] else 1)


if __name__ == "__main__":
    main()
