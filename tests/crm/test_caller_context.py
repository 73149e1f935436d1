"""What the whisper says of the caller: name, earlier calls, menu choice and CRM note, each
with a proper sentence when it is unknown."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from tests.admin.conftest import make_call
from tests.whisper.steps import CALLER, answered, incoming, pressed
from tracking.announcement import CallerContext, CallerPlace
from tracking.models import Call, Campaign

TEMPLATE = "{campaign}: {name}, {history}. Chose {choice}. {note}"


def _said(whisper) -> str:
    return whisper.find("Gather/Say").text


def _use(number, template: str) -> Campaign:
    campaign = number.campaign
    campaign.whisper_template = template
    campaign.save()
    return campaign


def test_unknown_context_falls_back_to_proper_sentences():
    campaign = Campaign(name="Spring Billboard", whisper_template=TEMPLATE)

    assert campaign.whisper_for(CallerPlace()) == (
        "Spring Billboard: an unknown caller, a first-time caller. Chose no menu choice. "
        "No note. Press 1 to accept, or any other key to decline."
    )


def test_known_context_is_said_in_its_place():
    campaign = Campaign(name="Spring Billboard", whisper_template=TEMPLATE)
    context = CallerContext(
        choice="Billing", name="Jane Doe", note="VIP.", calls_before=2, last_taken=False
    )

    assert campaign.whisper_for(CallerPlace(), context) == (
        "Spring Billboard: Jane Doe, called twice before, last call missed. Chose Billing. "
        "VIP. Press 1 to accept, or any other key to decline."
    )


@pytest.mark.parametrize(
    ("calls_before", "last_taken", "words"),
    [
        (1, True, "called once before, last call taken"),
        (7, False, "called 7 times before, last call missed"),
        (0, None, ""),
    ],
)
def test_history_in_words(calls_before, last_taken, words):
    assert CallerContext(calls_before=calls_before, last_taken=last_taken).history == words


@pytest.mark.django_db
def test_the_whisper_counts_the_callers_earlier_calls(twilio, number):
    _use(number, "{campaign} call, {history}")
    make_call(number=number, caller_number=CALLER, ago=timedelta(days=3))
    make_call(
        number=number, caller_number=CALLER, outcome=Call.Outcome.NO_ANSWER, ago=timedelta(days=1)
    )
    make_call(number=number, caller_number="+13125550999", ago=timedelta(hours=2))

    whisper = answered(twilio, incoming(twilio))

    assert _said(whisper).startswith(
        "Spring Billboard call, called twice before, last call missed."
    )


@pytest.mark.django_db
def test_a_first_time_caller_is_said_so(twilio, number):
    _use(number, "{campaign} call, {history}")

    assert _said(answered(twilio, incoming(twilio))).startswith(
        "Spring Billboard call, a first-time caller."
    )


@pytest.mark.django_db
def test_twilios_caller_name_is_the_name_without_a_crm(twilio, number):
    whisper = answered(twilio, incoming(twilio, CallerName="JANE DOE"))

    assert _said(whisper) == (
        "Call from Spring Billboard, caller in Austin, Texas. The caller is JANE DOE. "
        "Press 1 to accept, or any other key to decline."
    )


@pytest.mark.django_db
def test_history_costs_one_query_and_only_when_said(twilio, number, django_assert_max_num_queries):
    budget = 4 if connection.vendor == "postgresql" else 5
    response = incoming(twilio)
    with django_assert_max_num_queries(budget):
        whisper = answered(twilio, response)
    pressed(twilio, whisper, "1")

    _use(number, "{history}")
    response = incoming(twilio, sid="CA101")
    with django_assert_max_num_queries(budget + 1):
        answered(twilio, response, child_sid="CA201")


@pytest.mark.django_db
def test_the_campaign_form_generates_a_secret_and_refuses_a_bad_one(admin_client, number):
    from tests.admin.forms import campaign_form
    from tests.admin.test_campaign_call_flows import existing_destinations

    campaign = number.campaign
    url = reverse("admin:tracking_campaign_change", args=[campaign.pk])

    def post(**fields):
        return admin_client.post(
            url,
            campaign_form(
                name=campaign.name,
                destinations=existing_destinations(campaign),
                destinations_initial=1,
                **fields,
            ),
        )

    assert post(crm_url="https://crm.example.com/lookup", crm_secret="").status_code == 302
    campaign.refresh_from_db()
    assert campaign.crm_secret.startswith("whsec_") and len(campaign.crm_secret) > 40

    response = post(crm_url="https://crm.example.com/lookup", crm_secret="hunter2")
    assert response.status_code == 200
    assert "whsec_ followed by base64" in response.content.decode()


@pytest.mark.django_db
def test_the_call_page_shows_the_crm_answer_escaped(admin_client, number):
    call = make_call(number=number, crm_name="<b>Jane</b>", crm_note="Renewal due")
    call.campaign.crm_failures = 3
    Campaign.objects.filter(pk=call.campaign_id).update(crm_failures=3)

    page = admin_client.get(reverse("admin:tracking_call_change", args=[call.pk])).content
    assert b"&lt;b&gt;Jane&lt;/b&gt;" in page and b"Renewal due" in page
    campaign_page = admin_client.get(
        reverse("admin:tracking_campaign_change", args=[call.campaign_id])
    ).content.decode()
    assert 'class="readonly">3</div>' in campaign_page
    assert timezone.now()
