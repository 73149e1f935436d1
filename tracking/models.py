"""Campaigns, their tracking numbers, and the log of every call made to them."""

from __future__ import annotations

import re

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator, validate_email
from django.db import models
from django.utils import timezone

from crm import signing as crm_signing
from tracking import hours, phones
from tracking.announcement import (
    PLACEHOLDERS,
    CallerContext,
    CallerPlace,
    announcement,
    unknown_placeholders,
)

# The outcomes a marketer may have to call back: the caller did not get through, or left a
# message. (Kept as strings here: Call.Outcome is defined below.)
CALLBACK_OUTCOMES = [
    "voicemail",
    "rejected",
    "no_input",
    "no_answer",
    "busy",
    "failed",
    "abandoned",
    "closed",
]

KEY_CHOICES = [(key, key) for key in "1234567890*#"]
DEFAULT_ACCEPT_DIGIT = "1"

DEFAULT_MISSED_MESSAGE = (
    "Sorry, nobody could take your call right now. Please try again a little later. Goodbye."
)
DEFAULT_VOICEMAIL_GREETING = (
    "Sorry, nobody can take your call right now. Please leave a message after the tone, "
    "and press pound when you are done."
)
DEFAULT_RECORDING_NOTICE = "This call may be recorded for quality and training purposes."


def validate_email_list(value: str) -> None:
    for address in email_list(value):
        validate_email(address)


def email_list(value: str) -> list[str]:
    return [part.strip() for part in value.replace(";", ",").split(",") if part.strip()]


def prefix_list(value: str) -> list[str]:
    """Number prefixes typed as "+1900, +234": each a + and digits."""
    return [part.strip().replace(" ", "") for part in value.split(",") if part.strip()]


def validate_prefix_list(value: str) -> None:
    bad = [prefix for prefix in prefix_list(value) if not PREFIX.fullmatch(prefix)]
    if bad:
        raise ValidationError(
            "Write each prefix as + and digits with its country code, e.g. +1900: %(bad)s",
            params={"bad": ", ".join(bad)},
        )


def validate_currency(value: str) -> None:
    if not re.fullmatch(r"[A-Z]{3}", value):
        raise ValidationError("Three capital letters, e.g. USD.")


def report_prompt(key: str) -> str:
    """What the whisper adds when the campaign lets the person answering report spam."""
    spoken = {"*": "star", "#": "pound"}.get(key, key)
    return f" Press {spoken} to report spam." if key else ""


PREFIX = re.compile(r"\+[0-9]{1,14}")


class ChallengeAttestation(models.TextChoices):
    FAILED = "failed", "Challenge callers whose caller ID failed verification"
    UNVERIFIED = "unverified", "Challenge callers whose caller ID is not verified (failed or none)"


class Campaign(models.Model):
    class RingStrategy(models.TextChoices):
        SEQUENTIAL = "sequential", "One after another"
        SIMULTANEOUS = "simultaneous", "All at once"

    class AfterHours(models.TextChoices):
        VOICEMAIL = "voicemail", "Go straight to voicemail"
        FORWARD = "forward", "Ring the after-hours number"

    name = models.CharField(max_length=120)
    ring_strategy = models.CharField(
        "ring destinations",
        max_length=12,
        choices=RingStrategy.choices,
        default=RingStrategy.SEQUENTIAL,
        help_text=(
            "One after another: the next destination rings when one declines, stays silent or "
            "does not answer. All at once: every destination rings; the first to accept takes "
            "the call and the others stop ringing. Every destination hears the whisper."
        ),
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
            "{state}, {country}, {location}; what is known of the caller: {choice} (the menu "
            "option), {name}, {history} (how often they called before and whether their last "
            "call was taken), {note} (from your CRM). The key prompt is always added after it."
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
        help_text=(
            "Seconds to let each destination ring before giving up on it (5 to 600). "
            "All at once: seconds for all of them together."
        ),
    )
    missed_message = models.CharField(
        max_length=300,
        default=DEFAULT_MISSED_MESSAGE,
        help_text="What a caller hears when nobody takes the call and voicemail is off.",
    )
    voicemail_enabled = models.BooleanField(
        "voicemail",
        default=False,
        help_text="When nobody takes the call, let the caller leave a message.",
    )
    voicemail_greeting = models.CharField(
        max_length=300,
        default=DEFAULT_VOICEMAIL_GREETING,
        help_text="Read to the caller before the tone, unless a greeting recording is set.",
    )
    voicemail_audio_url = models.URLField(
        "greeting recording",
        blank=True,
        help_text="An MP3 or WAV address, played instead of the greeting text.",
    )
    voicemail_max_seconds = models.PositiveSmallIntegerField(
        "longest message",
        default=120,
        validators=[MinValueValidator(10), MaxValueValidator(3600)],
        help_text="Seconds (10 to 3600) after which the recording stops.",
    )
    voicemail_transcribe = models.BooleanField(
        "transcribe messages",
        default=False,
        help_text="Ask Twilio for a text version (English, messages up to 2 minutes; charged).",
    )
    after_hours_action = models.CharField(
        "after hours",
        max_length=10,
        choices=AfterHours.choices,
        default=AfterHours.VOICEMAIL,
        help_text=(
            "What happens to a call outside the business hours below. With voicemail off, the "
            "caller hears the missed-call message."
        ),
    )
    after_hours_number = models.CharField(
        max_length=20,
        blank=True,
        validators=[phones.validate_phone_number],
        help_text="Rings (with the whisper) outside business hours, when chosen above.",
    )
    time_zone = models.CharField(
        max_length=64,
        default="America/Chicago",
        validators=[hours.validate_time_zone],
        help_text="The clock the business hours and holidays are read in.",
    )
    record_calls = models.BooleanField(
        default=False,
        help_text="Record the conversation once a destination accepts the call.",
    )
    recording_notice = models.CharField(
        max_length=300,
        blank=True,
        default=DEFAULT_RECORDING_NOTICE,
        help_text=(
            "Read to the caller before anything rings when calls are recorded (the caller then "
            "hears ringing again). Leave empty for no notice; some places require one."
        ),
    )
    notify_emails = models.CharField(
        "e-mail notifications to",
        max_length=500,
        blank=True,
        validators=[validate_email_list],
        help_text="Comma-separated addresses told about every voicemail and missed call.",
    )
    caller_name_lookup = models.BooleanField(
        default=False,
        help_text="Ask Twilio for the caller's name (CNAM). Twilio charges per lookup.",
    )
    crm_url = models.URLField(
        "CRM lookup URL",
        blank=True,
        help_text=(
            "Your endpoint that tells what you know of a caller, by caller ID (see the README). "
            "Asked as each call comes in; an answer later than 1.5 s is not waited for."
        ),
    )
    crm_secret = models.CharField(
        "CRM signing secret",
        max_length=100,
        blank=True,
        help_text=(
            "Requests are signed with it (Standard Webhooks, whsec_…). Left empty, one is "
            "generated when you save: copy it to your endpoint."
        ),
    )
    crm_failures = models.PositiveIntegerField(
        "CRM lookups failed",
        default=0,
        help_text="Lookups that failed, timed out or answered something unreadable.",
    )
    menu_greeting = models.CharField(
        "menu greeting",
        max_length=300,
        blank=True,
        help_text=(
            "Played to the caller before anything rings, followed by the menu options below "
            "(“For Billing, press 1.”). Leave empty for no menu."
        ),
    )
    # Spam screening (tracking.screening): who must press a key before anything rings.
    challenge_attestation = models.CharField(
        "challenge by caller ID attestation",
        max_length=10,
        choices=ChallengeAttestation.choices,
        blank=True,
        help_text=(
            "Caller ID attestation (STIR/SHAKEN) exists for US calls only: challenging "
            "unverified callers challenges every caller from abroad too."
        ),
    )
    challenge_prefixes = models.CharField(
        "challenge numbers starting with",
        max_length=300,
        blank=True,
        validators=[validate_prefix_list],
        help_text="A watch list, comma-separated, e.g. +1900, +234. Empty: none.",
    )
    challenge_burst_calls = models.PositiveSmallIntegerField(
        "challenge after calls",
        default=0,
        validators=[MaxValueValidator(1000)],
        help_text=(
            "Challenge a number that called more than this many times in the minutes below "
            "(0: never). Skipped while the database is unavailable."
        ),
    )
    challenge_burst_minutes = models.PositiveSmallIntegerField(
        "within minutes",
        default=10,
        validators=[MinValueValidator(1), MaxValueValidator(1440)],
    )
    challenge_voip = models.BooleanField(
        "challenge non-fixed VoIP",
        default=False,
        help_text=(
            "Look up each new caller's line type with Twilio Lookup (charged per number, "
            "remembered for 30 days) and challenge non-fixed VoIP numbers."
        ),
    )
    spam_report_key = models.CharField(
        "report-spam key",
        max_length=1,
        choices=KEY_CHOICES,
        blank=True,
        help_text=(
            "A key the person answering presses during the whisper to report spam: their phone "
            "hangs up, the call counts as spam and the caller is blocked. Empty: off."
        ),
    )
    # Lead qualification (tracking.leads).
    lead_min_talk_seconds = models.PositiveIntegerField(
        "lead after talking at least",
        default=60,
        validators=[MaxValueValidator(86400)],
        help_text="Seconds. A lead is accepted by a destination, not spam, and this long.",
    )
    lead_first_time_only = models.BooleanField(
        "first-time callers only",
        default=False,
        help_text="A caller who called any tracking number before is no new lead.",
    )
    lead_value = models.DecimalField(
        max_digits=12, decimal_places=2, null=True, blank=True, help_text="What a lead is worth."
    )
    lead_currency = models.CharField(
        max_length=3,
        default="USD",
        validators=[validate_currency],
        help_text="ISO 4217 code, e.g. USD, EUR.",
    )
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        if self.after_hours_number:
            self.after_hours_number = phones.e164_or_as_typed(self.after_hours_number)
        errors = {}
        unknown = unknown_placeholders(self.whisper_template)
        if unknown:
            errors["whisper_template"] = (
                "Unknown placeholder "
                + ", ".join(f"{{{name}}}" for name in unknown)
                + ". Use "
                + ", ".join(f"{{{name}}}" for name in PLACEHOLDERS)
                + "."
            )
        if self.after_hours_action == self.AfterHours.FORWARD and not self.after_hours_number:
            errors["after_hours_number"] = "Enter the number to ring outside business hours."
        elif (
            self.after_hours_number
            and TrackingNumber.objects.filter(phone_number=self.after_hours_number).exists()
        ):
            # Ringing a tracking number would loop the call back into this app.
            errors["after_hours_number"] = "This is a tracking number; enter the phone to ring."
        if self.crm_url and not self.crm_secret:
            self.crm_secret = crm_signing.new_secret()
        if self.crm_secret and not crm_signing.is_valid_secret(self.crm_secret):
            errors["crm_secret"] = "Enter a secret of the form whsec_ followed by base64."
        if self.spam_report_key and self.spam_report_key == self.accept_digit:
            errors["spam_report_key"] = "The report-spam key must differ from the accept key."
        if errors:
            raise ValidationError(errors)

    @property
    def recipients(self) -> list[str]:
        return email_list(self.notify_emails)

    def whisper_for(
        self,
        place: CallerPlace,
        context: CallerContext | None = None,
        *,
        source: str = "",
        keyword: str = "",
    ) -> str:
        """The exact sentence the person answering hears for a caller from `place`, with what
        is known of the caller and, for a website's call, its source and search keyword."""
        words = announcement(
            campaign=self.name,
            place=place,
            announce_location=self.announce_location,
            template=self.whisper_template,
            accept_digit=self.accept_digit,
            context=context,
            source=source,
            keyword=keyword,
        )
        return words + report_prompt(self.spam_report_key)


class Destination(models.Model):
    """A phone that rings for a campaign's calls, in `position` order."""

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="destinations")
    position = models.PositiveSmallIntegerField(default=0)
    label = models.CharField(max_length=60, help_text="e.g. “Front desk”, “Owner's mobile”.")
    phone_number = models.CharField(
        max_length=20,
        blank=True,
        validators=[phones.validate_phone_number],
        help_text="In any format; stored with its country code, e.g. +15125550199.",
    )
    agent = models.ForeignKey(
        "tracking.Agent",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="destinations",
        help_text="Or an agent, rung in the browser (agent console) instead of a phone.",
    )

    class Meta:
        ordering = ["campaign", "position", "id"]
        constraints = [
            models.CheckConstraint(
                condition=(models.Q(phone_number="") & models.Q(agent__isnull=False))
                | (~models.Q(phone_number="") & models.Q(agent__isnull=True)),
                name="destination_phone_or_agent",
                violation_error_message="Enter a phone number or choose an agent (one of the two).",
            )
        ]

    def __str__(self) -> str:
        if self.agent_id is not None:
            return f"{self.label} (agent)"
        return f"{self.label} ({phones.national(self.phone_number)})"

    @property
    def address(self) -> str:
        """What the <Dial> rings: the phone number, or the agent's browser."""
        return self.agent.address if self.agent_id is not None else self.phone_number

    def clean(self) -> None:
        if self.phone_number:
            self.phone_number = phones.e164_or_as_typed(self.phone_number)
        # One of a phone number or an agent: the constraint below says so, with its message.


class OpeningHours(models.Model):
    """One span of a weekday when the campaign's calls ring its destinations."""

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="opening_hours")
    weekday = models.PositiveSmallIntegerField(choices=list(enumerate(hours.WEEKDAYS)))
    opens = models.TimeField()
    closes = models.TimeField(help_text="For hours past midnight, add the rest to the next day.")

    class Meta:
        ordering = ["campaign", "weekday", "opens"]
        verbose_name_plural = "opening hours"

    def __str__(self) -> str:
        return f"{hours.WEEKDAYS[self.weekday]} {self.opens:%H:%M}–{self.closes:%H:%M}"

    def clean(self) -> None:
        if self.opens is not None and self.closes is not None and self.opens >= self.closes:
            raise ValidationError({"closes": "Closing time must be after opening time."})

    @property
    def opening(self) -> hours.Opening:
        return hours.Opening(self.weekday, self.opens, self.closes)


class Holiday(models.Model):
    """A date on which the campaign is closed all day."""

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="holidays")
    date = models.DateField()
    name = models.CharField(max_length=60, blank=True)

    class Meta:
        ordering = ["campaign", "date"]
        constraints = [
            models.UniqueConstraint(fields=["campaign", "date"], name="unique_campaign_holiday")
        ]

    def __str__(self) -> str:
        return f"{self.date:%Y-%m-%d} {self.name}".strip()


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
        help_text=(
            "Leave empty to ring the campaign's destinations. When set, calls to this number "
            "ring this phone only."
        ),
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
        VOICEMAIL = "voicemail", "Voicemail"
        CLOSED = "closed", "Closed"
        UNMATCHED = "unmatched", "Unmatched"
        SPAM = "spam", "Spam"
        BLOCKED = "blocked", "Blocked"

    class Decision(models.TextChoices):
        ACCEPTED = "accepted", "Accepted"
        REJECTED = "rejected", "Rejected"
        NO_INPUT = "no_input", "No key pressed"
        SPAM = "spam", "Reported spam"

    class Spam(models.TextChoices):
        BLOCKED = "blocked", "Caller on the block list"
        CHALLENGE = "challenge", "Failed the challenge"
        REPORTED = "reported", "Reported during the whisper"
        MARKED = "marked", "Marked as spam in the admin"

    call_sid = models.CharField("Call SID", max_length=64, unique=True)
    # Both kept as they were when the call came in, so history survives later edits. No
    # index of their own: call_number_started_idx and call_campaign_started_idx lead with them,
    # and every index more is written on each call's insert and on most of its updates.
    tracking_number = models.ForeignKey(
        TrackingNumber,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="calls",
        db_index=False,
    )
    campaign = models.ForeignKey(
        Campaign,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="calls",
        db_index=False,
    )
    called_number = models.CharField(max_length=64, blank=True)
    caller_number = models.CharField(max_length=64, blank=True)
    caller_name = models.CharField(max_length=100, blank=True)
    caller_city = models.CharField(max_length=100, blank=True)
    caller_state = models.CharField(max_length=100, blank=True)
    caller_zip = models.CharField(max_length=20, blank=True)
    caller_country = models.CharField(max_length=20, blank=True)
    forwarded_to = models.CharField(max_length=64, blank=True)
    after_hours = models.BooleanField(default=False)
    answered_by = models.CharField(
        "taken by", max_length=60, blank=True, help_text="The destination that took the call."
    )
    voicemail_at = models.DateTimeField(
        "sent to voicemail at", null=True, blank=True, help_text="When the greeting began."
    )
    notified_at = models.DateTimeField(null=True, blank=True)
    # A missed call or voicemail someone has dealt with (called back), from the dashboard's
    # call-back list; never set by Twilio's webhooks.
    callback_done_at = models.DateTimeField("called back", null=True, blank=True)
    callback_done_by = models.CharField("called back by", max_length=150, blank=True)
    dial_call_sid = models.CharField("Dial call SID", max_length=64, blank=True)
    menu_at = models.DateTimeField(
        "menu played at", null=True, blank=True, help_text="When the caller heard the menu."
    )
    menu_choice = models.CharField(
        max_length=60, blank=True, help_text="The menu option the caller chose, as it was named."
    )
    crm_name = models.CharField("name in the CRM", max_length=100, blank=True)
    crm_note = models.CharField("CRM note", max_length=300, blank=True)

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

    # Screening: what Twilio said of the caller, why they were challenged, and any spam mark.
    stir_verstat = models.CharField("caller ID attestation", max_length=64, blank=True)
    line_type = models.CharField(max_length=20, blank=True)
    screening_reason = models.CharField(
        "screened because",
        max_length=100,
        blank=True,
        help_text="Why the caller was blocked or had to pass the challenge.",
    )
    challenge_passed = models.BooleanField(null=True, blank=True)
    spam = models.CharField(max_length=10, choices=Spam.choices, blank=True)
    tags = models.ManyToManyField("Tag", blank=True, related_name="calls")

    class Meta:
        ordering = ["-started_at"]
        permissions = [("label_call", "Can mark calls as spam, block callers and tag calls")]
        indexes = [
            # Call list, newest first, and every report over a date range. The included columns
            # are all a report reads (after-hours counts too), so PostgreSQL aggregates from the
            # index without the table.
            models.Index(
                fields=["started_at"],
                include=[
                    "campaign",
                    "tracking_number",
                    "outcome",
                    "whispered_at",
                    "talk_seconds",
                    "after_hours",
                ],
                name="call_started_idx",
            ),
            # Call list filtered to one campaign, newest first.
            models.Index(fields=["campaign", "started_at"], name="call_campaign_started_idx"),
            # Last call of each tracking number, and the call list filtered to one number.
            models.Index(fields=["tracking_number", "started_at"], name="call_number_started_idx"),
            # Call-list search by the start of a caller number (LIKE '+1512%'), and a caller's
            # first call (the dashboard's first-time callers). On PostgreSQL, trigram indexes
            # (migration 0007) serve the search for any part of a number, name or city.
            models.Index(
                fields=["caller_number", "started_at"],
                opclasses=["varchar_pattern_ops", "timestamptz_ops"],
                name="call_caller_started_idx",
            ),
            # The dashboard's call-back list: missed calls and voicemails nobody dealt with yet,
            # newest first; a small index, as most calls are taken or done with.
            models.Index(
                fields=["-started_at"],
                condition=models.Q(outcome__in=CALLBACK_OUTCOMES, callback_done_at__isnull=True),
                name="call_callback_idx",
            ),
            # API: the calls changed since a client last synced (updated_at >= %s).
            models.Index(fields=["updated_at"], name="call_updated_idx"),
        ]

    def __str__(self) -> str:
        caller = phones.national(self.caller_number) if self.caller_number else "unknown caller"
        return f"{caller} → {phones.national(self.called_number)} ({self.call_sid})"

    @property
    def place(self) -> CallerPlace:
        return CallerPlace(self.caller_city, self.caller_state, self.caller_country)

    def earlier_calls(self) -> models.QuerySet[Call]:
        """The calls this call's caller made before it, read through call_caller_started_idx
        (the whisper's history and the first-time-caller lead rule)."""
        return Call.objects.filter(
            caller_number=self.caller_number, started_at__lt=self.started_at
        ).exclude(call_sid=self.call_sid)

    def derive_outcome(self, legs: list[CallLeg], voicemail_left: bool) -> str:
        """The outcome that all facts recorded so far support, whatever order they came in.

        0. A spam mark (blocked, failed challenge, reported, marked) outweighs everything.
        1. A destination that accepted (its own key press is the truth) makes the call accepted.
        2. Otherwise a message left in voicemail makes it a voicemail.
        3. Otherwise the most telling thing any destination did: stopped ringing because the
           caller hung up, declined, stayed silent, did not answer, was busy, failed.
        4. Otherwise the end of the call: closed (after hours, nobody to ring) or abandoned
           (the caller hung up first).
        """
        Outcome, Result = Call.Outcome, CallLeg.Result
        if self.outcome == Outcome.UNMATCHED:
            return Outcome.UNMATCHED
        if self.spam:
            return Outcome.BLOCKED if self.spam == Call.Spam.BLOCKED else Outcome.SPAM
        # A report of spam whose mark was cleared in the admin: the destination declined.
        results = {
            CallLeg.Result.REJECTED if result == CallLeg.Result.SPAM else result
            for result in (leg.derive_result() for leg in legs)
        }
        if Result.ACCEPTED in results:
            return Outcome.ACCEPTED
        if voicemail_left:
            return Outcome.VOICEMAIL
        for result, outcome in LEG_OUTCOMES:
            if result in results:
                return outcome
        if self.ended_at is not None:
            return Outcome.CLOSED if self.after_hours and not legs else Outcome.ABANDONED
        return Outcome.IN_PROGRESS

    @property
    def is_missed(self) -> bool:
        return self.outcome in MISSED_OUTCOMES

    @property
    def needs_callback(self) -> bool:
        return self.outcome in CALLBACK_OUTCOMES and self.callback_done_at is None

    @property
    def left_in_menu(self) -> bool:
        """The caller hung up while hearing the menu, before choosing."""
        return (
            self.menu_at is not None
            and not self.menu_choice
            and self.outcome == Call.Outcome.ABANDONED
        )


class CallLeg(models.Model):
    """One destination rung for a call, and what it did.

    Every call's destinations are written when it comes in, in the order they ring, so the
    history shows what was planned even for those never rung. `label` and `phone_number` are
    kept as they were, like the call's own campaign and number.
    """

    class Result(models.TextChoices):
        PENDING = "pending", "Not rung"
        ACCEPTED = "accepted", "Accepted"
        REJECTED = "rejected", "Declined"
        NO_INPUT = "no_input", "No key pressed"
        NO_ANSWER = "no_answer", "No answer"
        BUSY = "busy", "Busy"
        FAILED = "failed", "Failed"
        CANCELED = "canceled", "Stopped"
        SPAM = "spam", "Reported spam"

    # Read through unique_call_leg, which leads with it: no index of its own.
    call = models.ForeignKey(
        Call, to_field="call_sid", on_delete=models.CASCADE, related_name="legs", db_index=False
    )
    position = models.PositiveSmallIntegerField()
    destination = models.ForeignKey(
        Destination, on_delete=models.SET_NULL, null=True, blank=True, related_name="legs"
    )
    label = models.CharField(max_length=60, blank=True)
    phone_number = models.CharField(max_length=64)
    leg_sid = models.CharField("Leg call SID", max_length=64, blank=True)
    # Facts as Twilio and the destination report them; `result` is derived from them all.
    whispered_at = models.DateTimeField(null=True, blank=True)
    decision = models.CharField(max_length=10, choices=Call.Decision.choices, blank=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    status = models.CharField(max_length=20, blank=True, help_text="How Twilio says the leg ended.")
    # What the end of the <Dial> that rang it implies, when Twilio said nothing of this leg:
    # its own report, however late, wins.
    dial_outcome = models.CharField(max_length=20, blank=True)
    bridged = models.BooleanField(null=True, blank=True)
    result = models.CharField(max_length=10, choices=Result.choices, default=Result.PENDING)
    # The call's own, copied so that acceptance by destination reads one index and no join.
    started_at = models.DateTimeField(null=True, blank=True)
    campaign = models.ForeignKey(
        Campaign,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,
    )

    class Meta:
        ordering = ["call", "position"]
        indexes = [
            # Acceptance by destination over a date range (and one campaign), index-only.
            models.Index(
                fields=["started_at"],
                include=["campaign", "label", "phone_number", "result"],
                name="callleg_started_idx",
            ),
        ]
        constraints = [
            models.UniqueConstraint(fields=["call", "position"], name="unique_call_leg"),
            # One destination takes a call, however the legs' reports interleave.
            models.UniqueConstraint(
                fields=["call"], condition=models.Q(result="accepted"), name="one_taker_per_call"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.label or self.phone_number}: {self.get_result_display()}"

    def derive_result(self) -> str:
        """What this destination did, from every fact recorded so far, in any order.

        `status` is the leg's own report; `dial_outcome` what the end of the <Dial> that rang
        it says of it: its DialCallStatus, or `stopped` when another destination took the call.

        1. Its key press: Twilio may report `completed` for a leg that declined. An acceptance
           the caller did not wait for (the <Dial> was canceled before joining), or that came
           after another destination's, is stopped.
        2. No key, and the caller hung up (the <Dial> was canceled) while this phone rang or
           heard the whisper: stopped, whatever the leg itself reports (`completed`).
        3. Otherwise how the leg ended, its own report first: busy, no answer, failed, stopped.
        4. `completed` with no key: joined to the caller (accepted), or the whisper played and
           nobody pressed anything (no input), or our whisper never reached it (failed).
        """
        Result = CallLeg.Result
        caller_left = self.dial_outcome == "canceled"
        if self.decision == Call.Decision.ACCEPTED:
            unjoined = self.bridged is not True and self.dial_outcome in ("canceled", "stopped")
            return Result.CANCELED if unjoined else Result.ACCEPTED
        if self.decision == Call.Decision.REJECTED:
            return Result.REJECTED
        if self.decision == Call.Decision.NO_INPUT:
            return Result.NO_INPUT
        if self.decision == Call.Decision.SPAM:
            return Result.SPAM
        if caller_left and self.status in ("", "completed"):
            return Result.CANCELED
        status = self.status or self.dial_outcome
        if status in LEG_STATUSES:
            return LEG_STATUSES[status]
        if status:
            if self.bridged:
                return Result.ACCEPTED
            if self.whispered_at is not None:
                return Result.NO_INPUT
            return Result.FAILED
        return Result.PENDING


class Recording(models.Model):
    """A voicemail or a recorded conversation, as Twilio keeps it."""

    class Kind(models.TextChoices):
        VOICEMAIL = "voicemail", "Voicemail"
        CONVERSATION = "conversation", "Conversation"

    call = models.ForeignKey(
        Call, to_field="call_sid", on_delete=models.CASCADE, related_name="recordings"
    )
    recording_sid = models.CharField("Recording SID", max_length=64, unique=True)
    kind = models.CharField(max_length=12, choices=Kind.choices)
    url = models.URLField("Twilio URL", max_length=500, blank=True)
    duration_seconds = models.PositiveIntegerField(null=True, blank=True)
    status = models.CharField(max_length=20, blank=True)
    transcription = models.TextField(blank=True)
    transcription_status = models.CharField(max_length=20, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.recording_sid}"

    @property
    def is_message(self) -> bool:
        """A voicemail with something in it: Twilio reports 0 s (or `absent`) for silence."""
        return (
            self.kind == self.Kind.VOICEMAIL
            and self.status not in {"absent", "failed"}
            and (self.duration_seconds or 0) > 0
        )


# A leg's final CallStatus (from its status callback or DialCallStatus) and what it means.
LEG_STATUSES = {
    "busy": CallLeg.Result.BUSY,
    "no-answer": CallLeg.Result.NO_ANSWER,
    "failed": CallLeg.Result.FAILED,
    "canceled": CallLeg.Result.CANCELED,
    "stopped": CallLeg.Result.CANCELED,
}

# The call's outcome when no destination accepted and no message was left, most telling first.
LEG_OUTCOMES = [
    # A destination stopped with nobody taking the call: the caller hung up while it rang.
    (CallLeg.Result.CANCELED, Call.Outcome.ABANDONED),
    (CallLeg.Result.REJECTED, Call.Outcome.REJECTED),
    (CallLeg.Result.NO_INPUT, Call.Outcome.NO_INPUT),
    (CallLeg.Result.NO_ANSWER, Call.Outcome.NO_ANSWER),
    (CallLeg.Result.BUSY, Call.Outcome.BUSY),
    (CallLeg.Result.FAILED, Call.Outcome.FAILED),
]

MISSED_OUTCOMES = {
    Call.Outcome.REJECTED,
    Call.Outcome.NO_INPUT,
    Call.Outcome.NO_ANSWER,
    Call.Outcome.BUSY,
    Call.Outcome.FAILED,
    Call.Outcome.ABANDONED,
    Call.Outcome.CLOSED,
}


class BlockedCaller(models.Model):
    """A caller rejected without ringing anyone, on every campaign (tracking.screening)."""

    class Kind(models.TextChoices):
        NUMBER = "number", "Number"
        PREFIX = "prefix", "Numbers starting with"
        COUNTRY = "country", "Country"

    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.NUMBER)
    value = models.CharField(
        max_length=20,
        help_text="A number (+15125550123), a prefix (+1900) or a two-letter country (NG).",
    )
    note = models.CharField(max_length=200, blank=True)
    reported_call = models.ForeignKey(
        Call,
        to_field="call_sid",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        help_text="The call it was reported on, when someone reported it.",
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["kind", "value"]
        constraints = [
            models.UniqueConstraint(fields=["kind", "value"], name="unique_blocked_caller")
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.value}"

    def clean(self) -> None:
        value = self.value.strip()
        if self.kind == self.Kind.NUMBER:
            phones.validate_phone_number(value)
            value = phones.e164_or_as_typed(value)
        elif self.kind == self.Kind.PREFIX:
            value = value.replace(" ", "")
            if not PREFIX.fullmatch(value):
                raise ValidationError({"value": "A prefix is + and digits, e.g. +1900."})
        else:
            value = value.upper()
            if not re.fullmatch(r"[A-Z]{2}", value):
                raise ValidationError({"value": "A country is two letters, e.g. NG."})
        self.value = value


class Tag(models.Model):
    """A free-form label marketers put on calls."""

    name = models.CharField(max_length=40, unique=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class LineTypeLookup(models.Model):
    """Twilio Lookup's line type of a caller's number, kept so it is paid for once a month."""

    phone_number = models.CharField(max_length=20, unique=True)
    line_type = models.CharField(max_length=20, blank=True)
    looked_up_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"{self.phone_number}: {self.line_type or 'unknown'}"


# Defined in modules of their own, registered with the app here.
from tracking.agents import Agent  # noqa: E402, F401
from tracking.menus import MenuOption  # noqa: E402, F401
