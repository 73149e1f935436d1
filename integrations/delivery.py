"""Sending one delivery: sign, POST, record the attempt, and decide what comes next.

Signing follows Standard Webhooks (`webhook-id`, `webhook-timestamp`, `webhook-signature`) with
the `standardwebhooks` package; retries follow its schedule. A delivery is claimed with a
conditional UPDATE before it is sent, so two workers never send it at once; a worker that dies
mid-send leaves a lease that expires, after which the delivery is sent again with the same
`webhook-id` (receivers drop repeats by it): at least once, never twice at the same time.
"""

from __future__ import annotations

import email.utils
import json
import logging
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

import requests
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from standardwebhooks.webhooks import Webhook

from integrations import tasks
from integrations.models import Attempt, Delivery, Endpoint

logger = logging.getLogger(__name__)

# Standard Webhooks' schedule: the delay before each attempt, the first immediately.
SCHEDULE = [
    timedelta(0),
    timedelta(seconds=5),
    timedelta(minutes=5),
    timedelta(minutes=30),
    timedelta(hours=2),
    timedelta(hours=5),
    timedelta(hours=10),
    timedelta(hours=14),
    timedelta(hours=20),
    timedelta(hours=24),
]
# A Retry-After beyond this is read as this.
LONGEST_RETRY_AFTER = timedelta(hours=24)
EXCERPT_CHARS = 500
USER_AGENT = "calltracking-webhooks/1"


def lease() -> timedelta:
    """How long a claimed delivery is held: longer than any request can take."""
    return timedelta(seconds=2 * settings.WEBHOOK_TIMEOUT + 60)


@dataclass
class Answer:
    status_code: int | None
    latency_ms: int
    excerpt: str = ""
    error: str = ""
    retry_after: timedelta | None = None


def body_of(delivery: Delivery) -> str:
    return json.dumps(delivery.event.payload, separators=(",", ":"), sort_keys=True)


def headers_for(endpoint: Endpoint, msg_id: str, body: str, at: datetime) -> dict[str, str]:
    """Signed with every secret the endpoint has at `at` (two during a rotation's overlap),
    space-separated as the specification allows."""
    signatures = [Webhook(secret).sign(msg_id, at, body) for secret in endpoint.signing_secrets(at)]
    return {
        "content-type": "application/json",
        "user-agent": USER_AGENT,
        "webhook-id": msg_id,
        "webhook-timestamp": str(int(at.timestamp())),
        "webhook-signature": " ".join(signatures),
    }


def post(url: str, body: str, headers: dict[str, str]) -> Answer:
    started = time.monotonic()
    try:
        with requests.post(
            url,
            data=body.encode(),
            headers=headers,
            timeout=settings.WEBHOOK_TIMEOUT,
            allow_redirects=False,
            stream=True,
        ) as response:
            raw = next(response.iter_content(chunk_size=4 * EXCERPT_CHARS), b"")
            return Answer(
                status_code=response.status_code,
                latency_ms=int((time.monotonic() - started) * 1000),
                excerpt=raw.decode("utf-8", errors="replace")[:EXCERPT_CHARS],
                retry_after=retry_after(response.headers.get("Retry-After", "")),
            )
    except requests.RequestException as error:
        return Answer(
            status_code=None,
            latency_ms=int((time.monotonic() - started) * 1000),
            error=f"{type(error).__name__}: {error}"[:300],
        )


def retry_after(value: str) -> timedelta | None:
    """A Retry-After header (seconds or an HTTP date) as a wait, at most a day; None if absent
    or unreadable."""
    value = value.strip()
    if not value:
        return None
    if value.isdigit():
        wait = timedelta(seconds=int(value))
    else:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        if when.tzinfo is None:
            return None
        wait = when - timezone.now()
    return min(max(wait, timedelta(0)), LONGEST_RETRY_AFTER)


def attempt(delivery_id: int, *, now: datetime | None = None, force: bool = False) -> str | None:
    """Make the next attempt of a delivery, if it is due at `now` (the schedule's clock) and
    no one else holds it; its status afterwards, or None when there was nothing to do.

    1. Claim it (conditional UPDATE), counting the attempt.
    2. POST it, signed, outside any transaction.
    3. Record the attempt and settle the delivery in one transaction: delivered; or failed for
       good (410 Gone, or the last retry) which turns the endpoint off; or due again after the
       schedule's next delay (or the receiver's Retry-After, if longer), with its job.
    `force` sends to an endpoint that is off (the admin's test event).
    """
    now = now or timezone.now()
    claimed = Delivery.objects.filter(
        pk=delivery_id, status=Delivery.Status.PENDING, next_attempt_at__lte=now
    ).update(status=Delivery.Status.SENDING, lease_until=now + lease(), attempts=F("attempts") + 1)
    if not claimed:
        return None
    delivery = Delivery.objects.select_related("event", "endpoint").get(pk=delivery_id)
    endpoint = delivery.endpoint
    if not endpoint.is_active and not force:
        Delivery.objects.filter(pk=delivery_id).update(
            status=Delivery.Status.CANCELED, lease_until=None, attempts=F("attempts") - 1
        )
        return Delivery.Status.CANCELED
    body = body_of(delivery)
    sent_at = timezone.now()
    answer = post(endpoint.url, body, headers_for(endpoint, delivery.event.event_id, body, sent_at))
    return _settle(delivery, answer, sent_at, now)


def _settle(delivery: Delivery, answer: Answer, sent_at: datetime, now: datetime) -> str:
    endpoint = delivery.endpoint
    code = answer.status_code
    with transaction.atomic():
        Attempt.objects.create(
            delivery=delivery,
            number=delivery.attempts,
            started_at=sent_at,
            status_code=code,
            latency_ms=answer.latency_ms,
            response_excerpt=answer.excerpt,
            error=answer.error,
        )
        fields = {"lease_until": None, "last_status_code": code}
        if code is not None and 200 <= code < 300:
            fields.update(status=Delivery.Status.DELIVERED, delivered_at=timezone.now())
        elif code == 410:
            fields.update(status=Delivery.Status.FAILED)
            _turn_off(endpoint, "It answered 410 Gone.", now)
        elif delivery.attempts >= len(SCHEDULE):
            fields.update(status=Delivery.Status.FAILED)
            _turn_off(endpoint, f"A delivery failed {delivery.attempts} times over a day.", now)
        else:
            wait = max(SCHEDULE[delivery.attempts], answer.retry_after or timedelta(0))
            due = now + wait
            fields.update(status=Delivery.Status.PENDING, next_attempt_at=due)
            tasks.deliver.using(run_after=due).enqueue(delivery.pk)
        Delivery.objects.filter(pk=delivery.pk, status=Delivery.Status.SENDING).update(**fields)
    return fields["status"]


def _turn_off(endpoint: Endpoint, reason: str, now: datetime) -> None:
    """Stop sending to an endpoint, and tell the people who run the site."""
    turned = Endpoint.objects.filter(pk=endpoint.pk, is_active=True).update(
        is_active=False, disabled_reason=f"{now:%Y-%m-%d %H:%M} UTC: {reason}", updated_at=now
    )
    if not turned:
        return
    # The cached subscriptions must forget it, as for any change made in the admin.
    endpoint.refresh_from_db()
    from integrations.signals import endpoint_changed

    endpoint_changed(Endpoint, endpoint)
    logger.warning("Webhook endpoint %s turned off: %s", endpoint.url, reason)
    tasks.tell_admins_endpoint_off.enqueue(endpoint.pk, reason)


def tell_admins(endpoint: Endpoint, reason: str) -> None:
    """E-mail the superusers (and settings.ADMINS, if any) that an endpoint was turned off."""
    users = get_user_model().objects.filter(is_superuser=True, is_active=True).exclude(email="")
    recipients = sorted({user.email for user in users} | {email for _, email in settings.ADMINS})
    if not recipients:
        return
    link = ""
    if settings.PUBLIC_BASE_URL:
        from django.urls import reverse

        path = reverse("admin:integrations_endpoint_change", args=[endpoint.pk])
        link = f"\n\nSee it: {settings.PUBLIC_BASE_URL}{path}"
    send_mail(
        "Webhook endpoint turned off",
        f"The webhook endpoint {endpoint.url} was turned off and receives nothing more.\n"
        f"{reason}\nTurn it on again in the admin once it works; failed deliveries can be "
        f"sent again from its delivery log.{link}\n",
        settings.DEFAULT_FROM_EMAIL,
        recipients,
    )


def recover_stalled(now: datetime | None = None) -> int:
    """Deliveries whose worker died mid-send (their lease has run out): due again now, as
    their next attempt, with a job. The lost attempt is logged with an unknown outcome."""
    now = now or timezone.now()
    recovered = 0
    stalled = Delivery.objects.filter(status=Delivery.Status.SENDING, lease_until__lt=now)
    for delivery in stalled.only("pk", "attempts", "lease_until"):
        with transaction.atomic():
            taken = Delivery.objects.filter(
                pk=delivery.pk, status=Delivery.Status.SENDING, lease_until=delivery.lease_until
            ).update(
                # Due since its lease ran out.
                status=Delivery.Status.PENDING,
                lease_until=None,
                next_attempt_at=delivery.lease_until,
            )
            if not taken:
                continue
            Attempt.objects.create(
                delivery_id=delivery.pk,
                number=delivery.attempts,
                started_at=delivery.lease_until - lease(),
                error="The worker stopped while sending; the receiver may have it.",
            )
            tasks.deliver.enqueue(delivery.pk)
            recovered += 1
    return recovered
