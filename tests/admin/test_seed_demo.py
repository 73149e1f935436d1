from __future__ import annotations

import io
from datetime import timedelta

from django.core.management import call_command
from django.db.models import Count
from django.utils import timezone

from tracking import phones
from tracking.models import Call, Campaign, TrackingNumber

Outcome = Call.Outcome


def seed(*args: str) -> str:
    out = io.StringIO()
    call_command("seed_demo", *args, stdout=out)
    return out.getvalue()


def snapshot() -> list[tuple]:
    return list(
        Call.objects.order_by("call_sid").values_list(
            "call_sid",
            "tracking_number__phone_number",
            "caller_number",
            "caller_city",
            "outcome",
            "started_at",
            "talk_seconds",
        )
    )


def test_it_creates_campaigns_with_valid_numbers(db):
    seed("--calls", "50")
    assert 5 <= Campaign.objects.count() <= 8
    counts = Campaign.objects.annotate(n=Count("numbers")).values_list("n", flat=True)
    assert all(1 <= n <= 3 for n in counts)
    for number in TrackingNumber.objects.select_related("campaign"):
        assert phones.to_e164(number.phone_number) == number.phone_number
        assert phones.to_e164(number.destination) == number.destination


def test_it_creates_calls_whose_facts_agree_with_their_outcome(db):
    output = seed("--calls", "1500", "--seed", "7")

    calls = list(Call.objects.all())
    assert len(calls) == 1500
    assert len({call.call_sid for call in calls}) == 1500
    assert "1,500 calls" in output
    for call in calls:
        assert call.call_sid.startswith("CA") and len(call.call_sid) == 34
        # The model's own rule, the one the webhooks use, reads the same outcome from the facts.
        assert call.derive_outcome() == call.outcome, call.__dict__
        if call.outcome == Outcome.ACCEPTED:
            assert call.decision == Call.Decision.ACCEPTED
            assert call.whispered_at and call.dial_bridged is True
            assert call.talk_seconds > 0
        if call.outcome in (Outcome.NO_ANSWER, Outcome.BUSY, Outcome.FAILED):
            assert call.whispered_at is None and call.decision == ""
        if call.outcome == Outcome.UNMATCHED:
            assert call.campaign is None and call.tracking_number is None
        else:
            assert call.campaign_id == call.tracking_number.campaign_id
        if call.whispered_at:
            assert call.started_at < call.whispered_at
        if call.decided_at:
            assert call.whispered_at < call.decided_at
        assert call.started_at < call.ended_at <= call.started_at + timedelta(hours=2)


def test_it_spreads_plausible_calls_over_the_last_90_days(db):
    seed("--calls", "3000")
    now = timezone.now()
    started = Call.objects.values_list("started_at", flat=True)
    assert min(started) >= now - timedelta(days=92)
    assert max(started) <= now
    shares = {
        row["outcome"]: row["n"] / 3000
        for row in Call.objects.values("outcome").annotate(n=Count("pk"))
    }
    assert 0.45 < shares[Outcome.ACCEPTED] < 0.65
    assert set(shares) >= {
        Outcome.REJECTED,
        Outcome.NO_INPUT,
        Outcome.NO_ANSWER,
        Outcome.BUSY,
        Outcome.FAILED,
        Outcome.ABANDONED,
        Outcome.UNMATCHED,
    }
    hours = [timezone.localtime(moment).hour for moment in started]
    business = sum(8 <= hour < 18 for hour in hours)
    assert business / len(hours) > 0.7
    assert Call.objects.exclude(caller_state="").values("caller_state").distinct().count() > 5


def test_the_same_seed_gives_the_same_calls(db):
    seed("--calls", "300", "--seed", "3")
    first = snapshot()
    Call.objects.all().delete()
    seed("--calls", "300", "--seed", "3")
    assert snapshot() == first
    Call.objects.all().delete()
    seed("--calls", "300", "--seed", "4")
    assert snapshot() != first


def test_running_it_again_with_the_same_seed_adds_nothing(db):
    seed("--calls", "200")
    seed("--calls", "200")
    assert Call.objects.count() == 200
    assert Campaign.objects.count() == len(set(Campaign.objects.values_list("name", flat=True)))


def test_if_empty_does_nothing_when_there_are_campaigns(db):
    seed("--calls", "100", "--if-empty")
    assert Call.objects.count() == 100
    output = seed("--calls", "100", "--if-empty", "--seed", "9")
    assert Call.objects.count() == 100
    assert "no demo data added" in output
