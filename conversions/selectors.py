"""Reads for conversions: the qualified calls an upload or the CSV download sends, with what
Google needs of each, in one query."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.db.models import Q, QuerySet

from tracking import leads
from tracking.models import Call

# Google's click ids, in the order one is chosen when a visit carries several: Google accepts
# one per conversion (gbraid and wbraid together are refused).
CLICK_IDS = ("gclid", "gbraid", "wbraid")

_FIELDS = {
    "call_sid": "call_sid",
    "started_at": "started_at",
    "value": "campaign__lead_value",
    "currency": "campaign__lead_currency",
    "campaign": "campaign__name",
    "source": "attribution__source__name",
    "gclid": "attribution__gclid",
    "gbraid": "attribution__gbraid",
    "wbraid": "attribution__wbraid",
    "ga_client_id": "attribution__ga_client_id",
    "ad_user_data": "attribution__ad_user_data",
    "ad_personalization": "attribution__ad_personalization",
}


@dataclass(frozen=True)
class Conversion:
    """A qualified call, as a conversion: no caller data, only what the ad platform matches on."""

    call_sid: str
    started_at: datetime
    value: Decimal | None
    currency: str
    campaign: str
    source: str | None
    gclid: str | None
    gbraid: str | None
    wbraid: str | None
    ga_client_id: str | None
    # What the visitor consented to for ads (None: the site never said, which counts as no).
    ad_user_data: bool | None
    ad_personalization: bool | None

    @property
    def click_id(self) -> tuple[str, str] | None:
        """The click id sent to Google Ads, as (kind, value)."""
        return next(((kind, v) for kind in CLICK_IDS if (v := getattr(self, kind))), None)


def with_google_click() -> Q:
    return (
        Q(attribution__gclid__gt="") | Q(attribution__gbraid__gt="") | Q(attribution__wbraid__gt="")
    )


def with_ga_client() -> Q:
    return Q(attribution__ga_client_id__gt="")


def qualified_calls() -> QuerySet[Call]:
    """Calls that are qualified leads under their campaign's rule (tracking.leads), spam and
    blocked calls never among them."""
    return Call.objects.filter(leads.qualified_condition())


def _rows(calls: QuerySet[Call]) -> Iterator[Conversion]:
    for row in calls.values_list(*_FIELDS.values()).iterator(chunk_size=2000):
        yield Conversion(*row)


def conversions_of(call_sids: Iterable[str]) -> dict[str, Conversion]:
    """The calls among `call_sids` that are still qualified leads, by SID."""
    calls = qualified_calls().filter(call_sid__in=list(call_sids))
    return {row.call_sid: row for row in _rows(calls)}


def conversions_between(start: datetime, end: datetime) -> Iterator[Conversion]:
    """Qualified calls that rang in [start, end) carrying a Google click id, oldest first."""
    calls = (
        qualified_calls()
        .filter(started_at__gte=start, started_at__lt=end)
        .filter(with_google_click())
        .order_by("started_at", "pk")
    )
    return _rows(calls)
