from __future__ import annotations

from datetime import timedelta

from django.urls import reverse
from django.utils import timezone

from tests.admin.conftest import make_call
from tests.admin.html import result_rows, texts
from tracking.admin.display import when
from tracking.models import TrackingNumber

CHANGELIST = reverse("admin:tracking_trackingnumber_changelist")
ADD = reverse("admin:tracking_trackingnumber_add")


def test_it_lists_numbers_formatted_for_people_with_calls_and_last_call(
    admin_client, number, other_number
):
    make_call(number=number, ago=timedelta(days=3))
    make_call(number=number, ago=timedelta(days=1))

    rows = {row["number_note"]: row for row in result_rows(admin_client.get(CHANGELIST))}

    row = rows["+15125550100"]
    assert row["number"] == "(512) 555-0100"
    assert row["campaign"] == "Spring Billboard"
    assert row["destination_number"] == "(512) 555-0199"
    assert row["calls"] == "2"
    yesterday = timezone.localtime(timezone.now() - timedelta(days=1))
    # In one short format with every list: "Dec 2, 09:54" (the year only for past years).
    assert row["calls_note"] == f"last {when(yesterday)}"
    assert row["calls_note"].startswith(f"last {yesterday:%b} {yesterday.day}")
    assert (rows["+15125550101"]["calls"], rows["+15125550101"]["calls_note"]) == (
        "0",
        "no call yet",
    )


def test_the_list_takes_the_same_queries_for_many_numbers(
    admin_client, campaign, django_assert_max_num_queries
):
    def add_numbers(start: int, count: int) -> None:
        for i in range(start, start + count):
            make_call(
                number=TrackingNumber.objects.create(
                    phone_number=f"+1512555{i:04d}", campaign=campaign
                )
            )

    add_numbers(100, 2)
    with django_assert_max_num_queries(12) as few:
        result_rows(admin_client.get(CHANGELIST))
    add_numbers(200, 25)
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert len(result_rows(admin_client.get(CHANGELIST))) == 27


def post_number(client, campaign, **fields):
    data = {"campaign": campaign.pk, "label": "", "forward_to": "", "is_active": "on", **fields}
    return client.post(ADD, data)


def test_it_stores_a_number_typed_the_way_people_write_it(admin_client, campaign):
    response = post_number(admin_client, campaign, phone_number="(512) 555-0123")
    assert response.status_code == 302
    assert TrackingNumber.objects.get().phone_number == "+15125550123"


def test_it_explains_a_number_that_is_not_a_number(admin_client, campaign):
    response = post_number(admin_client, campaign, phone_number="call me")
    assert response.status_code == 200
    assert "“call me” is not a phone number" in " ".join(texts(response, "errorlist"))
    assert not TrackingNumber.objects.exists()


def test_it_explains_a_number_with_wrong_digits(admin_client, campaign):
    response = post_number(admin_client, campaign, phone_number="+1 512 555")
    assert "is not a valid number in its country" in " ".join(texts(response, "errorlist"))


def test_it_explains_that_a_number_belongs_to_one_campaign(admin_client, number, other_campaign):
    response = post_number(admin_client, other_campaign, phone_number="512.555.0100")
    assert response.status_code == 200
    assert "already a tracking number" in " ".join(texts(response, "errorlist"))
    assert TrackingNumber.objects.get().campaign == number.campaign


def test_it_refuses_to_forward_a_number_to_itself(admin_client, campaign):
    response = post_number(
        admin_client, campaign, phone_number="+15125550123", forward_to="(512) 555-0123"
    )
    assert "cannot be forwarded to the tracking number itself" in " ".join(
        texts(response, "errorlist")
    )
    assert not TrackingNumber.objects.exists()


def test_it_finds_a_number_typed_any_way(admin_client, number, other_number):
    response = admin_client.get(CHANGELIST, {"q": "512-555-0101"})
    assert [row["number_note"] for row in result_rows(response)] == ["+15125550101"]


def test_deleting_a_number_with_calls_says_what_it_loses_and_what_to_do_instead(
    admin_client, number
):
    make_call(number=number)
    make_call(number=number)
    page = admin_client.get(reverse("admin:tracking_trackingnumber_delete", args=[number.pk]))

    [warning] = texts(page, "delete-number-warning")
    assert warning.startswith("This number has 2 calls.")
    assert "untick Active instead" in warning and "Release on Twilio" in warning


def test_deleting_a_number_without_calls_needs_no_warning(admin_client, number):
    page = admin_client.get(reverse("admin:tracking_trackingnumber_delete", args=[number.pk]))
    assert texts(page, "delete-number-warning") == []
