"""Load benchmark: many concurrent whole calls against the app under gunicorn on PostgreSQL.

Each simulated call makes Twilio's requests in order, every one signed: incoming, whisper, key
press, dial action, status callback (calls nobody answers skip the whisper). The load comes from
separate processes. In the same run, on the same server and settings: the framework floor, a
bare Django view returning a fixed TwiML document; the write floor, the same view making one
durable INSERT; and floor B, the same view making one indexed SELECT and one INSERT, the least
an incoming webhook can do. The incoming webhook alone (new calls only) and the whole-call mix
are reported as ratios of floor B. Afterwards every call must have exactly one row with the
outcome it was driven to. `--sweep-workers 1,2,3,4,5` first measures floor B, the incoming
webhook and whole calls at each gunicorn worker count and recommends the count that serves the
most whole calls.

    python -m bench.load [--concurrency 32] [--seconds 15] [--sweep-workers 1,2,3,4,5]
"""

from __future__ import annotations

import argparse
import http.client
import itertools
import json
import multiprocessing
import os
import statistics
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


# The baselines: a bare view; the same view making one INSERT first; floor B, the same view
# making one indexed SELECT and one INSERT (the least an incoming webhook can do).
FLOORS = {
    "floor": "/bench/floor/",
    "write-floor": "/bench/write-floor/",
    "floor-b": "/bench/floor-b/",
}


def _floor_request(twilio: Twilio, timings: dict[str, list[float]], mode: str, sid: str) -> None:
    status, _, seconds = twilio.post(FLOORS[mode], {"CallSid": sid, "To": NUMBERS[0]})
    assert status == 200
    timings.setdefault(mode, []).append(seconds)


def _incoming_request(twilio: Twilio, timings: dict[str, list[float]], sid: str, to: str) -> None:
    """Only the incoming webhook: a call comes in (and is logged, in progress)."""
    caller = {"From": "+13125550123", "To": to, "FromCity": "AUSTIN", "FromState": "TX"}
    status, content, seconds = twilio.post("/twilio/voice/", {"CallSid": sid, **caller})
    if status != 200:
        raise RuntimeError(f"incoming answered {status}: {content[:200]!r}")
    timings.setdefault("incoming", []).append(seconds)


def _client(job: tuple[str, int, int, int, float, float, int]) -> dict:
    """One load process: `threads` callers, each making calls back to back until time is up."""
    mode, index, port, threads, seconds, pace, phase = job
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
            # Unique in the whole run: a floor's INSERT must never meet an earlier phase's row.
            sid = f"CA{mode[0]}{phase:03d}{index:02d}{slot:03d}{n:07d}".ljust(34, "0")
            try:
                if mode in FLOORS:
                    _floor_request(twilio, timings, mode, sid)
                elif mode == "incoming":
                    _incoming_request(twilio, timings, sid, NUMBERS[n % len(NUMBERS)])
                    calls.append((sid, "in_progress"))
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


_PHASES = itertools.count()


def _drive(
    mode: str, port: int, concurrency: int, processes: int, seconds: float, pace: float = 0.0
) -> dict:
    per_process = concurrency // processes
    phase = next(_PHASES)
    jobs = [(mode, index, port, per_process, seconds, pace, phase) for index in range(processes)]
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


def _merge(phases: list[dict]) -> dict:
    merged = {"timings": {}, "calls": [], "errors": [], "seconds": 0.0}
    for phase in phases:
        for name, values in phase["timings"].items():
            merged["timings"].setdefault(name, []).extend(values)
        merged["calls"].extend(phase["calls"])
        merged["errors"].extend(phase["errors"])
        merged["seconds"] += phase["seconds"]
    return merged


def _ratio(part: float, whole: float) -> float:
    return round(part / whole, 2) if whole else 0.0


def _rps(phase: dict, name: str | None = None) -> float:
    timings = phase["timings"]
    count = len(timings.get(name, [])) if name else sum(len(v) for v in timings.values())
    return count / phase["seconds"]


class Bench:
    """One database and one gunicorn (restarted for each worker count)."""

    def __init__(self, args) -> None:
        self.args = args
        self.database = f"calltracking_bench_{os.getpid()}"
        self.database_url = f"{args.postgres}/{self.database}"
        self.admin_url = f"{args.postgres}/postgres"
        self.scratch = Path(tempfile.mkdtemp(prefix="calltracking-bench-"))
        self.server: AppServer | None = None

    def __enter__(self) -> Bench:
        with psycopg.connect(self.admin_url, autocommit=True) as connection:
            connection.execute(f'CREATE DATABASE "{self.database}"')
            if self.args.async_commit:
                # For this database only, and for the floors as for the webhooks: a shared disk
                # whose flushes queue behind other work then stops deciding every figure.
                connection.execute(f'ALTER DATABASE "{self.database}" SET synchronous_commit = off')
        server = self._server(self.args.workers)
        server.manage("migrate", "--noinput")
        server.manage("shell", "-c", SETUP.format(numbers=NUMBERS))
        with psycopg.connect(self.database_url, autocommit=True) as connection:
            connection.execute("CREATE TABLE bench_floor (call_sid text PRIMARY KEY)")
        return self

    def __exit__(self, *exc) -> None:
        self.stop()
        with psycopg.connect(self.admin_url, autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{self.database}" WITH (FORCE)')

    def _server(self, workers: int) -> AppServer:
        return AppServer(
            {
                "DJANGO_SETTINGS_MODULE": "bench.settings",
                "DATABASE_URL": self.database_url,
                "SECRET_KEY": "bench",
                "DEBUG": "false",
                "ALLOWED_HOSTS": "127.0.0.1",
                "TWILIO_AUTH_TOKEN": TOKEN,
                "PUBLIC_BASE_URL": "",
                "CACHE_URL": f"filecache://{self.scratch / 'cache'}",
                "CALL_SPOOL_DIR": str(self.scratch / "spool"),
                "EMAIL_URL": "dummymail://",
                "LOG_LEVEL": "WARNING",
            },
            workers=workers,
            threads=self.args.threads,
        )

    def start(self, workers: int) -> int:
        self.stop()
        self.server = self._server(workers).start()
        _drive("calls", self.server.port, 4, 1, 2.0)  # warm up workers, connections and caches
        with psycopg.connect(self.database_url, autocommit=True) as connection:
            connection.execute(
                "TRUNCATE tracking_recording, tracking_callleg, tracking_call, bench_floor CASCADE"
            )
        return self.server.port

    def stop(self) -> None:
        if self.server:
            self.server.stop()
            self.server = None

    def drive(self, mode: str, seconds: float | None = None, pace: float = 0.0) -> dict:
        args = self.args
        return _drive(
            mode, self.server.port, args.concurrency, args.processes, seconds or args.seconds, pace
        )


def _sweep(bench: Bench, counts: list[int]) -> dict:
    """Floor B, the incoming webhook and whole calls at each worker count; the recommended
    count is the one that serves the most whole calls (the fewest within 3 % of the best)."""
    rows = []
    for workers in counts:
        bench.start(workers)
        floor_b = bench.drive("floor-b", bench.args.sweep_seconds)
        incoming = bench.drive("incoming", bench.args.sweep_seconds)
        calls = bench.drive("calls", bench.args.sweep_seconds)
        errors = sum(len(phase["errors"]) for phase in (floor_b, incoming, calls))
        rows.append(
            {
                "workers": workers,
                "floor_b_rps": round(_rps(floor_b), 1),
                "incoming_rps": round(_rps(incoming), 1),
                "calls_per_second": round(len(calls["calls"]) / calls["seconds"], 1),
                "webhook_rps": round(_rps(calls), 1),
                "incoming_ratio_to_floor_b": _ratio(_rps(incoming), _rps(floor_b)),
                "mix_ratio_to_floor_b": _ratio(_rps(calls), _rps(floor_b)),
                "p99_ms": percentiles(
                    [v for values in calls["timings"].values() for v in values]
                ).get("p99"),
                "errors": errors,
            }
        )
        print(json.dumps(rows[-1]), flush=True)
    best = max(row["calls_per_second"] for row in rows)
    recommended = min(row["workers"] for row in rows if row["calls_per_second"] >= 0.97 * best)
    return {"rows": rows, "recommended_workers": recommended}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--concurrency", type=int, default=32, help="simultaneous calls")
    parser.add_argument("--processes", type=int, default=4, help="load-generating processes")
    parser.add_argument("--seconds", type=float, default=15.0, help="per phase")
    # Processes rather than threads: threads of one process take turns on the GIL, which shows
    # in the latency tail (3 x 4 gave a paced p99 about twice that of 5 x 1 here).
    parser.add_argument(
        "--workers", type=int, default=5, help="gunicorn worker processes (deploy's default)"
    )
    parser.add_argument("--threads", type=int, default=1, help="gunicorn threads per worker")
    parser.add_argument("--postgres", default="postgres://postgres@127.0.0.1:5432")
    parser.add_argument(
        "--pace", type=float, default=10.0, help="paced phase: real gaps divided by this"
    )
    parser.add_argument(
        "--sweep-workers",
        default="",
        help="also measure at these worker counts (e.g. 1,2,3,4,5) and recommend one",
    )
    parser.add_argument("--sweep-seconds", type=float, default=8.0, help="per phase of the sweep")
    parser.add_argument(
        "--rounds", type=int, default=3, help="alternating floor B / incoming / calls rounds"
    )
    parser.add_argument(
        "--async-commit",
        action="store_true",
        help="benchmark database without waiting for commits to reach the disk (CPU only)",
    )
    parser.add_argument("--no-docs", action="store_true", help="do not update the docs")
    args = parser.parse_args()

    with Bench(args) as bench:
        sweep = None
        if args.sweep_workers:
            sweep = _sweep(bench, [int(n) for n in args.sweep_workers.split(",")])
        bench.start(args.workers)
        floor = bench.drive("floor")
        write_floor = bench.drive("write-floor")
        # Floor B, the incoming webhook and whole calls in alternating rounds, each ratio taken
        # within its round: a shared machine that slows down mid-run moves all three together.
        rounds = []
        for _ in range(args.rounds):
            seconds = args.seconds / args.rounds
            rounds.append(
                {mode: bench.drive(mode, seconds) for mode in ("floor-b", "incoming", "calls")}
            )
        paced = bench.drive("paced", args.seconds * 2, args.pace)
        driven = [
            c for each in rounds for mode in ("incoming", "calls") for c in each[mode]["calls"]
        ]
        check = _verify(bench.database_url, driven + paced["calls"])

    floor_b, incoming, calls = (
        _merge([each[mode] for each in rounds]) for mode in ("floor-b", "incoming", "calls")
    )
    floor_rps = _rps(floor)
    write_floor_rps = _rps(write_floor)
    floor_b_rps = _rps(floor_b)
    incoming_rps = _rps(incoming)
    rps = _rps(calls)
    per_round = [
        {
            "floor_b_rps": round(_rps(each["floor-b"]), 1),
            "incoming_ratio": _ratio(_rps(each["incoming"]), _rps(each["floor-b"])),
            "mix_ratio": _ratio(_rps(each["calls"]), _rps(each["floor-b"])),
        }
        for each in rounds
    ]
    phases = (floor, write_floor, floor_b, incoming, calls, paced)
    result = {
        "when": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "machine": f"{os.cpu_count()} cores",
        "server": f"gunicorn, {args.workers} workers x {args.threads} threads, PostgreSQL"
        + (" (synchronous_commit off)" if args.async_commit else ""),
        "concurrency": args.concurrency,
        "seconds": round(calls["seconds"], 1),
        "calls_per_second": round(len(calls["calls"]) / calls["seconds"], 1),
        "webhook_requests_per_second": round(rps, 1),
        "incoming_requests_per_second": round(incoming_rps, 1),
        "floor_requests_per_second": round(floor_rps, 1),
        "ratio_to_floor": _ratio(rps, floor_rps),
        "write_floor_requests_per_second": round(write_floor_rps, 1),
        "write_floor_ratio_to_floor": _ratio(write_floor_rps, floor_rps),
        "ratio_to_write_floor": _ratio(rps, write_floor_rps),
        "floor_b_requests_per_second": round(floor_b_rps, 1),
        "rounds": per_round,
        "floor_b_ratio_to_floor": _ratio(floor_b_rps, floor_rps),
        "incoming_ratio_to_floor_b": statistics.median(r["incoming_ratio"] for r in per_round),
        "mix_ratio_to_floor_b": statistics.median(r["mix_ratio"] for r in per_round),
        "latency_ms": {
            name: percentiles(values) for name, values in sorted(calls["timings"].items())
        },
        "incoming_only_latency_ms": percentiles(incoming["timings"]["incoming"]),
        "floor_latency_ms": percentiles(floor["timings"]["floor"]),
        "write_floor_latency_ms": percentiles(write_floor["timings"]["write-floor"]),
        "floor_b_latency_ms": percentiles(floor_b["timings"]["floor-b"]),
        "all_webhooks_latency_ms": percentiles(
            [v for values in calls["timings"].values() for v in values]
        ),
        "paced": {
            "pace": args.pace,
            "calls": len(paced["calls"]),
            "requests_per_second": round(_rps(paced), 1),
            "latency_ms": {
                name: percentiles(values) for name, values in sorted(paced["timings"].items())
            },
            "all_webhooks_latency_ms": percentiles(
                [v for values in paced["timings"].values() for v in values]
            ),
        },
        "errors": sum(len(phase["errors"]) for phase in phases),
        "first_errors": [error for phase in phases for error in phase["errors"]][:5],
        "rows": check,
        "sweep": sweep,
    }
    print(json.dumps(result, indent=2))
    if not args.no_docs:
        write_section("load", result)
    ok = check["missing"] == check["duplicated"] == check["wrong_outcome"] == 0
    sweep_errors = sum(row["errors"] for row in sweep["rows"]) if sweep else 0
    sys.exit(0 if ok and not result["errors"] and not sweep_errors else 1)


if __name__ == "__main__":
    main()
