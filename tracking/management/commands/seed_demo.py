"""Demo data: a few campaigns and numbers, and thousands of plausible calls over 90 days."""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.core.management.base import BaseCommand, CommandParser
from django.db import transaction
from django.utils import timezone

from tracking import phones
from tracking.models import Call, Campaign, TrackingNumber

DAYS = 90
BATCH = 5000
Outcome = Call.Outcome


@dataclass(frozen=True)
class DemoCampaign:
    name: str
    forward_to: str
    numbers: tuple[tuple[str, str], ...]  # (number, label)
    share: float  # of all calls
    accept_weight: float  # how often the business takes its calls, relative to the others
    is_active: bool = True
    caller_name_lookup: bool = False


# All numbers in the 555-01XX range, which is reserved for fiction.
CAMPAIGNS = [
    DemoCampaign(
        "Google Ads: emergency plumbing",
        "+15125550190",
        (
            ("+15125550110", "Search ad call extension"),
            ("+15125550111", "Landing page"),
            ("+15125550112", "Display ads"),
        ),
        share=0.34,
        accept_weight=1.25,
        caller_name_lookup=True,
    ),
    DemoCampaign(
        "I-35 billboard",
        "+15125550190",
        (("+15125550120", "I-35 northbound"), ("+15125550121", "MoPac at 183")),
        share=0.2,
        accept_weight=0.9,
    ),
    DemoCampaign(
        "Website contact page",
        "+15125550191",
        (("+15125550130", "Header"), ("+15125550131", "Contact page")),
        share=0.22,
        accept_weight=1.1,
    ),
    DemoCampaign(
        "KXAN radio spot",
        "+15125550191",
        (("+15125550140", "Morning show"),),
        share=0.14,
        accept_weight=0.75,
    ),
    DemoCampaign(
        "Spring flyer",
        "+15125550190",
        (("+15125550150", "Door hangers, North Austin"), ("+15125550151", "Mailbox flyers")),
        share=0.08,
        accept_weight=0.6,
    ),
    DemoCampaign(
        "Holiday mailer (ended)",
        "+15125550190",
        (("+15125550160", "December postcard"),),
        share=0.02,
        accept_weight=0.8,
        is_active=False,
    ),
]
RETIRED_NUMBER = "+15125550199"  # Still rings now and then, no campaign owns it any more.

# (city, state, zip, area code, weight): mostly the business's own metro area.
PLACES = [
    ("AUSTIN", "TX", "78701", "512", 30),
    ("ROUND ROCK", "TX", "78664", "512", 8),
    ("CEDAR PARK", "TX", "78613", "512", 6),
    ("GEORGETOWN", "TX", "78626", "512", 5),
    ("PFLUGERVILLE", "TX", "78660", "512", 5),
    ("SAN MARCOS", "TX", "78666", "512", 4),
    ("SAN ANTONIO", "TX", "78205", "210", 6),
    ("HOUSTON", "TX", "77002", "713", 5),
    ("DALLAS", "TX", "75201", "214", 5),
    ("FORT WORTH", "TX", "76102", "817", 2),
    ("DENVER", "CO", "80202", "303", 2),
    ("PHOENIX", "AZ", "85004", "602", 2),
    ("CHICAGO", "IL", "60601", "312", 2),
    ("LOS ANGELES", "CA", "90012", "213", 2),
    ("NEW YORK", "NY", "10001", "212", 2),
    ("MIAMI", "FL", "33130", "305", 1),
    ("ATLANTA", "GA", "30303", "404", 1),
    ("SEATTLE", "WA", "98101", "206", 1),
]
CNAM_NAMES = [
    "SMITH JOHN",
    "GARCIA MARIA",
    "NGUYEN LINH",
    "JOHNSON ASHLEY",
    "MARTINEZ CARLOS",
    "BROWN DAVID",
    "WIRELESS CALLER",
    "LOPEZ ANA",
]
OUTCOME_WEIGHTS = {
    Outcome.ACCEPTED: 55,
    Outcome.REJECTED: 9,
    Outcome.NO_INPUT: 6,
    Outcome.NO_ANSWER: 12,
    Outcome.BUSY: 5,
    Outcome.FAILED: 2,
    Outcome.ABANDONED: 8,
}
UNMATCHED_SHARE = 0.015
# Relative call volume by local hour: business hours, a lunch dip, a trickle at night.
HOUR_WEIGHTS = [1, 1, 1, 1, 1, 2, 4, 10, 22, 30, 32, 30, 22, 26, 30, 28, 24, 16, 9, 6, 4, 3, 2, 1]
WEEKDAY_WEIGHTS = [1.0, 1.0, 1.0, 1.0, 0.95, 0.45, 0.25]  # Monday first


class Command(BaseCommand):
    help = "Create demo campaigns, tracking numbers and calls (deterministic for a given --seed)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--calls", type=int, default=5000, help="How many calls (5000).")
        parser.add_argument("--seed", type=int, default=1, help="Random seed (1).")
        parser.add_argument(
            "--if-empty",
            action="store_true",
            help="Do nothing when the database already has a campaign (used by `make run`).",
        )

    def handle(self, *args, calls: int, seed: int, if_empty: bool, **options) -> None:
        if if_empty and Campaign.objects.exists():
            self.stdout.write("Campaigns exist already: no demo data added.")
            return
        numbers = create_campaigns()
        self.stdout.write(f"{len(CAMPAIGNS)} campaigns, {len(numbers)} tracking numbers.")
        generator = CallGenerator(random.Random(seed), numbers, until=demo_end())
        created = 0
        for batch in generator.batches(calls, BATCH):
            with transaction.atomic():
                # A second run with the same seed makes the same Call SIDs: nothing is doubled.
                Call.objects.bulk_create(batch, batch_size=BATCH, ignore_conflicts=True)
            created += len(batch)
            if created % 50_000 < BATCH or created == calls:
                self.stdout.write(f"  {created:,} / {calls:,} calls")
        self.stdout.write(self.style.SUCCESS(summary(generator.outcomes)))


def demo_end() -> datetime:
    """Midnight at the start of today: the demo fills the 90 days before it, never the future,
    and the same seed gives the same calls all day long."""
    return timezone.localtime().replace(hour=0, minute=0, second=0, microsecond=0)


def create_campaigns() -> list[TrackingNumber]:
    numbers = []
    for demo in CAMPAIGNS:
        campaign, _ = Campaign.objects.update_or_create(
            name=demo.name,
            defaults={
                "forward_to": phones.to_e164(demo.forward_to),
                "is_active": demo.is_active,
                "caller_name_lookup": demo.caller_name_lookup,
            },
        )
        for number, label in demo.numbers:
            tracking, _ = TrackingNumber.objects.update_or_create(
                phone_number=phones.to_e164(number),
                defaults={"campaign": campaign, "label": label},
            )
            numbers.append(tracking)
    return numbers


class CallGenerator:
    """Calls whose facts agree with their outcome, as the webhooks would have recorded them."""

    def __init__(self, rng: random.Random, numbers: list[TrackingNumber], *, until: datetime):
        self.rng = rng
        self.until = until
        self.outcomes: Counter[str] = Counter()
        by_campaign = {demo.name: demo for demo in CAMPAIGNS}
        self.numbers = numbers
        # Each number gets its campaign's share, split evenly between the campaign's numbers.
        self.number_weights = [
            by_campaign[n.campaign.name].share / len(by_campaign[n.campaign.name].numbers)
            for n in numbers
        ]
        self.outcome_tables = {
            name: self._outcome_table(demo.accept_weight) for name, demo in by_campaign.items()
        }
        self.place_weights = [place[-1] for place in PLACES]
        self.day_weights = [
            WEEKDAY_WEIGHTS[(until - timedelta(days=back)).weekday()] for back in range(1, DAYS + 1)
        ]

    @staticmethod
    def _outcome_table(accept_weight: float) -> tuple[list[str], list[float]]:
        weights = dict(OUTCOME_WEIGHTS)
        weights[Outcome.ACCEPTED] *= accept_weight
        return list(weights), list(weights.values())

    def batches(self, total: int, size: int):
        batch = []
        for _ in range(total):
            batch.append(self.call())
            if len(batch) == size:
                yield batch
                batch = []
        if batch:
            yield batch

    def call(self) -> Call:
        rng = self.rng
        call = Call(
            call_sid=f"CA{rng.getrandbits(128):032x}",
            started_at=self._started_at(),
            call_status="completed",
            **self._caller(),
        )
        if rng.random() < UNMATCHED_SHARE:
            call.called_number = RETIRED_NUMBER
            call.outcome = Outcome.UNMATCHED
            self._ends(call, after=rng.randint(8, 20))
        else:
            number = rng.choices(self.numbers, self.number_weights)[0]
            call.tracking_number = number
            call.campaign = number.campaign
            call.called_number = number.phone_number
            call.forwarded_to = number.destination
            choices, weights = self.outcome_tables[number.campaign.name]
            call.outcome = rng.choices(choices, weights)[0]
            self._happened(call)
        self.outcomes[call.outcome] += 1
        return call

    def _started_at(self) -> datetime:
        rng = self.rng
        back = rng.choices(range(1, DAYS + 1), self.day_weights)[0]
        day = self.until - timedelta(days=back)
        hour = rng.choices(range(24), HOUR_WEIGHTS)[0]
        return day + timedelta(hours=hour, seconds=rng.randrange(3600))

    def _caller(self) -> dict[str, str]:
        rng = self.rng
        if rng.random() < 0.02:
            return {"caller_number": "anonymous"}
        city, state, zip_code, area, _ = rng.choices(PLACES, self.place_weights)[0]
        caller = {
            "caller_number": f"+1{area}55501{rng.randrange(100):02d}",
            "caller_city": city,
            "caller_state": state,
            "caller_zip": zip_code,
            "caller_country": "US",
        }
        if rng.random() < 0.08:
            # Twilio often knows only the state of a mobile caller.
            caller.update(caller_city="", caller_zip="")
        if rng.random() < 0.6:
            caller["caller_name"] = rng.choice(CNAM_NAMES)
        return caller

    def _happened(self, call: Call) -> None:
        """Fill the facts each webhook would have recorded for the chosen outcome."""
        rng = self.rng
        ring = rng.randint(4, 18)
        call.dial_call_sid = f"CA{rng.getrandbits(128):032x}"
        if call.outcome in (Outcome.NO_ANSWER, Outcome.BUSY, Outcome.FAILED):
            call.dial_status = {
                Outcome.NO_ANSWER: "no-answer",
                Outcome.BUSY: "busy",
                Outcome.FAILED: "failed",
            }[call.outcome]
            call.dial_bridged = False
            wait = 20 if call.outcome == Outcome.NO_ANSWER else rng.randint(1, 4)
            self._ends(call, after=wait + rng.randint(6, 10))  # then the missed-call message
            return
        if call.outcome == Outcome.ABANDONED:
            # The caller hung up while the business's phone rang or the whisper played.
            call.dial_status = "canceled"
            call.dial_bridged = False
            if rng.random() < 0.3:
                call.whispered_at = call.started_at + timedelta(seconds=ring)
            self._ends(call, after=ring + rng.randint(1, 6))
            return
        call.whispered_at = call.started_at + timedelta(seconds=ring)
        call.decided_at = call.whispered_at + timedelta(seconds=rng.randint(3, 9))
        call.dial_status = "completed"
        # Twilio's DialCallDuration covers the callee's whole leg, whisper included.
        whisper_leg = (call.decided_at - call.whispered_at).seconds
        if call.outcome == Outcome.ACCEPTED:
            call.decision = Call.Decision.ACCEPTED
            call.dial_bridged = True
            call.talk_seconds = whisper_leg + min(int(rng.lognormvariate(5.0, 0.9)), 3600)
            self._ends(call, after=ring + call.talk_seconds + 1)
            return
        call.decision = (
            Call.Decision.REJECTED if call.outcome == Outcome.REJECTED else Call.Decision.NO_INPUT
        )
        call.dial_bridged = False
        call.talk_seconds = whisper_leg
        self._ends(call, after=ring + whisper_leg + rng.randint(6, 10))

    @staticmethod
    def _ends(call: Call, *, after: int) -> None:
        call.duration_seconds = after
        call.ended_at = call.started_at + timedelta(seconds=after)


def summary(outcomes: Counter[str]) -> str:
    total = sum(outcomes.values())
    if not total:
        return "No calls created."
    labels = dict(Outcome.choices)
    parts = ", ".join(f"{labels[outcome]} {count:,}" for outcome, count in outcomes.most_common())
    return f"{total:,} calls: {parts}. Accepted {outcomes[Outcome.ACCEPTED] / total:.0%} of all."
