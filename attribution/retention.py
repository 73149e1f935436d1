"""Retention for website visits, applied by `purge_calls` with the call log's own period.

Visitors (with their visits and holds) not seen since the cut-off are deleted. Old calls'
attributions lose what identifies a person or a click (click ids, the GA client id, the full
landing page and referrer URLs) and keep what the reports group by (source, UTM values, the
landing page's path).
"""

from __future__ import annotations

from datetime import datetime

from django.db.models import F

from attribution.models import CallAttribution, RateWindow, Visitor

BATCH = 5000
IDENTIFYING = {
    "gclid": "",
    "gbraid": "",
    "wbraid": "",
    "msclkid": "",
    "fbclid": "",
    "ga_client_id": "",
    "referrer": "",
}


def old_visitors(cutoff: datetime):
    return Visitor.objects.filter(last_seen_at__lt=cutoff).exclude(visits__last_seen_at__gte=cutoff)


def visitors_delete(*, cutoff: datetime) -> int:
    """Delete visitors not seen since `cutoff`, with their visits and holds; how many."""
    deleted = 0
    while ids := list(old_visitors(cutoff).values_list("pk", flat=True)[:BATCH]):
        Visitor.objects.filter(pk__in=ids).delete()
        deleted += len(ids)
    RateWindow.objects.filter(window__lt=int(cutoff.timestamp()) // 60).delete()
    return deleted


def attributions_anonymise(*, call_sids: list[str]) -> int:
    return CallAttribution.objects.filter(call_id__in=call_sids).update(
        landing_page=F("landing_path"), **IDENTIFYING
    )
