"""Attribution accuracy: a simulated day of website visitors against pools of several sizes.

Visitors arrive through the day (more at midday than at night), stay a while (heartbeats every
minute while their page is open) and leave; a share of them call the number their page shows,
while on the page or some minutes after. Every visitor request goes through the number
endpoint's own service (`attribution.visits.record`, which claims pool numbers through the
configured backend) and every call through the incoming webhook's own write
(`tracking.services.call_start`, which attributes the call as it is written), on a simulated
clock. Each call is then checked against the visitor who really made it: attributed to their
visit (right), to someone else's (wrong), to the source only (they were shown the overflow
number), or to nobody (their hold had ended and nobody held the number).

The same day runs against a pool large enough never to run out (checked), whose traffic gives the
admin's suggested pool size (`attribution.selectors.pool_health`), then against pools smaller
and larger than that suggestion.

    python -m bench.accuracy [--visitors 1000] [--call-share 0.1] [--backend database|redis]
"""

from __future__ import annotations

import argparse
import heapq
import json
import math
import os
import random
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

DAY = datetime(2026, 3, 10, tzinfo=UTC)
# Relative arrivals by hour of day: quiet at night, busiest late morning and early afternoon.
HOURLY = [1, 1, 1, 1, 1, 2, 4, 7, 9, 10, 10, 10, 9, 10, 9, 9, 8, 7, 7, 6, 5, 4, 3, 2]
HEARTBEAT = 60
HOLD_MINUTES = 30
PRINTED = "+15125550100"
OVERFLOW = "+15125550999"


@dataclass(frozen=True)
class Visitor:
    index: int
    arrives: float  # seconds after midnight
    stays: float  # seconds on the site
    calls_at: float | None  # seconds after midnight, or None


def simulated_day(rng: random.Random, visitors: int, call_share: float) -> list[Visitor]:
    people = []
    for index in range(visitors):
        hour = rng.choices(range(24), weights=HOURLY)[0]
        arrives = hour * 3600 + rng.uniform(0, 3600)
        # Sessions: a median of about 2.5 minutes, a long tail of readers (lognormal).
        stays = min(max(rng.lognormvariate(math.log(150), 1.0), 5), 3 * 3600)
        calls_at = None
        if rng.random() < call_share:
            if rng.random() < 0.75:
                calls_at = arrives + rng.uniform(0, stays)  # from the page
            else:
                # After leaving, with the number noted: mostly soon, a few much later.
                calls_at = arrives + stays + rng.expovariate(1 / (8 * 60))
        people.append(Visitor(index, arrives, stays, calls_at))
    return people


def _setup_django(database_url: str, backend: str, redis_url: str) -> None:
    # The simulation measures attribution, not speed: a database in memory-backed storage where
    # there is one spares it a disk flush per commit.
    shm = Path("/dev/shm")
    scratch = Path(
        tempfile.mkdtemp(prefix="calltracking-accuracy-", dir=shm if shm.is_dir() else None)
    )
    os.environ.update(
        {
            "DJANGO_SETTINGS_MODULE": "bench.settings",
            "DATABASE_URL": database_url or f"sqlite:///{scratch / 'accuracy.sqlite3'}",
            "SECRET_KEY": os.environ.get("SECRET_KEY", "bench"),
            "DNI_BACKEND": backend,
            "DNI_REDIS_URL": redis_url,
            "CACHE_URL": "locmemcache://",
            "CALL_SPOOL_DIR": str(scratch / "spool"),
            "CALL_SPOOL_AUTO_REPLAY": "false",
            "LOG_LEVEL": "WARNING",
        }
    )
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


class Day:
    """One website with one pool source, replayed against pools of any size."""

    def __init__(self, largest: int) -> None:
        from attribution.models import Source, SourceNumber, Website
        from tracking.models import Campaign, TrackingNumber

        self.campaign = Campaign.objects.create(name="Google Ads")
        self.campaign.destinations.create(label="Front desk", phone_number="+15125550199")
        self.website = Website.objects.create(
            name="Plumber",
            domains="www.plumber.example",
            swap_targets=PRINTED,
            hold_minutes=HOLD_MINUTES,
        )
        self.source = self.website.sources.create(
            name="Google Ads", rule=Source.Rule.ANY, campaign=self.campaign
        )
        self.numbers = TrackingNumber.objects.bulk_create(
            TrackingNumber(phone_number=f"+1737{n:07d}", campaign=self.campaign)
            for n in range(largest)
        )
        overflow = TrackingNumber.objects.create(phone_number=OVERFLOW, campaign=self.campaign)
        SourceNumber.objects.create(source=self.source, number=overflow, role="overflow")
        self.number_ids = {n.phone_number: n.pk for n in self.numbers}
        self.number_ids[OVERFLOW] = overflow.pk

    def reset(self, size: int) -> None:
        from django.conf import settings

        from attribution import pools, sites
        from attribution.models import CallAttribution, Hold, Source, SourceNumber, Visitor
        from tracking.models import Call

        CallAttribution.objects.all().delete()
        Call.objects.all().delete()
        Hold.objects.all().delete()
        Visitor.objects.all().delete()  # and their visits
        SourceNumber.objects.filter(source=self.source, role="pool").delete()
        SourceNumber.objects.bulk_create(
            SourceNumber(source=self.source, number=number, role="pool")
            for number in self.numbers[:size]
        )
        Source.objects.filter(pk=self.source.pk).update(
            peak_in_use=0, exhausted_count=0, last_exhausted_at=None
        )
        sites.forget_configs()
        if settings.DNI_BACKEND == "redis":
            pools.backend().client.flushdb()

    def run(self, people: list[Visitor], size: int) -> dict:
        from attribution import selectors, sites, visits
        from attribution.models import CallAttribution, Source
        from tracking import services

        self.reset(size)
        site = sites.site_config(self.website.key)
        events: list[tuple[float, int, int]] = []  # (moment, order, visitor): requests, calls
        for person in people:
            moment = person.arrives
            while moment <= person.arrives + person.stays:
                events.append((moment, 0, person.index))
                moment += HEARTBEAT
            if person.calls_at is not None:
                events.append((person.calls_at, 1, person.index))
        heapq.heapify(events)
        keys: dict[int, str] = {}
        shown: dict[int, str] = {}
        tally = {"right": 0, "wrong": 0, "source_only": 0, "unattributed": 0}
        late = {"calls_after_hold": 0, "right_after_hold": 0}
        requests = 0
        started = time.perf_counter()
        while events:
            moment, kind, index = heapq.heappop(events)
            now = DAY + timedelta(seconds=moment)
            person = people[index]
            if kind == 0:
                answer = visits.record(
                    site=site,
                    visitor_key=keys.get(index, ""),
                    page=f"https://www.plumber.example/?gclid=sim{index}",
                    # Heartbeats repeat the page load's address and referrer.
                    referrer="https://www.google.com/",
                    ga="",
                    first=None,
                    now=now,
                )
                requests += 1
                keys[index] = answer["visitor"]
                shown[index] = answer["swaps"][0]["number"] if answer["swaps"] else PRINTED
                continue
            number = shown[index]
            sid = f"CA{index:032d}"
            services.call_start(
                call=services.IncomingCall(sid=sid, called=number, caller=f"+1312555{index:04d}"),
                number_id=self.number_ids.get(number),
                campaign_id=self.campaign.pk,
                at=now,
            )
            attribution = CallAttribution.objects.select_related("visit__visitor").get(call_id=sid)
            after_hold = moment > person.arrives + person.stays + HOLD_MINUTES * 60
            if attribution.kind == CallAttribution.Kind.VISIT:
                right = attribution.visit.visitor.key == keys[index]
                tally["right" if right else "wrong"] += 1
            elif attribution.kind in (CallAttribution.Kind.OVERFLOW, CallAttribution.Kind.SOURCE):
                tally["source_only"] += 1
                right = False
            else:
                tally["unattributed"] += 1
                right = False
            if after_hold:
                late["calls_after_hold"] += 1
                late["right_after_hold"] += int(right)
        calls = sum(tally.values())
        source = Source.objects.get(pk=self.source.pk)
        health = selectors.pool_health(source, now=DAY + timedelta(days=1, hours=6))
        return {
            "pool": size,
            "calls": calls,
            **{name: count for name, count in tally.items()},
            **{f"{name}_pct": round(100 * count / calls, 1) for name, count in tally.items()},
            **late,
            "times_ran_out": source.exhausted_count,
            "peak_in_use": source.peak_in_use,
            "peak_demand": health.peak_demand,
            "suggested_size": health.suggested_size,
            "requests": requests,
            "seconds": round(time.perf_counter() - started, 1),
        }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--visitors", type=int, default=1000, help="visitors in the day")
    parser.add_argument("--call-share", type=float, default=0.1, help="share who call")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument(
        "--largest", type=int, default=200, help="a pool that never runs out, to measure on"
    )
    parser.add_argument("--backend", choices=["database", "redis"], default="database")
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/0")
    parser.add_argument("--database-url", default="", help="default: a throwaway SQLite file")
    parser.add_argument("--no-docs", action="store_true", help="do not update the docs")
    args = parser.parse_args()

    _setup_django(args.database_url, args.backend, args.redis)
    from bench.report import write_section

    people = simulated_day(random.Random(args.seed), args.visitors, args.call_share)
    day = Day(args.largest)
    measured = day.run(people, args.largest)
    if measured["times_ran_out"]:
        sys.exit(f"A pool of {args.largest} ran out: pass a larger --largest.")
    suggested = measured["suggested_size"]
    sizes = sorted(
        {max(1, round(suggested * f)) for f in (0.5, 0.75)} | {suggested} | {round(suggested * 1.5)}
    )
    runs = [day.run(people, size) for size in sizes]
    result = {
        "when": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "backend": args.backend,
        "visitors": args.visitors,
        "call_share": args.call_share,
        "hold_minutes": HOLD_MINUTES,
        "heartbeat_seconds": HEARTBEAT,
        "seed": args.seed,
        "suggested_size": suggested,
        "unlimited": measured,
        "runs": runs,
    }
    print(json.dumps(result, indent=2))
    if not args.no_docs:
        write_section("accuracy", result)
    at_suggestion = next(run for run in runs if run["pool"] == suggested)
    ok = at_suggestion["right_pct"] >= 98 and at_suggestion["wrong"] == 0
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
