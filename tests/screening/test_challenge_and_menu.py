"""Screening comes before a campaign's menu: a blocked caller hears no menu, a challenged one
hears it once they pass."""

from __future__ import annotations

import pytest

from tests.menus.steps import chose, dialed
from tests.screening.conftest import answer_challenge, challenge_digit
from tests.whisper.steps import CALLER, incoming
from tracking.models import BlockedCaller, Call


@pytest.fixture
def screened_menu(menu_number):
    campaign = menu_number.campaign
    campaign.challenge_attestation = "unverified"
    campaign.save()
    return menu_number


@pytest.mark.django_db
def test_a_challenged_caller_on_a_menu_campaign_is_challenged_first(twilio, screened_menu):
    challenge = incoming(twilio, StirVerstat="No-TN-Validation")

    assert [el.tag for el in challenge] == ["Gather", "Hangup"]
    assert challenge_digit(challenge)
    call = Call.objects.get()
    assert call.legs.count() == 0, "the menu's choice decides what rings"


@pytest.mark.django_db
def test_passing_the_challenge_leads_into_the_menu_then_the_choice_rings(twilio, screened_menu):
    challenge = incoming(twilio, StirVerstat="No-TN-Validation")

    menu = answer_challenge(twilio, challenge, challenge_digit(challenge))

    assert [el.tag for el in menu] == ["Gather", "Redirect"]
    assert menu.find("Gather").get("input") == "dtmf speech"
    ringing = chose(twilio, menu, Digits="1")
    assert dialed(ringing) == ["+15125550122"]
    call = Call.objects.get()
    assert (call.challenge_passed, call.menu_choice, call.spam) == (True, "Billing", "")
    assert [leg.phone_number for leg in call.legs.all()] == ["+15125550122"]


@pytest.mark.django_db
def test_failing_the_challenge_never_reaches_the_menu(twilio, screened_menu):
    challenge = incoming(twilio, StirVerstat="No-TN-Validation")
    wrong = str(int(challenge_digit(challenge)) % 9 + 1)

    response = answer_challenge(twilio, challenge, wrong)

    assert [el.tag for el in response] == ["Say", "Hangup"]
    call = Call.objects.get()
    assert (call.spam, call.menu_choice) == ("challenge", "")


@pytest.mark.django_db
def test_a_blocked_caller_is_rejected_before_the_menu(twilio, menu_number):
    entry = BlockedCaller(kind="number", value=CALLER)
    entry.full_clean()
    entry.save()

    response = incoming(twilio)

    assert [el.tag for el in response] == ["Reject"]
    call = Call.objects.get()
    assert (call.outcome, call.menu_at) == ("blocked", None)
