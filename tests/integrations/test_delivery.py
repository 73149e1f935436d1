"""Delivering one event to a real receiver: signatures, retries on the Standard Webhooks
schedule, Retry-After, 410 Gone, the last retry, secret rotation. The schedule's clock is
injected; nothing sleeps."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from integrations import delivery as sending
from integrations import services
from integrations.models import Delivery, Endpoint, Event
from tests.support.jobs import queued, work
from tests.support.receiver import Reply

pytestmark = pytest.mark.django_db


@pytest.fixture
def pending(endpoint) -> Delivery:
    """A test event on its way to the endpoint (its job queued, not run)."""
    return services.endpoint_send_test(endpoint=endpoint)


def _attempts(delivery: Delivery) -> list[tuple[int, int | None]]:
    return [(a.number, a.status_code) for a in delivery.attempt_log.order_by("number")]


def test_it_signs_with_standard_webhooks_headers(pending, receiver, endpoint):
    assert sending.attempt(pending.pk) == "delivered"

    [request] = receiver.received
    assert request.verified_with == [endpoint.secret]
    assert request.id == pending.event.event_id
    assert abs(int(request.headers["webhook-timestamp"]) - timezone.now().timestamp()) < 60
    assert request.payload["type"] == "webhook.test"
    assert request.headers["content-type"] == "application/json"


def test_a_receiver_that_was_down_gets_it_on_the_next_attempt(pending, receiver):
    now = timezone.now()
    receiver.stop()

    assert sending.attempt(pending.pk, now=now) == "pending"
    pending.refresh_from_db()
    assert pending.next_attempt_at == now + timedelta(seconds=5)
    [retry] = queued("deliver")[-1:]
    assert retry.run_after == now + timedelta(seconds=5)
    assert sending.attempt(pending.pk, now=now + timedelta(seconds=4)) is None, "not yet due"

    receiver.start()
    assert sending.attempt(pending.pk, now=now + timedelta(seconds=5)) == "delivered"

    assert _attempts(pending) == [(1, None), (2, 204)]
    assert "ConnectionError" in pending.attempt_log.get(number=1).error
    assert len(receiver.received) == 1


def test_it_retries_on_the_specifications_schedule_then_turns_the_endpoint_off(
    pending, receiver, endpoint, admin_mail
):
    receiver.replies = [Reply(500, "boom")] * 10
    now = timezone.now()
    waits = []
    for _ in range(10):
        status = sending.attempt(pending.pk, now=now)
        pending.refresh_from_db()
        if status != "pending":
            break
        waits.append(pending.next_attempt_at - now)
        now = pending.next_attempt_at

    assert waits == sending.SCHEDULE[1:]
    assert [str(w) for w in waits] == [
        "0:00:05",
        "0:05:00",
        "0:30:00",
        "2:00:00",
        "5:00:00",
        "10:00:00",
        "14:00:00",
        "20:00:00",
        "1 day, 0:00:00",
    ]
    assert pending.status == "failed"
    assert pending.attempts == 10
    endpoint.refresh_from_db()
    assert not endpoint.is_active
    assert "failed 10 times" in endpoint.disabled_reason
    work()
    [notice] = mail.outbox
    assert notice.to == ["root@example.com"]
    assert endpoint.url in notice.body


def test_410_gone_turns_the_endpoint_off_at_once(pending, receiver, endpoint, admin_mail):
    receiver.replies = [Reply(410)]

    assert sending.attempt(pending.pk) == "failed"

    endpoint.refresh_from_db()
    assert not endpoint.is_active
    assert "410" in endpoint.disabled_reason
    work()
    assert len(mail.outbox) == 1
    assert queued("deliver") == []


def test_it_honours_a_longer_retry_after(pending, receiver):
    receiver.replies = [Reply(429, headers={"Retry-After": "120"})]
    now = timezone.now()

    assert sending.attempt(pending.pk, now=now) == "pending"

    pending.refresh_from_db()
    assert pending.next_attempt_at == now + timedelta(seconds=120)


def test_a_delivery_in_flight_is_never_sent_twice_at_once(pending, receiver):
    now = timezone.now()
    Delivery.objects.filter(pk=pending.pk).update(
        status="sending", lease_until=now + sending.lease()
    )

    assert sending.attempt(pending.pk, now=now) is None
    assert sending.recover_stalled(now=now + timedelta(seconds=30)) == 0
    assert receiver.received == []


def test_a_delivery_whose_worker_died_goes_again_with_the_same_id(pending, receiver):
    now = timezone.now()
    Delivery.objects.filter(pk=pending.pk).update(
        status="sending", attempts=1, lease_until=now + sending.lease()
    )
    later = now + sending.lease() + timedelta(seconds=1)

    assert sending.recover_stalled(now=later) == 1
    assert sending.attempt(pending.pk, now=later) == "delivered"

    assert [r.id for r in receiver.received] == [pending.event.event_id]
    assert _attempts(pending) == [(1, None), (2, 204)]


def test_during_a_rotation_both_secrets_sign_and_after_it_only_the_new_one(
    pending, receiver, endpoint
):
    old = endpoint.secret
    new = services.endpoint_rotate_secret(endpoint=endpoint)
    receiver.secrets = [old, new]

    sending.attempt(pending.pk)
    assert receiver.received[0].verified_with == [old, new]
    assert len(receiver.received[0].headers["webhook-signature"].split(" ")) == 2

    Endpoint.objects.filter(pk=endpoint.pk).update(previous_until=timezone.now())
    again = services.delivery_send_again(delivery=pending)
    sending.attempt(again.pk)
    assert receiver.received[1].verified_with == [new]
    assert receiver.received[1].id == receiver.received[0].id, "the same message"


def test_an_endpoint_turned_off_gets_nothing_more(pending, receiver, endpoint):
    Endpoint.objects.filter(pk=endpoint.pk).update(is_active=False)
    Delivery.objects.filter(pk=pending.pk).update()

    assert sending.attempt(pending.pk) == "canceled"
    assert receiver.received == []


def test_secrets_are_standard_webhooks_secrets(endpoint):
    import base64

    assert endpoint.secret.startswith("whsec_")
    assert len(base64.b64decode(endpoint.secret.removeprefix("whsec_"))) == 32
    assert Endpoint.objects.create(url="https://example.com/").secret != endpoint.secret


def test_the_log_forgets_old_events_but_not_one_still_being_delivered(pending, settings):
    settings.CALL_RETENTION_DAYS = 0
    Event.objects.update(created_at=timezone.now() - timedelta(days=40))
    assert services.event_log_prune() == 0, "its delivery is pending"

    sending.attempt(pending.pk)
    assert services.event_log_prune() == 1
    assert not Delivery.objects.exists()


def test_the_log_keeps_events_no_longer_than_the_calls_are_kept(endpoint, settings):
    settings.CALL_RETENTION_DAYS = 7
    Event.objects.create(type="call.started", call_sid="CA1", payload={})
    Event.objects.update(created_at=timezone.now() - timedelta(days=8))

    assert services.event_log_prune() == 1
