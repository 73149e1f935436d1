"""Webhook endpoints and their delivery log, as an admin uses them."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from integrations.models import Attempt, Delivery, Endpoint
from tests.admin.conftest import marketer, marketer_client  # noqa: F401
from tests.admin.html import parse, result_rows
from tests.support.jobs import work
from tests.support.receiver import Reply

pytestmark = pytest.mark.django_db

ADD = reverse("admin:integrations_endpoint_add")


def texts_of(page: str, css_class: str) -> list[str]:
    return parse(page).by_class.get(css_class, [])


def _secret_shown(response) -> str:
    [secret] = parse(response.content).by_class.get("webhook-secret", [])
    return secret


def test_a_new_endpoints_secret_is_shown_once(admin_client, receiver):
    response = admin_client.post(
        ADD,
        {
            "url": receiver.url,
            "description": "CRM",
            "events": ["call.completed"],
            "is_active": "on",
        },
    )

    endpoint = Endpoint.objects.get()
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    assert _secret_shown(response) == endpoint.secret
    assert endpoint.events == ["call.completed"]

    page = admin_client.get(reverse("admin:integrations_endpoint_change", args=[endpoint.pk]))
    assert endpoint.secret not in page.content.decode()
    assert endpoint.secret[:10] in page.content.decode()


def test_an_endpoint_needs_an_event(admin_client, receiver):
    response = admin_client.post(ADD, {"url": receiver.url, "is_active": "on"})

    assert response.status_code == 200
    assert "Tick at least one event to send." in response.content.decode()
    assert not Endpoint.objects.exists()


def test_rotating_shows_the_new_secret_and_keeps_the_old_one_for_the_overlap(
    admin_client, endpoint, settings
):
    old = endpoint.secret
    response = admin_client.post(reverse("admin:integrations_endpoint_rotate", args=[endpoint.pk]))

    endpoint.refresh_from_db()
    assert _secret_shown(response) == endpoint.secret != old
    assert endpoint.signing_secrets() == [endpoint.secret, old]
    hours = (endpoint.previous_until - endpoint.updated_at).total_seconds() / 3600
    assert round(hours) == settings.WEBHOOK_SECRET_OVERLAP_HOURS


def test_a_test_event_reaches_the_receiver_and_shows_in_the_log(admin_client, endpoint, receiver):
    receiver.replies = [Reply(200, "<script>alert('hi')</script> thanks")]

    response = admin_client.post(reverse("admin:integrations_endpoint_test", args=[endpoint.pk]))
    delivery = Delivery.objects.get()
    assert response["Location"] == reverse("admin:integrations_delivery_change", args=[delivery.pk])
    work()

    assert [r.payload["type"] for r in receiver.received] == ["webhook.test"]
    assert receiver.received[0].verified_with == [endpoint.secret]
    page = admin_client.get(response["Location"]).content.decode()
    assert "<script>alert" not in page, "the receiver's answer is escaped"
    assert texts_of(page, "webhook-answer") == ["<script>alert('hi')</script> thanks"]
    [row] = result_rows(admin_client.get(reverse("admin:integrations_delivery_changelist")))
    assert (row["event_type"], row["status"], row["last_status_code"]) == (
        "webhook.test",
        "Delivered",
        "200",
    )
    attempt = Attempt.objects.get()
    assert attempt.latency_ms is not None and attempt.status_code == 200


def test_send_again_makes_a_new_delivery_of_the_same_event(admin_client, endpoint, receiver):
    receiver.replies = [Reply(500, "down")]
    admin_client.post(reverse("admin:integrations_endpoint_test", args=[endpoint.pk]))
    work()
    failed = Delivery.objects.get()
    assert failed.status == "pending"

    response = admin_client.post(reverse("admin:integrations_delivery_again", args=[failed.pk]))
    work()

    again = Delivery.objects.exclude(pk=failed.pk).get()
    assert response["Location"] == reverse("admin:integrations_delivery_change", args=[again.pk])
    assert again.status == "delivered"
    assert [r.id for r in receiver.received] == [failed.event.event_id] * 2


def test_the_log_action_sends_the_selected_deliveries_again(admin_client, endpoint, receiver):
    admin_client.post(reverse("admin:integrations_endpoint_test", args=[endpoint.pk]))
    work()

    admin_client.post(
        reverse("admin:integrations_delivery_changelist"),
        {"action": "send_again", "_selected_action": [Delivery.objects.get().pk]},
    )
    work()

    assert len(receiver.received) == 2
    assert Delivery.objects.filter(status="delivered").count() == 2


def test_marketers_do_not_manage_webhooks(marketer_client, endpoint):  # noqa: F811
    for name in ("endpoint", "delivery"):
        page = marketer_client.get(reverse(f"admin:integrations_{name}_changelist"))
        assert page.status_code == 403
    assert marketer_client.post(
        reverse("admin:integrations_endpoint_rotate", args=[endpoint.pk])
    ).status_code in (302, 403)
    assert Endpoint.objects.get().secret == endpoint.secret


def test_the_admin_index_lists_webhooks(admin_client):
    page = admin_client.get(reverse("admin:index")).content.decode()
    assert re.search(r"Webhook endpoints", page)
    assert re.search(r"Deliveries", page)
