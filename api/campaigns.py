"""Campaigns and tracking numbers, read and written as the admin reads and writes them."""

from __future__ import annotations

from django.contrib import admin
from django.db import transaction
from django.db.models import ProtectedError, QuerySet
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status, viewsets
from rest_framework.response import Response

from api import adminforms
from api.errors import Conflict
from attribution.models import Source, SourceNumber
from tracking.models import Campaign, Destination, Holiday, OpeningHours, TrackingNumber


class DestinationSerializer(serializers.ModelSerializer):
    id = serializers.IntegerField(required=False, help_text="Keep this row (omit for a new one).")

    class Meta:
        model = Destination
        fields = ["id", "label", "phone_number"]


class OpeningHoursSerializer(serializers.ModelSerializer):
    id = serializers.IntegerField(required=False)
    opens = serializers.TimeField(format="%H:%M")
    closes = serializers.TimeField(format="%H:%M")

    class Meta:
        model = OpeningHours
        fields = ["id", "weekday", "opens", "closes"]


class HolidaySerializer(serializers.ModelSerializer):
    id = serializers.IntegerField(required=False)

    class Meta:
        model = Holiday
        fields = ["id", "date", "name"]


class CampaignNumberSerializer(serializers.ModelSerializer):
    class Meta:
        model = TrackingNumber
        fields = ["id", "phone_number", "label", "is_active"]


CAMPAIGN_INLINES = {"destinations", "opening_hours", "holidays"}


class CampaignSerializer(serializers.ModelSerializer):
    """A campaign with its parts. Writing a list of parts replaces them: items with an `id`
    keep their row, items without one are added, rows left out are deleted. Destinations ring
    in list order."""

    destinations = DestinationSerializer(many=True)
    opening_hours = OpeningHoursSerializer(many=True, required=False)
    holidays = HolidaySerializer(many=True, required=False)
    numbers = CampaignNumberSerializer(many=True, read_only=True)

    class Meta:
        model = Campaign
        exclude: list[str] = []
        read_only_fields = ["created_at", "updated_at"]


class NumberSerializer(serializers.ModelSerializer):
    class Meta:
        model = TrackingNumber
        fields = [
            "id",
            "phone_number",
            "campaign",
            "label",
            "forward_to",
            "is_active",
            "twilio_sid",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["twilio_sid", "created_at", "updated_at"]


class AdminFormViewSet(viewsets.ModelViewSet):
    """List, read, create (POST), change (PATCH) and delete, each write through the admin's
    form for the model."""

    http_method_names = ["get", "post", "patch", "delete", "head", "options"]
    lookup_value_regex = r"[0-9]{1,18}"
    inlines: set[str] = frozenset()

    @property
    def permission_model(self):
        return self.queryset.model

    def _read_only(self) -> set[str]:
        serializer = self.get_serializer()
        return {name for name, field in serializer.fields.items() if field.read_only} | {"id"}

    def create(self, request, *args, **kwargs) -> Response:
        obj = adminforms.submit(
            request,
            self.queryset.model,
            request.data,
            inlines=self.inlines,
            read_only=self._read_only(),
        )
        return Response(self._fresh(obj), status=status.HTTP_201_CREATED)

    def partial_update(self, request, *args, **kwargs) -> Response:
        obj = adminforms.submit(
            request,
            self.queryset.model,
            request.data,
            instance=self.get_object(),
            inlines=self.inlines,
            read_only=self._read_only(),
        )
        return Response(self._fresh(obj))

    def destroy(self, request, *args, **kwargs) -> Response:
        obj = self.get_object()
        model_admin = admin.site.get_model_admin(self.queryset.model)
        shown = str(obj)
        try:
            # As the admin's delete view: logged first, so both happen or neither does.
            with transaction.atomic():
                model_admin.log_deletions(request._request, [obj])
                model_admin.delete_model(request._request, obj)
        except ProtectedError as error:
            kept = ", ".join(sorted(str(row) for row in error.protected_objects)[:10])
            raise Conflict(
                f"“{shown}” is still used by: {kept}. Move or delete those first."
            ) from None
        return Response(status=status.HTTP_204_NO_CONTENT)

    def _fresh(self, obj) -> dict:
        return self.get_serializer(self.get_queryset().get(pk=obj.pk)).data


@extend_schema(tags=["campaigns"])
class CampaignViewSet(AdminFormViewSet):
    """Campaigns with their destinations, opening hours, holidays and tracking numbers."""

    queryset = Campaign.objects.prefetch_related(
        "destinations", "opening_hours", "holidays", "numbers"
    )
    serializer_class = CampaignSerializer
    inlines = CAMPAIGN_INLINES

    def get_queryset(self) -> QuerySet[Campaign]:
        return super().get_queryset().order_by("name", "id")


@extend_schema(tags=["numbers"])
class NumberViewSet(AdminFormViewSet):
    """Tracking numbers: the Twilio numbers callers dial, each in one campaign."""

    queryset = TrackingNumber.objects.all()
    serializer_class = NumberSerializer


class SourceNumberSerializer(serializers.ModelSerializer):
    id = serializers.IntegerField(required=False, help_text="Keep this row (omit for a new one).")

    class Meta:
        model = SourceNumber
        fields = ["id", "number", "role"]


class SourceSerializer(serializers.ModelSerializer):
    """A website source: the rule that picks it, the campaign its calls follow, and the numbers
    it shows (one number, or a pool with an optional overflow number). Writing `numbers`
    replaces them, as a campaign's parts are replaced."""

    numbers = SourceNumberSerializer(many=True, required=False)

    class Meta:
        model = Source
        fields = [
            "id",
            "website",
            "position",
            "name",
            "rule",
            "utm_source",
            "utm_medium",
            "utm_campaign",
            "click_id",
            "referrer_domain",
            "campaign",
            "numbers",
        ]


@extend_schema(tags=["sources"])
class SourceViewSet(AdminFormViewSet):
    """Website sources (see the attribution admin): where a visit came from, and the numbers
    its visitors see."""

    queryset = Source.objects.prefetch_related("numbers").order_by("website", "position", "id")
    serializer_class = SourceSerializer
    inlines = {"numbers"}
