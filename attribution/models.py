"""Websites, their traffic sources, the visitors the script reports, and who held which number.

A website's sources are matched in order against each visit; a matching source shows either one
number to every visitor (source-level tracking) or one number of its pool per live visitor
(visitor-level tracking). Every hold of a pool number is kept (`Hold`), so a call is matched to
the visit that held the number when the call rang, and a marketer can audit why.
"""

from __future__ import annotations

import secrets

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape

from attribution import matching
from tracking import phones
from tracking.models import Call, Campaign, TrackingNumber


def new_website_key() -> str:
    return "wk_" + secrets.token_urlsafe(16)


def new_visitor_key() -> str:
    # 128 random bits: the key is the visitor's only credential for their own visit data.
    return "v_" + secrets.token_urlsafe(16)


def _lines(value: str) -> list[str]:
    return [line.strip() for line in value.replace(",", "\n").splitlines() if line.strip()]


class Website(models.Model):
    key = models.CharField(max_length=40, unique=True, default=new_website_key, editable=False)
    name = models.CharField(max_length=120)
    domains = models.TextField(
        help_text=(
            "One per line, e.g. example.com. The script answers only on these hosts; "
            "“*.example.com” also allows every subdomain."
        ),
    )
    swap_targets = models.TextField(
        "numbers to replace",
        help_text=(
            "The phone numbers printed on the site that the script replaces, one per line, in "
            "any format, e.g. (512) 555-0100."
        ),
    )
    cookie_days = models.PositiveSmallIntegerField(
        default=90,
        validators=[MinValueValidator(1), MaxValueValidator(730)],
        help_text="How long a visitor's first visit is remembered in their browser (1 to 730).",
    )
    hold_minutes = models.PositiveSmallIntegerField(
        default=30,
        validators=[MinValueValidator(1), MaxValueValidator(1440)],
        help_text=(
            "How long a visitor keeps their pool number after leaving the page (1 to 1440). "
            "A call in that time is matched to their visit."
        ),
    )
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def domain_list(self) -> list[str]:
        return [domain.lower() for domain in _lines(self.domains)]

    @property
    def target_list(self) -> list[str]:
        return _lines(self.swap_targets)

    def clean(self) -> None:
        errors = {}
        domains = []
        for domain in _lines(self.domains):
            host = matching.plain_host(domain)
            if not host:
                errors["domains"] = f"“{domain}” is not a host name such as example.com."
                break
            domains.append(host)
        targets = []
        for target in _lines(self.swap_targets):
            try:
                targets.append(phones.to_e164(target))
            except ValidationError:
                errors["swap_targets"] = f"“{target}” is not a phone number."
                break
        if not targets and "swap_targets" not in errors:
            errors["swap_targets"] = "Enter the number printed on the site."
        if errors:
            raise ValidationError(errors)
        self.domains = "\n".join(dict.fromkeys(domains))
        self.swap_targets = "\n".join(dict.fromkeys(targets))

    def allows_origin(self, origin: str) -> bool:
        return matching.origin_allowed(origin, self.domain_list)

    def snippet(self, base_url: str, *, consent: bool = False) -> str:
        """The tag a marketer pastes into every page of the site; `base_url` is this app's
        public origin (PUBLIC_BASE_URL, or the address the admin is reached on)."""
        src = escape(f"{base_url.rstrip('/')}{reverse('attribution:swap-js')}")
        wait = ' data-consent="wait"' if consent else ""
        return f'<script async src="{src}" data-website="{escape(self.key)}"{wait}></script>'


class Source(models.Model):
    """Where a visit came from, by the first rule of the website it matches."""

    class Rule(models.TextChoices):
        UTM = "utm", "UTM values"
        CLICK_ID = "click_id", "Ad click id present"
        REFERRER = "referrer", "Referrer domain"
        DIRECT = "direct", "Direct (no referrer, no campaign)"
        ANY = "any", "Any other visit"

    class ClickId(models.TextChoices):
        GOOGLE = "google", "Google Ads (gclid, gbraid, wbraid)"
        MICROSOFT = "microsoft", "Microsoft Ads (msclkid)"
        META = "meta", "Meta (fbclid)"

    website = models.ForeignKey(Website, on_delete=models.CASCADE, related_name="sources")
    position = models.PositiveSmallIntegerField("order", default=0)
    name = models.CharField(max_length=80, help_text="What reports and the whisper call it.")
    rule = models.CharField(max_length=10, choices=Rule.choices, default=Rule.UTM)
    utm_source = models.CharField(
        "UTM source", max_length=100, blank=True, help_text="UTM rule: empty matches any value."
    )
    utm_medium = models.CharField("UTM medium", max_length=100, blank=True)
    utm_campaign = models.CharField("UTM campaign", max_length=100, blank=True)
    click_id = models.CharField("ad click id", max_length=10, choices=ClickId.choices, blank=True)
    referrer_domain = models.CharField(
        max_length=100,
        blank=True,
        help_text="Referrer rule, e.g. google.com (matches www.google.com too).",
    )
    campaign = models.ForeignKey(
        Campaign,
        on_delete=models.PROTECT,
        related_name="website_sources",
        help_text="Its calls ring, whisper and follow the hours of this campaign.",
    )
    # Pool health, counted as visitors ask for numbers.
    peak_in_use = models.PositiveIntegerField(default=0, editable=False)
    exhausted_count = models.PositiveIntegerField("times ran out", default=0, editable=False)
    last_exhausted_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["website", "position", "id"]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        errors = {}
        if self.rule == self.Rule.UTM and not (
            self.utm_source or self.utm_medium or self.utm_campaign
        ):
            errors["utm_source"] = "Enter at least one UTM value to match."
        if self.rule == self.Rule.CLICK_ID and not self.click_id:
            errors["click_id"] = "Choose which ad click id to look for."
        if self.rule == self.Rule.REFERRER:
            host = matching.plain_host(self.referrer_domain)
            if not host:
                errors["referrer_domain"] = "Enter a domain such as google.com."
            else:
                self.referrer_domain = host
        if errors:
            raise ValidationError(errors)

    def matches(self, touch: matching.Touch) -> bool:
        return matching.source_matches(self, touch)


class SourceNumber(models.Model):
    """A tracking number shown for a source: its one number, one of its pool, or the number
    its pool's visitors see when every pool number is held (overflow)."""

    class Role(models.TextChoices):
        NUMBER = "number", "Number for every visitor"
        POOL = "pool", "Pool number (one per visitor)"
        OVERFLOW = "overflow", "Overflow (pool ran out)"

    number = models.OneToOneField(
        TrackingNumber, on_delete=models.CASCADE, related_name="website_use"
    )
    source = models.ForeignKey(Source, on_delete=models.CASCADE, related_name="numbers")
    role = models.CharField(max_length=10, choices=Role.choices, default=Role.POOL)
    # The live hold, as the database pool backend keeps it (the Redis backend keeps its own):
    # who holds the number, and until when; free since `held_until` once that has passed.
    holder = models.ForeignKey(
        "Visitor", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    held_until = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["source", "role", "number__phone_number"]
        indexes = [
            # The free number of a pool held longest ago (and the count of those in use).
            models.Index(fields=["source", "role", "held_until"], name="sourcenumber_free_idx"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["source"], condition=models.Q(role="number"), name="one_number_per_source"
            ),
            models.UniqueConstraint(
                fields=["source"],
                condition=models.Q(role="overflow"),
                name="one_overflow_per_source",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.number} ({self.get_role_display()})"

    def clean(self) -> None:
        number = getattr(self, "number", None) if self.number_id else None
        source = getattr(self, "source", None) if self.source_id else None
        if number is not None and source is not None and number.campaign_id != source.campaign_id:
            raise ValidationError(
                {
                    "number": f"This number belongs to “{number.campaign}”; the source's calls "
                    f"go to “{source.campaign}”."
                }
            )


class Visitor(models.Model):
    """A browser, known by the random key in its first-party cookie. No IP address is kept."""

    key = models.CharField(max_length=40, unique=True, default=new_visitor_key)
    website = models.ForeignKey(Website, on_delete=models.CASCADE, related_name="visitors")
    first_visit = models.ForeignKey(
        "Visit", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    last_visit = models.ForeignKey(
        "Visit", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    last_seen_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [
            # Retention: visitors not seen since the cut-off.
            models.Index(fields=["last_seen_at"], name="visitor_last_seen_idx"),
        ]

    def __str__(self) -> str:
        return self.key


class Visit(models.Model):
    """One session of a visitor: how they arrived (the first page), and what they saw."""

    visitor = models.ForeignKey(Visitor, on_delete=models.CASCADE, related_name="visits")
    source = models.ForeignKey(
        Source, on_delete=models.SET_NULL, null=True, blank=True, related_name="visits"
    )
    started_at = models.DateTimeField(default=timezone.now)
    last_seen_at = models.DateTimeField(default=timezone.now)
    landing_page = models.CharField(max_length=1000, blank=True)
    # The landing page without its query (UTM values and click ids), as reports group it.
    landing_path = models.CharField(max_length=300, blank=True)
    referrer = models.CharField(max_length=1000, blank=True)
    utm_source = models.CharField("UTM source", max_length=200, blank=True)
    utm_medium = models.CharField("UTM medium", max_length=200, blank=True)
    utm_campaign = models.CharField("UTM campaign", max_length=200, blank=True)
    utm_term = models.CharField("keyword (utm_term)", max_length=200, blank=True)
    utm_content = models.CharField("UTM content", max_length=200, blank=True)
    gclid = models.CharField(max_length=200, blank=True)
    gbraid = models.CharField(max_length=200, blank=True)
    wbraid = models.CharField(max_length=200, blank=True)
    msclkid = models.CharField(max_length=200, blank=True)
    fbclid = models.CharField(max_length=200, blank=True)
    ga_client_id = models.CharField("GA client id", max_length=64, blank=True)
    # What the visitor consented to for ads, as the site's script said (None: it never said,
    # which counts as not consented); sent with the visit's calls as conversions.
    ad_user_data = models.BooleanField("consented to ad user data", null=True, blank=True)
    ad_personalization = models.BooleanField(
        "consented to ad personalization", null=True, blank=True
    )
    pages = models.JSONField(default=list, blank=True, help_text="Paths seen, in order.")
    page_count = models.PositiveIntegerField("pages seen", default=1)
    # Every pool number was held when this visit asked: it shows the overflow number throughout.
    overflow = models.BooleanField(default=False)

    class Meta:
        ordering = ["-started_at"]
        indexes = [
            # Suggested pool size: a source's sessions over the last days.
            models.Index(fields=["source", "started_at"], name="visit_source_started_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.source or 'Unmatched'} visit {self.started_at:%Y-%m-%d %H:%M}"

    @property
    def touch(self) -> matching.Touch:
        return matching.Touch(
            page=self.landing_page,
            referrer=self.referrer,
            utm={
                "utm_source": self.utm_source,
                "utm_medium": self.utm_medium,
                "utm_campaign": self.utm_campaign,
                "utm_term": self.utm_term,
                "utm_content": self.utm_content,
            },
            click_ids={
                name: getattr(self, name) for name in matching.CLICK_IDS if getattr(self, name)
            },
        )

    @property
    def click_id(self) -> str:
        for name in matching.CLICK_IDS:
            if getattr(self, name):
                return f"{name}={getattr(self, name)}"
        return ""


class Hold(models.Model):
    """A pool number held by one visitor from `held_from` until `held_until` (extended while
    their page is open). Never two of one number overlap."""

    number = models.ForeignKey(TrackingNumber, on_delete=models.CASCADE, related_name="holds")
    source = models.ForeignKey(Source, on_delete=models.CASCADE, related_name="holds")
    visitor = models.ForeignKey(Visitor, on_delete=models.CASCADE, related_name="holds")
    visit = models.ForeignKey(Visit, on_delete=models.CASCADE, related_name="holds")
    held_from = models.DateTimeField()
    held_until = models.DateTimeField()

    class Meta:
        ordering = ["-held_from"]
        indexes = [
            # The hold of a number live at a given moment (a call's start: only holds ending
            # after it are read, not the number's whole history), and a visitor's live hold to
            # extend.
            models.Index(
                fields=["number", "held_until"], include=["held_from"], name="hold_number_idx"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.number} {self.held_from:%H:%M}–{self.held_until:%H:%M}"


class CallAttribution(models.Model):
    """Where a call came from, settled when the call's start is written."""

    class Kind(models.TextChoices):
        VISIT = "visit", "Website visit"
        SOURCE = "source", "Website source"
        OVERFLOW = "overflow", "Source (pool ran out)"
        UNATTRIBUTED = "unattributed", "Unattributed (pool number not held)"
        OFFLINE = "offline", "Campaign number"

    call = models.OneToOneField(
        Call,
        to_field="call_sid",
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="attribution",
    )
    kind = models.CharField(max_length=12, choices=Kind.choices)
    started_at = models.DateTimeField()
    website = models.ForeignKey(
        Website, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    source = models.ForeignKey(
        Source, on_delete=models.SET_NULL, null=True, blank=True, related_name="calls"
    )
    hold = models.ForeignKey(
        Hold, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    visit = models.ForeignKey(
        Visit, on_delete=models.SET_NULL, null=True, blank=True, related_name="calls"
    )
    first_visit = models.ForeignKey(
        Visit, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    first_time_caller = models.BooleanField(
        null=True, blank=True, help_text="Unknown for a caller who hides their number."
    )
    # The visit's values as they were when the call rang, so reports read this table alone.
    utm_source = models.CharField("UTM source", max_length=200, blank=True)
    utm_medium = models.CharField("UTM medium", max_length=200, blank=True)
    utm_campaign = models.CharField("UTM campaign", max_length=200, blank=True)
    utm_term = models.CharField("keyword", max_length=200, blank=True)
    utm_content = models.CharField("UTM content", max_length=200, blank=True)
    gclid = models.CharField(max_length=200, blank=True)
    gbraid = models.CharField(max_length=200, blank=True)
    wbraid = models.CharField(max_length=200, blank=True)
    msclkid = models.CharField(max_length=200, blank=True)
    fbclid = models.CharField(max_length=200, blank=True)
    landing_page = models.CharField(max_length=1000, blank=True)
    landing_path = models.CharField(max_length=300, blank=True)
    referrer = models.CharField(max_length=1000, blank=True)
    ga_client_id = models.CharField("GA client id", max_length=64, blank=True)
    # The visit's ad consent when the call rang (see Visit).
    ad_user_data = models.BooleanField("consented to ad user data", null=True, blank=True)
    ad_personalization = models.BooleanField(
        "consented to ad personalization", null=True, blank=True
    )

    class Meta:
        indexes = [
            # Reports over a date range.
            models.Index(fields=["started_at"], name="attribution_started_idx"),
        ]

    def __str__(self) -> str:
        if self.source_id is not None:
            return f"{self.source} ({self.get_kind_display().lower()})"
        return self.get_kind_display()


class RateWindow(models.Model):
    """Requests of one client (a keyed hash of its address, never the address) in one minute,
    for the database backend's rate limit."""

    key = models.CharField(max_length=64, primary_key=True)
    window = models.BigIntegerField(db_index=True)
    count = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.key}: {self.count}"
