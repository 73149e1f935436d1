"""Webhook endpoints and their delivery log in the admin."""

from __future__ import annotations

import json

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html

from integrations import services
from integrations.models import Attempt, Delivery, Endpoint, EventType


class EndpointForm(forms.ModelForm):
    url = forms.URLField(
        label="URL", max_length=500, assume_scheme="https", help_text="Where events are POSTed."
    )
    events = forms.MultipleChoiceField(
        choices=EventType.choices,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": "Tick at least one event to send."},
    )

    class Meta:
        model = Endpoint
        fields = ["url", "description", "events", "is_active"]

    def clean_url(self) -> str:
        url = self.cleaned_data["url"]
        if not url.lower().startswith(("https://", "http://")):
            raise forms.ValidationError("Enter an http(s) address.")
        return url


@admin.register(Endpoint)
class EndpointAdmin(admin.ModelAdmin):
    form = EndpointForm
    list_display = ["url", "description", "event_list", "is_active", "disabled_reason"]
    list_filter = ["is_active"]
    search_fields = ["url", "description"]
    readonly_fields = ["signing_secret", "disabled_reason", "created_at", "deliveries_link"]
    change_form_template = "admin/integrations/endpoint/change_form.html"

    def get_fields(self, request, obj=None):
        fields = ["url", "description", "events", "is_active"]
        return fields + (self.readonly_fields if obj else [])

    @admin.display(description="events")
    def event_list(self, obj: Endpoint) -> str:
        return ", ".join(obj.events)

    @admin.display(description="signing secret")
    def signing_secret(self, obj: Endpoint) -> str:
        hint = f"{obj.secret_hint} (shown in full once, when made; rotate it to get a new one)"
        if obj.previous_secret and obj.previous_until:
            hint += f"; the previous secret also signs until {obj.previous_until:%Y-%m-%d %H:%M}"
        return hint

    @admin.display(description="deliveries")
    def deliveries_link(self, obj: Endpoint) -> str:
        url = reverse("admin:integrations_delivery_changelist") + f"?endpoint__id__exact={obj.pk}"
        return format_html('<a href="{}">Delivery log</a>', url)

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path("<int:pk>/rotate/", view(self.rotate_view), name="integrations_endpoint_rotate"),
            path("<int:pk>/test/", view(self.test_view), name="integrations_endpoint_test"),
            *super().get_urls(),
        ]

    def response_add(self, request, obj, post_url_continue=None):
        return self._show_secret(request, obj, "Endpoint added")

    def _show_secret(self, request: HttpRequest, endpoint: Endpoint, title: str) -> HttpResponse:
        context = {
            **self.admin_site.each_context(request),
            "title": title,
            "endpoint": endpoint,
            "secret": endpoint.secret,
            "opts": self.opts,
            "change_url": reverse("admin:integrations_endpoint_change", args=[endpoint.pk]),
        }
        response = TemplateResponse(request, "admin/integrations/endpoint/secret.html", context)
        response["Cache-Control"] = "no-store"
        return response

    def rotate_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        endpoint = get_object_or_404(Endpoint, pk=pk)
        if not self.has_change_permission(request, endpoint):
            raise PermissionDenied
        if request.method != "POST":
            return HttpResponseRedirect(reverse("admin:integrations_endpoint_change", args=[pk]))
        services.endpoint_rotate_secret(endpoint=endpoint)
        return self._show_secret(request, endpoint, "New signing secret")

    def test_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        endpoint = get_object_or_404(Endpoint, pk=pk)
        if not self.has_change_permission(request, endpoint):
            raise PermissionDenied
        if request.method == "POST":
            delivery = services.endpoint_send_test(endpoint=endpoint)
            self.message_user(
                request,
                "A test event is on its way; its delivery shows in the log in a moment.",
                messages.SUCCESS,
            )
            return HttpResponseRedirect(
                reverse("admin:integrations_delivery_change", args=[delivery.pk])
            )
        return HttpResponseRedirect(reverse("admin:integrations_endpoint_change", args=[pk]))


class AttemptInline(admin.TabularInline):
    model = Attempt
    extra = 0
    can_delete = False
    fields = ["number", "started_at", "status_code", "latency_ms", "answer"]
    readonly_fields = fields

    @admin.display(description="response (excerpt)")
    def answer(self, obj: Attempt) -> str:
        # The receiver's text is untrusted: format_html escapes it.
        return format_html(
            "<pre class='webhook-answer'>{}</pre>", obj.response_excerpt or obj.error
        )

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Delivery)
class DeliveryAdmin(admin.ModelAdmin):
    list_display = [
        "created_at",
        "event_type",
        "event_id",
        "endpoint",
        "status",
        "attempts",
        "last_status_code",
        "next_attempt_at",
    ]
    list_filter = ["status", "event__type", "endpoint"]
    list_select_related = ["event", "endpoint"]
    search_fields = ["event__event_id", "event__call_sid"]
    date_hierarchy = "created_at"
    show_full_result_count = False
    inlines = [AttemptInline]
    actions = ["send_again"]
    fields = [
        "event_type",
        "event_id",
        "endpoint",
        "status",
        "attempts",
        "last_status_code",
        "next_attempt_at",
        "delivered_at",
        "payload",
    ]
    readonly_fields = fields
    change_form_template = "admin/integrations/delivery/change_form.html"

    @admin.display(description="event", ordering="event__type")
    def event_type(self, obj: Delivery) -> str:
        return obj.event.type

    @admin.display(description="webhook-id")
    def event_id(self, obj: Delivery) -> str:
        return obj.event.event_id

    @admin.display(description="payload")
    def payload(self, obj: Delivery) -> str:
        text = json.dumps(obj.event.payload, indent=2, sort_keys=True)
        return format_html("<pre>{}</pre>", text)

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        # The log stays whole; the daily prune forgets old events.
        return False

    def has_send_permission(self, request) -> bool:
        return request.user.has_perm("integrations.change_endpoint")

    @admin.action(description="Send again", permissions=["send"])
    def send_again(self, request: HttpRequest, queryset: QuerySet[Delivery]) -> None:
        count = 0
        for delivery in queryset.select_related("event", "endpoint"):
            services.delivery_send_again(delivery=delivery)
            count += 1
        self.message_user(request, f"{count} deliveries sent again.", messages.SUCCESS)

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path("<int:pk>/again/", view(self.again_view), name="integrations_delivery_again"),
            *super().get_urls(),
        ]

    def again_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        delivery = get_object_or_404(Delivery.objects.select_related("event", "endpoint"), pk=pk)
        if not self.has_send_permission(request):
            raise PermissionDenied
        if request.method != "POST":
            return HttpResponseRedirect(reverse("admin:integrations_delivery_change", args=[pk]))
        again = services.delivery_send_again(delivery=delivery)
        self.message_user(request, "Sent again, as a new delivery.", messages.SUCCESS)
        return HttpResponseRedirect(reverse("admin:integrations_delivery_change", args=[again.pk]))

    def render_change_form(self, request, context, *args, **kwargs):
        context["can_send"] = self.has_send_permission(request)
        return super().render_change_form(request, context, *args, **kwargs)
