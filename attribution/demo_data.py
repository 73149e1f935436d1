"""Demo data for website attribution: a plumber's website with four sources (a Google Ads pool,
a newsletter, Google organic, and a pool for every other visit), two weeks of visits with the
holds a pool would have given them, and the calls some visitors made (seed_demo writes them,
attributed by the same statement the incoming webhook runs). The demo landing page
(/demo/site/) shows the site.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from urllib.parse import urlencode

from django.db import transaction

from attribution import calls, matching
from attribution.models import Hold, Source, SourceNumber, Visit, Visitor, Website
from tracking import sql
from tracking.models import Call, Campaign, TrackingNumber

SITE = "https://www.austinplumbing.example"
DAYS = 14
CALL_SHARE = 0.12
HOLD_MINUTES = 30
PAGES = ["/", "/emergency", "/water-heaters", "/drains", "/prices", "/contact", "/reviews"]
KEYWORDS = ["emergency plumber", "plumber near me", "water heater repair", "drain cleaning"]
HOUR_WEIGHTS = [1, 1, 1, 1, 1, 2, 4, 10, 22, 30, 32, 30, 22, 26, 30, 28, 24, 16, 9, 6, 4, 3, 2, 1]


@dataclass(frozen=True)
class DemoSource:
    name: str
    campaign: str
    rule: dict
    share: float
    number: str = ""
    pool: tuple[str, ...] = ()
    overflow: str = ""


SOURCES = [
    DemoSource(
        "Google Ads",
        "Google Ads: emergency plumbing",
        {"rule": Source.Rule.CLICK_ID, "click_id": Source.ClickId.GOOGLE},
        share=0.42,
        pool=("+15125550170", "+15125550171", "+15125550172", "+15125550173"),
        overflow="+15125550111",
    ),
    DemoSource(
        "Newsletter",
        "Website contact page",
        {"rule": Source.Rule.UTM, "utm_medium": "email"},
        share=0.1,
        number="+15125550130",
    ),
    DemoSource(
        "Google organic",
        "Website contact page",
        {"rule": Source.Rule.REFERRER, "referrer_domain": "google.com"},
        share=0.23,
        number="+15125550131",
    ),
    DemoSource(
        "Direct and other visits",
        "Website contact page",
        {"rule": Source.Rule.ANY},
        share=0.25,
        pool=("+15125550174", "+15125550175", "+15125550176"),
    ),
]


def create_website() -> Website:
    """The demo website and its sources and numbers; a second run updates them in place."""
    website, _ = Website.objects.update_or_create(
        name="Austin Plumbing Co.",
        defaults={
            # The demo landing page is served by this app: its own hosts are the site's.
            "domains": "127.0.0.1\nlocalhost\nwww.austinplumbing.example",
            "swap_targets": "+15125550100",
            "hold_minutes": HOLD_MINUTES,
        },
    )
    for position, demo in enumerate(SOURCES):
        campaign = Campaign.objects.get(name=demo.campaign)
        source, _ = Source.objects.update_or_create(
            website=website,
            name=demo.name,
            defaults={"position": position, "campaign": campaign, **demo.rule},
        )
        roles = [
            *((demo.number, SourceNumber.Role.NUMBER) for _ in [1] if demo.number),
            *((phone, SourceNumber.Role.POOL) for phone in demo.pool),
            *((demo.overflow, SourceNumber.Role.OVERFLOW) for _ in [1] if demo.overflow),
        ]
        for phone, role in roles:
            number, _ = TrackingNumber.objects.get_or_create(
                phone_number=phone,
                defaults={"campaign": campaign, "label": f"{demo.name} {role}"},
            )
            SourceNumber.objects.update_or_create(
                number=number, defaults={"source": source, "role": role}
            )
    return website


def _landing(rng: random.Random, demo: DemoSource) -> tuple[str, str]:
    """(landing page, referrer) of a visit from `demo`."""
    page = rng.choice(PAGES[:4])
    if demo.name == "Google Ads":
        query = {
            "utm_source": "google",
            "utm_medium": "cpc",
            "utm_campaign": rng.choice(["emergency", "water-heaters"]),
            "utm_term": rng.choice(KEYWORDS),
            "gclid": f"Cj0KCQ{rng.getrandbits(64):016x}",
        }
        return f"{SITE}{page}?{urlencode(query)}", "https://www.google.com/"
    if demo.name == "Newsletter":
        query = {"utm_source": "newsletter", "utm_medium": "email", "utm_campaign": "spring"}
        return f"{SITE}{page}?{urlencode(query)}", ""
    if demo.name == "Google organic":
        return f"{SITE}{page}", "https://www.google.com/"
    return f"{SITE}{page}", rng.choice(["", "", "https://www.yelp.com/", "https://nextdoor.com/"])


class _Pool:
    """The database backend's rule, replayed in time order: the visitor gets the number free
    longest; none free, the overflow."""

    def __init__(self, numbers: list[TrackingNumber]) -> None:
        self.free_at = {number.pk: datetime.min.replace(tzinfo=UTC) for number in numbers}
        self.numbers = {number.pk: number for number in numbers}
        self.peak = 0
        self.exhausted = 0

    def take(self, start: datetime, until: datetime) -> TrackingNumber | None:
        free = [pk for pk, at in self.free_at.items() if at <= start]
        in_use = len(self.free_at) - len(free)
        if not free:
            self.exhausted += 1
            return None
        pk = min(free, key=lambda key: (self.free_at[key], key))
        self.free_at[pk] = until
        self.peak = max(self.peak, in_use + 1)
        return self.numbers[pk]


def seed_visits(
    website: Website, rng: random.Random, *, until: datetime, visits: int
) -> list[tuple[TrackingNumber, datetime]]:
    """`visits` visits over the two weeks before `until` and their holds; the calls some
    visitors made, as (number called, when). A second run with the same seed makes the same."""
    Visitor.objects.filter(website=website).delete()
    Call.objects.filter(attribution__website=website).delete()
    sources = {source.name: source for source in website.sources.all()}
    demos = {demo.name: demo for demo in SOURCES}
    pools = {
        name: _Pool(
            [row.number for row in source.numbers.filter(role="pool").select_related("number")]
        )
        for name, source in sources.items()
        if demos[name].pool
    }
    arrivals = []
    for _ in range(visits):
        day = rng.randrange(1, DAYS + 1)
        hour = rng.choices(range(24), weights=HOUR_WEIGHTS)[0]
        arrivals.append(until - timedelta(days=day, hours=-hour, seconds=-rng.randrange(3600)))
    arrivals.sort()
    hold = timedelta(minutes=HOLD_MINUTES)
    planned: list[tuple[TrackingNumber, datetime]] = []
    with transaction.atomic():
        for started in arrivals:
            demo = rng.choices(SOURCES, weights=[d.share for d in SOURCES])[0]
            source = sources[demo.name]
            page, referrer = _landing(rng, demo)
            seen = [page.removeprefix(SITE).split("?")[0]]
            seen += rng.sample(PAGES, rng.randrange(0, 4))
            last_seen = started + timedelta(seconds=rng.randrange(20, 900))
            visitor = Visitor.objects.create(
                website=website, created_at=started, last_seen_at=last_seen
            )
            touch = matching.Touch.of(page, referrer)
            visit = Visit.objects.create(
                visitor=visitor,
                source=source,
                started_at=started,
                last_seen_at=last_seen,
                landing_page=page,
                landing_path=seen[0],
                referrer=referrer,
                **touch.utm,
                **touch.click_ids,
                ga_client_id=f"{rng.randrange(10**9)}.{int(started.timestamp())}",
                pages=list(dict.fromkeys(seen)),
                page_count=len(dict.fromkeys(seen)),
            )
            Visitor.objects.filter(pk=visitor.pk).update(first_visit=visit, last_visit=visit)
            number = None
            if demo.pool:
                number = pools[demo.name].take(started, last_seen + hold)
                if number is None:
                    Visit.objects.filter(pk=visit.pk).update(overflow=True)
                    number = TrackingNumber.objects.filter(phone_number=demo.overflow).first()
                else:
                    Hold.objects.create(
                        number=number,
                        source=source,
                        visitor=visitor,
                        visit=visit,
                        held_from=started,
                        held_until=last_seen + hold,
                    )
            else:
                number = TrackingNumber.objects.get(phone_number=demo.number)
            if number is None or rng.random() >= CALL_SHARE:
                continue
            rang = started + timedelta(
                seconds=rng.randrange(10, int((last_seen - started + hold).total_seconds() * 0.8))
            )
            if rang < until:
                planned.append((number, rang))
        for name, pool in pools.items():
            Source.objects.filter(pk=sources[name].pk).update(
                peak_in_use=pool.peak, exhausted_count=pool.exhausted
            )
    return planned


def attribute(call: Call) -> None:
    """Attribute a demo call with the statement the incoming webhook runs."""
    statement = calls.attribution_statement(call)
    if statement is not None:
        sql.run([statement])
