"""The call list's search: any part of a caller's number, the start of a Call SID, a caller's
name or city, a tracking number's label or digits, or a campaign's name.

Each kind of term reads an index on a table of millions of calls: a Call SID's start the unique
index (LIKE 'CA12%'); parts of numbers, names and cities the trigram indexes of migration 0007
on PostgreSQL; labels and campaign names are looked up first in their own small tables, then
the calls by the matching ids.
"""

from __future__ import annotations

import re

from django.db.models import Q

from tracking.models import Campaign, TrackingNumber

SID = re.compile(r"(?i)CA[0-9a-f]{2,32}")
# Digits and the punctuation people type in phone numbers: "555-0165", "(512) 555", "+1 512".
PHONE_PART = re.compile(r"\+?[\d\s().\-]*\d[\d\s().\-]*")
# Trigram indexes need three characters; fewer would match half the table anyway.
MIN_TEXT = 3
MIN_DIGITS = 3


def calls_matching(term: str) -> Q | None:
    """The condition for calls matching `term`, or None when the term is too short to search."""
    term = " ".join(term.split())
    if not term:
        return None
    condition = Q()
    digits = re.sub(r"\D", "", term)
    if SID.fullmatch(term) and digits:
        # "CA1ad4": the start of a Call SID, nothing else.
        return Q(call_sid__startswith="CA" + term[2:].lower())
    if PHONE_PART.fullmatch(term) and len(digits) >= MIN_DIGITS:
        condition |= Q(caller_number__contains=digits)
        numbers = TrackingNumber.objects.filter(phone_number__contains=digits)
    elif len(term) >= MIN_TEXT:
        condition |= Q(caller_name__icontains=term) | Q(caller_city__icontains=term)
        numbers = TrackingNumber.objects.filter(label__icontains=term)
        # Ids, not a subquery: PostgreSQL can combine a list with the other indexes (BitmapOr),
        # where a subquery inside OR would make it read every call.
        campaigns = list(Campaign.objects.filter(name__icontains=term).values_list("pk", flat=True))
        if campaigns:
            condition |= Q(campaign__in=campaigns)
    else:
        return None
    number_ids = list(numbers.values_list("pk", flat=True))
    if number_ids:
        condition |= Q(tracking_number__in=number_ids)
    return condition or None
