"""The campaign form for issue 7: destinations in order, business hours, holidays, voicemail."""

from __future__ import annotations

from datetime import date, time

import pytest
from django.urls import reverse

from tests.admin.forms import campaign_form, rows
from tests.admin.html import parse, result_rows, texts
from tracking.models import Campaign, Destination, Holiday, OpeningHours, TrackingNumber

ADD = reverse("admin:tracking_campaign_add")
CHANGELIST = reverse("admin:tracking_campaign_changelist")


def change_url(campaign: Campaign) -> str:
    return reverse("admin:tracking_campaign_change", args=[campaign.pk])


def errors(response) -> str:
    assert response.status_code == 200, "expected the form back with errors"
    page = parse(response.content).by_class
    return " ".join(page.get("errorlist", []) + page.get("errornote", []))


def saved(response) -> None:
    assert response.status_code == 302, parse(response.content).by_class.get("errorlist")


def destinations(campaign: Campaign) -> list[tuple[int, str, str]]:
    return list(campaign.destinations.values_list("position", "label", "phone_number"))


def existing_destinations(campaign: Campaign, **changes: dict[str, str]) -> list[dict[str, str]]:
    """The campaign's destination rows as the change form shows them (order 1, 2, …)."""
    shown = [
        {
            "id": str(d.pk),
            "campaign": str(campaign.pk),
            "order": str(d.position + 1),
            "label": d.label,
            "phone_number": d.phone_number,
        }
        for d in campaign.destinations.all()
    ]
    for row in shown:
        row.update(changes.get(row["label"], {}))
    return shown


def test_it_adds_a_campaign_with_destinations_hours_and_holidays(marketer_client):
    response = marketer_client.post(
        ADD,
        campaign_form(
            ring_strategy="simultaneous",
            voicemail_enabled="on",
            voicemail_transcribe="on",
            time_zone="Europe/London",
            after_hours_action="forward",
            after_hours_number="(512) 555-0177",
            notify_emails="owner@example.com, desk@example.com",
            destinations=[
                {"order": "", "label": "Front desk", "phone_number": "(512) 555-0199"},
                {"order": "", "label": "Owner's mobile", "phone_number": "+44 20 7946 0958"},
            ],
            inlines={
                "opening_hours": rows(
                    "opening_hours",
                    [
                        {"weekday": "0", "opens": "09:00", "closes": "12:30"},
                        {"weekday": "0", "opens": "13:30", "closes": "17:00"},
                        {"weekday": "5", "opens": "10:00", "closes": "14:00"},
                    ],
                ),
                "holidays": rows("holidays", [{"date": "2026-12-25", "name": "Christmas"}]),
            },
        ),
    )

    saved(response)
    campaign = Campaign.objects.get(name="Summer Radio")
    assert destinations(campaign) == [
        (0, "Front desk", "+15125550199"),
        (1, "Owner's mobile", "+442079460958"),
    ]
    assert list(campaign.opening_hours.values_list("weekday", "opens", "closes")) == [
        (0, time(9), time(12, 30)),
        (0, time(13, 30), time(17)),
        (5, time(10), time(14)),
    ]
    assert list(campaign.holidays.values_list("date", "name")) == [
        (date(2026, 12, 25), "Christmas")
    ]
    assert (campaign.ring_strategy, campaign.time_zone) == ("simultaneous", "Europe/London")
    assert (campaign.voicemail_enabled, campaign.voicemail_transcribe) == (True, True)
    assert (campaign.after_hours_action, campaign.after_hours_number) == (
        "forward",
        "+15125550177",
    )
    assert campaign.recipients == ["owner@example.com", "desk@example.com"]


def test_it_saves_destinations_in_the_order_typed(admin_client):
    saved(
        admin_client.post(
            ADD,
            campaign_form(
                destinations=[
                    {"order": "", "label": "Last", "phone_number": "+15125550101"},
                    {"order": "2", "label": "Second", "phone_number": "+15125550102"},
                    {"order": "1", "label": "First", "phone_number": "+15125550103"},
                ]
            ),
        )
    )
    campaign = Campaign.objects.get()
    assert [label for _, label, _ in destinations(campaign)] == ["First", "Second", "Last"]
    assert [position for position, _, _ in destinations(campaign)] == [0, 1, 2]


def test_it_reorders_and_renumbers_destinations_on_the_change_form(admin_client, campaign):
    campaign.destinations.create(label="Owner", phone_number="+15125550198", position=1)
    campaign.destinations.create(label="Backup", phone_number="+15125550197", position=2)

    # The owner moves to the top, the front desk is removed, a new one goes last.
    shown = existing_destinations(
        campaign, Owner={"order": "1"}, **{"Front desk": {"DELETE": "on"}}
    )
    response = admin_client.post(
        change_url(campaign),
        campaign_form(
            name=campaign.name,
            destinations=[*shown, {"label": "Night line", "phone_number": "512-555-0196"}],
            destinations_initial=len(shown),
        ),
    )

    saved(response)
    assert destinations(campaign) == [
        (0, "Owner", "+15125550198"),
        (1, "Backup", "+15125550197"),
        (2, "Night line", "+15125550196"),
    ]


def test_the_change_form_shows_destinations_in_order_inside_the_ringing_section(
    admin_client, campaign
):
    campaign.destinations.create(label="Owner", phone_number="+15125550198", position=1)
    content = admin_client.get(change_url(campaign)).content.decode()

    assert content.index('value="Front desk"') < content.index('value="Owner"')
    assert 'name="destinations-1-order" value="2"' in content
    # Each inline sits in its section: destinations after "Ringing", hours after "Business
    # hours", and the tracking numbers at the end.
    order = [
        content.index(marker)
        for marker in (
            ">Ringing<",
            'id="destinations-group"',
            ">Whisper<",
            ">Business hours<",
            'id="opening_hours-group"',
            'id="holidays-group"',
            ">Recording<",
            'id="numbers-group"',
        )
    ]
    assert order == sorted(order)
    # The time zone is typed with suggestions (a datalist of every zone), not scrolled for.
    assert '<option value="Europe/London">' in content
    assert 'list="time_zone-choices"' in content


def test_the_add_form_offers_one_destination_row(admin_client):
    content = admin_client.get(ADD).content.decode()
    assert 'name="destinations-TOTAL_FORMS" value="1"' in content
    assert 'name="destinations-MIN_NUM_FORMS" value="1"' in content


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        (
            {"destinations": []},
            "Add at least one destination",
        ),
        (
            {"destinations": [{"label": "Desk", "phone_number": "call me"}]},
            "“call me” is not a phone number",
        ),
        (
            {"destinations": [{"label": "Desk", "phone_number": "+1 512 555"}]},
            "is not a valid number in its country",
        ),
        (
            {
                "destinations": [
                    {"label": "Desk", "phone_number": "+15125550199"},
                    {"label": "Again", "phone_number": "(512) 555-0199"},
                ]
            },
            "already a destination above",
        ),
        (
            {
                "inlines": {
                    "opening_hours": rows(
                        "opening_hours", [{"weekday": "1", "opens": "17:00", "closes": "09:00"}]
                    )
                }
            },
            "Closing time must be after opening time.",
        ),
        (
            {"after_hours_action": "forward", "after_hours_number": ""},
            "Enter the number to ring outside business hours.",
        ),
        (
            {"time_zone": "Mars/Olympus_Mons"},
            "“Mars/Olympus_Mons” is not a time zone",
        ),
        (
            {"notify_emails": "owner@example.com, not an address"},
            "Enter a valid email address.",
        ),
        (
            {
                "inlines": {
                    "holidays": rows(
                        "holidays",
                        [{"date": "2026-12-25", "name": "A"}, {"date": "2026-12-25", "name": "B"}],
                    )
                }
            },
            "Please correct the duplicate data for date",
        ),
    ],
)
def test_it_explains_what_is_wrong_and_saves_nothing(admin_client, changes, message):
    changes = {"destinations": [{"label": "Desk", "phone_number": "+15125550199"}], **changes}
    response = admin_client.post(ADD, campaign_form(**changes))

    assert message in errors(response)
    assert not Campaign.objects.exists()
    assert not Destination.objects.exists()
    assert not OpeningHours.objects.exists()
    assert not Holiday.objects.exists()


def test_a_change_with_an_error_leaves_the_campaign_as_it_was(admin_client, campaign):
    shown = existing_destinations(campaign, **{"Front desk": {"label": "Renamed"}})
    response = admin_client.post(
        change_url(campaign),
        campaign_form(
            name="New name",
            destinations=[*shown, {"label": "Bad", "phone_number": "nope"}],
            destinations_initial=1,
            inlines={
                "opening_hours": rows(
                    "opening_hours", [{"weekday": "1", "opens": "09:00", "closes": "17:00"}]
                )
            },
        ),
    )

    assert "“nope” is not a phone number" in errors(response)
    campaign.refresh_from_db()
    assert campaign.name == "Spring Billboard"
    assert destinations(campaign) == [(0, "Front desk", "+15125550199")]
    assert not campaign.opening_hours.exists()


def test_removing_every_destination_is_refused(admin_client, campaign):
    shown = existing_destinations(campaign, **{"Front desk": {"DELETE": "on"}})
    response = admin_client.post(
        change_url(campaign),
        campaign_form(name=campaign.name, destinations=shown, destinations_initial=1),
    )
    assert "Add at least one destination" in errors(response)
    assert campaign.destinations.count() == 1


def test_a_destination_cannot_be_a_tracking_number(admin_client, number, other_campaign):
    # One of its own numbers, already saved…
    shown = existing_destinations(other_campaign)
    response = admin_client.post(
        change_url(other_campaign),
        campaign_form(
            name=other_campaign.name,
            destinations=[*shown, {"label": "Loop", "phone_number": "(512) 555-0100"}],
            destinations_initial=len(shown),
        ),
    )
    assert "This is a tracking number" in errors(response)

    # …or one being added in the same form.
    response = admin_client.post(
        ADD,
        campaign_form(
            destinations=[{"label": "Loop", "phone_number": "+15125550142"}],
            inlines={
                "numbers": rows(
                    "numbers",
                    [{"phone_number": "512 555 0142", "label": "", "is_active": "on"}],
                )
            },
        ),
    )
    assert "This is a tracking number" in errors(response)
    assert not TrackingNumber.objects.filter(phone_number="+15125550142").exists()
    assert other_campaign.destinations.count() == 1


def test_the_list_shows_whom_each_campaign_rings(admin_client, campaign, other_campaign):
    campaign.destinations.create(label="Owner", phone_number="+15125550198", position=1)
    other_campaign.ring_strategy = Campaign.RingStrategy.SIMULTANEOUS
    other_campaign.save()
    other_campaign.destinations.create(label="Shop", phone_number="+15125550197", position=1)
    Campaign.objects.create(name="Nobody yet")

    rings = {row["name"]: row["setup"] for row in result_rows(admin_client.get(CHANGELIST))}

    assert rings == {
        "Spring Billboard": "Front desk → Owner",
        "Radio Spot": "Owner + Shop",
        "Nobody yet": "—",
    }


def test_the_number_list_shows_where_calls_go(admin_client, number, campaign):
    campaign.destinations.create(label="Owner", phone_number="+15125550198", position=1)
    TrackingNumber.objects.create(
        phone_number="+15125550102", campaign=campaign, forward_to="+15125550197"
    )
    response = admin_client.get(reverse("admin:tracking_trackingnumber_changelist"))
    shown = {row["number_note"]: row["destination_number"] for row in result_rows(response)}
    assert shown == {
        "+15125550100": "(512) 555-0199, (512) 555-0198",
        "+15125550102": "(512) 555-0197",
    }


def test_a_marketer_edits_destinations_without_permissions_of_their_own(marketer_client, campaign):
    content = marketer_client.get(change_url(campaign)).content.decode()
    assert 'name="destinations-0-label"' in content
    assert 'name="opening_hours-TOTAL_FORMS"' in content
    assert 'name="holidays-TOTAL_FORMS"' in content
    assert texts(marketer_client.get(change_url(campaign)), "field-ring_strategy")
