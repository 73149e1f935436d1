"""What Google is sent for a qualified call: a Data Manager API event for Google Ads, a
Measurement Protocol event for GA4. No personal data: no caller number, name or place; only the
click (or GA client) id, the call's time and SID, the lead's value, and the visitor's consent."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from conversions.config import GoogleAds
from conversions.selectors import Conversion

# GA4's name for the event (README: "Conversions (Google Ads, GA4)").
GA4_EVENT = "qualified_call"
# How far back GA4 takes an event's own time (timestamp_micros).
GA4_BACKDATING = timedelta(hours=72)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def rfc3339(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def _granted(value: bool | None) -> bool:
    # Google counts missing consent as not consented; so does this app.
    return value is True


def data_manager_event(conversion: Conversion) -> dict:
    """One Google Ads offline click conversion; the call's SID is its transactionId, so Google
    drops a repeat (a retry, a worker that died after sending)."""
    kind, click = conversion.click_id or ("gclid", "")
    event: dict = {
        "transactionId": conversion.call_sid,
        "eventTimestamp": rfc3339(conversion.started_at),
        "adIdentifiers": {kind: click},
        "eventSource": "PHONE",
        "consent": {
            "adUserData": _consent(conversion.ad_user_data),
            "adPersonalization": _consent(conversion.ad_personalization),
        },
    }
    if conversion.value is not None:
        event["conversionValue"] = float(conversion.value)
        event["currency"] = conversion.currency
    return event


def _consent(value: bool | None) -> str:
    return "CONSENT_GRANTED" if _granted(value) else "CONSENT_DENIED"


def data_manager_request(ads: GoogleAds, events: list[dict]) -> dict:
    destination: dict = {
        "operatingAccount": {"accountType": "GOOGLE_ADS", "accountId": ads.customer_id},
        "productDestinationId": ads.conversion_action_id,
    }
    if ads.login_customer_id:
        destination["loginAccount"] = {
            "accountType": "GOOGLE_ADS",
            "accountId": ads.login_customer_id,
        }
    return {"destinations": [destination], "events": events}


def ga4_request(conversion: Conversion) -> dict:
    """The Measurement Protocol body for the call, backdated to when it rang (the caller must
    check it is within GA4_BACKDATING)."""
    params: dict = {"call_campaign": conversion.campaign or ""}
    if conversion.source:
        params["call_source"] = conversion.source
    if conversion.value is not None:
        params["value"] = float(conversion.value)
        params["currency"] = conversion.currency
    return {
        "client_id": conversion.ga_client_id,
        "timestamp_micros": (conversion.started_at - _EPOCH) // timedelta(microseconds=1),
        "consent": {
            "ad_user_data": "GRANTED" if _granted(conversion.ad_user_data) else "DENIED",
            "ad_personalization": "GRANTED"
            if _granted(conversion.ad_personalization)
            else "DENIED",
        },
        "events": [{"name": GA4_EVENT, "params": params}],
    }
