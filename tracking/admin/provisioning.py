"""Buying, re-pointing and releasing Twilio numbers from the tracking-number admin (issue 5)."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.admin.options import IS_POPUP_VAR
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse

from attribution import services as pools
from attribution.models import Source
from tracking import phones, provisioning
from tracking.models import Campaign, TrackingNumber

TEMPLATES = "admin/tracking/trackingnumber/"


class SearchForm(forms.Form):
    country = forms.CharField(
        initial="US",
        max_length=2,
        min_length=2,
        help_text="Two letters, e.g. US, CA, GB.",
        widget=forms.TextInput(attrs={"size": 3}),
    )
    kind = forms.ChoiceField(
        label="Type", choices=[("local", "Local"), ("toll_free", "Toll-free")], initial="local"
    )
    area_code = forms.RegexField(
        regex=r"^\d{2,5}$",
        required=False,
        error_messages={"invalid": "An area code is digits only, e.g. 512."},
        widget=forms.TextInput(attrs={"size": 6}),
    )
    contains = forms.RegexField(
        regex=r"^[\d*]{2,10}$",
        required=False,
        help_text="Digits the number must contain, e.g. 2024 (* matches any digit).",
        error_messages={"invalid": "Use 2 to 10 digits (or *), e.g. 2024."},
        widget=forms.TextInput(attrs={"size": 12}),
    )

    def clean_country(self) -> str:
        country = self.cleaned_data["country"].upper()
        if not country.isalpha():
            raise ValidationError("A country is two letters, e.g. US.")
        return country


class BuyForm(forms.Form):
    phone_numbers = forms.MultipleChoiceField(
        label="Numbers",
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": "Tick at least one number to buy."},
    )
    label = forms.CharField(
        max_length=TrackingNumber._meta.get_field("label").max_length,
        required=False,
        help_text="Where the numbers will be shown, e.g. “Spring flyer”: the label of each.",
        widget=forms.TextInput(attrs={"size": 40}),
    )
    campaign = forms.ModelChoiceField(
        queryset=Campaign.objects.filter(is_active=True),
        empty_label="Choose a campaign",
        error_messages={"required": "Choose the campaign the numbers are for."},
    )

    pool = forms.ModelChoiceField(
        queryset=Source.objects.select_related("website"),
        required=False,
        label="Into the pool of",
        empty_label="No website pool",
        help_text="A website source whose visitors each see one number of its pool.",
    )

    def __init__(self, *args, choices: list[tuple[str, str]], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["phone_numbers"].choices = choices

    def clean(self) -> dict:
        data = super().clean()
        pool, campaign = data.get("pool"), data.get("campaign")
        if pool is not None and campaign is not None and pool.campaign_id != campaign.pk:
            raise ValidationError(
                f"The pool's calls go to “{pool.campaign}”: choose that campaign."
            )
        return data

    def clean_phone_numbers(self) -> list[str]:
        try:
            return [phones.to_e164(n) for n in self.cleaned_data["phone_numbers"]]
        except ValidationError as error:
            raise ValidationError(error.messages[0]) from None


def _result_label(number) -> str:
    where = ", ".join(part for part in (number.locality, number.region) if part)
    return f"{phones.national(number.phone_number)}" + (f" — {where}" if where else "")


class NumberProvisioningMixin:
    """Mixed into TrackingNumberAdmin; adds its own URLs, actions and change-list buttons."""

    change_list_template = TEMPLATES + "change_list.html"

    def get_urls(self):
        opts = self.model._meta
        return [
            path(
                "buy/",
                self.admin_site.admin_view(self.buy_numbers_view),
                name=f"{opts.app_label}_{opts.model_name}_buy",
            ),
            *super().get_urls(),
        ]

    def get_actions(self, request: HttpRequest):
        actions = super().get_actions(request)
        if IS_POPUP_VAR in request.GET or not self.has_change_permission(request):
            return actions
        for name in ("release_on_twilio", "repoint_webhooks"):
            actions[name] = self.get_action(name)
        return actions

    def _changelist_url(self) -> str:
        opts = self.model._meta
        return reverse(f"{self.admin_site.name}:{opts.app_label}_{opts.model_name}_changelist")

    def _render(self, request: HttpRequest, template: str, **context) -> TemplateResponse:
        return TemplateResponse(
            request,
            TEMPLATES + template,
            {
                **self.admin_site.each_context(request),
                "opts": self.model._meta,
                "has_view_permission": self.has_view_permission(request),
                **context,
            },
        )

    def buy_numbers_view(self, request: HttpRequest) -> HttpResponse:
        """Search Twilio's numbers for sale, then buy the ticked ones into a campaign.

        1. Without Twilio settings, explain how to set them (and offer nothing to submit).
        2. GET with search fields: ask Twilio and list what it offers.
        3. POST: buy each ticked number, reporting each success or failure on its own.
        """
        if not self.has_add_permission(request):
            raise PermissionDenied
        problems = provisioning.setup_problems()
        context = {"title": "Buy numbers", "problems": problems}
        if problems:
            return self._render(request, "buy_numbers.html", **context)

        if request.method == "POST":
            posted = request.POST.getlist("phone_numbers")
            buy_form = BuyForm(request.POST, choices=[(n, n) for n in posted])
            if buy_form.is_valid():
                return self._buy(request, buy_form)
            for errors in buy_form.errors.values():
                for error in errors:
                    messages.error(request, error)
            return HttpResponseRedirect(request.get_full_path())

        search_form = SearchForm(request.GET if "country" in request.GET else None)
        context["search_form"] = search_form
        if search_form.is_bound and search_form.is_valid():
            try:
                found = provisioning.numbers_search(**search_form.cleaned_data)
            except provisioning.ProvisioningError as error:
                messages.error(request, error.message)
            else:
                context["results"] = found
                context["price"] = provisioning.number_price(
                    country=search_form.cleaned_data["country"],
                    kind=search_form.cleaned_data["kind"],
                )
                context["buy_form"] = BuyForm(
                    choices=[(n.phone_number, _result_label(n)) for n in found],
                    initial={"pool": request.GET.get("pool", "")[:20]},
                )
        return self._render(request, "buy_numbers.html", **context)

    def _buy(self, request: HttpRequest, form: BuyForm) -> HttpResponse:
        campaign = form.cleaned_data["campaign"]
        bought = 0
        for phone_number in form.cleaned_data["phone_numbers"]:
            try:
                number = provisioning.number_buy(
                    phone_number=phone_number,
                    campaign=campaign,
                    label=form.cleaned_data["label"],
                )
            except provisioning.ProvisioningError as error:
                messages.error(request, error.message)
            else:
                bought += 1
                if form.cleaned_data["pool"] is not None:
                    pools.pool_add(source=form.cleaned_data["pool"], number=number)
                self.log_addition(request, number, [{"added": {}}])
                messages.success(
                    request,
                    f"Bought {phones.national(number.phone_number)} for “{campaign}”: "
                    "its calls now come to this site.",
                )
        if bought:
            return HttpResponseRedirect(self._changelist_url())
        return HttpResponseRedirect(request.get_full_path())

    @admin.action(description="Release on Twilio (keeps call history)")
    def release_on_twilio(self, request: HttpRequest, queryset: QuerySet):
        """Irreversible (someone else can buy the number), so it asks first, like delete does."""
        if not self.has_change_permission(request):
            raise PermissionDenied
        queryset = queryset.select_related("campaign")
        if request.POST.get("post") != "yes":
            return self._render(
                request,
                "release_confirmation.html",
                title="Release numbers on Twilio?",
                queryset=queryset,
                action_checkbox_name=helpers.ACTION_CHECKBOX_NAME,
            )
        for number in queryset:
            try:
                provisioning.number_release(number=number)
            except provisioning.ProvisioningError as error:
                messages.error(request, f"{number}: {error.message}")
            else:
                self.log_change(request, number, "Released on Twilio.")
                messages.success(
                    request,
                    f"Released {number} on Twilio. Its call history stays; it no longer rings.",
                )
        return None

    @admin.action(description="Re-point webhooks on Twilio")
    def repoint_webhooks(self, request: HttpRequest, queryset: QuerySet):
        if not self.has_change_permission(request):
            raise PermissionDenied
        try:
            changes = provisioning.numbers_repoint(
                numbers=list(queryset.select_related("campaign"))
            )
        except provisioning.ProvisioningError as error:
            messages.error(request, error.message)
            return
        for change in changes:
            national = phones.national(change.phone_number)
            if change.action == "re-pointed":
                messages.success(request, f"{national}: re-pointed at this site ({change.detail}).")
            elif change.action == "unchanged":
                messages.info(request, f"{national}: already pointed at this site.")
            else:
                messages.warning(request, f"{national}: not changed, {change.detail}.")
