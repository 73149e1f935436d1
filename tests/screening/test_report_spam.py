"""The person answering reports spam during the whisper: the leg ends, the caller is blocked."""

from __future__ import annotations

import pytest
from django.db import connection

from tests.whisper.steps import CALLER, answered, dial_done, incoming, pressed, status
from tracking import screening
from tracking.models import BlockedCaller, Call


@pytest.fixture
def reporting(two_destinations):
    campaign = two_destinations.campaign
    campaign.spam_report_key = "9"
    campaign.voicemail_enabled = True
    campaign.save()
    return two_destinations


@pytest.mark.django_db
def test_the_whisper_offers_the_report_key(twilio, reporting):
    whisper = answered(twilio, incoming(twilio))

    words = whisper.find("Gather/Say").text
    assert words.endswith("Press 1 to accept, or any other key to decline. Press 9 to report spam.")


@pytest.mark.django_db
def test_reporting_spam_ends_the_call_and_blocks_the_caller(
    twilio, reporting, django_capture_on_commit_callbacks
):
    response = incoming(twilio)
    whisper = answered(twilio, response)

    with django_capture_on_commit_callbacks(execute=True):
        leg = pressed(twilio, whisper, "9")

    assert [el.tag for el in leg] == ["Hangup"]
    # Neither the next destination nor voicemail: the caller is let go.
    after = dial_done(twilio, response, DialCallStatus="completed", DialBridged="false")
    assert [el.tag for el in after] == ["Hangup"]
    status(twilio)
    call = Call.objects.get()
    assert (call.outcome, call.spam, call.decision) == ("spam", "reported", "spam")
    assert [leg.result for leg in call.legs.all()] == ["spam", "pending"]
    entry = BlockedCaller.objects.get()
    assert (entry.kind, entry.value, entry.reported_call_id) == ("number", CALLER, "CA100")
    assert entry.note == "Reported as spam by Front desk"
    # The caller's next call is rejected.
    assert [el.tag for el in incoming(twilio, sid="CA101")] == ["Reject"]


@pytest.mark.django_db
def test_clearing_the_mark_undoes_the_report(twilio, reporting, django_capture_on_commit_callbacks):
    response = incoming(twilio)
    pressed(twilio, answered(twilio, response), "9")
    dial_done(twilio, response, DialCallStatus="completed", DialBridged="false")
    status(twilio)

    with django_capture_on_commit_callbacks(execute=True):
        call = screening.call_set_spam(sid="CA100", spam="")

    assert (call.outcome, call.spam) == ("rejected", "")
    assert BlockedCaller.objects.count() == 0
    assert [el.tag for el in incoming(twilio, sid="CA101")] == ["Dial"]


@pytest.mark.django_db
def test_without_a_report_key_nine_declines(twilio, two_destinations):
    response = incoming(twilio)
    pressed(twilio, answered(twilio, response), "9")

    after = dial_done(twilio, response, DialCallStatus="completed", DialBridged="false")

    assert after.find("Dial/Number").text == "+15125550122"
    assert Call.objects.get().spam == ""
    assert BlockedCaller.objects.count() == 0


@pytest.mark.django_db
def test_the_report_key_cannot_be_the_accept_key(campaign):
    from django.core.exceptions import ValidationError

    campaign.spam_report_key = "1"
    with pytest.raises(ValidationError) as error:
        campaign.full_clean()
    assert "spam_report_key" in error.value.message_dict


@pytest.mark.django_db
def test_a_campaign_with_the_report_key_pays_nothing_more_until_a_report(
    twilio, reporting, django_assert_max_num_queries
):
    response = incoming(twilio)
    # As without the key: lock and read; one update statement (two on SQLite); savepoints.
    budget = 4 if connection.vendor == "postgresql" else 5
    with django_assert_max_num_queries(budget):
        whisper = answered(twilio, response)
    with django_assert_max_num_queries(budget):
        pressed(twilio, whisper, "2")
    # A report reads the call a second time, in the Django transaction (a savepoint here)
    # that adds the block-list entry: its look-up and insert, in a savepoint.
    response = incoming(twilio, sid="CA101", From="+13125550777")
    whisper = answered(twilio, response, child_sid="CA201")
    with django_assert_max_num_queries(budget + 7):
        pressed(twilio, whisper, "9", child_sid="CA201")


@pytest.fixture
def reporting_at_once(all_at_once):
    campaign = all_at_once.campaign
    campaign.spam_report_key = "9"
    campaign.save()
    return all_at_once


@pytest.mark.django_db
def test_ringing_at_once_a_report_lets_the_other_destinations_go(
    twilio, reporting_at_once, django_capture_on_commit_callbacks
):
    response = incoming(twilio)
    owner = answered(twilio, response, child_sid="CA201", leg=1)
    front_desk = answered(twilio, response, child_sid="CA200", leg=0)

    with django_capture_on_commit_callbacks(execute=True):
        assert [el.tag for el in pressed(twilio, front_desk, "9", "CA200")] == ["Hangup"]
    # The owner heard the whisper before the report: their acceptance joins nobody.
    assert [el.tag for el in pressed(twilio, owner, "1", "CA201")] == ["Hangup"]
    # Sales picks up after it: told so, and let go without a whisper.
    sales = answered(twilio, response, child_sid="CA202", leg=2)
    assert [(el.tag, el.text) for el in sales] == [
        ("Say", "This call was reported as spam. Goodbye."),
        ("Hangup", None),
    ]

    after = dial_done(twilio, response, DialCallStatus="completed", DialBridged="false")
    assert [el.tag for el in after] == ["Hangup"]
    call = Call.objects.get()
    assert (call.outcome, call.spam, call.answered_by) == ("spam", "reported", "")
    legs = {leg.label: leg for leg in call.legs.all()}
    assert legs["Front desk"].result == "spam"
    assert (legs["Owner"].decision, legs["Owner"].dial_outcome) == ("accepted", "stopped")
    assert legs["Owner"].result != "accepted"
