"""Admin for leads: the qualification audit on a call, the qualified filter, and tags."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.helpers import ActionForm
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.html import format_html, format_html_join

from tracking import leads
from tracking.models import Call, Tag


@admin.register(Tag)
class TagAdmin(admin.ModelAdmin):
    list_display = ["name"]
    search_fields = ["name"]


class QualifiedFilter(admin.SimpleListFilter):
    title = "qualified lead"
    parameter_name = "lead"

    def lookups(self, request, model_admin) -> list[tuple[str, str]]:
        return [("yes", "Qualified lead"), ("no", "Not qualified")]

    def queryset(self, request, queryset: QuerySet[Call]) -> QuerySet[Call]:
        if self.value() == "yes":
            return queryset.filter(leads.qualified_condition())
        if self.value() == "no":
            return queryset.exclude(leads.qualified_condition())
        return queryset


class CallActionForm(ActionForm):
    tags = forms.CharField(
        required=False,
        label="Tags",
        help_text="For the tag actions: comma-separated.",
        widget=forms.TextInput(attrs={"placeholder": "callback, quote sent"}),
    )


class CallLeadActions:
    """Lead parts of the call admin: the audit field, and the tag actions."""

    action_form = CallActionForm
    lead_actions = ["add_tags", "remove_tags"]

    @admin.display(description="Qualified lead")
    def lead(self, call: Call) -> str:
        result = leads.qualification(call)
        checks = format_html_join(
            "",
            "<li>{} {}</li>",
            (("✔" if check.passed else "✘", check.reason) for check in result.checks),
        )
        return format_html(
            "<strong>{}</strong><ul class='lead-checks'>{}</ul>", result.summary, checks
        )

    @admin.display(description="Tags")
    def tag_list(self, call: Call) -> str:
        return ", ".join(tag.name for tag in call.tags.all()) or "—"

    def _tag_names(self, request: HttpRequest) -> list[str]:
        names = leads.tag_names(request.POST.get("tags", ""))
        if not names:
            self.message_user(request, "Type the tags in the Tags box first.", messages.WARNING)
        return names

    @admin.action(description="Add tags", permissions=["label"])
    def add_tags(self, request: HttpRequest, queryset: QuerySet[Call]) -> None:
        names = self._tag_names(request)
        if names:
            count = leads.calls_tag(calls=queryset, names=names)
            self.message_user(request, f"Tagged {count} call(s): {', '.join(names)}.")

    @admin.action(description="Remove tags", permissions=["label"])
    def remove_tags(self, request: HttpRequest, queryset: QuerySet[Call]) -> None:
        names = self._tag_names(request)
        if names:
            count = leads.calls_untag(calls=queryset, names=names)
            self.message_user(request, f"Removed {', '.join(names)} from {count} call(s).")
