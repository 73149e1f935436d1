"""Campaigns: where calls ring, what the person answering hears, hours and voicemail."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.contrib import admin
from django.db.models import (
    Count,
    F,
    FloatField,
    Func,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
)
from django.db.models.functions import Cast, NullIf
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join

from tracking.admin.campaign_parts import (
    CampaignForm,
    DestinationInline,
    HolidayInline,
    OpeningHoursInline,
    TrackingNumberInline,
    typed_tracking_numbers,
)
from tracking.admin.display import DASH, ActiveFilter, PhoneSearchMixin, percent
from tracking.admin.menus import MENU_FIELDSET, MenuOptionInline
from tracking.announcement import CallerPlace, drops_words, placeholder_values
from tracking.models import Call, Campaign, TrackingNumber
from tracking.selectors import Period

PREVIEW_PLACE = CallerPlace("Austin", "TX", "US")
STATE_ONLY_PLACE = CallerPlace("", "TX", "US")


LIST_DAYS = 30


def list_period():
    """The campaign list's figures cover the last LIST_DAYS days, today included."""
    today = timezone.localdate(timezone=timezone.get_default_timezone())
    return Period(today - timedelta(days=LIST_DAYS - 1), today)


def _calls_per_campaign(period) -> dict:
    """Annotations counting each campaign's calls of `period` over a single join."""
    since, until = period.bounds()
    recent = Q(calls__started_at__gte=since, calls__started_at__lt=until)
    # Spam and blocked calls are no calls the business could have taken.
    screened = Count(
        "calls",
        filter=recent
        & Q(calls__whispered_at__isnull=False)
        & ~Q(calls__outcome__in=[Call.Outcome.SPAM, Call.Outcome.BLOCKED]),
    )
    accepted = Count("calls", filter=recent & Q(calls__outcome=Call.Outcome.ACCEPTED))
    return {
        "calls_count": Count("calls", filter=recent),
        "screened_count": screened,
        "accepted_count": accepted,
        # NULL when nothing was screened: sorts last and reads as a dash, never a division by 0.
        "acceptance": Cast(accepted, FloatField()) / NullIf(Cast(screened, FloatField()), 0.0),
    }


def _numbers_per_campaign() -> Subquery:
    """Each campaign's number count, as a subquery rather than a second join.

    Joining numbers and calls together would multiply every call by the campaign's number
    count. COUNT without GROUP BY gives 0, not NULL, for a campaign without numbers, and a bare
    Subquery (no Coalesce around it) is grouped by the campaign's id, so PostgreSQL runs it once
    per campaign instead of once per joined call.
    """
    numbers = (
        TrackingNumber.objects.filter(campaign=OuterRef("pk"))
        .order_by()
        .annotate(n=Func("pk", function="COUNT"))
        .values("n")
    )
    return Subquery(numbers, output_field=IntegerField())


def _calls_url(campaign_id: int) -> str:
    return reverse("admin:tracking_call_changelist") + f"?campaign__id__exact={campaign_id}"


def _report_url(campaign_id: int | None, period) -> str:
    query = f"?start={period.start.isoformat()}&end={period.end.isoformat()}"
    if campaign_id is not None:
        query += f"&campaign={campaign_id}"
    return reverse("admin:tracking_reports") + query


@admin.register(Campaign)
class CampaignAdmin(PhoneSearchMixin, admin.ModelAdmin):
    form = CampaignForm
    change_form_template = "admin/tracking/campaign/change_form.html"
    # Seven columns that fit beside the filters at 1440 px; the set-up in one of them.
    list_display = ["name", "calls", "screened", "acceptance_rate", "connect_rate", "setup"]
    list_filter = [ActiveFilter]
    search_fields = ["name", "numbers__phone_number", "numbers__label"]
    search_help_text = "Campaign name, or one of its tracking numbers or labels."
    inlines = [
        DestinationInline,
        MenuOptionInline,
        OpeningHoursInline,
        HolidayInline,
        TrackingNumberInline,
    ]
    # The list's figures are aggregated over the whole call table; count the page once, not twice.
    show_full_result_count = False
    readonly_fields = ["whisper_preview", "crm_failures", "created_at", "updated_at"]
    fieldsets = [
        (None, {"fields": ["name", "is_active"]}),
        (
            "Ringing",
            {
                "description": (
                    "Who rings when a call comes in. A tracking number with its own “forward "
                    "calls to” rings that phone only."
                ),
                "fields": ["ring_strategy", "ring_timeout"],
            },
        ),
        (
            "Whisper",
            {
                "description": (
                    "Before a caller is put through, the person answering hears a short "
                    "sentence saying which campaign the call comes from, then presses the "
                    "accept key to take it. Any other key, or none, declines the call: the "
                    "next destination rings, or the caller goes to voicemail."
                ),
                "fields": [
                    "whisper_template",
                    "announce_location",
                    "accept_digit",
                    "whisper_preview",
                    "whisper_voice",
                    "whisper_language",
                ],
            },
        ),
        MENU_FIELDSET,
        (
            "When nobody answers",
            {
                "description": (
                    "When every destination declined, stayed silent or did not answer, the "
                    "caller leaves a message (voicemail on) or hears the missed-call message."
                ),
                "fields": [
                    "voicemail_enabled",
                    "voicemail_greeting",
                    "voicemail_audio_url",
                    "voicemail_max_seconds",
                    "voicemail_transcribe",
                    "missed_message",
                ],
            },
        ),
        (
            "Business hours",
            {
                "description": (
                    "Calls ring the destinations during the opening hours below, read on the "
                    "campaign's clock. With no opening hours at all the campaign is always open."
                ),
                "fields": ["time_zone", "after_hours_action", "after_hours_number"],
            },
        ),
        (
            "Recording",
            {"fields": ["record_calls", "recording_notice"]},
        ),
        (
            "Notifications",
            {
                "description": "E-mails sent when a caller leaves a message or a call is missed.",
                "fields": ["notify_emails"],
            },
        ),
        (
            "Spam screening",
            {
                "description": (
                    "Callers on the block list (Blocked callers, in the menu) are rejected on "
                    "every campaign. Suspect callers chosen here must press a random key before "
                    "anything rings; failing makes the call spam. Genuine callers pass."
                ),
                "fields": [
                    "challenge_attestation",
                    "challenge_prefixes",
                    ("challenge_burst_calls", "challenge_burst_minutes"),
                    "challenge_voip",
                    "spam_report_key",
                ],
                "classes": ["collapse"],
            },
        ),
        (
            "Leads",
            {
                "description": (
                    "A qualified lead is a call a destination accepted, that lasted at least "
                    "the time below, and is not spam."
                ),
                "fields": [
                    "lead_min_talk_seconds",
                    "lead_first_time_only",
                    ("lead_value", "lead_currency"),
                ],
                "classes": ["collapse"],
            },
        ),
        (
            "Caller name",
            {"fields": ["caller_name_lookup"], "classes": ["collapse"]},
        ),
        (
            "CRM lookup",
            {
                "description": (
                    "Optional. As a call comes in, your endpoint is asked what it knows of the "
                    "caller number (a name and a short note, for the whisper and the call's "
                    "page). The caller never waits more than 1.5 s for it; a failure only "
                    "leaves the whisper without it, and is counted here."
                ),
                "fields": ["crm_url", "crm_secret", "crm_failures"],
                "classes": ["collapse"],
            },
        ),
        (
            "History",
            {"fields": ["created_at", "updated_at"], "classes": ["collapse"]},
        ),
    ]

    def formfield_for_dbfield(self, db_field, request: HttpRequest, **kwargs):
        if db_field.name in ("voicemail_audio_url", "crm_url"):
            # An address typed without a scheme is fetched by Twilio: https, not http.
            kwargs["assume_scheme"] = "https"
        return super().formfield_for_dbfield(db_field, request, **kwargs)

    def get_formset_kwargs(self, request: HttpRequest, obj, inline, prefix: str) -> dict:
        kwargs = super().get_formset_kwargs(request, obj, inline, prefix)
        if isinstance(inline, DestinationInline) and request.method == "POST":
            # The numbers being added in the same form are not in the database yet.
            kwargs["tracking_numbers"] = typed_tracking_numbers(request.POST)
        return kwargs

    def get_queryset(self, request: HttpRequest) -> QuerySet[Campaign]:
        return (
            super()
            .get_queryset(request)
            .annotate(numbers_count=_numbers_per_campaign(), **_calls_per_campaign(list_period()))
            .prefetch_related("destinations")
        )

    def changelist_view(self, request: HttpRequest, extra_context: dict | None = None):
        period = list_period()
        context = {
            "title": "Campaigns",
            "list_period": period,
            "time_zone": settings.TIME_ZONE,
            "report_url": _report_url(None, period),
            **(extra_context or {}),
        }
        return super().changelist_view(request, context)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        context = dict(extra_context or {})
        if object_id and str(object_id).isdigit():
            context["calls_url"] = _calls_url(int(object_id))
            context["report_url"] = _report_url(int(object_id), list_period())
        return super().change_view(request, object_id, form_url, context)

    @admin.display(description="Tracking numbers", ordering="numbers_count")
    def numbers(self, campaign: Campaign) -> int:
        return campaign.numbers_count

    @admin.display(description=f"Calls, last {LIST_DAYS} days", ordering="calls_count")
    def calls(self, campaign: Campaign) -> str:
        return format_html(
            '<a href="{}" title="Open this campaign\'s calls">{}</a>',
            _calls_url(campaign.pk),
            f"{campaign.calls_count:,}",
        )

    @admin.display(description="Screened", ordering="screened_count")
    def screened(self, campaign: Campaign) -> str:
        return f"{campaign.screened_count:,}"

    @admin.display(description="Acceptance rate", ordering=F("acceptance").desc(nulls_last=True))
    def acceptance_rate(self, campaign: Campaign) -> str:
        rate = percent(campaign.accepted_count, campaign.screened_count)
        return format_html(
            '<a href="{}" title="Accepted ÷ screened; open the report">{}</a>'
            ' <small class="cell-note">{} of {} screened</small>',
            _report_url(campaign.pk, list_period()),
            rate,
            f"{campaign.accepted_count:,}",
            f"{campaign.screened_count:,}",
        )

    @admin.display(description="Connect rate")
    def connect_rate(self, campaign: Campaign) -> str:
        return format_html(
            '{} <small class="cell-note">of {} calls</small>',
            percent(campaign.accepted_count, campaign.calls_count),
            f"{campaign.calls_count:,}",
        )

    @admin.display(description="Rings", ordering="numbers_count")
    def setup(self, campaign: Campaign) -> str:
        """What rings (→ one after another, + all at once), then its numbers and status."""
        labels = [destination.label for destination in campaign.destinations.all()]
        joiner = " + " if campaign.ring_strategy == Campaign.RingStrategy.SIMULTANEOUS else " → "
        count = campaign.numbers_count
        note = f"{count} tracking number{'' if count == 1 else 's'}"
        if not campaign.is_active:
            note += " · inactive"
        return format_html(
            '{} <small class="cell-note">{}</small>', joiner.join(labels) or DASH, note
        )

    @admin.display(description="Preview")
    def whisper_preview(self, campaign: Campaign | None) -> str:
        if campaign is None or campaign.pk is None:
            return "Save the campaign to hear a preview here."
        examples = [
            (f"A caller from {PREVIEW_PLACE.spoken}", campaign.whisper_for(PREVIEW_PLACE)),
            ("A caller whose city Twilio does not know", campaign.whisper_for(STATE_ONLY_PLACE)),
            ("A caller whose location is unknown", campaign.whisper_for(CallerPlace())),
        ]
        warning = ""
        template = campaign.whisper_template
        if campaign.announce_location and template:
            values = placeholder_values(
                campaign=campaign.name, place=CallerPlace(), template=template
            )
            dropped = [name for name in drops_words(template, values) if name != "campaign"]
            if dropped:
                warning = format_html(
                    '<p class="whisper-warning">Twilio often does not know where a caller is '
                    "(mobiles, unlisted numbers). Then {} says nothing and the part of the "
                    "sentence around it is left out, as the last example shows.</p>",
                    ", ".join(f"{{{name}}}" for name in dropped),
                )
        return format_html(
            '<dl class="whisper-preview">{}</dl>{}',
            format_html_join(
                "", '<dt>{}</dt><dd><q class="whisper-sentence">{}</q></dd>', examples
            ),
            warning,
        )
