"""Outbound webhooks: the endpoints customers give us, the events we tell them about, and every
delivery with each of its attempts."""

from __future__ import annotations

import base64
import secrets
from datetime import datetime, timedelta

from django.db import models
from django.utils import timezone

SECRET_PREFIX = "whsec_"


def new_secret() -> str:
    """A Standard Webhooks secret: `whsec_` and 32 random bytes in base64."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(32)).decode()


def new_event_id() -> str:
    return "evt_" + secrets.token_hex(12)


class EventType(models.TextChoices):
    CALL_STARTED = "call.started", "call.started: a call came in and was routed"
    CALL_COMPLETED = "call.completed", "call.completed: a call ended (with its recordings)"
    CALL_UPDATED = "call.updated", "call.updated: a completed call changed"


class Endpoint(models.Model):
    url = models.URLField("URL", max_length=500, help_text="Where events are POSTed (https).")
    description = models.CharField(max_length=200, blank=True)
    events = models.JSONField(default=list, help_text="The event types sent to this endpoint.")
    is_active = models.BooleanField(
        "active",
        default=True,
        help_text="Inactive endpoints receive nothing. The app turns an endpoint off when it "
        "answers 410 Gone or a delivery fails after every retry.",
    )
    secret = models.CharField(max_length=100, default=new_secret, editable=False)
    # The secret before the last rotation: it signs deliveries too until `previous_until`, so
    # receivers can switch to the new one without dropping a delivery.
    previous_secret = models.CharField(max_length=100, blank=True, editable=False)
    previous_until = models.DateTimeField(null=True, blank=True, editable=False)
    disabled_reason = models.CharField(max_length=300, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["url"]
        verbose_name = "webhook endpoint"

    def __str__(self) -> str:
        return self.url

    def wants(self, event_type: str) -> bool:
        return self.is_active and event_type in self.events

    def signing_secrets(self, now: datetime | None = None) -> list[str]:
        """The secrets a delivery at `now` is signed with: the current one, and the previous
        one while its overlap lasts."""
        now = now or timezone.now()
        keys = [self.secret]
        if self.previous_secret and self.previous_until and now < self.previous_until:
            keys.append(self.previous_secret)
        return keys

    def rotate_secret(self, overlap: timedelta, now: datetime | None = None) -> str:
        """Give the endpoint a new secret (returned, to show once); the old one keeps signing
        beside it for `overlap`."""
        now = now or timezone.now()
        self.previous_secret, self.previous_until = self.secret, now + overlap
        self.secret = new_secret()
        self.save(update_fields=["secret", "previous_secret", "previous_until", "updated_at"])
        return self.secret

    @property
    def secret_hint(self) -> str:
        return f"{self.secret[:10]}…"


class Event(models.Model):
    """One thing that happened, as sent: its id is the `webhook-id` of every delivery of it."""

    event_id = models.CharField(max_length=40, unique=True, default=new_event_id)
    type = models.CharField(max_length=40)
    call_sid = models.CharField(max_length=64, blank=True)
    payload = models.JSONField()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            # A call's events, newest first: what call.updated compares the call with.
            models.Index(fields=["call_sid", "-created_at"], name="event_call_idx"),
        ]
        constraints = [
            # A call starts and completes once, however often its webhooks are retried.
            models.UniqueConstraint(
                fields=["call_sid", "type"],
                condition=models.Q(type__in=["call.started", "call.completed"]),
                name="one_start_and_completion_per_call",
            )
        ]

    def __str__(self) -> str:
        return f"{self.type} {self.event_id}"


class Delivery(models.Model):
    """An event on its way to one endpoint, tried on the Standard Webhooks schedule."""

    class Status(models.TextChoices):
        PENDING = "pending", "Waiting for its next attempt"
        SENDING = "sending", "Sending"
        DELIVERED = "delivered", "Delivered"
        FAILED = "failed", "Failed (no more retries)"
        CANCELED = "canceled", "Not sent (endpoint off)"

    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="deliveries")
    endpoint = models.ForeignKey(Endpoint, on_delete=models.CASCADE, related_name="deliveries")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    # A worker sending holds the delivery until then; one that died mid-send lets go of it
    # when it passes, and the delivery is tried again (same webhook-id).
    lease_until = models.DateTimeField(null=True, blank=True)
    last_status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at"]
        verbose_name_plural = "deliveries"
        indexes = [
            # The log of one endpoint, newest first.
            models.Index(fields=["endpoint", "-created_at"], name="delivery_endpoint_idx"),
            # Deliveries a dead worker left half-sent (the recovery sweep).
            models.Index(
                fields=["lease_until"],
                condition=models.Q(status="sending"),
                name="delivery_stalled_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.event.type} → {self.endpoint}"


class Attempt(models.Model):
    """One HTTP request of a delivery and what the receiver answered."""

    delivery = models.ForeignKey(Delivery, on_delete=models.CASCADE, related_name="attempt_log")
    number = models.PositiveSmallIntegerField()
    started_at = models.DateTimeField()
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    latency_ms = models.PositiveIntegerField("latency (ms)", null=True, blank=True)
    # The receiver's answer, cut short: untrusted text, only ever shown escaped.
    response_excerpt = models.TextField(blank=True)
    error = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["delivery", "number"]

    def __str__(self) -> str:
        return f"attempt {self.number}: {self.status_code or self.error}"
