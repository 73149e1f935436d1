"""Events made from the call log, and their fan-out to the endpoints that want them.

Runs in background jobs, never while a caller waits. Each function writes its rows and the jobs
that follow from them in one transaction.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone

from integrations import payloads, tasks
from integrations.models import Delivery, Endpoint, Event, EventType
from tracking import outbox
from tracking.models import Call

logger = logging.getLogger(__name__)

PING = "webhook.test"

# How long the delivery log keeps events (they hold callers' numbers, like the call log).
EVENT_LOG_DAYS = 30


def call_events_publish(*, call_sid: str, kind: str, now: datetime | None = None) -> list[Event]:
    """Make the events a write of kind `kind` (tracking.outbox) to call `call_sid` amounts to.

    1. A logged call: call.started, once per call.
    2. A change to an ended call: call.completed once nothing more is expected from Twilio
       (recording, voicemail, transcription) or COMPLETION_WAIT has passed (until then this
       job is enqueued again for that moment); afterwards, call.updated with the fields that
       differ from the last event sent about the call, if any.
    The call's row is locked meanwhile, so two jobs of one call never make the same event.
    """
    now = now or timezone.now()
    with transaction.atomic():
        locked = Call.objects.select_for_update(of=("self",)).filter(call_sid=call_sid)
        call = (
            locked.select_related("campaign", "tracking_number")
            .prefetch_related("legs", "recordings")
            .first()
        )
        if call is None:
            return []
        if kind == outbox.STARTED:
            event = _once(call, EventType.CALL_STARTED, payloads.call_started(call), now)
            return [event] if event else []
        if call.ended_at is None:
            return []
        sent = list(Event.objects.filter(call_sid=call_sid).order_by("-created_at", "-pk")[:50])
        completed = [e for e in sent if e.type == EventType.CALL_COMPLETED]
        if not completed:
            deadline = payloads.completion_deadline(call)
            if payloads.still_coming(call) and now < deadline:
                tasks.publish_call_events.using(run_after=deadline).enqueue(call_sid, kind)
                return []
            event = _once(call, EventType.CALL_COMPLETED, payloads.call_completed(call), now)
            return [event] if event else []
        data = payloads.call_completed(call)
        last = next(e for e in sent if e.type in (EventType.CALL_COMPLETED, EventType.CALL_UPDATED))
        changed = payloads.changes(last.payload["data"], data)
        if not changed:
            return []
        return [_make(call_sid, EventType.CALL_UPDATED, {**data, "changes": changed}, now)]


def _once(call: Call, event_type: str, data: dict, now: datetime) -> Event | None:
    if Event.objects.filter(call_sid=call.call_sid, type=event_type).exists():
        return None
    return _make(call.call_sid, event_type, data, now)


def _make(call_sid: str, event_type: str, data: dict, now: datetime) -> Event:
    """The event, a delivery to each active endpoint that wants it, and their jobs."""
    event = Event.objects.create(
        type=event_type,
        call_sid=call_sid,
        payload=payloads.envelope(event_type, data, now),
        created_at=now,
    )
    endpoints = [e for e in Endpoint.objects.filter(is_active=True) if e.wants(event_type)]
    _deliver(event, endpoints, now)
    return event


def _deliver(event: Event, endpoints: list[Endpoint], now: datetime) -> list[Delivery]:
    deliveries = Delivery.objects.bulk_create(
        [
            Delivery(event=event, endpoint=endpoint, next_attempt_at=now, created_at=now)
            for endpoint in endpoints
        ]
    )
    for delivery in deliveries:
        tasks.deliver.enqueue(delivery.pk)
    return deliveries


def endpoint_send_test(*, endpoint: Endpoint, now: datetime | None = None) -> Delivery:
    """A `webhook.test` event to this endpoint only (active or not: the admin asked)."""
    now = now or timezone.now()
    with transaction.atomic():
        event = Event.objects.create(
            type=PING, payload=payloads.envelope(PING, payloads.ping_data(now), now), created_at=now
        )
        delivery = Delivery.objects.create(
            event=event, endpoint=endpoint, next_attempt_at=now, created_at=now
        )
        tasks.deliver.enqueue(delivery.pk, force=True)
    return delivery


def delivery_send_again(*, delivery: Delivery, now: datetime | None = None) -> Delivery:
    """The same event (same webhook-id, so a receiver that has it drops it) to the same
    endpoint, as a new delivery with a fresh retry schedule."""
    now = now or timezone.now()
    with transaction.atomic():
        again = Delivery.objects.create(
            event=delivery.event, endpoint=delivery.endpoint, next_attempt_at=now, created_at=now
        )
        tasks.deliver.enqueue(again.pk, force=True)
    return again


def endpoint_rotate_secret(*, endpoint: Endpoint, now: datetime | None = None) -> str:
    """A new secret for the endpoint (returned, to be shown once); the old one keeps signing
    beside it for WEBHOOK_SECRET_OVERLAP_HOURS."""
    overlap = timedelta(hours=settings.WEBHOOK_SECRET_OVERLAP_HOURS)
    return endpoint.rotate_secret(overlap, now)


def event_log_prune(*, now: datetime | None = None) -> int:
    """Delete events older than EVENT_LOG_DAYS (or than the calls' retention period, if shorter)
    with their deliveries and attempts, unless a delivery is still under way; how many."""
    now = now or timezone.now()
    days = EVENT_LOG_DAYS
    if settings.CALL_RETENTION_DAYS > 0:
        days = min(days, settings.CALL_RETENTION_DAYS)
    busy = Delivery.objects.filter(
        event=OuterRef("pk"), status__in=[Delivery.Status.PENDING, Delivery.Status.SENDING]
    )
    old = Event.objects.filter(created_at__lt=now - timedelta(days=days)).exclude(Exists(busy))
    deleted = old.delete()[1]
    return deleted.get(Event._meta.label, 0)
