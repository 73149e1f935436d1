"""Small helpers the admin pages share: how a figure or a duration reads, phone search."""

from __future__ import annotations

import re

from tracking import phones

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
