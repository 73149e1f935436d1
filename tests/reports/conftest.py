"""Calls with known outcomes, times and places, and the people who may (or may not) see reports."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime, timedelta

import pytest
from django.contrib.auth.models import Permission, User
from django.urls import reverse

from tracking.models import Call, CallLeg, Campaign, Recording, TrackingNumber
from tracking.selectors import Period

# The fixtures' calls fall on these two days (UTC), with decoys just outside them.
DAY1 = date(2026, 3, 2)
DAY2 = date(2026, 3, 3)
PERIOD = Period(DAY1, DAY2)

# The figures of every report table and CSV, after its own key columns.
HEADERS = [
    "Calls",
    "Screened",
    "Accepted",
    "Rejected",
    "No response",
    "No answer",
    "Abandoned",
    "Voicemail",
    "After hours",
    "Spam",
    "Acceptance rate",
    "Connect rate",
    "Avg talk seconds",
]

_sids = itertools.count(1)


def at(day: date, hh: int, mm: int = 0, ss: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hh, mm, ss, tzinfo=UTC)


@pytest.fixture
def make_call(db):
    """Create one call as the webhooks would have left it once it ended."""

    def make(
        outcome: str,
        started_at: datetime,
        *,
        number: TrackingNumber | None = None,
        screened: bool = False,
        talk: int | None = None,
        place: tuple[str, str, str] = ("", "", ""),
        caller: str = "+13125550123",
        after_hours: bool = False,
    ) -> Call:
        city, state, country = place
        return Call.objects.create(
            call_sid=f"CA{next(_sids):032d}",
            tracking_number=number,
            campaign=number.campaign if number else None,
            called_number=number.phone_number if number else "+15125559999",
            caller_number=caller,
            started_at=started_at,
            whispered_at=started_at + timedelta(seconds=8) if screened else None,
            outcome=outcome,
            talk_seconds=talk,
            caller_city=city,
            caller_state=state,
            caller_country=country,
            after_hours=after_hours,
        )

    return make


AUSTIN = ("AUSTIN", "TX", "US")
DALLAS = ("DALLAS", "TX", "US")
CHICAGO = ("CHICAGO", "IL", "US")


@pytest.fixture
def world(make_call) -> dict:
    """Three campaigns with calls of every outcome in PERIOD, one without, and decoys.

    The figures every test expects are worked out by hand in the comments beside each call.
    """
    spring = Campaign.objects.create(name="Spring Billboard")
    radio = Campaign.objects.create(name="Radio")
    quiet = Campaign.objects.create(name="Quiet")
    Campaign.objects.create(name="Retired", is_active=False)
    a1 = TrackingNumber.objects.create(
        phone_number="+15125550100", campaign=spring, label="I-35 billboard"
    )
    a2 = TrackingNumber.objects.create(phone_number="+15125550102", campaign=spring, label="Bus")
    b = TrackingNumber.objects.create(phone_number="+15125550101", campaign=radio, label="KUT")
    c = TrackingNumber.objects.create(phone_number="+15125550103", campaign=quiet)
    TrackingNumber.objects.create(phone_number="+15125550104", campaign=spring, is_active=False)

    # Spring Billboard, number a1: 4 calls, all screened, 2 accepted (talk 60 + 120).
    make_call("accepted", at(DAY1, 9, 15), number=a1, screened=True, talk=60, place=AUSTIN)
    make_call("accepted", at(DAY1, 10, 30), number=a1, screened=True, talk=120, place=AUSTIN)
    make_call("rejected", at(DAY2, 9, 5), number=a1, screened=True, place=DALLAS)
    make_call("no_input", at(DAY2, 14, 0), number=a1, screened=True, place=DALLAS)
    # Spring Billboard, number a2: nobody screened anything.
    make_call("no_answer", at(DAY2, 14, 30), number=a2, place=CHICAGO)
    make_call("busy", at(DAY2, 14, 45), number=a2)
    make_call("abandoned", at(DAY1, 9, 59), number=a2, place=CHICAGO)
    # Radio: one screened and accepted, one accepted though the whisper never played (it
    # counts for the connect rate but cannot count for the acceptance rate), one failed, one
    # still in progress (a call, nothing else).
    make_call("accepted", at(DAY1, 16, 0), number=b, screened=True, talk=30, place=AUSTIN)
    make_call("failed", at(DAY2, 16, 10), number=b, place=AUSTIN)
    make_call("in_progress", at(DAY2, 16, 20), number=b, place=AUSTIN)
    make_call("accepted", at(DAY1, 16, 30), number=b, talk=90, place=AUSTIN)
    # A call to a Twilio number that no campaign owns, in the last second of the period.
    make_call("unmatched", at(DAY2, 23, 59, 59))
    # Decoys just outside the period.
    make_call("accepted", at(DAY2 + timedelta(days=1), 0, 0), number=a1, screened=True, talk=5)
    make_call("accepted", at(DAY1 - timedelta(days=1), 23, 59, 59), number=b, screened=True)

    return {"spring": spring, "radio": radio, "quiet": quiet, "a1": a1, "a2": a2, "b": b, "c": c}


def figures(
    calls=0,
    screened=0,
    accepted=0,
    rejected=0,
    no_response=0,
    missed=0,
    abandoned=0,
    acceptance=None,
    connect=None,
    talk=None,
    *,
    voicemail=0,
    after_hours=0,
    spam=0,
) -> dict:
    return {
        "call_count": calls,
        "screened": screened,
        "accepted": accepted,
        "rejected": rejected,
        "no_response": no_response,
        "missed": missed,
        "abandoned": abandoned,
        "voicemail": voicemail,
        "after_hours": after_hours,
        "spam": spam,
        "acceptance_rate": pytest.approx(acceptance) if acceptance is not None else None,
        "connect_rate": pytest.approx(connect) if connect is not None else None,
        "avg_talk_seconds": pytest.approx(talk) if talk is not None else None,
    }


# Hand-worked figures of `world` over PERIOD (UTC).
SPRING = figures(7, 4, 2, 1, 1, 2, 1, acceptance=2 / 4, connect=2 / 7, talk=90)
RADIO = figures(4, 1, 2, 0, 0, 1, 0, acceptance=1 / 1, connect=2 / 4, talk=60)
QUIET = figures()
UNMATCHED = figures(1, connect=0.0)
TOTAL = figures(12, 5, 4, 1, 1, 3, 1, acceptance=3 / 5, connect=4 / 12, talk=75)


@pytest.fixture
def reports_url() -> str:
    return reverse("admin:tracking_reports")


@pytest.fixture
def marketer(db) -> User:
    """Staff with only the permission the reports need."""
    user = User.objects.create_user("marketer", password="irrelevant-here", is_staff=True)
    user.user_permissions.add(Permission.objects.get(codename="view_call"))
    return user


@pytest.fixture
def marketer_client(client, marketer):
    client.force_login(marketer)
    return client


@pytest.fixture(autouse=True)
def _utc(settings):
    # The hand-worked figures above bucket days and hours in UTC, whatever the environment says.
    settings.TIME_ZONE = "UTC"


@pytest.fixture
def flows(make_call) -> dict:
    """Two campaigns of issue 7: destinations one after another and all at once, voicemail,
    business hours; each call with the legs its destinations left, as the webhooks write them.

    Destinations: Plumbing rings Front desk (…0199) then Owner (…0122); Billboard rings Front
    desk (…0188, another phone of the same name), Sales (…0133) and Owner (…0122, the same
    phone as Plumbing's) all at once, and an after-hours number (…0177) outside its hours.
    """
    plumbing = Campaign.objects.create(name="Plumbing", voicemail_enabled=True)
    billboard = Campaign.objects.create(
        name="Billboard", ring_strategy=Campaign.RingStrategy.SIMULTANEOUS
    )
    p1 = TrackingNumber.objects.create(phone_number="+15125550140", campaign=plumbing)
    b1 = TrackingNumber.objects.create(phone_number="+15125550141", campaign=billboard)
    desk, owner = ("Front desk", "+15125550199"), ("Owner", "+15125550122")
    desk2, sales = ("Front desk", "+15125550188"), ("Sales", "+15125550133")
    late = ("After hours", "+15125550177")

    def call(outcome, started_at, number, legs=(), **facts) -> Call:
        made = make_call(outcome, started_at, number=number, **facts)
        for position, ((label, phone_number), result) in enumerate(legs):
            CallLeg.objects.create(
                call=made,
                position=position,
                label=label,
                phone_number=phone_number,
                result=result,
                # As call_start writes them: the call's start and campaign travel with its legs.
                started_at=made.started_at,
                campaign_id=made.campaign_id,
            )
        if outcome == "voicemail":
            Recording.objects.create(
                call=made,
                recording_sid=f"RE{made.call_sid[2:]}",
                kind=Recording.Kind.VOICEMAIL,
                url=f"https://api.twilio.com/2010-04-01/Accounts/AC1/Recordings/RE{made.pk}",
                duration_seconds=12,
                status="completed",
            )
        return made

    # Plumbing: 5 calls, 3 screened (the whisper played on calls 1, 2 and 5), 2 accepted (talk
    # 60 + 30), 2 voicemails (one after the Owner heard the whisper and said nothing: screened,
    # not accepted), 1 closed (after hours, no message: missed), 2 after hours.
    call(
        "accepted",
        at(DAY1, 9),
        p1,
        [(desk, "rejected"), (owner, "accepted")],
        screened=True,
        talk=60,
    )
    call("voicemail", at(DAY1, 11), p1, [(desk, "no_answer"), (owner, "no_input")], screened=True)
    call("voicemail", at(DAY1, 22), p1, after_hours=True)
    call("closed", at(DAY2, 6), p1, after_hours=True)
    call(
        "accepted",
        at(DAY2, 10),
        p1,
        [(desk, "accepted"), (owner, "pending")],
        screened=True,
        talk=30,
    )
    # Billboard: 3 calls, 1 screened and accepted (talk 90), 1 busy after hours (the
    # after-hours number rang), 1 abandoned while all three rang.
    call(
        "accepted",
        at(DAY1, 15),
        b1,
        [(desk2, "canceled"), (sales, "accepted"), (owner, "rejected")],
        screened=True,
        talk=90,
    )
    call("busy", at(DAY2, 20), b1, [(late, "busy")], after_hours=True)
    call(
        "abandoned",
        at(DAY2, 16),
        b1,
        [(desk2, "canceled"), (sales, "canceled"), (owner, "canceled")],
    )
    # Decoys just outside the period.
    call("accepted", at(DAY2 + timedelta(days=1), 0), p1, [(desk, "accepted")], screened=True)
    call("voicemail", at(DAY1 - timedelta(days=1), 23), p1, [(desk, "busy")], after_hours=True)

    return {"plumbing": plumbing, "billboard": billboard, "p1": p1, "b1": b1}
