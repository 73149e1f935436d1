"""Demo data: a few campaigns and numbers, and thousands of plausible calls over 90 days.

Campaigns ring one, two or three destinations (one of them all at once), some keep business
hours and a holiday, some take voicemail. Every call gets the legs its destinations would have
left (declined by the first, taken by the second…), voicemails their recording, and calls
outside business hours their after-hours route, as the webhooks would have recorded them.
"""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import Enum
from zoneinfo import ZoneInfo

from django.core.management.base import BaseCommand, CommandParser
from django.db import connection, models, transaction
from django.utils import timezone

from attribution import demo_data
from tracking import hours, phones, screening
from tracking.models import (
    LEG_OUTCOMES,
    BlockedCaller,
    Call,
    CallLeg,
    Campaign,
    ChallengeAttestation,
    Destination,
    Holiday,
    OpeningHours,
    Recording,
    TrackingNumber,
)

DAYS = 90
BATCH = 5000
Outcome = Call.Outcome
Result = CallLeg.Result
Sequential, Simultaneous = Campaign.RingStrategy.SEQUENTIAL, Campaign.RingStrategy.SIMULTANEOUS

# A well-formed but fictional Twilio account: recording URLs look like the real ones.
ACCOUNT_SID = "AC" + "de" * 16
RECORDINGS_URL = f"https://api.twilio.com/2010-04-01/Accounts/{ACCOUNT_SID}/Recordings/"
WEEKDAYS_8_TO_6 = tuple((day, time(8), time(18)) for day in range(5))
WEEKDAYS_7_TO_7_AND_SATURDAY = (
    *((day, time(7), time(19)) for day in range(5)),
    (5, time(8), time(12)),
)


@dataclass(frozen=True)
class DemoCampaign:
    name: str
    destinations: tuple[tuple[str, str], ...]  # (label, number), in ringing order
    numbers: tuple[tuple[str, str], ...]  # (number, label)
    share: float  # of all calls
    accept_weight: float  # how often the business takes its calls, relative to the others
    is_active: bool = True
    caller_name_lookup: bool = False
    ring_strategy: str = Sequential
    openings: tuple[tuple[int, time, time], ...] = ()  # none: always open
    holiday: bool = False  # closed on TEAM_DAY_BACK days before the demo's end
    voicemail: bool = False
    transcribe: bool = False
    after_hours_number: str = ""  # rung outside business hours instead of voicemail
    notify_emails: str = ""


# All numbers in the 555-01XX range, which is reserved for fiction.
CAMPAIGNS = [
    DemoCampaign(
        "Google Ads: emergency plumbing",
        (("Dispatch", "+15125550190"), ("On-call plumber", "+15125550192")),
        (
            ("+15125550110", "Search ad call extension"),
            ("+15125550111", "Landing page"),
            ("+15125550112", "Display ads"),
        ),
        share=0.34,
        accept_weight=1.25,
        caller_name_lookup=True,
        voicemail=True,
        transcribe=True,
        notify_emails="dispatch@example.com",
    ),
    DemoCampaign(
        "I-35 billboard",
        (
            ("Front desk", "+15125550190"),
            ("Sales", "+15125550193"),
            ("Owner's mobile", "+15125550194"),
        ),
        (("+15125550120", "I-35 northbound"), ("+15125550121", "MoPac at 183")),
        share=0.2,
        accept_weight=0.9,
        ring_strategy=Simultaneous,
        openings=WEEKDAYS_7_TO_7_AND_SATURDAY,
        after_hours_number="+15125550195",
    ),
    DemoCampaign(
        "Website contact page",
        (("Office", "+15125550191"),),
        (("+15125550130", "Header"), ("+15125550131", "Contact page")),
        share=0.22,
        accept_weight=1.1,
        openings=WEEKDAYS_8_TO_6,
        holiday=True,
        voicemail=True,
    ),
    DemoCampaign(
        "KXAN radio spot",
        (("Office", "+15125550191"), ("Owner's mobile", "+15125550194")),
        (("+15125550140", "Morning show"),),
        share=0.14,
        accept_weight=0.75,
    ),
    DemoCampaign(
        "Spring flyer",
        (("Front desk", "+15125550190"),),
        (("+15125550150", "Door hangers, North Austin"), ("+15125550151", "Mailbox flyers")),
        share=0.08,
        accept_weight=0.6,
        openings=WEEKDAYS_8_TO_6,
        holiday=True,
    ),
    DemoCampaign(
        "Holiday mailer (ended)",
        (("Front desk", "+15125550190"),),
        (("+15125550160", "December postcard"),),
        share=0.02,
        accept_weight=0.8,
        is_active=False,
    ),
]
# The unmatched calls' clock: the business's, like its campaigns'.
UNMATCHED_TIME_ZONE = "America/Chicago"
# Days before the demo's end whose missed calls are mostly not called back yet.
CALLBACK_BACKLOG_DAYS = 3
RETIRED_NUMBER = "+15125550199"  # Still rings now and then, no campaign owns it any more.
TEAM_DAY_BACK = 24  # days before the demo's end: the holiday, moved to a weekday

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
MESSAGES = [
    "Hi, this is about the leak under my kitchen sink, please call me back.",
    "Calling to get a quote for a new water heater. Thanks.",
    "Hello, I saw your ad. Are you open on Saturday? Call me back please.",
    "It's about the appointment tomorrow morning, I need to move it to the afternoon.",
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
# Of the calls to a campaign, how many screening stops before anything rings (two in three
# from the block list, the others failing the challenge a failed caller ID is given).
SPAM_SHARE = 0.03
# The demo's block list: a robocaller, and premium-rate numbers.
BLOCKED_NUMBER = "+12025550666"
BLOCKED_PREFIX = "+1900"
# Callers' attestation (StirVerstat): mostly verified, some carriers do not say.
VERSTATS = (
    ("TN-Validation-Passed-A", 75),
    ("TN-Validation-Passed-B", 10),
    ("No-TN-Validation", 15),
)
# Of the callers offered voicemail, how many leave a message (the others hang up).
MESSAGE_SHARE = 0.6
# Which destination takes an accepted call that rings them one after another: mostly the first.
TAKER_WEIGHTS = (0.7, 0.2, 0.1)
# What a destination that did not take the call did, from the most telling (the call's outcome
# is the most telling of its legs' results, see LEG_OUTCOMES) to the least.
LEG_MISSES = [result for result, _ in LEG_OUTCOMES if result != Result.CANCELED]
LEG_MISS_WEIGHTS = {
    Result.REJECTED: 9,
    Result.NO_INPUT: 6,
    Result.NO_ANSWER: 12,
    Result.BUSY: 5,
    Result.FAILED: 2,
}
OUTCOME_RESULT = {outcome: result for result, outcome in LEG_OUTCOMES}
# The calls whose callers hear the voicemail greeting, when the campaign takes messages.
VOICEMAIL_AFTER = {*OUTCOME_RESULT, Outcome.CLOSED} - {Outcome.ABANDONED}
LEG_STATUS = {Result.NO_ANSWER: "no-answer", Result.BUSY: "busy", Result.FAILED: "failed"}
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
        until = demo_end()
        numbers = create_campaigns(until)
        self.stdout.write(f"{len(CAMPAIGNS)} campaigns, {len(numbers)} tracking numbers.")
        # A website's visits; the calls some visitors made count in --calls.
        website = demo_data.create_website()
        visits = min(2000, max(50, calls // 5))
        planned = demo_data.seed_visits(website, random.Random(seed), until=until, visits=visits)
        generator = CallGenerator(random.Random(seed), numbers, until=until)
        created = 0
        for batch in generator.batches(max(0, calls - len(planned)), BATCH):
            with transaction.atomic():
                insert(Call, batch.calls)
                insert(CallLeg, batch.legs)
                insert(Recording, batch.recordings)
            created += len(batch.calls)
            if created % 50_000 < BATCH or created == calls:
                self.stdout.write(f"  {created:,} / {calls:,} calls")
        with transaction.atomic():
            website_calls = [generator.call(number, at) for number, at in planned]
            insert(Call, [call for call, _, _ in website_calls])
            insert(CallLeg, [leg for _, legs, _ in website_calls for leg in legs])
            insert(Recording, [recording for *_, recording in website_calls if recording])
            for call, _, _ in website_calls:
                demo_data.attribute(call)
        self.stdout.write(
            f"Website “{website.name}”: {visits:,} visits, {len(planned):,} of the calls."
        )
        self.stdout.write(self.style.SUCCESS(summary(generator.outcomes)))


def insert(model: type[models.Model], rows: list[models.Model]) -> None:
    """Insert `rows`, leaving out any already there: a second run with the same seed makes the
    same SIDs, so nothing is doubled.

    On PostgreSQL the rows are copied (COPY) into a temporary table and inserted from it with
    ON CONFLICT DO NOTHING: for the million-call seed of the scale benchmark that is several
    times faster than `bulk_create`, whose time goes into preparing and quoting every value.
    """
    if not rows:
        return
    if connection.vendor != "postgresql":
        model.objects.bulk_create(rows, batch_size=BATCH, ignore_conflicts=True)
        return
    fields = [field for field in model._meta.concrete_fields if not field.primary_key]
    quote = connection.ops.quote_name
    table = quote(model._meta.db_table)
    columns = ", ".join(quote(field.column) for field in fields)
    stamped = [field for field in fields if getattr(field, "auto_now", False)]
    with connection.cursor() as cursor:
        cursor.execute(
            f"CREATE TEMPORARY TABLE seed_rows ON COMMIT DROP AS "
            f"SELECT {columns} FROM {table} WITH NO DATA"
        )
        with cursor.connection.cursor().copy(f"COPY seed_rows ({columns}) FROM STDIN") as copy:
            for row in rows:
                for field in stamped:
                    field.pre_save(row, add=True)
                copy.write_row([_plain(getattr(row, field.attname)) for field in fields])
        cursor.execute(
            f"INSERT INTO {table} ({columns}) SELECT {columns} FROM seed_rows "
            "ON CONFLICT DO NOTHING"
        )
        cursor.execute("DROP TABLE seed_rows")


def _plain(value: object) -> object:
    # Choices are enums, which psycopg would write by name ("ACCEPTED"), not by value.
    return value.value if isinstance(value, Enum) else value


def demo_end() -> datetime:
    """Midnight at the start of today (UTC): the demo fills the 90 days before it in each
    campaign's own time, never the future, and the same seed gives the same calls all day."""
    return timezone.now().replace(hour=0, minute=0, second=0, microsecond=0)


def team_day(until: datetime) -> date:
    """The demo's holiday: a weekday about three weeks before its end."""
    day = (until - timedelta(days=TEAM_DAY_BACK)).date()
    return day - timedelta(days=max(0, day.weekday() - 4))


def create_campaigns(until: datetime) -> list[TrackingNumber]:
    """The demo campaigns with their destinations, hours and numbers; a second run updates
    them in place (destinations keep their ids, so calls' legs keep pointing at them)."""
    numbers = []
    for demo in CAMPAIGNS:
        campaign, _ = Campaign.objects.update_or_create(
            name=demo.name,
            defaults={
                "is_active": demo.is_active,
                "caller_name_lookup": demo.caller_name_lookup,
                "ring_strategy": demo.ring_strategy,
                "voicemail_enabled": demo.voicemail,
                "voicemail_transcribe": demo.transcribe,
                "after_hours_action": (
                    Campaign.AfterHours.FORWARD
                    if demo.after_hours_number
                    else Campaign.AfterHours.VOICEMAIL
                ),
                "after_hours_number": demo.after_hours_number,
                "notify_emails": demo.notify_emails,
                "challenge_attestation": ChallengeAttestation.FAILED,
            },
        )
        for position, (label, number) in enumerate(demo.destinations):
            Destination.objects.update_or_create(
                campaign=campaign,
                position=position,
                defaults={"label": label, "phone_number": phones.to_e164(number)},
            )
        campaign.destinations.filter(position__gte=len(demo.destinations)).delete()
        campaign.opening_hours.all().delete()
        OpeningHours.objects.bulk_create(
            OpeningHours(campaign=campaign, weekday=day, opens=opens, closes=closes)
            for day, opens, closes in demo.openings
        )
        if demo.holiday:
            Holiday.objects.update_or_create(
                campaign=campaign, date=team_day(until), defaults={"name": "Team day"}
            )
        for number, label in demo.numbers:
            tracking, _ = TrackingNumber.objects.update_or_create(
                phone_number=phones.to_e164(number),
                defaults={"campaign": campaign, "label": label},
            )
            numbers.append(tracking)
    for kind, value, note in (
        (BlockedCaller.Kind.NUMBER, BLOCKED_NUMBER, "Robocaller (car warranty)"),
        (BlockedCaller.Kind.PREFIX, BLOCKED_PREFIX, "Premium-rate numbers"),
    ):
        BlockedCaller.objects.get_or_create(kind=kind, value=value, defaults={"note": note})
    screening.refresh_block_list()
    return numbers


@dataclass
class Batch:
    calls: list[Call]
    legs: list[CallLeg]
    recordings: list[Recording]


@dataclass(frozen=True)
class DemoRoute:
    """What the generator needs of a campaign, read once."""

    demo: DemoCampaign
    destinations: tuple[Destination, ...]
    openings: tuple[hours.Opening, ...]
    holidays: tuple[date, ...]
    time_zone: str
    outcomes: tuple[list[str], list[float]]


class CallGenerator:
    """Calls whose facts agree with their outcome, as the webhooks would have recorded them."""

    def __init__(self, rng: random.Random, numbers: list[TrackingNumber], *, until: datetime):
        self.rng = rng
        self.until = until
        self.now = timezone.now()
        self.outcomes: Counter[str] = Counter()
        by_campaign = {demo.name: demo for demo in CAMPAIGNS}
        self.numbers = numbers
        # Each number gets its campaign's share, split evenly between the campaign's numbers.
        self.number_weights = [
            by_campaign[n.campaign.name].share / len(by_campaign[n.campaign.name].numbers)
            for n in numbers
        ]
        self.routes = {}
        for number in numbers:
            campaign = number.campaign
            if campaign.pk in self.routes:
                continue
            self.routes[campaign.pk] = DemoRoute(
                demo=by_campaign[campaign.name],
                destinations=tuple(campaign.destinations.all()),
                openings=tuple(each.opening for each in campaign.opening_hours.all()),
                holidays=tuple(campaign.holidays.values_list("date", flat=True)),
                time_zone=campaign.time_zone,
                outcomes=self._outcome_table(by_campaign[campaign.name].accept_weight),
            )
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
        batch = Batch([], [], [])
        for _ in range(total):
            call, legs, recording = self.call()
            batch.calls.append(call)
            batch.legs.extend(legs)
            if recording is not None:
                batch.recordings.append(recording)
            if len(batch.calls) == size:
                yield batch
                batch = Batch([], [], [])
        if batch.calls:
            yield batch

    def sid(self, prefix: str) -> str:
        return f"{prefix}{self.rng.getrandbits(128):032x}"

    def call(
        self, number: TrackingNumber | None = None, at: datetime | None = None
    ) -> tuple[Call, list[CallLeg], Recording | None]:
        """A call to a random number at a random time, or to `number` at `at`."""
        rng = self.rng
        if number is None and rng.random() >= UNMATCHED_SHARE:
            number = rng.choices(self.numbers, self.number_weights)[0]
        route = None if number is None else self.routes[number.campaign_id]
        call = Call(
            call_sid=self.sid("CA"),
            # In the campaign's own time: its callers keep its hours, not UTC's.
            started_at=at or self._started_at(route.time_zone if route else UNMATCHED_TIME_ZONE),
            call_status="completed",
            **self._caller(),
        )
        legs: list[CallLeg] = []
        recording = None
        if number is None:
            call.called_number = RETIRED_NUMBER
            call.outcome = Outcome.UNMATCHED
            self._ends(call, after=rng.randint(8, 20))
        else:
            call.tracking_number = number
            call.campaign = number.campaign
            call.called_number = number.phone_number
            call.after_hours = not hours.is_open(
                route.openings, route.holidays, route.time_zone, call.started_at
            )
            legs = [] if self._screened_out(call) else self._legs(call, route)
            if legs:
                call.forwarded_to = legs[0].phone_number
                choices, weights = route.outcomes
                call.outcome = rng.choices(choices, weights)[0]
                self._happened(call, legs, route)
            elif not call.spam:
                # After hours with nobody to ring: voicemail, or the missed-call message.
                call.outcome = Outcome.CLOSED
                self._ends(call, after=rng.randint(8, 14))
            if route.demo.voicemail and call.outcome in VOICEMAIL_AFTER:
                recording = self._voicemail(call, route)
            if route.demo.notify_emails and (call.is_missed or call.outcome == Outcome.VOICEMAIL):
                call.notified_at = call.ended_at + timedelta(seconds=rng.randint(5, 60))
            if call.needs_callback:
                self._called_back(call)
        self.outcomes[call.outcome] += 1
        return call, legs, recording

    def _screened_out(self, call: Call) -> bool:
        """Whether screening stopped this call before anything rang: a caller on the block
        list is rejected at once; one whose caller ID failed verification hears the
        challenge and fails it."""
        rng = self.rng
        if rng.random() >= SPAM_SHARE:
            return False
        if rng.random() < 2 / 3:
            number = f"{BLOCKED_PREFIX}555{rng.randrange(10_000):04d}"
            rule = f"prefix {BLOCKED_PREFIX}"
            if rng.random() < 0.5:
                number, rule = BLOCKED_NUMBER, f"number {BLOCKED_NUMBER}"
            call.caller_number = number
            call.caller_city = call.caller_state = call.caller_zip = call.caller_name = ""
            call.stir_verstat = "No-TN-Validation"
            call.spam, call.screening_reason = Call.Spam.BLOCKED, f"blocked: {rule}"
            self._ends(call, after=1)
        else:
            call.stir_verstat = "TN-Validation-Failed-C"
            call.spam, call.screening_reason = Call.Spam.CHALLENGE, "caller ID failed verification"
            call.challenge_passed = False
            self._ends(call, after=rng.randint(7, 12))
        call.outcome = call.derive_outcome([], False)
        return True

    def _legs(self, call: Call, route: DemoRoute) -> list[CallLeg]:
        """The phones the call was planned to ring, as `call_start` writes them."""
        if not call.after_hours:
            targets = [(d.label, d.phone_number, d) for d in route.destinations]
        elif route.demo.after_hours_number:
            targets = [("After hours", route.demo.after_hours_number, None)]
        else:
            targets = []
        return [
            CallLeg(
                call_id=call.call_sid,
                position=position,
                destination=destination,
                label=label,
                phone_number=phone_number,
                started_at=call.started_at,
                campaign_id=call.campaign_id,
            )
            for position, (label, phone_number, destination) in enumerate(targets)
        ]

    def _started_at(self, time_zone: str) -> datetime:
        """A local time of one of the DAYS days before today, in `time_zone`: never the future."""
        rng = self.rng
        zone = ZoneInfo(time_zone)
        back = rng.choices(range(1, DAYS + 1), self.day_weights)[0]
        day = self.now.astimezone(zone).date() - timedelta(days=back)
        hour = rng.choices(range(24), HOUR_WEIGHTS)[0]
        local = datetime.combine(day, time(hour)) + timedelta(seconds=rng.randrange(3600))
        # Through UTC, so that an hour skipped or repeated by a DST change stays a real instant.
        return timezone.make_aware(local, zone).astimezone(UTC)

    def _called_back(self, call: Call) -> None:
        """Someone returned most missed calls and voicemails within a day or two; the last
        days' are still waiting on the dashboard's call-back list."""
        rng = self.rng
        age = self.now - call.started_at
        if age > timedelta(days=CALLBACK_BACKLOG_DAYS) or rng.random() < 0.3:
            call.callback_done_at = call.ended_at + timedelta(minutes=rng.randint(10, 36 * 60))
            call.callback_done_by = "demo"
            if call.callback_done_at > self.now:
                call.callback_done_at, call.callback_done_by = None, ""

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
            "stir_verstat": rng.choices(*zip(*VERSTATS, strict=True))[0],
        }
        if rng.random() < 0.08:
            # Twilio often knows only the state of a mobile caller.
            caller.update(caller_city="", caller_zip="")
        if rng.random() < 0.6:
            caller["caller_name"] = rng.choice(CNAM_NAMES)
        return caller

    def _results(self, outcome: str, count: int, simultaneous: bool) -> list[str]:
        """Each leg's result for a call that ends as `outcome`, as the legs would explain it."""
        rng = self.rng
        if outcome == Outcome.ACCEPTED:
            if simultaneous:
                taker = rng.randrange(count)
                # The others stopped ringing when it took the call, unless they declined first.
                return [
                    Result.ACCEPTED
                    if n == taker
                    else (Result.REJECTED if rng.random() < 0.15 else Result.CANCELED)
                    for n in range(count)
                ]
            # One after another: those before it passed, those after it never rang.
            taker = rng.choices(range(count), TAKER_WEIGHTS[:count])[0]
            return (
                [self._miss(Result.REJECTED) for _ in range(taker)]
                + [Result.ACCEPTED]
                + [Result.PENDING] * (count - taker - 1)
            )
        if outcome == Outcome.ABANDONED:
            # The caller hung up while one rang (all of them, at once).
            if simultaneous:
                return [Result.CANCELED] * count
            last = rng.randrange(count)
            return (
                [self._miss(Result.REJECTED) for _ in range(last)]
                + [Result.CANCELED]
                + [Result.PENDING] * (count - last - 1)
            )
        # Every destination rang and none took it; the outcome is the most telling of them.
        worst = OUTCOME_RESULT[outcome]
        results = [self._miss(worst) for _ in range(count)]
        results[rng.randrange(count)] = worst
        return results

    def _miss(self, at_most: str) -> str:
        """A destination that did not take the call, no more telling than `at_most`."""
        choices = LEG_MISSES[LEG_MISSES.index(at_most) :]
        return self.rng.choices(choices, [LEG_MISS_WEIGHTS[c] for c in choices])[0]

    def _happened(self, call: Call, legs: list[CallLeg], route: DemoRoute) -> None:
        """Fill the facts each webhook would have recorded for the chosen outcome."""
        rng = self.rng
        simultaneous = route.demo.ring_strategy == Simultaneous and len(legs) > 1
        results = self._results(call.outcome, len(legs), simultaneous)
        clock = call.started_at
        for leg, result in zip(legs, results, strict=True):
            if result == Result.PENDING:
                continue
            # One after another, each destination rings after the one before gave up.
            ring_from = call.started_at if simultaneous else clock
            leg_end = self._leg(leg, result, ring_from)
            clock = max(clock, leg_end)
        rung = [leg for leg in legs if leg.result != Result.PENDING]
        last = rung[-1]
        taker = next((leg for leg in legs if leg.result == Result.ACCEPTED), None)
        whispered = [leg.whispered_at for leg in legs if leg.whispered_at]
        call.whispered_at = min(whispered, default=None)
        decisions = {leg.decision for leg in legs if leg.decision}
        call.decision = next((d for d in Call.Decision.values if d in decisions), "")
        call.decided_at = (taker or last).decided_at
        call.dial_call_sid = (taker or last).leg_sid
        call.dial_bridged = taker is not None
        if taker is not None:
            call.answered_by = taker.label
            call.dial_status = "completed"
            # Twilio's DialCallDuration covers the callee's whole leg, whisper included.
            whisper_leg = (taker.decided_at - taker.whispered_at).seconds
            call.talk_seconds = whisper_leg + min(int(rng.lognormvariate(5.0, 0.9)), 3600)
            self._ends(call, after=(taker.decided_at - call.started_at).seconds + call.talk_seconds)
            return
        if call.outcome == Outcome.ABANDONED:
            call.dial_status = "canceled"
            self._ends(call, after=(clock - call.started_at).seconds + 1)
            return
        call.dial_status = "completed" if last.decision else LEG_STATUS[last.result]
        if last.decision:
            call.talk_seconds = (last.decided_at - last.whispered_at).seconds
        # Then the missed-call message, or the voicemail greeting.
        self._ends(call, after=(clock - call.started_at).seconds + rng.randint(6, 10))

    def _leg(self, leg: CallLeg, result: str, ring_from: datetime) -> datetime:
        """Fill the leg's facts for `result`; when its phone stopped ringing or hung up."""
        rng = self.rng
        leg.result = result
        leg.leg_sid = self.sid("CA")
        ring = timedelta(seconds=rng.randint(4, 18))
        if result in LEG_STATUS:
            leg.status = LEG_STATUS[result]
            leg.dial_outcome = leg.status
            leg.bridged = False
            return ring_from + (timedelta(seconds=20) if result == Result.NO_ANSWER else ring)
        if result == Result.CANCELED:
            leg.status = "canceled"
            leg.dial_outcome = "canceled"
            leg.bridged = False
            return ring_from + ring
        leg.whispered_at = ring_from + ring
        leg.decided_at = leg.whispered_at + timedelta(seconds=rng.randint(3, 9))
        leg.decision = {
            Result.ACCEPTED: Call.Decision.ACCEPTED,
            Result.REJECTED: Call.Decision.REJECTED,
            Result.NO_INPUT: Call.Decision.NO_INPUT,
        }[result]
        leg.status = "completed"
        leg.dial_outcome = "completed"
        leg.bridged = result == Result.ACCEPTED
        return leg.decided_at

    def _voicemail(self, call: Call, route: DemoRoute) -> Recording | None:
        """The caller heard the greeting after nobody took the call; most leave a message."""
        rng = self.rng
        greeting_at = call.ended_at - timedelta(seconds=8)
        call.voicemail_at = greeting_at
        if rng.random() >= MESSAGE_SHARE:
            return None
        seconds = rng.randint(4, 75)
        call.outcome = Outcome.VOICEMAIL
        self._ends(call, after=(greeting_at - call.started_at).seconds + 10 + seconds)
        sid = self.sid("RE")
        transcribed = route.demo.transcribe and seconds <= 120
        return Recording(
            call_id=call.call_sid,
            recording_sid=sid,
            kind=Recording.Kind.VOICEMAIL,
            url=RECORDINGS_URL + sid,
            duration_seconds=seconds,
            status="completed",
            transcription=rng.choice(MESSAGES) if transcribed else "",
            transcription_status="completed" if transcribed else "",
            created_at=greeting_at + timedelta(seconds=10 + seconds),
        )

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
