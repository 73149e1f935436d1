"""Websites with their snippet, their sources in order, pools and pool health; the visits and
holds behind each attributed call; and the call log's source column and attribution panel."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.contrib import admin
from django.db import models
from django.db.models import Count
from django.http import HttpRequest
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join
from django.utils.timezone import localtime

from attribution import reports, selectors
from attribution.models import CallAttribution, Hold, Source, SourceNumber, Visit, Website
from tracking import phones
from tracking.models import Call

DASH = "—"


def _url(value: str) -> str:
    # Addresses are long and unbroken: let them wrap anywhere rather than widen the page.
    if not value:
        return DASH
    return format_html('<span style="overflow-wrap: anywhere">{}</span>', value)


class SourceInline(admin.StackedInline):
    model = Source
    extra = 0
    ordering = ["position", "id"]
    fields = [
        ("position", "name"),
        "rule",
        ("utm_source", "utm_medium", "utm_campaign"),
        ("click_id", "referrer_domain"),
        "campaign",
        "shows",
    ]
    readonly_fields = ["shows"]
    show_change_link = True

    @admin.display(description="Shows")
    def shows(self, source: Source) -> str:
        if source.pk is None:
            return "Save, then add its number or pool."
        return source_numbers_summary(source)


def source_numbers_summary(source: Source) -> str:
    roles = dict(
        SourceNumber.objects.filter(source=source, number__is_active=True)
        .values_list("role")
        .annotate(count=Count("pk"))
    )
    if roles.get(SourceNumber.Role.NUMBER):
        number = source.numbers.filter(role=SourceNumber.Role.NUMBER).select_related("number")
        return phones.national(number[0].number.phone_number)
    if roles.get(SourceNumber.Role.POOL):
        overflow = " + overflow" if roles.get(SourceNumber.Role.OVERFLOW) else ", no overflow"
        return f"Pool of {roles[SourceNumber.Role.POOL]}{overflow}"
    return "No number yet: visitors keep the site's own"


@admin.register(Website)
class WebsiteAdmin(admin.ModelAdmin):
    list_display = ["name", "domain_summary", "key", "is_active"]
    search_fields = ["name", "domains"]
    readonly_fields = ["key"]
    fields = [
        "name",
        "key",
        "domains",
        "swap_targets",
        "cookie_days",
        "hold_minutes",
        "is_active",
    ]
    inlines = [SourceInline]
    formfield_overrides = {models.TextField: {"widget": forms.Textarea(attrs={"rows": 3})}}
    change_form_template = "admin/attribution/website/change_form.html"

    change_list_template = "admin/attribution/website/change_list.html"

    def get_urls(self):
        return [
            path(
                "reports/",
                self.admin_site.admin_view(self.reports_view),
                name="attribution_website_reports",
            ),
            *super().get_urls(),
        ]

    def reports_view(self, request: HttpRequest):
        return reports.report_view(request, admin_site=self.admin_site)

    @admin.display(description="Domains")
    def domain_summary(self, website: Website) -> str:
        return ", ".join(website.domain_list)

    def change_view(self, request: HttpRequest, object_id, form_url="", extra_context=None):
        website = self.get_object(request, object_id)
        if website is not None:
            base = settings.PUBLIC_BASE_URL or request.build_absolute_uri("/")
            extra_context = {
                **(extra_context or {}),
                "snippet": website.snippet(base),
                "consent_snippet": website.snippet(base, consent=True),
            }
        return super().change_view(request, object_id, form_url, extra_context)


class SourceNumberFormSet(forms.BaseInlineFormSet):
    def clean(self) -> None:
        super().clean()
        roles = [
            form.cleaned_data.get("role")
            for form in self.forms
            if form.cleaned_data and not form.cleaned_data.get("DELETE")
        ]
        if SourceNumber.Role.NUMBER in roles and SourceNumber.Role.POOL in roles:
            raise forms.ValidationError(
                "A source shows either one number to every visitor or a pool, not both."
            )
        for role in (SourceNumber.Role.NUMBER, SourceNumber.Role.OVERFLOW):
            if roles.count(role) > 1:
                raise forms.ValidationError(f"Only one “{role.label}” per source.")


class SourceNumberInline(admin.TabularInline):
    model = SourceNumber
    formset = SourceNumberFormSet
    extra = 1
    fields = ["number", "role", "live_holder"]
    readonly_fields = ["live_holder"]
    autocomplete_fields = ["number"]

    @admin.display(description="Held until")
    def live_holder(self, row: SourceNumber) -> str:
        if row.pk is None or row.role != SourceNumber.Role.POOL or row.held_until is None:
            return DASH
        return f"{row.held_until:%Y-%m-%d %H:%M}"


@admin.register(Source)
class SourceAdmin(admin.ModelAdmin):
    list_display = [
        "name",
        "website",
        "rule",
        "campaign",
        "shows",
        "peak_in_use",
        "exhausted_count",
    ]
    list_filter = ["website"]
    list_select_related = ["website", "campaign"]
    search_fields = ["name"]
    inlines = [SourceNumberInline]
    readonly_fields = ["pool_health", "buy_link"]
    fieldsets = [
        (
            None,
            {
                "fields": [
                    "website",
                    "position",
                    "name",
                    "rule",
                    ("utm_source", "utm_medium", "utm_campaign"),
                    "click_id",
                    "referrer_domain",
                    "campaign",
                ]
            },
        ),
        ("Pool", {"fields": ["pool_health", "buy_link"]}),
    ]

    @admin.display(description="Shows")
    def shows(self, source: Source) -> str:
        return source_numbers_summary(source)

    @admin.display(description="Pool health")
    def pool_health(self, source: Source) -> str:
        if source.pk is None:
            return DASH
        health = selectors.pool_health(source)
        if not health.size:
            return "No pool: this source shows one number (or none)."
        figures = [
            ("Numbers in the pool", health.size),
            ("In use now", health.in_use),
            ("Peak in use", health.peak_in_use),
            ("Times the pool ran out", health.exhausted_count),
            (f"Busiest moment, last {selectors.DEMAND_DAYS} days", health.peak_demand),
            ("Suggested size", health.suggested_size or DASH),
        ]
        return format_html(
            '<table class="pool-health">{}</table><p>{}</p>',
            format_html_join("", '<tr><th scope="row">{}</th><td>{}</td></tr>', figures),
            health.advice,
        )

    @admin.display(description="More numbers")
    def buy_link(self, source: Source) -> str:
        if source.pk is None:
            return DASH
        url = reverse("admin:tracking_trackingnumber_buy")
        return format_html(
            '<a href="{}?pool={}">Buy numbers into this pool</a> (released numbers leave it).',
            url,
            source.pk,
        )


class HoldInline(admin.TabularInline):
    model = Hold
    extra = 0
    fields = ["number", "held_from", "held_until"]
    readonly_fields = ["number", "held_from", "held_until"]
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False


@admin.register(Visit)
class VisitAdmin(admin.ModelAdmin):
    """Visits as the script reported them: read-only, kept for the call audit."""

    list_display = [
        "started_at",
        "source",
        "landing_page",
        "utm_campaign",
        "utm_term",
        "page_count",
    ]
    list_filter = ["source__website", "source"]
    list_select_related = ["source"]
    date_hierarchy = "started_at"
    show_full_result_count = False
    inlines = [HoldInline]
    exclude = ["visitor"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False


class CallAttributionInline(admin.StackedInline):
    """On a call's page: where it came from, and why it was attributed so."""

    model = CallAttribution
    verbose_name = verbose_name_plural = "Source"
    can_delete = False
    fields = [
        "kind",
        "source",
        "first_time_caller",
        "landing",
        "came_from",
        "pages_seen",
        ("utm_source", "utm_medium", "utm_campaign"),
        ("utm_term", "utm_content"),
        "click_id",
        "ga_client_id",
        "first_touch",
        "why",
    ]
    readonly_fields = [
        name for item in fields for name in (item if isinstance(item, tuple) else (item,))
    ]

    def get_queryset(self, request: HttpRequest):
        return (
            super()
            .get_queryset(request)
            .select_related("source", "visit", "first_visit", "hold__number")
        )

    def has_add_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    @admin.display(description="Landing page")
    def landing(self, row: CallAttribution) -> str:
        return _url(row.landing_page)

    @admin.display(description="Referrer")
    def came_from(self, row: CallAttribution) -> str:
        return _url(row.referrer)

    @admin.display(description="Pages seen")
    def pages_seen(self, row: CallAttribution) -> str:
        if row.visit is None:
            return DASH
        return " → ".join(row.visit.pages) or DASH

    @admin.display(description="Ad click id")
    def click_id(self, row: CallAttribution) -> str:
        for name in ("gclid", "gbraid", "wbraid", "msclkid", "fbclid"):
            if getattr(row, name):
                return f"{name}: {getattr(row, name)}"
        return DASH

    @admin.display(description="First visit")
    def first_touch(self, row: CallAttribution) -> str:
        first = row.first_visit
        if first is None:
            return DASH
        return format_html(
            "{} — {} (from {})",
            f"{localtime(first.started_at):%Y-%m-%d %H:%M}",
            _url(first.landing_page),
            _url(first.referrer) if first.referrer else "no referrer",
        )

    @admin.display(description="Why")
    def why(self, row: CallAttribution) -> str:
        if row.hold is not None:
            hold = row.hold
            return (
                f"{phones.national(hold.number.phone_number)} was held by this visit from "
                f"{localtime(hold.held_from):%Y-%m-%d %H:%M:%S} until "
                f"{localtime(hold.held_until):%H:%M:%S}, when the call rang "
                f"({localtime(row.started_at):%H:%M:%S})."
            )
        return {
            CallAttribution.Kind.SOURCE: "The number is shown to every visitor of this source.",
            CallAttribution.Kind.OVERFLOW: "The overflow number: the pool was exhausted.",
            CallAttribution.Kind.UNATTRIBUTED: "Nobody held this pool number when the call rang.",
            CallAttribution.Kind.OFFLINE: "A campaign number, not shown on a website.",
        }.get(row.kind, DASH)


@admin.display(description="Source", ordering="attribution__source__name")
def call_source(call: Call) -> str:
    try:
        attribution = call.attribution
    except CallAttribution.DoesNotExist:
        return DASH
    if attribution.source is not None:
        return attribution.source.name
    if attribution.kind == CallAttribution.Kind.UNATTRIBUTED:
        return "Unattributed"
    return DASH


def _extend_call_admin() -> None:
    """The call log is the tracking app's; website attribution adds its column and panel."""
    call_admin = admin.site.get_model_admin(Call)
    shown = list(call_admin.list_display)
    after = shown.index("campaign") + 1 if "campaign" in shown else len(shown)
    call_admin.list_display = [*shown[:after], call_source, *shown[after:]]
    call_admin.list_select_related = [
        *call_admin.list_select_related,
        "attribution__source",
    ]
    call_admin.list_filter = [
        *call_admin.list_filter,
        "attribution__source",
    ]
    call_admin.inlines = [*call_admin.inlines, CallAttributionInline]


_extend_call_admin()
