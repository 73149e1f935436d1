"""The campaign's menu in the admin: its options, edited inline with the campaign."""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.http import HttpRequest

from tracking.menus import MAX_OPTIONS, MenuOption
from tracking.models import Call, Destination


class MenuOptionFormSet(forms.BaseInlineFormSet):
    def clean(self) -> None:
        super().clean()
        kept = [
            form.cleaned_data
            for form in self.forms
            if form.cleaned_data and not form.cleaned_data.get("DELETE")
        ]
        if sum(1 for data in kept if data.get("is_default")) > 1:
            raise ValidationError("Only one option can be the default.")
        if kept and not (self.instance.menu_greeting or "").strip():
            raise ValidationError("Write the menu greeting above, or remove the options.")


class MenuOptionInline(admin.TabularInline):
    """Options of the campaign's menu; whoever may edit the campaign may edit them."""

    model = MenuOption
    formset = MenuOptionFormSet
    fields = ["key", "label", "words", "destinations", "is_default"]
    extra = 0
    max_num = MAX_OPTIONS
    verbose_name = "menu option"
    verbose_name_plural = "Menu options (up to nine)"
    placed_after = "Menu"

    def get_formset(self, request: HttpRequest, obj=None, **kwargs):
        formset = super().get_formset(request, obj, **kwargs)
        field = formset.form.base_fields["destinations"]
        # Only this campaign's phones (a new campaign has none yet: every destination rings).
        field.queryset = (
            Destination.objects.filter(campaign=obj) if obj else Destination.objects.none()
        )
        field.widget = forms.CheckboxSelectMultiple(choices=field.choices)
        field.widget.choices = field.choices
        return formset

    def _campaign_perm(self, request: HttpRequest, action: str) -> bool:
        return request.user.has_perm(f"tracking.{action}_campaign")

    def has_view_permission(self, request: HttpRequest, obj=None) -> bool:
        return self._campaign_perm(request, "view") or self._campaign_perm(request, "change")

    def has_add_permission(self, request: HttpRequest, obj=None) -> bool:
        return self._campaign_perm(request, "add" if obj is None else "change")

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return self._campaign_perm(request, "add" if obj is None else "change")

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return obj is not None and self._campaign_perm(request, "change")


MENU_FIELDSET = (
    "Menu",
    {
        "description": (
            "Optional. Before anything rings, the caller hears the greeting and the options "
            "(“For Billing, press 1.”), and presses a key or says the option's words; the "
            "option rings its destinations in the order above. No answer takes the default "
            "option; a wrong key plays the menu once more. The person answering hears the "
            "choice in the whisper ({choice})."
        ),
        "fields": ["menu_greeting"],
    },
)


def menu_column(call: Call) -> str:
    """The call list's and detail's word on the menu: the choice, or where the caller left."""
    if call.menu_choice:
        return call.menu_choice
    if call.left_in_menu:
        return "Hung up in the menu"
    if call.menu_at is not None and call.outcome == Call.Outcome.IN_PROGRESS:
        return "In the menu"
    return "—"
