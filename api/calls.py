"""The call log, read-only: a cursor-paged, filtered list and each call with its parts."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.urls import reverse
from django.utils import timezone
from django_filters import rest_framework as filters
from rest_framework import serializers, viewsets

from api.pagination import CallCursorPagination
from attribution.models import CallAttribution, Source
from tracking import phones
from tracking.models import Call, CallLeg, Campaign, Recording, TrackingNumber


class CampaignRef(serializers.ModelSerializer):
    class Meta:
        model = Campaign
        fields = ["id", "name"]


class SourceRef(serializers.ModelSerializer):
    class Meta:
        model = Source
        fields = ["id", "name"]


class NumberRef(serializers.ModelSerializer):
    class Meta:
        model = TrackingNumber
        fields = ["id", "phone_number", "label"]


CALL_FIELDS = [
    # Stable for good; the Call SID is replaced when a call is anonymised (purge_calls).
    "id",
    "call_sid",
    "started_at",
    "ended_at",
    "updated_at",
    "outcome",
    "campaign",
    "tracking_number",
    "called_number",
    "caller_number",
    "caller_name",
    "caller_city",
    "caller_state",
    "caller_zip",
    "caller_country",
    "after_hours",
    "forwarded_to",
    "answered_by",
    "decision",
    "whispered_at",
    "decided_at",
    "voicemail_at",
    "talk_seconds",
    "duration_seconds",
    "source",
    "first_time_caller",
    # Spam screening (see README, "Spam screening and qualified leads").
    "spam",
    "stir_verstat",
    "line_type",
    "screening_reason",
    "challenge_passed",
]


class CallSerializer(serializers.ModelSerializer):
    campaign = CampaignRef(read_only=True, allow_null=True)
    tracking_number = NumberRef(read_only=True, allow_null=True)
    # The call's website attribution, when it has one (null otherwise).
    source = SourceRef(source="attribution.source", read_only=True, allow_null=True)
    first_time_caller = serializers.BooleanField(
        source="attribution.first_time_caller",
        read_only=True,
        allow_null=True,
        help_text="The caller's first call to the business; null when unknown (hidden number).",
    )

    class Meta:
        model = Call
        fields = CALL_FIELDS
        read_only_fields = CALL_FIELDS


class LegSerializer(serializers.ModelSerializer):
    class Meta:
        model = CallLeg
        fields = [
            "position",
            "label",
            "phone_number",
            "result",
            "whispered_at",
            "decision",
            "decided_at",
            "status",
        ]
        read_only_fields = fields


class RecordingSerializer(serializers.ModelSerializer):
    audio_url = serializers.SerializerMethodField(
        help_text="The MP3, through this API (send the same token); null when Twilio has none."
    )

    class Meta:
        model = Recording
        fields = [
            "recording_sid",
            "kind",
            "status",
            "duration_seconds",
            "transcription",
            "transcription_status",
            "created_at",
            "audio_url",
        ]
        read_only_fields = fields

    def get_audio_url(self, recording: Recording) -> str | None:
        if recording.status in ("absent", "failed"):
            return None
        path = reverse("api:recording-audio", args=[recording.recording_sid])
        request = self.context.get("request")
        return request.build_absolute_uri(path) if request else path


class AttributionSerializer(serializers.ModelSerializer):
    source = SourceRef(read_only=True, allow_null=True)

    class Meta:
        model = CallAttribution
        fields = [
            "kind",
            "website",
            "source",
            "visit",
            "first_time_caller",
            "utm_source",
            "utm_medium",
            "utm_campaign",
            "utm_term",
            "utm_content",
            "gclid",
            "gbraid",
            "wbraid",
            "msclkid",
            "fbclid",
            "landing_page",
            "referrer",
            "ga_client_id",
        ]
        read_only_fields = fields


class CallDetailSerializer(CallSerializer):
    legs = LegSerializer(many=True, read_only=True)
    recordings = RecordingSerializer(many=True, read_only=True)
    attribution = AttributionSerializer(read_only=True, allow_null=True)

    class Meta(CallSerializer.Meta):
        fields = [*CALL_FIELDS, "legs", "recordings", "attribution"]
        read_only_fields = fields


def within_calendar(value: date | datetime) -> None:
    """Days and instants that can be shifted by a day and a time zone: near year 1 or 9999
    Python cannot, and nobody's calls are there."""
    if not 1900 <= value.year <= 9000:
        raise ValidationError("Enter a date between the years 1900 and 9000.", code="out_of_range")


def _day_start(day) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min), timezone.get_default_timezone())


class CallFilter(filters.FilterSet):
    start = filters.DateFilter(
        method="filter_start",
        label="First day (YYYY-MM-DD, in the site's time zone).",
        validators=[within_calendar],
    )
    end = filters.DateFilter(
        method="filter_end",
        label="Last day, included (YYYY-MM-DD, in the site's time zone).",
        validators=[within_calendar],
    )
    campaign = filters.ModelChoiceFilter(queryset=Campaign.objects.all(), label="Campaign id.")
    number = filters.ModelChoiceFilter(
        field_name="tracking_number",
        queryset=TrackingNumber.objects.all(),
        label="Tracking number id.",
    )
    outcome = filters.MultipleChoiceFilter(
        choices=Call.Outcome.choices,
        label="One or more outcomes (repeat the parameter).",
        # One column of the call itself: no join can repeat a row, and SELECT DISTINCT would
        # sort every matching call before the first page.
        distinct=False,
    )
    # One attribution row per call, so the join repeats no call (no DISTINCT). The rows are
    # found through the index on the attribution's source (its foreign key) and joined on the
    # call's unique sid; a source's calls are then sorted for the page, so a page costs in
    # proportion to the source's calls in the filtered range. Not measured at scale: with
    # `start`/`end` the range stays small.
    source = filters.ModelChoiceFilter(
        field_name="attribution__source",
        queryset=Source.objects.all(),
        label="Website source id.",
    )
    first_time_caller = filters.TypedChoiceFilter(
        method="filter_first_time_caller",
        choices=[("true", "true"), ("false", "false")],
        coerce=lambda value: value == "true",
        label="true: callers calling for the first time; false: callers who called before.",
    )
    caller_number = filters.CharFilter(
        method="filter_caller_number", max_length=64, label="The caller's number, in any format."
    )
    updated_since = filters.IsoDateTimeFilter(
        field_name="updated_at",
        lookup_expr="gte",
        label="Calls changed at or after this instant (ISO 8601), e.g. to sync changes.",
        validators=[within_calendar],
    )

    class Meta:
        model = Call
        fields = []

    def filter_start(self, calls: QuerySet[Call], name: str, day) -> QuerySet[Call]:
        return calls.filter(started_at__gte=_day_start(day))

    def filter_end(self, calls: QuerySet[Call], name: str, day) -> QuerySet[Call]:
        return calls.filter(started_at__lt=_day_start(day + timedelta(days=1)))

    def filter_first_time_caller(
        self, calls: QuerySet[Call], name: str, value: bool
    ) -> QuerySet[Call]:
        return calls.filter(attribution__first_time_caller=value)

    def filter_caller_number(self, calls: QuerySet[Call], name: str, value: str) -> QuerySet[Call]:
        # Stored as Twilio sent it: E.164 for real numbers, words such as "anonymous" otherwise.
        return calls.filter(caller_number=phones.normalize(value))

    def is_valid(self) -> bool:
        valid = super().is_valid()
        data = self.form.cleaned_data if valid else {}
        if data.get("start") and data.get("end") and data["start"] > data["end"]:
            self.form.add_error("end", "The last day is before the first.")
            return False
        return valid


class CallViewSet(viewsets.ReadOnlyModelViewSet):
    """Calls, newest first. Filter with the query parameters below; follow `next` for more."""

    permission_model = Call
    queryset = Call.objects.select_related("campaign", "tracking_number", "attribution__source")
    pagination_class = CallCursorPagination
    filterset_class = CallFilter
    lookup_field = "call_sid"
    lookup_value_regex = r"[A-Za-z0-9]{1,64}"

    def get_serializer_class(self):
        return CallDetailSerializer if self.action == "retrieve" else CallSerializer

    def get_queryset(self) -> QuerySet[Call]:
        calls = super().get_queryset()
        if self.action == "retrieve":
            calls = calls.prefetch_related("legs", "recordings")
        return calls
