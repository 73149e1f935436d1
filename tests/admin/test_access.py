from __future__ import annotations

import re

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse

from tests.admin.conftest import make_call
from tests.admin.forms import campaign_form, rows
from tests.admin.html import parse
from tracking.models import Call, Campaign, TrackingNumber

PAGES = [
    "admin:index",
    "admin:tracking_campaign_changelist",
    "admin:tracking_campaign_add",
    "admin:tracking_trackingnumber_changelist",
    "admin:tracking_trackingnumber_add",
    "admin:tracking_call_changelist",
]


@pytest.mark.parametrize("page", PAGES)
def test_it_loads_pages_for_a_superuser(admin_client, number, page):
    make_call(number=number)
    assert admin_client.get(reverse(page)).status_code == 200


@pytest.mark.parametrize("page", PAGES)
def test_it_loads_pages_for_a_marketer(marketer_client, number, page):
    make_call(number=number)
    assert marketer_client.get(reverse(page)).status_code == 200


def test_it_loads_change_and_view_pages(admin_client, marketer_client, number):
    call = make_call(number=number)
    for client in (admin_client, marketer_client):
        pages = [
            reverse("admin:tracking_campaign_change", args=[number.campaign.pk]),
            reverse("admin:tracking_trackingnumber_change", args=[number.pk]),
            reverse("admin:tracking_call_change", args=[call.pk]),
        ]
        for page in pages:
            assert client.get(page).status_code == 200, page


def test_marketers_group_has_exactly_campaign_number_call_view_and_screening_permissions(db):
    # The call-log app's; website attribution grants its own (tests/attribution).
    permissions = Group.objects.get(name="Marketers").permissions
    codenames = set(
        permissions.filter(content_type__app_label="tracking").values_list("codename", flat=True)
    )
    assert codenames == {
        "add_campaign",
        "change_campaign",
        "delete_campaign",
        "view_campaign",
        "add_trackingnumber",
        "change_trackingnumber",
        "delete_trackingnumber",
        "view_trackingnumber",
        "view_call",
        # Screening: spam marks and tags on calls, and the block list.
        "label_call",
        "view_tag",
        "add_blockedcaller",
        "change_blockedcaller",
        "delete_blockedcaller",
        "view_blockedcaller",
    }


def test_a_marketer_adds_a_campaign_with_its_tracking_number(marketer_client):
    response = marketer_client.post(
        reverse("admin:tracking_campaign_add"),
        campaign_form(
            name="Summer Radio",
            destinations=[{"label": "Front desk", "phone_number": "(512) 555-0199"}],
            inlines={
                "numbers": rows(
                    "numbers",
                    [
                        {
                            "phone_number": "512 555 0142",
                            "label": "KUT morning",
                            "forward_to": "",
                            "is_active": "on",
                        }
                    ],
                )
            },
        ),
    )
    assert response.status_code == 302, parse(response.content).by_class.get("errorlist")
    campaign = Campaign.objects.get(name="Summer Radio")
    assert list(campaign.destinations.values_list("label", "phone_number")) == [
        ("Front desk", "+15125550199")
    ]
    assert list(campaign.numbers.values_list("phone_number", "label")) == [
        ("+15125550142", "KUT morning")
    ]


def test_a_marketer_cannot_change_or_delete_calls(marketer_client, number):
    call = make_call(number=number, outcome=Call.Outcome.REJECTED, caller_number="+13125550123")
    change = reverse("admin:tracking_call_change", args=[call.pk])
    response = marketer_client.post(change, {"outcome": "accepted", "caller_number": "+1"})
    assert response.status_code == 403
    delete = marketer_client.post(
        reverse("admin:tracking_call_delete", args=[call.pk]), {"post": "yes"}
    )
    assert delete.status_code == 403
    call.refresh_from_db()
    assert (call.outcome, call.caller_number) == ("rejected", "+13125550123")


def test_nobody_can_add_a_call(admin_client, marketer_client):
    for client in (admin_client, marketer_client):
        assert client.get(reverse("admin:tracking_call_add")).status_code == 403


def test_a_marketer_cannot_reach_the_user_admin(marketer_client, marketer):
    assert marketer_client.get(reverse("admin:auth_user_changelist")).status_code == 403
    assert (
        marketer_client.get(reverse("admin:auth_user_change", args=[marketer.pk])).status_code
        == 403
    )
    assert marketer_client.get(reverse("admin:auth_group_changelist")).status_code == 403


@pytest.mark.parametrize(
    "page",
    [
        "admin:index",
        "admin:tracking_campaign_changelist",
        "admin:tracking_call_changelist",
        "admin:tracking_call_export",
        "admin:tracking_reports",
    ],
)
def test_anonymous_users_are_sent_to_the_login_page(client, db, page):
    url = reverse(page)
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("admin:login"))
    assert f"next={url}" in response["Location"]


def test_reports_are_refused_to_staff_without_call_access(staff_client):
    assert staff_client.get(reverse("admin:tracking_reports")).status_code == 403


def test_the_index_leads_with_campaigns_numbers_calls_and_reports(marketer_client):
    page = parse(marketer_client.get(reverse("admin:index")).content)
    lead = page.by_class["tracking-lead"][0]
    order = [lead.index(name) for name in ("Campaigns", "Tracking numbers", "Calls", "Reports")]
    assert order == sorted(order)
    assert (
        reverse("admin:tracking_reports")
        in marketer_client.get(reverse("admin:index")).content.decode()
    )


def test_the_site_is_titled_for_the_product(marketer_client):
    content = marketer_client.get(reverse("admin:index")).content.decode()
    title = re.search(r"<title>(.*?)</title>", content, re.S).group(1)
    assert title.strip().endswith("| Call Tracking")
    assert re.search(r'<div id="site-name"><a [^>]*>Call Tracking</a>', content)


def test_the_index_hides_reports_from_staff_without_call_access(staff_client):
    content = staff_client.get(reverse("admin:index")).content.decode()
    assert reverse("admin:tracking_reports") not in content


def test_a_marketer_adds_a_number_typed_the_way_people_write_it(marketer_client, campaign):
    response = marketer_client.post(
        reverse("admin:tracking_trackingnumber_add"),
        {
            "phone_number": "+1 512-555-0177",
            "campaign": campaign.pk,
            "label": "",
            "forward_to": "",
            "is_active": "on",
        },
    )
    assert response.status_code == 302
    assert TrackingNumber.objects.filter(phone_number="+15125550177", campaign=campaign).exists()
