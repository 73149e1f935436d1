from __future__ import annotations

import os
from datetime import timedelta

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from tests.provisioning.fake_twilio import FakeTwilio, FakeTwilioServer
from tests.twilio_signing import ACCOUNT_SID, AUTH_TOKEN
from tracking import events
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
        caller_country="US",
        dial_call_sid=sid + "_CHILD",
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
    assert (old.caller_city, old.caller_state, old.caller_country) == ("", "", "")
    assert (old.outcome, old.talk_seconds, old.campaign) == ("accepted", 30, campaign)
    assert recent.caller_number == "+13125550123"
    assert recent.caller_city == "AUSTIN"
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


@pytest.mark.django_db
def test_anonymising_drops_the_twilio_sids_that_lead_back_to_the_caller(campaign, settings):
    settings.CALL_RETENTION_DAYS = 30
    old = _call("CA_OLD", 31, campaign)
    CallLeg.objects.create(
        call=old, position=0, label="Front desk", phone_number="+15125550199", leg_sid="CA_LEG"
    )

    call_command("purge_calls")

    old.refresh_from_db()
    assert not old.call_sid.startswith("CA")
    assert old.dial_call_sid == ""
    leg = CallLeg.objects.get()
    assert (leg.call_id, leg.leg_sid, leg.label) == (old.call_sid, "", "Front desk")
    assert not Call.objects.filter(call_sid="CA_OLD").exists()


@pytest.mark.django_db
def test_a_second_run_finds_nothing_left_to_anonymise(campaign, settings, capsys):
    settings.CALL_RETENTION_DAYS = 30
    _call("CA_OLD", 31, campaign)
    call_command("purge_calls")

    call_command("purge_calls")

    assert "anonymised 0 calls" in capsys.readouterr().out


@pytest.fixture
def fake_twilio(settings):
    server = FakeTwilioServer(FakeTwilio(account_sid=ACCOUNT_SID, auth_token=AUTH_TOKEN))
    settings.TWILIO_API_BASE_URL = server.url
    yield server.fake
    server.stop()


RECORDING = "RE" + "1" * 32
OTHER_RECORDING = "RE" + "2" * 32


@pytest.mark.django_db
@pytest.mark.parametrize("mode", [[], ["--delete"]], ids=["anonymise", "delete"])
def test_recordings_and_transcriptions_are_deleted_on_twilio_too(
    campaign, settings, fake_twilio, mode
):
    settings.CALL_RETENTION_DAYS = 30
    old, recent = _call("CA_OLD", 31, campaign), _call("CA_NEW", 29, campaign)
    Recording.objects.create(call=old, recording_sid=RECORDING, kind=Recording.Kind.VOICEMAIL)
    Recording.objects.create(call=recent, recording_sid=OTHER_RECORDING, kind="voicemail")
    fake_twilio.record(RECORDING, b"old message")
    fake_twilio.record(OTHER_RECORDING, b"new message")
    fake_twilio.transcribe(RECORDING, "Hi, this is Jane.")
    fake_twilio.transcribe(OTHER_RECORDING, "Hi, this is Joe.")

    call_command("purge_calls", *mode)

    assert list(fake_twilio.recordings) == [OTHER_RECORDING]
    assert [rec for rec, _ in fake_twilio.transcriptions.values()] == [OTHER_RECORDING]
    assert list(Recording.objects.values_list("recording_sid", flat=True)) == [OTHER_RECORDING]


@pytest.mark.django_db
def test_a_call_whose_recording_twilio_could_not_delete_is_kept_for_the_next_run(
    campaign, settings, fake_twilio
):
    settings.CALL_RETENTION_DAYS = 30
    old = _call("CA_OLD", 31, campaign)
    _call("CA_OLDER", 40, campaign)
    Recording.objects.create(call=old, recording_sid=RECORDING, kind=Recording.Kind.VOICEMAIL)
    fake_twilio.record(RECORDING, b"old message")
    fake_twilio.fail_next(500, 20500, "Internal error", method="DELETE")

    with pytest.raises(CommandError, match="1 calls kept as they were"):
        call_command("purge_calls")

    assert Call.objects.get(call_sid="CA_OLD").caller_number == "+13125550123"
    assert Call.objects.exclude(call_sid="CA_OLD").get().caller_number == ""
    assert Recording.objects.filter(call_id="CA_OLD").exists()

    call_command("purge_calls")

    assert not Call.objects.filter(call_sid__startswith="CA").exists()
    assert fake_twilio.recordings == {}
    assert not Recording.objects.exists()


@pytest.mark.django_db
def test_a_retention_beyond_the_calendar_is_a_clear_error(campaign):
    _call("CA_OLD", 400, campaign)

    with pytest.raises(CommandError, match="before the calendar begins"):
        call_command("purge_calls", "--days", "1000000")
    with pytest.raises(CommandError, match="before the calendar begins"):
        call_command("purge_calls", "--days", str(10**12))

    assert Call.objects.get().caller_number == "+13125550123"


@pytest.mark.django_db
def test_spooled_events_that_could_never_be_written_go_after_the_retention_period(settings):
    settings.CALL_RETENTION_DAYS = 30
    spool = settings.CALL_SPOOL_DIR
    spool.mkdir(parents=True)
    old, recent = spool / "1-old-start.bad", spool / "2-new-start.bad"
    for path in (old, recent):
        path.write_text('{"kind": "start", "data": {"caller": "+13125550123"}}')
    waiting = spool / "3-decided.json"
    waiting.write_text("{}")
    long_ago = (timezone.now() - timedelta(days=31)).timestamp()
    os.utime(old, (long_ago, long_ago))
    os.utime(waiting, (long_ago, long_ago))

    call_command("purge_calls")

    assert sorted(p.name for p in spool.iterdir()) == ["2-new-start.bad", "3-decided.json"]
    assert events.pending() == [waiting]


@pytest.mark.django_db
def test_without_twilio_credentials_calls_with_recordings_wait_and_it_says_so_once(
    campaign, settings, capsys
):
    settings.CALL_RETENTION_DAYS = 30
    settings.TWILIO_ACCOUNT_SID = ""
    for n in range(3):
        call = _call(f"CA_OLD{n}", 31, campaign)
        Recording.objects.create(call=call, recording_sid=f"RE{n:032d}", kind="voicemail")
    _call("CA_PLAIN", 31, campaign)

    with pytest.raises(CommandError, match="3 calls kept as they were"):
        call_command("purge_calls")

    assert [line for line in capsys.readouterr().err.splitlines() if "not set" in line] == [
        "TWILIO_ACCOUNT_SID not set. Set TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN (Twilio console"
        " → Account Info) in the server's environment or in .env, then restart the app."
    ]
    assert Recording.objects.count() == 3
    assert Call.objects.filter(caller_number="").count() == 1
