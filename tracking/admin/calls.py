"""The read-only call log: the list, a call's page, its recordings, export and reports."""

from __future__ import annotations

from django.contrib import admin, messages
from django.contrib.admin.options import IncorrectLookupParameters
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, StreamingHttpResponse
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.decorators import method_decorator
from django.utils.html import format_html
from django.views.decorators.http import require_POST

from tracking import leads, phones, reports, screening, search, services
from tracking.admin import call_timeline, display
from tracking.admin.call_export import CSV_COLUMNS, csv_lines
from tracking.admin.call_list import (
    CallerCountryFilter,
    CallerStateFilter,
    CappedCountPaginator,
    PeriodsBetweenBounds,
)
from tracking.admin.display import DASH, minutes_seconds
from tracking.admin.leads import CallLeadActions, QualifiedFilter
from tracking.admin.menus import menu_column
from tracking.admin.screening import CallSpamActions, SpamFilter
from tracking.models import Call, CallLeg, Recording
from whisper import twilio_api
from whisper.recording_audio import recording_audio_response


class ReadOnlyCallPartInline(admin.TabularInline):
    """A part of a call's log (its legs, its recordings): shown to whoever may view calls,
    written by Twilio's webhooks only."""

    extra = 0
    can_delete = False

    def has_view_permission(self, request: HttpRequest, obj=None) -> bool:
        return request.user.has_perm("tracking.view_call")

    def has_add_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False


class CallLegInline(ReadOnlyCallPartInline):
    model = CallLeg
    verbose_name = "destination rung"
    verbose_name_plural = "Destinations rung"
    fields = ["order", "label", "phone", "result_label", "whispered_at", "decided_at"]
    readonly_fields = fields

    @admin.display(description="Order")
    def order(self, leg: CallLeg) -> int:
        return leg.position + 1

    @admin.display(description="Phone")
    def phone(self, leg: CallLeg) -> str:
        return phones.national(leg.phone_number)

    @admin.display(description="Result")
    def result_label(self, leg: CallLeg) -> str:
        return format_html(
            '<span class="leg-result leg-result-{}">{}</span>', leg.result, leg.get_result_display()
        )


class RecordingInline(ReadOnlyCallPartInline):
    model = Recording
    fields = ["kind", "recording_sid", "status", "length", "transcript", "created_at"]
    readonly_fields = fields

    @admin.display(description="Length")
    def length(self, recording: Recording) -> str:
        return minutes_seconds(recording.duration_seconds)

    @admin.display(description="Transcription")
    def transcript(self, recording: Recording) -> str:
        if recording.transcription:
            return recording.transcription
        if recording.transcription_status in ("", "completed"):
            return DASH
        return f"Transcription {recording.transcription_status}."


@admin.register(Call)
class CallAdmin(CallSpamActions, CallLeadActions, admin.ModelAdmin):
    # Six columns that fit beside the filters at 1440 px: where the call came from and who took
    # it each read as one cell, the details under the main line.
    list_display = ["started", "outcome_label", "source", "caller", "taken_by"]
    list_display_links = ["started"]
    list_filter = [
        "campaign",
        "outcome",
        SpamFilter,
        QualifiedFilter,
        "tags",
        "after_hours",
        CallerCountryFilter,
        CallerStateFilter,
    ]
    list_select_related = ["campaign", "tracking_number"]
    date_hierarchy = "started_at"

    # tracking.search reads the indexes that keep it fast on millions of calls.
    search_fields = ["call_sid"]
    search_help_text = (
        "Part of a caller's number (555-0165), the start of a Call SID, a caller's name or "
        "city, a tracking number's label, or a campaign."
    )
    ordering = ["-started_at"]
    show_full_result_count = False
    paginator = CappedCountPaginator
    inlines = [CallLegInline, RecordingInline]
    readonly_fields = ["attestation", "lead", "tag_list"]
    actions = [*CallSpamActions.actions, *CallLeadActions.lead_actions]
    # The call's page leads with its timeline; the fields and inlines follow, folded.
    change_form_template = "admin/tracking/call/change_form.html"
    fieldsets = [
        (
            None,
            {
                "fields": [
                    "call_sid",
                    "started_at",
                    "outcome",
                    "answered_by",
                    "after_hours",
                    "campaign",
                    "tracking_number",
                    "called_number",
                    "forwarded_to",
                ]
            },
        ),
        (
            "Caller",
            {
                "fields": [
                    "caller_number",
                    "caller_name",
                    "crm_name",
                    "crm_note",
                    "caller_city",
                    "caller_state",
                    "caller_zip",
                    "caller_country",
                ]
            },
        ),
        ("Menu", {"fields": ["menu_at", "menu"]}),
        (
            "Whisper and answer",
            {
                "fields": [
                    "whispered_at",
                    "decision",
                    "decided_at",
                    "dial_status",
                    "dial_bridged",
                    "dial_call_sid",
                    "voicemail_at",
                ]
            },
        ),
        (
            "Lead",
            {"fields": ["lead", "tag_list"]},
        ),
        (
            "Screening",
            {
                "fields": [
                    "attestation",
                    "line_type",
                    "screening_reason",
                    "challenge_passed",
                    "spam",
                ]
            },
        ),
        (
            "End",
            {
                "fields": [
                    "call_status",
                    "ended_at",
                    "talk_seconds",
                    "duration_seconds",
                    "notified_at",
                    "updated_at",
                ]
            },
        ),
    ]

    # Calls are written by Twilio's webhooks only; an edited log would make reports lie.

    def get_queryset(self, request: HttpRequest) -> QuerySet[Call]:
        calls = super().get_queryset(request)
        return PeriodsBetweenBounds(model=calls.model, query=calls.query, using=calls.db)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Call | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Call | None = None) -> bool:
        # Kept for superusers only, to honour a caller's request to erase their data.
        return request.user.is_superuser

    @admin.display(description="Menu choice", ordering="menu_choice")
    def menu(self, call: Call) -> str:
        return menu_column(call)

    @admin.display(description="Caller ID attestation")
    def attestation(self, call: Call) -> str:
        label = screening.attestation_label(call.stir_verstat)
        return f"{label} ({call.stir_verstat})" if call.stir_verstat else label

    @admin.display(description="Outcome", ordering="outcome")
    def outcome_label(self, call: Call) -> str:
        return format_html(
            '<span class="call-outcome call-outcome-{}">{}</span>',
            call.outcome,
            call.get_outcome_display(),
        )

    def get_search_results(self, request, queryset, search_term):
        condition = search.calls_matching(search_term)
        if condition is None:
            # Nothing to search, or too short to mean anything ("zz"): no calls, not all.
            return (queryset.none() if search_term.strip() else queryset), False
        return queryset.filter(condition), False

    def change_view(self, request, object_id, form_url="", extra_context=None):
        call = self.get_object(request, object_id)
        context = dict(extra_context or {})
        if call is not None:
            legs = list(call.legs.order_by("position"))
            recordings = list(call.recordings.all())
            context.update(
                title=f"Call from {display.phone(call.caller_number)}",
                subtitle=None,
                call=call,
                timeline=call_timeline.timeline(call, legs, recordings),
                caller_place=display.place(call.place),
                caller_name=display.name(call.caller_name),
                started=display.when(call.started_at),
                twilio_missing=twilio_api.missing_settings(),
            )
        return super().change_view(request, object_id, form_url, context)

    def changelist_view(self, request: HttpRequest, extra_context: dict | None = None):
        return super().changelist_view(request, {"title": "Calls", **(extra_context or {})})

    @admin.display(description="Started", ordering="started_at")
    def started(self, call: Call) -> str:
        return display.when(call.started_at)

    @admin.display(description="Campaign and number")
    def source(self, call: Call) -> str:
        if call.campaign is None:
            return format_html(
                '{} <small class="cell-note">{}</small>',
                "No campaign",
                phones.national(call.called_number) if call.called_number else DASH,
            )
        number = call.tracking_number
        note = (
            (number.label or phones.national(number.phone_number)) if number else "Number deleted"
        )
        if call.menu_at is not None:
            note = f"{note} · menu: {menu_column(call)}"
        return format_html('{} <small class="cell-note">{}</small>', call.campaign.name, note)

    @admin.display(description="Caller", ordering="caller_number")
    def caller(self, call: Call) -> str:
        number = display.phone(call.caller_number)
        name = display.name(call.caller_name)
        return format_html(
            '{} <small class="cell-note">{}</small>',
            f"{number} · {name}" if name else number,
            display.place(call.place) or "Place unknown",
        )

    @admin.display(description="Taken by", ordering="answered_by")
    def taken_by(self, call: Call) -> str:
        if not call.answered_by:
            return DASH
        return format_html(
            '{} <small class="cell-note">talked {}</small>',
            call.answered_by,
            minutes_seconds(call.talk_seconds),
        )

    def get_urls(self):
        extra = [
            path(
                "export/",
                self.admin_site.admin_view(self.export_view),
                name="tracking_call_export",
            ),
            path(
                "reports/",
                self.admin_site.admin_view(self.reports_view),
                name="tracking_reports",
            ),
            path(
                "<int:call_id>/called-back/",
                self.admin_site.admin_view(self.called_back_view),
                name="tracking_call_callback_done",
            ),
            path(
                "recordings/<int:recording_id>/audio/",
                self.admin_site.admin_view(self.recording_audio_view),
                name="tracking_call_recording_audio",
            ),
        ]
        # Before the model's own URLs, whose "<object_id>/" would swallow these paths.
        return extra + super().get_urls()

    def export_view(self, request: HttpRequest) -> HttpResponse:
        """The calls the change list shows with the same filters and search, as streamed CSV."""
        if not request.user.has_perm("tracking.view_call"):
            raise PermissionDenied
        try:
            changelist = self.get_changelist_instance(_without_page(request))
        except IncorrectLookupParameters:
            return HttpResponseRedirect(reverse("admin:tracking_call_changelist") + "?e=1")
        rows = changelist.queryset.annotate(qualified_lead=leads.qualified_expression())
        rows = rows.values_list("pk", *(field for _, field in CSV_COLUMNS if field))
        filename = timezone.localtime().strftime("calls-%Y%m%d-%H%M.csv")
        return StreamingHttpResponse(
            csv_lines(leads.with_tags(rows.iterator(chunk_size=2000))),
            content_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="{filename}"'},
        )

    def reports_view(self, request: HttpRequest) -> HttpResponse:
        if not request.user.has_perm("tracking.view_call"):
            raise PermissionDenied
        return reports.report_view(request, admin_site=self.admin_site)

    @method_decorator(require_POST)
    def called_back_view(self, request: HttpRequest, call_id: int) -> HttpResponse:
        """The dashboard's "Called back" button: the call leaves the call-back list."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        call = Call.objects.filter(pk=call_id).first()
        if call is None:
            messages.error(request, "That call is no longer in the call log.")
        elif services.call_mark_called_back(call_id=call.pk, by=request.user.get_username()):
            number = phones.national(call.caller_number) if call.caller_number else "the caller"
            messages.success(request, f"Marked {number} as called back.")
        else:
            messages.info(request, "That call was already marked as called back.")
        return HttpResponseRedirect(reverse("admin:index") + "#call-backs")

    def recording_audio_view(self, request: HttpRequest, recording_id: int) -> HttpResponse:
        """A recording's audio, streamed from Twilio: the browser cannot fetch it itself, as
        Twilio asks for the account's credentials.

        1. Only for people who may view calls.
        2. Ask Twilio for the audio by the recording's SID (passing on a player's byte range).
        3. Stream it back as it comes; a Twilio that has no such recording gives a 404 page,
           any other failure a 502 page, with what to do about it.
        """
        if not self.has_view_permission(request):
            raise PermissionDenied
        recording = Recording.objects.filter(pk=recording_id).select_related("call").first()
        if recording is None:
            return self._recording_unavailable(
                request, None, "There is no such recording in the call log.", status=404
            )
        try:
            media = twilio_api.recording_media(
                sid=recording.recording_sid, byte_range=request.headers.get("Range", "")
            )
        except twilio_api.TwilioNotConfigured as error:
            return self._recording_unavailable(
                request, recording, error.message, status=503, not_configured=True
            )
        except twilio_api.TwilioError as error:
            status = 404 if error.not_found else 502
            return self._recording_unavailable(request, recording, error.message, status=status)
        return recording_audio_response(recording, media)

    def _recording_unavailable(
        self,
        request: HttpRequest,
        recording: Recording | None,
        message: str,
        *,
        status: int,
        not_configured: bool = False,
    ) -> HttpResponse:
        return TemplateResponse(
            request,
            "admin/tracking/call/recording_unavailable.html",
            {
                **self.admin_site.each_context(request),
                "opts": self.model._meta,
                "title": "Recording unavailable",
                "recording": recording,
                "message": message,
                "not_configured": not_configured,
            },
            status=status,
        )


def _without_page(request: HttpRequest) -> HttpRequest:
    # The export covers every page of the list, and a page number past the end is an error.
    request.GET = request.GET.copy()
    request.GET.pop("p", None)
    return request
