"""The tracking-number admin: search → buy, release and re-point, as a marketer uses them."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission, User
from django.urls import reverse

from tests.admin.html import texts
from tests.provisioning.conftest import FALLBACK_URL, STATUS_URL, VOICE_URL
from tracking.models import Call, TrackingNumber

BUY = "admin:tracking_trackingnumber_buy"
CHANGELIST = "admin:tracking_trackingnumber_changelist"
RIGHT = {"voice_url": VOICE_URL, "status_callback": STATUS_URL, "voice_fallback_url": FALLBACK_URL}


def _messages(response) -> list[str]:
    return [str(m) for m in response.context["messages"]]


@pytest.mark.django_db
def test_the_number_list_has_a_buy_numbers_button(admin_client):
    response = admin_client.get(reverse(CHANGELIST))

    assert response.status_code == 200
    assert f'href="{reverse(BUY)}"' in response.content.decode()
    assert "Buy numbers" in response.content.decode()


@pytest.mark.django_db
def test_search_then_buy_through_the_admin(admin_client, fake, cnam_campaign):
    fake.offer("+15125550142", locality="Austin")
    fake.offer("+15125550143")
    fake.offer("+17375550100")

    page = admin_client.get(
        reverse(BUY), {"country": "us", "kind": "local", "area_code": "512", "contains": ""}
    )

    assert page.status_code == 200
    html = page.content.decode()
    assert 'value="+15125550142"' in html and "(512) 555-0142 — Austin, TX" in html
    assert 'value="+17375550100"' not in html
    assert fake.received("GET")[0].query["AreaCode"] == "512"
    # Twilio's monthly price for the kind searched, from its Pricing API.
    assert texts(page, "number-price") == [
        "1.15 USD a month each, charged by Twilio to the account."
    ]

    response = admin_client.post(
        reverse(BUY),
        {
            "phone_numbers": ["+15125550142", "+15125550143"],
            "campaign": cnam_campaign.pk,
            "label": "Spring flyer",
        },
        follow=True,
    )

    assert response.redirect_chain == [(reverse(CHANGELIST), 302)]
    assert _messages(response) == [
        "Bought (512) 555-0142 for “Radio Spot”: its calls now come to this site.",
        "Bought (512) 555-0143 for “Radio Spot”: its calls now come to this site.",
    ]
    rows = TrackingNumber.objects.order_by("phone_number")
    assert [(n.phone_number, n.campaign, n.twilio_sid in fake.owned, n.label) for n in rows] == [
        ("+15125550142", cnam_campaign, True, "Spring flyer"),
        ("+15125550143", cnam_campaign, True, "Spring flyer"),
    ]
    assert {r.form["VoiceUrl"] for r in fake.received("POST")} == {VOICE_URL}
    assert {r.form["VoiceCallerIdLookup"] for r in fake.received("POST")} == {"true"}


@pytest.mark.django_db
def test_a_number_sold_meanwhile_is_reported_and_the_others_bought(admin_client, fake, campaign):
    fake.offer("+15125550142")

    response = admin_client.post(
        reverse(BUY),
        {"phone_numbers": ["+15125550199", "+15125550142"], "campaign": campaign.pk},
        follow=True,
    )

    messages = _messages(response)
    assert "that number is no longer available" in messages[0]
    assert messages[1].startswith("Bought (512) 555-0142")
    assert list(TrackingNumber.objects.values_list("phone_number", flat=True)) == ["+15125550142"]


@pytest.mark.django_db
def test_bad_credentials_on_search_are_shown_in_plain_words(admin_client, fake, settings):
    settings.TWILIO_AUTH_TOKEN = "wrong"

    response = admin_client.get(reverse(BUY), {"country": "US", "kind": "local"})

    assert response.status_code == 200
    [message] = _messages(response)
    assert message.startswith("Twilio refused the account credentials while searching")
    assert "TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN" in message


@pytest.mark.django_db
def test_buying_without_a_campaign_asks_for_one(admin_client, fake):
    fake.offer("+15125550142")

    response = admin_client.post(reverse(BUY), {"phone_numbers": ["+15125550142"]}, follow=True)

    assert _messages(response) == ["Choose the campaign the numbers are for."]
    assert fake.received("POST") == []


@pytest.mark.django_db
def test_without_credentials_the_page_says_how_to_set_them(admin_client, settings):
    settings.TWILIO_ACCOUNT_SID = ""
    settings.TWILIO_AUTH_TOKEN = ""
    settings.PUBLIC_BASE_URL = ""

    response = admin_client.get(reverse(BUY), {"country": "US", "kind": "local"})

    assert response.status_code == 200
    html = response.content.decode()
    assert "TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN not set" in html
    assert "PUBLIC_BASE_URL is not set" in html
    assert 'id="search-numbers"' not in html


@pytest.mark.django_db
def test_buying_needs_the_add_permission(client, fake):
    user = User.objects.create_user("viewer", password="pw", is_staff=True)
    user.user_permissions.add(
        Permission.objects.get(codename="view_trackingnumber"),
        Permission.objects.get(codename="change_trackingnumber"),
    )
    client.force_login(user)

    assert client.get(reverse(BUY)).status_code == 403
    assert client.post(reverse(BUY), {"phone_numbers": ["+15125550142"]}).status_code == 403


@pytest.mark.django_db
def test_release_asks_first_then_keeps_the_history(admin_client, fake, campaign):
    record = fake.own("+15125550100", **RIGHT)
    number = TrackingNumber.objects.create(
        phone_number="+15125550100", campaign=campaign, twilio_sid=record["sid"]
    )
    Call.objects.create(call_sid="CA1", tracking_number=number, campaign=campaign)
    data = {"action": "release_on_twilio", "_selected_action": [number.pk]}

    confirm = admin_client.post(reverse(CHANGELIST), data)

    assert confirm.status_code == 200
    assert "Yes, release them" in confirm.content.decode()
    assert fake.requests == []

    done = admin_client.post(reverse(CHANGELIST), {**data, "post": "yes"}, follow=True)

    assert _messages(done) == [
        "Released (512) 555-0100 on Twilio. Its call history stays; it no longer rings."
    ]
    assert record["sid"] not in fake.owned
    number.refresh_from_db()
    assert not number.is_active
    assert number.calls.count() == 1


@pytest.mark.django_db
def test_repoint_action_reports_each_number(admin_client, fake, campaign):
    right = fake.own("+15125550100", **RIGHT)
    wrong = fake.own("+15125550101", **{**RIGHT, "status_callback": ""})
    for record in (right, wrong):
        TrackingNumber.objects.create(
            phone_number=record["phone_number"], campaign=campaign, twilio_sid=record["sid"]
        )

    response = admin_client.post(
        reverse(CHANGELIST),
        {
            "action": "repoint_webhooks",
            "_selected_action": list(TrackingNumber.objects.values_list("pk", flat=True)),
        },
        follow=True,
    )

    assert sorted(_messages(response)) == [
        "(512) 555-0100: already pointed at this site.",
        "(512) 555-0101: re-pointed at this site (Status Callback is POST (empty)).",
    ]
    assert fake.owned[wrong["sid"]]["status_callback"] == STATUS_URL


@pytest.mark.django_db
def test_the_twilio_actions_need_the_change_permission(client, campaign):
    user = User.objects.create_user("viewer", password="pw", is_staff=True)
    user.user_permissions.add(Permission.objects.get(codename="view_trackingnumber"))
    client.force_login(user)

    html = client.get(reverse(CHANGELIST)).content.decode()

    assert "release_on_twilio" not in html
    assert "Buy numbers" not in html
