"""Spam in the admin: the block list, the call list's spam actions and filter, the CSV."""

from __future__ import annotations

import csv
import io

import pytest
from django.contrib.auth.models import Group, User
from django.urls import reverse

from tests.whisper.steps import CALLER, answered, dial_done, incoming, pressed, status
from tracking.models import BlockedCaller, Call


@pytest.fixture
def marketer(db):
    user = User.objects.create_user("mia", password="pw", is_staff=True)
    user.groups.add(Group.objects.get(name="Marketers"))
    return user


@pytest.fixture
def marketer_client(client, marketer):
    client.force_login(marketer)
    return client


def _accepted_call(twilio, sid="CA100", caller=CALLER):
    response = incoming(twilio, sid=sid, From=caller)
    pressed(twilio, answered(twilio, response, child_sid=sid + "L"), "1", child_sid=sid + "L")
    dial_done(twilio, response, sid=sid, DialCallStatus="completed", DialBridged="true")
    status(twilio, sid=sid)


def _act(client, action, *sids):
    pks = Call.objects.filter(call_sid__in=sids).values_list("pk", flat=True)
    return client.post(
        reverse("admin:tracking_call_changelist"),
        {"action": action, "_selected_action": [str(pk) for pk in pks]},
        follow=True,
    )


@pytest.mark.django_db
def test_a_marketer_marks_a_call_as_spam_and_back(twilio, number, marketer_client):
    _accepted_call(twilio)

    _act(marketer_client, "mark_spam", "CA100")
    call = Call.objects.get()
    assert (call.outcome, call.spam) == ("spam", "marked")

    _act(marketer_client, "mark_not_spam", "CA100")
    call = Call.objects.get()
    assert (call.outcome, call.spam) == ("accepted", "")


@pytest.mark.django_db
def test_block_caller_puts_the_number_on_the_block_list(
    twilio, number, marketer_client, django_capture_on_commit_callbacks
):
    _accepted_call(twilio)

    with django_capture_on_commit_callbacks(execute=True):
        _act(marketer_client, "block_caller", "CA100")

    entry = BlockedCaller.objects.get()
    assert (entry.kind, entry.value) == ("number", CALLER)
    assert [el.tag for el in incoming(twilio, sid="CA101")] == ["Reject"]


@pytest.mark.django_db
def test_the_spam_filter_and_the_csv(twilio, number, marketer_client):
    _accepted_call(twilio, sid="CA1")
    _accepted_call(twilio, sid="CA2", caller="+13125550777")
    _act(marketer_client, "mark_spam", "CA2")
    url = reverse("admin:tracking_call_changelist")

    spam = marketer_client.get(url, {"spam": "yes"}).context["cl"].result_list
    clean = marketer_client.get(url, {"spam": "no"}).context["cl"].result_list
    assert [c.call_sid for c in spam] == ["CA2"]
    assert [c.call_sid for c in clean] == ["CA1"]

    export = marketer_client.get(reverse("admin:tracking_call_export"), {"spam": "yes"})
    rows = list(csv.DictReader(io.StringIO(b"".join(export.streaming_content).decode())))
    assert [(r["Call SID"], r["Outcome"], r["Spam"]) for r in rows] == [("CA2", "spam", "marked")]


@pytest.mark.django_db
def test_a_marketer_manages_the_block_list(marketer_client):
    response = marketer_client.post(
        reverse("admin:tracking_blockedcaller_add"),
        {"kind": "prefix", "value": "+1 900", "note": "premium lines"},
    )

    assert response.status_code == 302
    assert BlockedCaller.objects.get().value == "+1900"


@pytest.mark.django_db
def test_a_call_shows_its_attestation(twilio, number, admin_client):
    incoming(twilio, StirVerstat="TN-Validation-Passed-A")
    call = Call.objects.get()

    page = admin_client.get(reverse("admin:tracking_call_change", args=[call.pk]))

    assert "Verified (A) (TN-Validation-Passed-A)" in page.content.decode()


@pytest.mark.django_db
def test_a_marketer_sets_up_screening_and_leads_on_a_campaign(marketer_client):
    from tests.admin.forms import campaign_form
    from tracking.models import Campaign

    response = marketer_client.post(
        reverse("admin:tracking_campaign_add"),
        campaign_form(
            destinations=[{"label": "Front desk", "phone_number": "(512) 555-0199"}],
            challenge_attestation="failed",
            challenge_prefixes="+1900, +234",
            challenge_burst_calls="3",
            challenge_burst_minutes="15",
            spam_report_key="9",
            lead_min_talk_seconds="90",
            lead_value="75.50",
            lead_currency="EUR",
        ),
    )

    assert response.status_code == 302
    campaign = Campaign.objects.get()
    assert (campaign.challenge_prefixes, campaign.spam_report_key) == ("+1900, +234", "9")
    assert (campaign.lead_min_talk_seconds, str(campaign.lead_value)) == (90, "75.50")


@pytest.mark.django_db
def test_bad_prefixes_and_a_clashing_report_key_are_refused(marketer_client):
    from tests.admin.forms import campaign_form

    response = marketer_client.post(
        reverse("admin:tracking_campaign_add"),
        campaign_form(challenge_prefixes="1900", spam_report_key="1", lead_currency="eur"),
    )

    errors = response.context["adminform"].form.errors
    assert set(errors) >= {"challenge_prefixes", "spam_report_key", "lead_currency"}


@pytest.mark.django_db
def test_the_api_shows_a_calls_screening(twilio, number):
    from api.calls import CallSerializer

    BlockedCaller.objects.create(kind="number", value=CALLER)
    incoming(twilio, StirVerstat="TN-Validation-Failed-B")

    data = CallSerializer(Call.objects.get()).data

    assert (data["outcome"], data["spam"], data["stir_verstat"]) == (
        "blocked",
        "blocked",
        "TN-Validation-Failed-B",
    )
    assert data["screening_reason"] == "blocked: number +13125550123"
