"""The menu in the campaign form, and the choice in the call list and detail."""

from __future__ import annotations

import csv

import pytest
from django.urls import reverse

from tests.admin.conftest import make_call
from tests.admin.forms import campaign_form, rows
from tests.admin.html import parse
from tests.admin.test_campaign_call_flows import change_url, errors, existing_destinations, saved
from tracking.models import Call, TrackingNumber


def _menu_post(campaign, options, **fields):
    return campaign_form(
        name=campaign.name,
        destinations=existing_destinations(campaign),
        destinations_initial=campaign.destinations.count(),
        inlines={"menu_options": rows("menu_options", options)},
        **fields,
    )


@pytest.mark.django_db
def test_a_marketer_adds_a_menu_whose_options_ring_some_destinations(marketer_client, menu_number):
    campaign = menu_number.campaign
    campaign.menu_options.all().delete()
    owner = campaign.destinations.get(label="Owner")
    options = [
        {"key": "1", "label": "Billing", "words": "billing", "destinations": str(owner.pk)},
        {"key": "3", "label": "Support", "words": "", "is_default": "on"},
    ]

    saved(
        marketer_client.post(
            change_url(campaign), _menu_post(campaign, options, menu_greeting="Hello")
        )
    )

    campaign.refresh_from_db()
    assert campaign.menu_greeting == "Hello"
    assert [(o.key, o.label, o.is_default) for o in campaign.menu_options.all()] == [
        ("1", "Billing", False),
        ("3", "Support", True),
    ]
    assert list(campaign.menu_options.get(key="1").destinations.all()) == [owner]
    from tracking.routing import cached_route

    route = cached_route(menu_number.phone_number)
    assert [(c.key, c.positions) for c in route.menu] == [("1", (1,)), ("3", (0, 1, 2))]


@pytest.mark.django_db
def test_two_defaults_or_a_menu_without_greeting_are_refused(marketer_client, menu_number):
    campaign = menu_number.campaign
    campaign.menu_options.all().delete()
    two_defaults = [
        {"key": "1", "label": "Billing", "is_default": "on"},
        {"key": "2", "label": "Support", "is_default": "on"},
    ]

    response = marketer_client.post(
        change_url(campaign), _menu_post(campaign, two_defaults, menu_greeting="Hello")
    )
    assert "Only one option can be the default." in errors(response)

    one = [{"key": "1", "label": "Billing"}]
    response = marketer_client.post(change_url(campaign), _menu_post(campaign, one))
    assert "Write the menu greeting above" in errors(response)

    same_key = [{"key": "1", "label": "Billing"}, {"key": "1", "label": "Support"}]
    response = marketer_client.post(
        change_url(campaign), _menu_post(campaign, same_key, menu_greeting="Hello")
    )
    assert "Please correct the duplicate data" in errors(response)
    assert campaign.menu_options.count() == 0


@pytest.mark.django_db
def test_an_option_cannot_ring_another_campaigns_destination(marketer_client, menu_number):
    campaign = menu_number.campaign
    campaign.menu_options.all().delete()
    other = type(campaign).objects.create(name="Radio")
    foreign = other.destinations.create(label="Radio desk", phone_number="+15125550144")
    options = [{"key": "1", "label": "Billing", "destinations": str(foreign.pk)}]

    response = marketer_client.post(
        change_url(campaign), _menu_post(campaign, options, menu_greeting="Hello")
    )

    assert "Select a valid choice" in errors(response)


@pytest.mark.django_db
def test_the_call_list_and_detail_show_the_choice_or_the_menu_left(admin_client, menu_number):
    chose = make_call(number=menu_number, menu_choice="Billing")
    left = make_call(number=menu_number, outcome=Call.Outcome.ABANDONED)
    Call.objects.update(menu_at=left.started_at)

    page = parse(admin_client.get(reverse("admin:tracking_call_changelist")).content)

    sources = " ".join(page.by_class.get("cell-note", []))
    assert "menu: Billing" in sources
    assert "menu: Hung up in the menu" in sources
    detail = admin_client.get(reverse("admin:tracking_call_change", args=[chose.pk]))
    assert "Billing" in parse(detail.content).by_class.get("field-menu", [""])[0]


@pytest.mark.django_db
def test_the_call_export_has_the_choice(admin_client, menu_number):
    make_call(number=menu_number, menu_choice="=HYPERLINK(1)")

    response = admin_client.get(reverse("admin:tracking_call_export"))
    header, row = csv.reader(b"".join(response.streaming_content).decode().splitlines())

    assert row[header.index("Menu choice")] == "'=HYPERLINK(1)"
    assert TrackingNumber.objects.count() == 1
