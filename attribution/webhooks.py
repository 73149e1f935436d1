"""What outbound webhooks carry of a call's website attribution (README, "Webhooks")."""

from __future__ import annotations

from attribution.models import CallAttribution
from tracking.models import Call

Kind = CallAttribution.Kind

UTM_FIELDS = ("utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content")
CLICK_IDS = ("gclid", "gbraid", "wbraid", "msclkid", "fbclid")


def _or_none(value: str) -> str | None:
    # Stored as "" when the visit had none; receivers test for null.
    return value or None


def call_attribution(call: Call) -> dict | None:
    """The call's source, UTM values, click ids and landing page; None for a call to a
    campaign's own number (offline marketing), which website attribution knows nothing of."""
    found = (
        CallAttribution.objects.filter(call=call)
        .exclude(kind=Kind.OFFLINE)
        .select_related("source", "website")
        .first()
    )
    if found is None:
        return None
    source, website = found.source, found.website
    return {
        "kind": found.kind,
        "website": {"id": website.pk, "name": website.name} if website else None,
        "source": {"id": source.pk, "name": source.name} if source else None,
        "first_time_caller": found.first_time_caller,
        **{name: _or_none(getattr(found, name)) for name in UTM_FIELDS},
        "click_ids": {name: _or_none(getattr(found, name)) for name in CLICK_IDS},
        "landing_page": _or_none(found.landing_page),
        "referrer": _or_none(found.referrer),
        "ga_client_id": _or_none(found.ga_client_id),
    }
