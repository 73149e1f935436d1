"""Each qualified call's upload to each ad platform: its state, attempts and last error, shown
on the call's page."""

from __future__ import annotations

from django.db import models
from django.utils import timezone

from tracking.models import Call


class Upload(models.Model):
    """One call on its way to one destination, as one conversion event."""

    class Destination(models.TextChoices):
        GOOGLE_ADS = "google_ads", "Google Ads"
        GA4 = "ga4", "Google Analytics 4"

    class Status(models.TextChoices):
        PENDING = "pending", "Waiting to be sent"
        SENDING = "sending", "Sending"
        SENT = "sent", "Sent"
        FAILED = "failed", "Failed"
        CANCELED = "canceled", "Not sent: no longer a qualified lead"
        SKIPPED = "skipped", "Not sent"

    call = models.ForeignKey(
        Call,
        to_field="call_sid",
        on_delete=models.CASCADE,
        related_name="conversion_uploads",
        # No index of its own: upload_per_call leads with it.
        db_index=False,
    )
    destination = models.CharField(max_length=12, choices=Destination.choices)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    # The worker sending holds the upload until then (with its claim); one that died mid-send
    # lets go when it passes, and the upload is sent again: Google drops the repeat by the
    # call's SID (transactionId).
    lease_until = models.DateTimeField(null=True, blank=True)
    claim = models.CharField(max_length=32, blank=True)
    # Google's words, cut short: shown escaped on the call's page.
    last_error = models.TextField(blank=True)
    # Google's id of the request that took the event (Data Manager API), for their support.
    request_id = models.CharField(max_length=100, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = "conversion upload"
        constraints = [
            # A call is one conversion per destination, however often it is considered.
            models.UniqueConstraint(fields=["call", "destination"], name="upload_per_call"),
        ]
        indexes = [
            # The uploads due now, oldest first, per destination (what a send job claims).
            models.Index(
                fields=["destination", "next_attempt_at"],
                condition=models.Q(status="pending"),
                name="upload_due_idx",
            ),
            # Uploads a dead worker left half-sent (the sweep's recovery).
            models.Index(
                fields=["lease_until"],
                condition=models.Q(status="sending"),
                name="upload_stalled_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.call_id} → {self.get_destination_display()}"
