"""The simulator plays every screening path: blocked, challenged (passed, failed, hung up),
and spam reported during the whisper."""

from __future__ import annotations

import pytest

from tests.simulator.test_command import simulate
from tracking.models import BlockedCaller, Call


@pytest.fixture
def challenging(number):
    number.campaign.challenge_attestation = "failed"
    number.campaign.spam_report_key = "9"
    number.campaign.save()
    return number


@pytest.mark.django_db
def test_a_challenged_caller_who_presses_the_right_key_is_connected(challenging):
    output = simulate("--stir", "TN-Validation-Failed-C")

    assert "  Caller hears: “To be connected, press" in output
    assert "  The callee presses 1." in output
    call = Call.objects.get()
    assert (call.outcome, call.challenge_passed, call.stir_verstat) == (
        "accepted",
        True,
        "TN-Validation-Failed-C",
    )
    assert "  screened:     caller ID failed verification" in output
    assert "  challenge:    passed" in output


@pytest.mark.django_db
@pytest.mark.parametrize("key", ["wrong", "none"])
def test_a_challenged_caller_who_fails_is_spam(challenging, key):
    output = simulate("--stir", "TN-Validation-Failed-A", "--challenge-key", key)

    assert "Sorry, that was not the right key. Goodbye." in output
    assert Call.objects.get().outcome == "spam"
    assert "  spam:         Failed the challenge" in output


@pytest.mark.django_db
def test_a_challenged_caller_who_hangs_up(challenging):
    simulate("--stir", "TN-Validation-Failed-A", "--challenge-key", "hang-up")

    call = Call.objects.get()
    assert (call.outcome, call.challenge_passed) == ("abandoned", None)


@pytest.mark.django_db
def test_a_verified_caller_is_not_challenged(challenging):
    output = simulate("--stir", "TN-Validation-Passed-A")

    assert "To be connected" not in output
    assert Call.objects.get().outcome == "accepted"


@pytest.mark.django_db
def test_the_callee_reports_spam(challenging):
    output = simulate("--answer", "report-spam")

    assert "Press 9 to report spam." in output
    assert "  The callee presses 9." in output
    call = Call.objects.get()
    assert (call.outcome, call.spam) == ("spam", "reported")
    assert BlockedCaller.objects.get().value == call.caller_number


@pytest.mark.django_db
def test_a_blocked_caller_is_refused(number):
    from tests.simulator.conftest import CALLER

    BlockedCaller.objects.create(kind="number", value=CALLER)

    output = simulate()

    assert "  <Reject/>: Twilio refuses the call." in output
    assert Call.objects.get().outcome == "blocked"


@pytest.mark.django_db
def test_report_spam_without_a_report_key_says_what_to_set(number):
    from django.core.management import CommandError

    with pytest.raises(CommandError, match="report-spam key"):
        simulate("--answer", "report-spam")


@pytest.mark.django_db
def test_a_challenged_caller_passes_then_chooses_from_the_menu(menu_number):
    menu_number.campaign.challenge_attestation = "failed"
    menu_number.campaign.save()

    output = simulate("--stir", "TN-Validation-Failed-C", "--press", "1")

    assert "  Caller hears: “To be connected, press" in output
    assert "  The caller presses 1." in output
    assert "caller chose Billing" in output
    call = Call.objects.get()
    assert (call.challenge_passed, call.menu_choice, call.outcome) == (True, "Billing", "accepted")
