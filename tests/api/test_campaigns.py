from __future__ import annotations

import pytest
from django.contrib.admin.models import LogEntry

from tracking.models import Campaign, Destination, TrackingNumber

pytestmark = pytest.mark.django_db

NEW_CAMPAIGN = {
    "name": "Radio spot",
    "ring_strategy": "simultaneous",
    "time_zone": "America/New_York",
    "destinations": [
        {"label": "Sales", "phone_number": "(512) 555-0133"},
        {"label": "Owner", "phone_number": "+15125550122"},
    ],
    "opening_hours": [{"weekday": 0, "opens": "09:00", "closes": "17:00"}],
    "holidays": [{"date": "2026-12-25", "name": "Christmas"}],
}


def test_create_campaign_with_its_parts(api, marketer):
    response = api.post("/api/v1/campaigns/", NEW_CAMPAIGN, format="json")

    assert response.status_code == 201, response.json()
    campaign = Campaign.objects.get(name="Radio spot")
    assert campaign.ring_strategy == "simultaneous"
    assert campaign.time_zone == "America/New_York"
    # Cleaned as the admin cleans them: E.164, in the order given.
    assert list(campaign.destinations.values_list("position", "label", "phone_number")) == [
        (0, "Sales", "+15125550133"),
        (1, "Owner", "+15125550122"),
    ]
    assert [str(hours) for hours in campaign.opening_hours.all()] == ["Monday 09:00–17:00"]
    assert [str(day) for day in campaign.holidays.all()] == ["2026-12-25 Christmas"]
    body = response.json()
    assert body["id"] == campaign.pk
    assert [d["label"] for d in body["destinations"]] == ["Sales", "Owner"]
    assert body["opening_hours"] == [
        {"id": campaign.opening_hours.get().pk, "weekday": 0, "opens": "09:00", "closes": "17:00"}
    ]
    # In the admin's history, as if made there.
    entry = LogEntry.objects.get(object_id=str(campaign.pk))
    assert (entry.user, entry.action_flag) == (marketer, 1)


@pytest.mark.parametrize(
    ("change", "errors"),
    [
        (
            {"destinations": []},
            {
                "destinations": [
                    "Add at least one destination: the phone that rings when a call comes in."
                ]
            },
        ),
        (
            {"ring_timeout": 2},
            {"ring_timeout": ["Enter a number of seconds from 5 to 600."]},
        ),
        ({"name": ""}, {"name": ["This field is required."]}),
        (
            {"ring_strategy": "random"},
            {
                "ring_strategy": [
                    "Select a valid choice. random is not one of the available choices."
                ]
            },
        ),
        ({"colour": "red"}, {"colour": ["Unknown field."]}),
        ({"name": ["a", "b"]}, {"name": ["Expected a single value, not a list or an object."]}),
        (
            {"destinations": [{"label": "Desk", "phone_number": "12"}]},
            {
                "destinations": {
                    "0": {
                        "phone_number": [
                            "“12” is not a valid number in its country. "
                            "Check the digits and country code."
                        ]
                    }
                }
            },
        ),
        (
            {"opening_hours": [{"weekday": 1, "opens": "18:00", "closes": "09:00"}]},
            {"opening_hours": {"0": {"closes": ["Closing time must be after opening time."]}}},
        ),
    ],
)
def test_create_refuses_what_the_admin_refuses_and_saves_nothing(api, db, change, errors):
    response = api.post("/api/v1/campaigns/", {**NEW_CAMPAIGN, **change}, format="json")

    assert response.status_code == 400
    assert response.json() == errors
    assert not Campaign.objects.exists()
    assert not Destination.objects.exists()


def test_an_unknown_whisper_placeholder_is_refused(api, db):
    body = {**NEW_CAMPAIGN, "whisper_template": "Call for {boss}"}

    response = api.post("/api/v1/campaigns/", body, format="json")

    assert response.status_code == 400
    assert list(response.json()) == ["whisper_template"]
    assert response.json()["whisper_template"][0].startswith("Unknown placeholder {boss}. Use")
    assert not Campaign.objects.exists()


def test_a_tracking_number_cannot_be_a_destination(api, number):
    body = {**NEW_CAMPAIGN, "destinations": [{"label": "Loop", "phone_number": "+15125550100"}]}

    response = api.post("/api/v1/campaigns/", body, format="json")

    assert response.status_code == 400
    assert "tracking number" in response.json()["destinations"]["0"]["phone_number"][0]
    assert Campaign.objects.count() == 1


def test_patch_changes_only_what_it_names(api, number):
    campaign = number.campaign
    campaign.voicemail_enabled = True
    campaign.save()

    response = api.patch(f"/api/v1/campaigns/{campaign.pk}/", {"ring_timeout": 30}, format="json")

    assert response.status_code == 200, response.json()
    campaign.refresh_from_db()
    assert (campaign.ring_timeout, campaign.voicemail_enabled) == (30, True)
    assert list(campaign.destinations.values_list("label", flat=True)) == ["Front desk"]
    assert [n["phone_number"] for n in response.json()["numbers"]] == ["+15125550100"]


def test_patch_destinations_keeps_listed_rows_reorders_adds_and_deletes(api, campaign):
    desk = campaign.destinations.get()
    owner = campaign.destinations.create(position=1, label="Owner", phone_number="+15125550122")

    response = api.patch(
        f"/api/v1/campaigns/{campaign.pk}/",
        {
            "destinations": [
                {"id": owner.pk},
                {"label": "Sales", "phone_number": "+15125550133"},
            ]
        },
        format="json",
    )

    assert response.status_code == 200, response.json()
    rows = list(campaign.destinations.values_list("pk", "position", "label"))
    assert rows[0] == (owner.pk, 0, "Owner")
    assert rows[1][1:] == (1, "Sales")
    assert not Destination.objects.filter(pk=desk.pk).exists()


def test_patch_with_an_id_of_another_campaign_is_400(api, campaign):
    other = Campaign.objects.create(name="Other")
    stranger = other.destinations.create(label="X", phone_number="+15125550144")

    response = api.patch(
        f"/api/v1/campaigns/{campaign.pk}/",
        {"destinations": [{"id": stranger.pk}]},
        format="json",
    )

    assert response.status_code == 400
    assert response.json() == {"destinations": {"0": {"id": ["No such row in destinations."]}}}


def test_delete_campaign(api, campaign):
    assert api.delete(f"/api/v1/campaigns/{campaign.pk}/").status_code == 204
    assert not Campaign.objects.exists()


def test_a_campaign_with_numbers_cannot_be_deleted(api, number):
    response = api.delete(f"/api/v1/campaigns/{number.campaign_id}/")

    assert response.status_code == 409
    assert "(512) 555-0100" in response.json()["detail"]
    assert Campaign.objects.exists()
    assert not LogEntry.objects.exists()


def test_unknown_campaign_is_404(api, db):
    assert api.get("/api/v1/campaigns/404/").status_code == 404
    assert api.patch("/api/v1/campaigns/404/", {}, format="json").status_code == 404
    assert api.get("/api/v1/campaigns/99999999999999999999999/").status_code == 404


def test_body_must_be_an_object(api, campaign):
    response = api.patch(f"/api/v1/campaigns/{campaign.pk}/", [1, 2], format="json")

    assert response.status_code == 400
    assert response.json() == {"non_field_errors": ["Send a JSON object."]}


def test_malformed_json_is_400(api, campaign):
    response = api.patch(
        f"/api/v1/campaigns/{campaign.pk}/", "{not json", content_type="application/json"
    )

    assert response.status_code == 400


# Tracking numbers


def test_create_number(api, campaign):
    response = api.post(
        "/api/v1/numbers/",
        {"phone_number": "(512) 555-0177", "campaign": campaign.pk, "label": "Flyer"},
        format="json",
    )

    assert response.status_code == 201, response.json()
    number = TrackingNumber.objects.get()
    assert (number.phone_number, number.label, number.is_active) == ("+15125550177", "Flyer", True)
    assert response.json()["id"] == number.pk


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        (
            {"forward_to": "+15125550100"},
            "forward_to",
            "Calls cannot be forwarded to the tracking number itself.",
        ),
        (
            {"phone_number": "+15125550101"},
            "phone_number",
            "This number is already a tracking number. A number can belong to one campaign "
            "only: edit that number to move it.",
        ),
        (
            {"campaign": 999999},
            "campaign",
            "Select a valid choice. That choice is not one of the available choices.",
        ),
        ({"campaign": None}, "campaign", "This field is required."),
        ({"twilio_sid": "PN1"}, None, None),
    ],
)
def test_number_changes_the_admin_refuses(api, number, change, field, message):
    TrackingNumber.objects.create(phone_number="+15125550101", campaign=number.campaign)

    response = api.patch(f"/api/v1/numbers/{number.pk}/", change, format="json")

    if field is None:
        # Read-only fields are ignored, as a GET's body sent back would carry them.
        assert response.status_code == 200
    else:
        assert response.status_code == 400
        assert response.json() == {field: [message]}
    number.refresh_from_db()
    assert (number.phone_number, number.forward_to, number.twilio_sid) == ("+15125550100", "", "")


def test_move_number_to_another_campaign(api, number):
    other = Campaign.objects.create(name="Radio")

    response = api.patch(f"/api/v1/numbers/{number.pk}/", {"campaign": other.pk}, format="json")

    assert response.status_code == 200
    assert response.json()["campaign"] == other.pk
    number.refresh_from_db()
    assert number.campaign == other


def test_delete_number_keeps_its_calls(api, answered_call):
    number = answered_call.tracking_number

    assert api.delete(f"/api/v1/numbers/{number.pk}/").status_code == 204
    answered_call.refresh_from_db()
    assert answered_call.tracking_number is None
    assert answered_call.campaign is not None


def test_list_numbers(api, number):
    body = api.get("/api/v1/numbers/").json()

    assert [row["phone_number"] for row in body] == ["+15125550100"]


def test_a_number_taken_between_the_check_and_the_save_is_409(api, campaign):
    from django.db.models.signals import pre_save

    def racing_request(sender, instance, **kwargs):
        # Another request saves the same number just after this one's form said it was free.
        if instance.pk is None and instance.label == "Flyer":
            TrackingNumber.objects.create(phone_number=instance.phone_number, campaign=campaign)

    pre_save.connect(racing_request, sender=TrackingNumber)
    try:
        response = api.post(
            "/api/v1/numbers/",
            {"phone_number": "+15125550177", "campaign": campaign.pk, "label": "Flyer"},
            format="json",
        )
    finally:
        pre_save.disconnect(racing_request, sender=TrackingNumber)

    assert response.status_code == 409
    assert not TrackingNumber.objects.filter(label="Flyer").exists()


def test_a_part_listed_twice_is_400(api, campaign):
    desk = campaign.destinations.get()

    response = api.patch(
        f"/api/v1/campaigns/{campaign.pk}/",
        {"destinations": [{"id": desk.pk}, {"id": desk.pk, "label": "Again"}]},
        format="json",
    )

    assert response.status_code == 400
    assert response.json() == {"destinations": {"1": {"id": ["Listed twice."]}}}
