"""Number endpoint benchmark: the website script's requests under gunicorn on PostgreSQL, with
the pool's live holds in the database and then in Redis.

Concurrent simulated visitors post to `/dni/v1/visits` as the script does (cross-origin, a
text/plain JSON body, each from its own client address): a first request that claims a pool
number, then page views and heartbeats that keep it, then a new visitor. In the same run the
framework floor is measured: a bare Django view that reads the same body and answers a fixed
JSON document, on the same server and settings. Throughput is reported as a ratio of it.

Saturation (every visitor asks again as soon as it is answered) gives throughput; a paced phase
(each visitor waits between requests, as pages do) gives the latency a visitor sees; one visitor
alone, against the floor alone, gives what one request costs even on a machine busy with
other work. Afterwards
no pool number may have been shown to two visitors in one phase (holds last longer than a
phase), and the holds the database kept must never overlap.

    python -m bench.dni [--visitors 64] [--seconds 12] [--redis redis://127.0.0.1:6379/0]
"""

from __future__ import annotations

import argparse
import http.client
import itertools
import json
import multiprocessing
import os
import random
import sys
import tempfile
import threading
import time
from collections import defaultdict
from pathlib import Path

import psycopg

from bench.report import percentiles, write_section
from tests.support.servers import AppServer

ORIGIN = "https://www.hillcountryplumbing.example"
PRINTED = "+15125550100"
# Each phase's overflow number: +1512555900<phase index>.
OVERFLOW_PREFIX = "+15125559"
LANDING = (
    ORIGIN + "/emergency?utm_source=google&utm_medium=cpc&utm_campaign=drains"
    "&utm_term=plumber+near+me&gclid={click}"
)
# The slowest requests of each phase listed in the results.
SLOWEST = 8
# One source, and so one pool, per measured phase: each phase starts with every number free.
PHASES = ("database", "redis", "paced-database", "paced-redis", "one-database", "one-redis")
SETUP = """
from attribution.models import Source, SourceNumber, Website
from tracking.models import Campaign, TrackingNumber
campaign = Campaign.objects.create(name="Google Ads")
campaign.destinations.create(label="Front desk", phone_number="+15125550199")
keys = {{}}
for index, phase in enumerate({phases!r}):
    website = Website.objects.create(
        name=phase, domains="www.hillcountryplumbing.example", swap_targets="{printed}"
    )
    source = website.sources.create(name="Google Ads", rule="click_id", click_id="google",
                                    campaign=campaign)
    numbers = TrackingNumber.objects.bulk_create(
        TrackingNumber(phone_number=f"+1{{index + 2}}10{{n:07d}}", campaign=campaign)
        for n in range({pool})
    )
    SourceNumber.objects.bulk_create(
        SourceNumber(source=source, number=number, role="pool") for number in numbers
    )
    overflow = TrackingNumber.objects.create(
        phone_number=f"{overflow}{{index:03d}}", campaign=campaign
    )
    SourceNumber.objects.create(source=source, number=overflow, role="overflow")
    keys[phase] = website.key
import json
print(json.dumps(keys))
"""


class Browser:
    """One visitor slot's keep-alive connection, posting as the script posts."""

    def __init__(self, port: int, address: str) -> None:
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        self.address = address

    def post(self, path: str, body: dict) -> tuple[int, dict, float]:
        data = json.dumps(body)
        started = time.perf_counter()
        self.connection.request(
            "POST",
            path,
            body=data,
            headers={
                "Content-Type": "text/plain;charset=UTF-8",
                "Origin": ORIGIN,
                # Each visitor slot is its own client for the rate limit, as browsers are.
                "X-Forwarded-For": self.address,
            },
        )
        response = self.connection.getresponse()
        content = response.read()
        seconds = time.perf_counter() - started
        return response.status, json.loads(content) if content else {}, seconds


def _warm(port: int, key: str, requests: int) -> None:
    """Visits to the phase's website from a page no source matches (no pool number is taken),
    several at once, so that every worker has read the website's settings and drawn keys
    before the phase is timed: its figures are those of a server already running, not of each
    worker's first request for a website it has never seen."""

    def one(n: int) -> None:
        browser = Browser(port, f"10.250.{n // 250}.{n % 250 + 1}")
        for _ in range(2):
            status, _, _ = browser.post(
                "/dni/v1/visits",
                {"website": key, "visitor": "", "page": ORIGIN + "/", "referrer": ""},
            )
            assert status == 200, status

    threads = [threading.Thread(target=one, args=(n,)) for n in range(requests)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    time.sleep(0.5)


def _client(job: tuple) -> dict:
    """One load process: `threads` visitor slots, each a stream of visitors."""
    mode, index, port, threads, seconds, key, per_visitor, gap, claims = job
    path = "/bench/dni-floor/" if mode == "floor" else "/dni/v1/visits"
    results = {"timings": defaultdict(list), "shown": [], "errors": [], "slowest": []}
    started = time.monotonic()
    lock = threading.Lock()
    deadline = time.monotonic() + seconds
    # New visitors beyond the first of each slot, so that the pool never runs out: every
    # claim is a real one, and overflow answers would mean numbers leaked.
    budget = [claims - threads]

    def new_visitor() -> bool:
        with lock:
            budget[0] -= 1
            return budget[0] >= 0

    def slot(n: int) -> None:
        rng = random.Random(index * 1000 + n)
        browser = Browser(port, f"10.{index}.{n // 250}.{n % 250 + 1}")
        timings, shown, moments = defaultdict(list), [], []
        visitor, first, page, referrer, ga = "", None, "", "", ""
        if gap:
            # Paced visitors arrive at random moments, not all in the phase's first instant.
            time.sleep(rng.uniform(0, gap))
        for request in itertools.count():
            if time.monotonic() > deadline:
                break
            if request == 0 or (request % per_visitor == 0 and new_visitor()):
                visitor, first = "", None
                page = LANDING.format(click=f"bench{index}x{n}x{request}")
                referrer = "https://www.google.com/"
                ga = f"{rng.randrange(10**9)}.{1764750000 + request}"
            elif request % 2:
                # A view of another page, referred by the page open before it.
                page, referrer = f"{ORIGIN}/services/{request % 7}", page
            # Else a heartbeat of the page open: the same page and referrer.
            kind = "keep" if visitor else "claim"
            body = {
                "website": key,
                "visitor": visitor,
                "page": page,
                "referrer": referrer,
                "ga": ga,
                "first": first,
            }
            try:
                status, answer, took = browser.post(path, body)
            except Exception as error:  # counted and reported, never hidden
                with lock:
                    results["errors"].append(repr(error))
                browser = Browser(port, browser.address)
                continue
            if status != 200:
                with lock:
                    results["errors"].append(f"{status} {answer}")
                continue
            timings[kind].append(took)
            moments.append((took, kind, time.monotonic() - took - started))
            if mode != "floor":
                visitor, first = answer["visitor"], answer["first"]
                number = answer["swaps"][0]["number"] if answer["swaps"] else ""
                shown.append((number, visitor, time.time()))
            if gap:
                time.sleep(rng.uniform(0.5, 1.5) * gap)
        with lock:
            for name, values in timings.items():
                results["timings"][name].extend(values)
            results["slowest"].extend(sorted(moments, reverse=True)[:SLOWEST])
            results["shown"].extend(shown)

    workers = [threading.Thread(target=slot, args=(n,)) for n in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    results["timings"] = dict(results["timings"])
    return results


def _drive(
    mode, port, visitors, processes, seconds, key="", per_visitor=8, gap=0.0, claims=0
) -> dict:
    per_process = visitors // processes
    jobs = [
        (mode, index, port, per_process, seconds, key, per_visitor, gap, claims // processes)
        for index in range(processes)
    ]
    started = time.perf_counter()
    with multiprocessing.get_context("spawn").Pool(processes) as pool:
        parts = pool.map(_client, jobs)
    merged = {"timings": defaultdict(list), "shown": [], "errors": [], "slowest": []}
    merged["seconds"] = time.perf_counter() - started
    for part in parts:
        for name, values in part["timings"].items():
            merged["timings"][name].extend(values)
        merged["shown"].extend(part["shown"])
        merged["errors"].extend(part["errors"])
        merged["slowest"].extend(part["slowest"])
    merged["requests"] = sum(len(v) for v in merged["timings"].values())
    return merged


def _shared_numbers(shown: list[tuple[str, str, float]]) -> dict:
    """Pool numbers shown to more than one visitor in a phase: each such number was held by
    two live visitors at once (a hold outlives the phase)."""
    holders = defaultdict(set)
    for number, visitor, _ in shown:
        if number and not number.startswith(OVERFLOW_PREFIX):
            holders[number].add(visitor)
    return {
        "visitors": len({visitor for _, visitor, _ in shown}),
        "pool_numbers_shown": len(holders),
        "overflow_answers": sum(1 for number, _, _ in shown if number.startswith(OVERFLOW_PREFIX)),
        "shown_to_two_visitors": sum(1 for visitors in holders.values() if len(visitors) > 1),
    }


def _overlapping_holds(database_url: str) -> int:
    with psycopg.connect(database_url) as connection:
        return connection.execute(
            """
            SELECT COUNT(*) FROM attribution_hold a JOIN attribution_hold b
              ON a.number_id = b.number_id AND a.id < b.id
             AND a.held_from < b.held_until AND b.held_from < a.held_until
            """
        ).fetchone()[0]


def _phase_result(phase: dict, floor_rps: float) -> dict:
    rps = phase["requests"] / phase["seconds"]
    return {
        "requests": phase["requests"],
        "requests_per_second": round(rps, 1),
        "ratio_to_floor": round(rps / floor_rps, 2),
        "latency_ms": {
            "all": percentiles([v for values in phase["timings"].values() for v in values]),
            **{name: percentiles(values) for name, values in sorted(phase["timings"].items())},
        },
        "errors": len(phase["errors"]),
        "first_errors": phase["errors"][:3],
        # What makes a p99: the slowest requests, each with its kind and the second of the
        # phase it was sent in.
        "slowest": [
            {"ms": round(took * 1000, 2), "kind": kind, "at_second": round(at, 2)}
            for took, kind, at in sorted(phase["slowest"], reverse=True)[:SLOWEST]
        ],
        **_shared_numbers(phase["shown"]),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--visitors", type=int, default=64, help="concurrent visitors")
    parser.add_argument("--processes", type=int, default=4, help="load-generating processes")
    parser.add_argument("--seconds", type=float, default=12.0, help="per phase")
    parser.add_argument("--workers", type=int, default=5, help="gunicorn worker processes")
    parser.add_argument(
        "--pool", type=int, default=96, help="numbers in each phase's pool (1.5 per visitor)"
    )
    parser.add_argument(
        "--per-visitor", type=int, default=8, help="requests per visitor (1 claim, then keeps)"
    )
    parser.add_argument(
        "--gap", type=float, default=2.0, help="paced phases: mean seconds between requests"
    )
    parser.add_argument("--postgres", default="postgres://postgres@127.0.0.1:5432")
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/0")
    parser.add_argument(
        "--async-commit",
        action="store_true",
        help="diagnosis: the database's commits do not wait for the WAL flush",
    )
    parser.add_argument("--no-docs", action="store_true", help="do not update the docs")
    args = parser.parse_args()

    database = f"calltracking_bench_dni_{os.getpid()}"
    database_url = f"{args.postgres}/{database}"
    admin_url = f"{args.postgres}/postgres"
    scratch = Path(tempfile.mkdtemp(prefix="calltracking-bench-"))
    with psycopg.connect(admin_url, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{database}"')
        if args.async_commit:
            connection.execute(f'ALTER DATABASE "{database}" SET synchronous_commit = off')
    import redis

    redis.Redis.from_url(args.redis).flushdb()
    env = {
        "DJANGO_SETTINGS_MODULE": "bench.settings",
        "DATABASE_URL": database_url,
        "SECRET_KEY": "bench",
        "DEBUG": "false",
        "ALLOWED_HOSTS": "127.0.0.1",
        "TRUST_PROXY_HEADERS": "true",
        "DNI_RATE_LIMIT": "100000",
        "DNI_REDIS_URL": args.redis,
        "CACHE_URL": f"filecache://{scratch / 'cache'}",
        "CALL_SPOOL_DIR": str(scratch / "spool"),
        "LOG_LEVEL": "WARNING",
        "EMAIL_URL": "dummymail://",
    }
    servers = {
        backend: AppServer({**env, "DNI_BACKEND": backend}, workers=args.workers)
        for backend in ("database", "redis")
    }
    phases: dict[str, dict] = {}
    try:
        setup = SETUP.format(
            phases=PHASES, printed=PRINTED, pool=args.pool, overflow=OVERFLOW_PREFIX
        )
        servers["database"].manage("migrate", "--noinput")
        output = servers["database"].manage("shell", "-c", setup)
        keys = json.loads(output.strip().splitlines()[-1])
        for server in servers.values():
            server.start()
            # Warm up workers and connections (on the floor: no pool number is taken).
            _drive("floor", server.port, 8, 2, 2.0)
        floors = []
        # The floor before and after the saturation phases: the machine's load drifts.
        for phase in ("floor", *PHASES[:2], "floor", *PHASES[2:], "one-floor"):
            if phase == "one-floor":
                # One visitor at a time: what a request costs, whatever the machine's load.
                single_floor = _drive("floor", servers["database"].port, 1, 1, args.seconds)
                continue
            if phase == "floor":
                floors.append(
                    _drive(
                        "floor",
                        servers["database"].port,
                        args.visitors,
                        args.processes,
                        args.seconds,
                    )
                )
                continue
            backend = phase.removeprefix("paced-").removeprefix("one-")
            single = phase.startswith("one-")
            _warm(servers[backend].port, keys[phase], 4 * args.workers)
            phases[phase] = _drive(
                phase,
                servers[backend].port,
                1 if single else args.visitors,
                1 if single else args.processes,
                args.seconds,
                key=keys[phase],
                per_visitor=args.per_visitor,
                gap=args.gap if phase.startswith("paced") else 0.0,
                claims=args.pool,
            )
        overlapping = _overlapping_holds(database_url)
    finally:
        for server in servers.values():
            server.stop()
        with psycopg.connect(admin_url, autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')

    floor_rps = sum(f["requests"] for f in floors) / sum(f["seconds"] for f in floors)
    single_rps = single_floor["requests"] / single_floor["seconds"]
    result = {
        "when": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "machine": f"{os.cpu_count()} cores",
        "server": f"gunicorn, {args.workers} workers x 1 thread, PostgreSQL"
        + (" (synchronous_commit off)" if args.async_commit else ""),
        "visitors": args.visitors,
        "seconds": args.seconds,
        "pool": args.pool,
        "per_visitor": args.per_visitor,
        "gap": args.gap,
        "floor_requests_per_second": round(floor_rps, 1),
        "floor_latency_ms": percentiles(
            [v for floor in floors for values in floor["timings"].values() for v in values]
        ),
        "floor_runs_requests_per_second": [
            round(floor["requests"] / floor["seconds"], 1) for floor in floors
        ],
        "phases": {
            name: _phase_result(phase, single_rps if name.startswith("one-") else floor_rps)
            for name, phase in phases.items()
        },
        "one_visitor_floor_latency_ms": percentiles(
            [v for values in single_floor["timings"].values() for v in values]
        ),
        "overlapping_holds": overlapping,
    }
    print(json.dumps(result, indent=2))
    if not args.no_docs:
        write_section("dni", result)
    doubles = overlapping + sum(p["shown_to_two_visitors"] for p in result["phases"].values())
    errors = sum(p["errors"] for p in result["phases"].values())
    sys.exit(0 if doubles == 0 and errors == 0 else 1)


if __name__ == "__main__":
    main()
