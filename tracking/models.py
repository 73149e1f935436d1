"""Campaigns, their tracking numbers, and the log of every call made to them."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone

from tracking import phones
from tracking.announcement import CallerPlace, announcement, unknown_placeholders

KEY_CHOICES = [(key, key) for key in "1234567890*#"]
DEFAULT_ACCEPT_DIGIT = "1"

DEFAULT_MISSED_MESSAGE = (
    "Sorry, nobody could take your call right now. Please try again a little later. Goodbye."
)


class Campaign(models.Model):
    name = models.CharField(max_length=120)
    forward_to = models.CharField(
        "forward calls to",
        max_length=20,
        validators=[phones.validate_phone_number],
        help_text="The business's phone, where calls to this campaign's numbers ring.",
    )
    announce_location = models.BooleanField(
        default=True,
        help_text="Tell the person answering where the caller is, when Twilio knows it.",
    )
    whisper_template = models.CharField(
        "whisper words",
        max_length=300,
        blank=True,
        help_text=(
            "What the person answering hears before deciding. Leave empty for "
            "“Call from {campaign}, caller in {location}.” Placeholders: {campaign}, {city}, "
            "{state}, {country}, {location}. The key prompt is always added after it."
        ),
    )
    accept_digit = models.CharField(
        "accept key",
        max_length=1,
        choices=KEY_CHOICES,
        default=DEFAULT_ACCEPT_DIGIT,
        help_text="The key that takes the call. Any other key declines it.",
    )
    whisper_voice = models.CharField(
        "voice",
        max_length=40,
        default="Polly.Joanna",
        help_text="A Twilio <Say> voice, e.g. Polly.Joanna, Polly.Matthew, alice.",
    )
    whisper_language = models.CharField("language", max_length=10, default="en-US")
    ring_timeout = models.PositiveSmallIntegerField(
        default=20,
        validators=[MinValueValidator(5), MaxValueValidator(600)],
        help_text="Seconds to let the business's phone ring before giving up (5 to 600).",
    )
    missed_message = models.CharField(
        max_length=300,
        default=DEFAULT_MISSED_MESSAGE,
        help_text="What a caller hears when nobody takes the call.",
    )
    caller_name_lookup = models.BooleanField(
        default=False,
        help_text="Ask Twilio for the caller's name (CNAM). Twilio charges per lookup.",
    )
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        self.forward_to = phones.e164_or_as_typed(self.forward_to)
        unknown = unknown_placeholders(self.whisper_template)
        if unknown:
            raise ValidationError(
                {
                    "whisper_template": "Unknown placeholder "
                    + ", ".join(f"{{{name}}}" for name in unknown)
                    + ". Use {campaign}, {city}, {state}, {country} or {location}."
                }
            )

    def whisper_for(self, place: CallerPlace) -> str:
        """The exact sentence the person answering hears for a caller from `place`."""
        return announcement(
            campaign=self.name,
            place=place,
            announce_location=self.announce_location,
            template=self.whisper_template,
            accept_digit=self.accept_digit,
        )


class TrackingNumber(models.Model):
    phone_number = models.CharField(
        max_length=20,
        unique=True,
        validators=[phones.validate_phone_number],
        help_text="The Twilio number callers dial, e.g. +15125550100.",
    )
    campaign = models.ForeignKey(Campaign, on_delete=models.PROTECT, related_name="numbers")
    forward_to = models.CharField(
        "forward calls to",
        max_length=20,
        blank=True,
        validators=[phones.validate_phone_number],
        help_text="Leave empty to use the campaign's number.",
    )
    label = models.CharField(
        max_length=120,
        blank=True,
        help_text="Where the number is shown, e.g. “I-35 billboard”.",
    )
    twilio_sid = models.CharField(
        "Twilio SID",
        max_length=34,
        blank=True,
        help_text="Set when the number is bought.",
    )
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["phone_number"]
        constraints = [
            models.UniqueConstraint(
                fields=["twilio_sid"],
                condition=~models.Q(twilio_sid=""),
                name="unique_twilio_sid",
            )
        ]

    def __str__(self) -> str:
        return (
            f"{phones.national(self.phone_number)} ({self.label})"
            if self.label
            else (phones.national(self.phone_number))
        )

    def clean(self) -> None:
        self.phone_number = phones.e164_or_as_typed(self.phone_number)
        if self.forward_to:
            self.forward_to = phones.e164_or_as_typed(self.forward_to)

    @property
    def destination(self) -> str:
        return self.forward_to or self.campaign.forward_to


class Call(models.Model):
    class Outcome(models.TextChoices):
        IN_PROGRESS = "in_progress", "In progress"
        ACCEPTED = "accepted", "Accepted"
        REJECTED = "rejected", "Rejected"
        NO_INPUT = "no_input", "No response"
        NO_ANSWER = "no_answer", "No answer"
        BUSY = "busy", "Busy"
        FAILED = "failed", "Failed"
        ABANDONED = "abandoned", "Abandoned"
        UNMATCHED = "unmatched", "Unmatched"

    class Decision(models.TextChoices):
        ACCEPTED = "accepted", "Accepted"
        REJECTED = "rejected", "Rejected"
        NO_INPUT = "no_input", "No key pressed"

    call_sid = models.CharField("Call SID", max_length=64, unique=True)
    # Both kept as they were when the call came in, so history survives later edits.
    tracking_number = models.ForeignKey(
        TrackingNumber,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="calls",
    )
    campaign = models.ForeignKey(
        Campaign, on_delete=models.SET_NULL, null=True, blank=True, related_name="calls"
    )
    called_number = models.CharField(max_length=64, blank=True)
    caller_number = models.CharField(max_length=64, blank=True)
    caller_name = models.CharField(max_length=100, blank=True)
    caller_city = models.CharField(max_length=100, blank=True)
    caller_state = models.CharField(max_length=100, blank=True)
    caller_zip = models.CharField(max_length=20, blank=True)
    caller_country = models.CharField(max_length=20, blank=True)
    forwarded_to = models.CharField(max_length=64, blank=True)
    dial_call_sid = models.CharField("Dial call SID", max_length=64, blank=True)

    # Facts as Twilio and the callee report them; `outcome` is derived from them all.
    decision = models.CharField(max_length=10, choices=Decision.choices, blank=True)
    dial_status = models.CharField(max_length=20, blank=True)
    dial_bridged = models.BooleanField(null=True, blank=True)
    call_status = models.CharField(max_length=20, blank=True)

    started_at = models.DateTimeField(default=timezone.now)
    whispered_at = models.DateTimeField(null=True, blank=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    talk_seconds = models.PositiveIntegerField(null=True, blank=True)
    duration_seconds = models.PositiveIntegerField(null=True, blank=True)
    outcome = models.CharField(max_length=12, choices=Outcome.choices, default=Outcome.IN_PROGRESS)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-started_at"]
        indexes = [
            # Call list, newest first, and every report over a date range. The included columns
            # are all a report reads, so PostgreSQL aggregates from the index without the table.
            models.Index(
                fields=["started_at"],
                include=["campaign", "tracking_number", "outcome", "whispered_at", "talk_seconds"],
                name="call_started_idx",
            ),
            # Call list filtered to one campaign, newest first.
            models.Index(fields=["campaign", "started_at"], name="call_campaign_started_idx"),
            # Last call of each tracking number, and the call list filtered to one number.
            models.Index(fields=["tracking_number", "started_at"], name="call_number_started_idx"),
            # Call-list search by the start of a caller number (LIKE '+1512%').
            models.Index(
                fields=["caller_number"],
                opclasses=["varchar_pattern_ops"],
                name="call_caller_prefix_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.caller_number or 'unknown caller'} → {self.called_number} ({self.call_sid})"

    @property
    def place(self) -> CallerPlace:
        return CallerPlace(self.caller_city, self.caller_state, self.caller_country)

    def derive_outcome(self) -> str:
        """The outcome that all facts recorded so far support, whatever order they came in.

        1. The callee's own key press is the truth: Twilio may report `completed` for a leg
           the callee declined.
        2. Otherwise the <Dial> result: busy, no-answer, failed, canceled (the caller left).
        3. Otherwise the end of the call: hung up before anybody was connected.
        """
        Outcome = Call.Outcome
        if self.outcome == Outcome.UNMATCHED:
            return Outcome.UNMATCHED
        if self.decision == Call.Decision.ACCEPTED:
            # Accepted, but the caller was gone before the legs could be joined.
            return (
                Outcome.ABANDONED
                if self.dial_bridged is False and (self.dial_status == "canceled")
                else Outcome.ACCEPTED
            )
        if self.decision == Call.Decision.REJECTED:
            return Outcome.REJECTED
        if self.decision == Call.Decision.NO_INPUT:
            return Outcome.NO_INPUT
        if self.dial_status:
            return {
                "busy": Outcome.BUSY,
                "no-answer": Outcome.NO_ANSWER,
                "failed": Outcome.FAILED,
                "canceled": Outcome.ABANDONED,
            }.get(self.dial_status, self._completed_without_decision())
        if self.ended_at is not None:
            return Outcome.ABANDONED
        return Outcome.IN_PROGRESS

    def _completed_without_decision(self) -> str:
        if self.dial_bridged:
            # Connected although no key press was recorded: the callee did talk to the caller.
            return Call.Outcome.ACCEPTED
        if self.whispered_at is not None:
            # The whisper played and the callee's leg ended without a key (no <Gather> action).
            return Call.Outcome.NO_INPUT
        # Answered, but our whisper never reached the callee.
        return Call.Outcome.FAILED
