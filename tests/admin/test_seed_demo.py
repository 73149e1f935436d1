from __future__ import annotations

import io
from datetime import timedelta
from zoneinfo import ZoneInfo

from django.core.management import call_command
from django.db.models import Count, Q
from django.utils import timezone

from tracking import phones, screening
from tracking.models import CALLBACK_OUTCOMES, Call, CallLeg, Campaign, Recording, TrackingNumber

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
    # Numbers of the campaign's own (a website's pools are counted apart).
    pool = Q(numbers__website_use__role="pool")
    offline = Count("numbers", filter=Q(numbers__website_use__isnull=True) | ~pool)
    counts = Campaign.objects.annotate(n=offline).values_list("n", flat=True)
    assert all(1 <= n <= 3 for n in counts)
    for number in TrackingNumber.objects.select_related("campaign"):
        assert phones.to_e164(number.phone_number) == number.phone_number
    destinations = Campaign.objects.annotate(n=Count("destinations")).values_list("n", flat=True)
    assert sorted(set(destinations)) == [1, 2, 3]
    for campaign in Campaign.objects.prefetch_related("destinations"):
        for destination in campaign.destinations.all():
            assert phones.to_e164(destination.phone_number) == destination.phone_number
            assert destination.label
    assert Campaign.objects.filter(ring_strategy=Campaign.RingStrategy.SIMULTANEOUS).count() == 1
    assert Campaign.objects.filter(voicemail_enabled=True).exists()
    assert Campaign.objects.filter(voicemail_enabled=False).exists()
    assert Campaign.objects.filter(opening_hours__isnull=False).distinct().count() >= 2
    assert Campaign.objects.filter(holidays__isnull=False).exists()


def test_it_creates_calls_whose_facts_agree_with_their_outcome(db):
    output = seed("--calls", "1500", "--seed", "7")

    calls = list(Call.objects.all())
    assert len(calls) == 1500
    assert len({call.call_sid for call in calls}) == 1500
    assert "1,500 calls" in output
    legs = {}
    for leg in CallLeg.objects.order_by("call_id", "position"):
        legs.setdefault(leg.call_id, []).append(leg)
    recordings = {recording.call_id: recording for recording in Recording.objects.all()}
    for call in calls:
        assert call.call_sid.startswith("CA") and len(call.call_sid) == 34
        its_legs = legs.get(call.call_sid, [])
        # The models' own rules, those the webhooks use, read the same results and outcome
        # from the facts.
        for leg in its_legs:
            assert leg.derive_result() == leg.result, leg.__dict__
        message = call.call_sid in recordings and recordings[call.call_sid].is_message
        assert call.derive_outcome(its_legs, message) == call.outcome, call.__dict__
        assert [leg.position for leg in its_legs] == list(range(len(its_legs)))
        if call.outcome == Outcome.ACCEPTED:
            assert call.decision == Call.Decision.ACCEPTED
            assert call.whispered_at and call.dial_bridged is True
            assert call.talk_seconds > 0
            taker = [leg for leg in its_legs if leg.result == CallLeg.Result.ACCEPTED]
            assert len(taker) == 1 and call.answered_by == taker[0].label
        if call.outcome == Outcome.VOICEMAIL:
            recording = recordings[call.call_sid]
            assert recording.kind == Recording.Kind.VOICEMAIL
            assert recording.recording_sid.startswith("RE") and len(recording.recording_sid) == 34
            assert recording.url.startswith("https://api.twilio.com/2010-04-01/Accounts/AC")
            assert recording.url.endswith("/Recordings/" + recording.recording_sid)
            assert call.voicemail_at and call.campaign.voicemail_enabled
        else:
            assert call.call_sid not in recordings
        if call.outcome == Outcome.CLOSED:
            assert call.after_hours and its_legs == []
        if call.outcome == Outcome.UNMATCHED:
            assert its_legs == []
        elif call.spam:
            # Screening stopped it before anything rang.
            assert its_legs == [] and call.outcome in (Outcome.BLOCKED, Outcome.SPAM)
        elif not call.after_hours:
            planned = list(call.campaign.destinations.values_list("label", "phone_number"))
            assert [(leg.label, leg.phone_number) for leg in its_legs] == planned
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
    assert 0.4 < shares[Outcome.ACCEPTED] < 0.65
    assert 0.05 < shares[Outcome.VOICEMAIL] < 0.25
    # Generated in the campaigns' own time: their callers mostly call in business hours.
    assert 0.05 < Call.objects.filter(after_hours=True).count() / 3000 < 0.2
    assert set(shares) >= {
        Outcome.VOICEMAIL,
        Outcome.CLOSED,
        Outcome.REJECTED,
        Outcome.NO_INPUT,
        Outcome.NO_ANSWER,
        Outcome.BUSY,
        Outcome.FAILED,
        Outcome.ABANDONED,
        Outcome.UNMATCHED,
    }
    # Whatever the server's time zone, the campaigns' clock (Central time) shows a working day.
    hours = [timezone.localtime(moment, ZoneInfo("America/Chicago")).hour for moment in started]
    business = sum(8 <= hour < 18 for hour in hours)
    assert business / len(hours) > 0.7


def test_it_leaves_only_the_last_days_missed_calls_to_call_back(db):
    seed("--calls", "3000")
    recent = timezone.now() - timedelta(days=4)
    waiting = Call.objects.filter(
        outcome__in=CALLBACK_OUTCOMES, campaign__isnull=False, callback_done_at__isnull=True
    )
    assert waiting.exists()
    assert not waiting.filter(started_at__lt=recent).exists()
    assert not Call.objects.filter(callback_done_at__gt=timezone.now()).exists()
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


def test_it_gives_calls_the_legs_their_destinations_left(db):
    seed("--calls", "2000", "--seed", "5")

    results = {(row["label"], row["result"]) for row in CallLeg.objects.values("label", "result")}
    # A first destination that declined before the second took the call, one after another.
    declined_then_taken = CallLeg.objects.filter(
        position=0,
        result=CallLeg.Result.REJECTED,
        call__legs__position=1,
        call__legs__result=CallLeg.Result.ACCEPTED,
        call__campaign__ring_strategy=Campaign.RingStrategy.SEQUENTIAL,
    )
    assert declined_then_taken.exists()
    # All at once: the others stopped ringing when one took the call.
    assert CallLeg.objects.filter(
        result=CallLeg.Result.CANCELED,
        call__outcome=Outcome.ACCEPTED,
        call__campaign__ring_strategy=Campaign.RingStrategy.SIMULTANEOUS,
    ).exists()
    # Outside business hours the after-hours number rings instead of the destinations.
    assert ("After hours", CallLeg.Result.ACCEPTED) in results
    assert Call.objects.filter(after_hours=True, legs__label="After hours").exists()
    # Demo calls are never spam: no destination reported one.
    assert set(CallLeg.Result.values) - {CallLeg.Result.SPAM} == {result for _, result in results}
    assert Recording.objects.count() == Call.objects.filter(outcome=Outcome.VOICEMAIL).count()


def test_running_it_again_adds_no_legs_nor_recordings(db):
    seed("--calls", "300")
    counts = (CallLeg.objects.count(), Recording.objects.count())
    seed("--calls", "300")
    assert (CallLeg.objects.count(), Recording.objects.count()) == counts
    assert counts[0] > 300 and counts[1] > 0


def test_it_shows_spam_that_screening_stopped(db):
    seed("--calls", "1500", "--seed", "7")

    blocked = Call.objects.filter(outcome=Outcome.BLOCKED)
    challenged = Call.objects.filter(outcome=Outcome.SPAM)
    assert blocked.count() > 5 and challenged.count() > 3
    block_list = screening.block_list()
    for call in blocked:
        # Each blocked caller is on the demo's block list, which says why.
        assert call.screening_reason == f"blocked: {block_list.match(call.caller_number, '')}"
        assert call.spam == Call.Spam.BLOCKED and call.legs.count() == 0
    for call in challenged:
        assert screening.attestation(call.stir_verstat) == "failed"
        assert (call.spam, call.challenge_passed) == (Call.Spam.CHALLENGE, False)
        assert call.campaign.challenge_attestation == "failed"
    # Everyone else was rung: their caller ID did not fail verification.
    rung = Call.objects.exclude(outcome__in=[Outcome.BLOCKED, Outcome.SPAM, Outcome.UNMATCHED])
    assert not any(
        screening.attestation(v) == "failed" for v in rung.values_list("stir_verstat", flat=True)
    )
