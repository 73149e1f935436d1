from __future__ import annotations

from datetime import timedelta

from django.urls import reverse

from tests.admin.conftest import make_call
from tests.admin.forms import campaign_form
from tests.admin.html import result_rows, texts
from tracking.announcement import CallerPlace
from tracking.models import Call, Campaign, TrackingNumber

Outcome = Call.Outcome
CHANGELIST = reverse("admin:tracking_campaign_changelist")


def rows_by_name(response) -> dict[str, dict[str, str]]:
    return {row["name"]: row for row in result_rows(response)}


def test_it_counts_numbers_calls_accepted_and_acceptance_rate(admin_client, number, campaign):
    TrackingNumber.objects.create(phone_number="+15125550102", campaign=campaign)
    for outcome in [Outcome.ACCEPTED] * 3 + [Outcome.REJECTED, Outcome.NO_INPUT]:
        make_call(number=number, outcome=outcome)
    # Never screened: counted as calls, not in the acceptance rate.
    make_call(number=number, outcome=Outcome.NO_ANSWER)
    make_call(number=number, outcome=Outcome.BUSY)
    # Accepted but the caller left before the bridge: screened, not accepted.
    make_call(number=number, outcome=Outcome.ABANDONED, whispered=True)

    row = rows_by_name(admin_client.get(CHANGELIST))["Spring Billboard"]

    assert row["setup_note"] == "2 tracking numbers"
    assert row["calls"] == "8"
    assert row["screened"] == "6"
    assert row["acceptance_rate"] == "50%"  # 3 accepted of 6 screened
    assert row["acceptance_rate_note"] == "3 of 6 screened"
    assert (row["connect_rate"], row["connect_rate_note"]) == ("38%", "of 8 calls")
    assert row["setup"] == "Front desk"


def test_its_figures_cover_the_last_30_days_and_say_so(admin_client, number):
    make_call(number=number, outcome=Outcome.ACCEPTED, ago=timedelta(days=2))
    make_call(number=number, outcome=Outcome.ACCEPTED, ago=timedelta(days=45))
    response = admin_client.get(CHANGELIST)
    row = rows_by_name(response)["Spring Billboard"]
    assert row["calls"] == "1"
    [period] = texts(response, "list-period")
    assert period.startswith("Calls, screened calls and rates of the last 30 days")


def test_it_shows_a_dash_when_no_call_was_screened(admin_client, number, other_campaign):
    make_call(number=number, outcome=Outcome.NO_ANSWER)

    rows = rows_by_name(admin_client.get(CHANGELIST))

    assert rows["Spring Billboard"]["calls"] == "1"
    assert rows["Spring Billboard"]["acceptance_rate"] == "—"
    assert (rows["Radio Spot"]["setup_note"], rows["Radio Spot"]["calls"]) == (
        "0 tracking numbers",
        "0",
    )
    assert rows["Radio Spot"]["acceptance_rate"] == "—"


def test_it_sorts_by_acceptance_rate(admin_client, number, other_number):
    make_call(number=number, outcome=Outcome.REJECTED)
    make_call(number=other_number, outcome=Outcome.ACCEPTED)
    Campaign.objects.create(name="Never called")
    # "o=4": the fourth column of list_display; best rate first, campaigns without one last.
    response = admin_client.get(CHANGELIST, {"o": "4"})
    assert [row["name"] for row in result_rows(response)] == [
        "Radio Spot",
        "Spring Billboard",
        "Never called",
    ]
    reverse_order = admin_client.get(CHANGELIST, {"o": "-4"})
    assert [row["name"] for row in result_rows(reverse_order)][-1] == "Radio Spot"


def test_the_list_takes_the_same_queries_for_many_campaigns(
    admin_client, django_assert_max_num_queries
):
    def add_campaigns(count: int, start: int) -> None:
        for i in range(start, start + count):
            campaign = Campaign.objects.create(name=f"Campaign {i}")
            campaign.destinations.create(label="Desk", phone_number="+15125550199")
            campaign.destinations.create(label="Mobile", phone_number="+15125550198")
            number = TrackingNumber.objects.create(
                phone_number=f"+1512555{i:04d}", campaign=campaign
            )
            make_call(number=number, outcome=Outcome.ACCEPTED)
            make_call(number=number, outcome=Outcome.REJECTED)

    add_campaigns(2, 100)
    with django_assert_max_num_queries(8) as few:
        assert len(result_rows(admin_client.get(CHANGELIST))) == 2
    add_campaigns(30, 200)
    with django_assert_max_num_queries(len(few.captured_queries)):
        rows = result_rows(admin_client.get(CHANGELIST))
    assert len(rows) == 32
    assert {row["acceptance_rate"] for row in rows} == {"50%"}
    assert {row["setup"] for row in rows} == {"Desk → Mobile"}


def test_it_searches_campaigns_by_a_number_typed_any_way(admin_client, number, other_number):
    response = admin_client.get(CHANGELIST, {"q": "(512) 555-0100"})
    assert [row["name"] for row in result_rows(response)] == ["Spring Billboard"]


def test_the_whisper_preview_is_what_the_callee_hears(admin_client, campaign):
    campaign.whisper_template = "{campaign} lead from {location}"
    campaign.accept_digit = "#"
    campaign.save()

    response = admin_client.get(reverse("admin:tracking_campaign_change", args=[campaign.pk]))

    assert texts(response, "whisper-sentence") == [
        campaign.whisper_for(CallerPlace("Austin", "TX", "US")),
        campaign.whisper_for(CallerPlace("", "TX", "US")),
        campaign.whisper_for(CallerPlace()),
    ]
    # What is left out when Twilio does not know the place is said beside it.
    [warning] = texts(response, "whisper-warning")
    assert "{location} says nothing" in warning
    assert texts(response, "whisper-sentence")[0] == (
        "Spring Billboard lead from Austin, Texas. "
        "Press pound to accept, or any other key to decline."
    )


def test_the_whisper_preview_leaves_out_the_place_when_told_to(admin_client, campaign):
    campaign.announce_location = False
    campaign.save()

    response = admin_client.get(reverse("admin:tracking_campaign_change", args=[campaign.pk]))

    sentences = texts(response, "whisper-sentence")
    assert sentences[0] == sentences[1] == campaign.whisper_for(CallerPlace("Austin", "TX", "US"))
    assert "Austin" not in sentences[0]


def test_it_explains_an_unknown_placeholder(admin_client, campaign):
    response = admin_client.post(
        reverse("admin:tracking_campaign_change", args=[campaign.pk]),
        campaign_form(
            name=campaign.name,
            whisper_template="Call for {company}",
            destinations=[{"label": "Desk", "phone_number": "+15125550199"}],
        ),
    )
    assert response.status_code == 200
    errors = " ".join(texts(response, "errorlist"))
    assert "Unknown placeholder {company}" in errors
