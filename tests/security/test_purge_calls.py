from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from tracking.models import Call, CallLeg, Recording


def _call(sid: str, days_ago: int, campaign) -> Call:
    return Call.objects.create(
        call_sid=sid,
        campaign=campaign,
        caller_number="+13125550123",
        caller_name="JANE DOE",
        caller_zip="78701",
        caller_city="AUSTIN",
        caller_state="TX",
        outcome=Call.Outcome.ACCEPTED,
        talk_seconds=30,
        started_at=timezone.now() - timedelta(days=days_ago),
    )


@pytest.mark.django_db
def test_old_calls_lose_their_personal_data_and_keep_their_figures(campaign, settings, capsys):
    settings.CALL_RETENTION_DAYS = 30
    old, recent = _call("CA_OLD", 31, campaign), _call("CA_NEW", 29, campaign)

    call_command("purge_calls")

    old.refresh_from_db()
    recent.refresh_from_db()
    assert (old.caller_number, old.caller_name, old.caller_zip) == ("", "", "")
    assert (old.outcome, old.talk_seconds, old.caller_state) == ("accepted", 30, "TX")
    assert recent.caller_number == "+13125550123"
    assert "anonymised 1 calls older than 30 days" in capsys.readouterr().out


@pytest.mark.django_db
def test_delete_removes_old_calls_entirely(campaign):
    _call("CA_OLD", 400, campaign)
    _call("CA_NEW", 1, campaign)

    call_command("purge_calls", "--days", "365", "--delete")

    assert list(Call.objects.values_list("call_sid", flat=True)) == ["CA_NEW"]


@pytest.mark.django_db
def test_a_dry_run_changes_nothing(campaign, capsys):
    _call("CA_OLD", 400, campaign)

    call_command("purge_calls", "--days", "365", "--dry-run")

    assert Call.objects.get().caller_number == "+13125550123"
    assert "would anonymise 1 calls" in capsys.readouterr().out


@pytest.mark.django_db
def test_without_a_retention_period_it_refuses_to_guess(settings):
    settings.CALL_RETENTION_DAYS = 0
    with pytest.raises(CommandError, match="CALL_RETENTION_DAYS"):
        call_command("purge_calls")


@pytest.mark.django_db
def test_old_voicemails_and_recordings_go_with_the_personal_data(campaign, settings):
    settings.CALL_RETENTION_DAYS = 30
    old, recent = _call("CA_OLD", 31, campaign), _call("CA_NEW", 29, campaign)
    for call in (old, recent):
        Recording.objects.create(
            call=call,
            recording_sid=f"RE{call.call_sid}",
            kind=Recording.Kind.VOICEMAIL,
            duration_seconds=12,
            transcription="Hi, this is Jane, call me back on 512 555 0123.",
        )
    # Already anonymised, but still holding a voicemail: it is personal data too.
    Call.objects.filter(pk=old.pk).update(caller_number="", caller_name="", caller_zip="")

    call_command("purge_calls")

    assert list(Recording.objects.values_list("call_id", flat=True)) == ["CA_NEW"]
    assert Call.objects.count() == 2


@pytest.mark.django_db
def test_deleting_counts_calls_not_their_legs(campaign, capsys):
    old = _call("CA_OLD", 400, campaign)
    CallLeg.objects.create(call=old, position=0, label="Front desk", phone_number="+15125550199")
    CallLeg.objects.create(call=old, position=1, label="Owner", phone_number="+15125550122")

    call_command("purge_calls", "--days", "365", "--delete")

    assert (Call.objects.count(), CallLeg.objects.count()) == (0, 0)
    assert "deleted 1 calls older than 365 days" in capsys.readouterr().out
