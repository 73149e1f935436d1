"""Small helpers the admin pages share: how a figure or a duration reads, phone search."""

from __future__ import annotations

import re
from datetime import datetime

from django.contrib import admin
from django.db.models import QuerySet
from django.utils import timezone

from tracking import phones
from tracking.announcement import CallerPlace

DASH = "—"
# Digits, spaces and the punctuation people type in phone numbers, and nothing else.
PHONE_LIKE = re.compile(r"\+?[\d\s().\-]{7,}")


def percent(part: int, whole: int) -> str:
    return f"{round(100 * part / whole)}%" if whole else DASH


def minutes_seconds(seconds: int | None) -> str:
    if seconds is None:
        return DASH
    return f"{seconds // 60}:{seconds % 60:02d}"


class PhoneSearchMixin:
    """Searches a whole phone number typed any way ("(512) 555-0100") as its stored E.164.

    Without this the admin splits the term on spaces and looks for each piece separately,
    so a number copied from a business card would never match.
    """

    def get_search_results(self, request, queryset, search_term):
        term = search_term.strip()
        if PHONE_LIKE.fullmatch(term):
            search_term = phones.normalize(term)
        return super().get_search_results(request, queryset, search_term)


# One way to show each kind of value on every page: numbers in national format, names and
# places as people write them (Twilio sends "SMITH JOHN", "AUSTIN"), one dash for nothing.


def phone(number: str) -> str:
    if not number:
        return "Unknown number"
    return phones.national(number) if number.startswith("+") else number.title()


def name(text: str) -> str:
    return text.title() if text.isupper() else text


def place(where: CallerPlace) -> str:
    """ "Austin, TX, US": the city as people write it, the codes as codes."""
    city = where.city.title() if where.city.isupper() else where.city
    return ", ".join(part for part in (city, where.state, where.country) if part)


def when(moment: datetime | None) -> str:
    """ "Dec 2, 10:29 PM" this year, "Dec 2, 2025, 10:29 PM" before, in settings.TIME_ZONE."""
    if moment is None:
        return DASH
    local = timezone.localtime(moment)
    year = "" if local.year == timezone.localtime().year else f", {local.year}"
    return f"{local:%b} {local.day}{year}, {local:%H:%M}"


class ActiveFilter(admin.SimpleListFilter):
    """ "By status: Active / Inactive", rather than the field's own "By is active"."""

    title = "status"
    parameter_name = "is_active__exact"

    def lookups(self, request, model_admin) -> list[tuple[str, str]]:
        return [("1", "Active"), ("0", "Inactive")]

    def queryset(self, request, queryset: QuerySet) -> QuerySet:
        if self.value() in ("0", "1"):
            return queryset.filter(is_active=self.value() == "1")
        return queryset
