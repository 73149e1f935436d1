"""Which destinations are configured, read from the settings (no query: the call log's listener
asks on every write to an ended call)."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import lru_cache

from django.conf import settings

SCOPE = "https://www.googleapis.com/auth/datamanager"
_DIGITS = re.compile(r"\d+")


@dataclass(frozen=True)
class GoogleAds:
    service_account: dict
    customer_id: str
    conversion_action_id: str
    login_customer_id: str
    url: str


@dataclass(frozen=True)
class GA4:
    measurement_id: str
    api_secret: str
    url: str


def _account(value: str) -> str:
    """A Google Ads account id as the API wants it: digits only (123-456-7890 → 1234567890)."""
    return value.replace("-", "").strip()


# Parsed once per key text: the listener asks on every write to an ended call.
@lru_cache(maxsize=4)
def _service_account(text: str) -> dict | None:
    try:
        info = json.loads(text)
    except ValueError:
        return None
    needed = ("client_email", "private_key", "token_uri")
    if not isinstance(info, dict) or not all(isinstance(info.get(k), str) for k in needed):
        return None
    return info


def google_ads() -> GoogleAds | None:
    """The Data Manager API upload's settings, or None when it is off (any of them missing or
    malformed: `problems` says which)."""
    if google_ads_problems():
        return None
    return GoogleAds(
        service_account=_service_account(settings.GOOGLE_ADS_SERVICE_ACCOUNT_JSON) or {},
        customer_id=_account(settings.GOOGLE_ADS_CUSTOMER_ID),
        conversion_action_id=settings.GOOGLE_ADS_CONVERSION_ACTION_ID.strip(),
        login_customer_id=_account(settings.GOOGLE_ADS_LOGIN_CUSTOMER_ID),
        url=settings.GOOGLE_DATA_MANAGER_URL,
    )


def google_ads_problems() -> list[str]:
    """What keeps the Google Ads upload off; empty when it is on. Nothing set at all is one
    problem, "not configured", which is no fault (see `checks`)."""
    values = {
        "GOOGLE_ADS_SERVICE_ACCOUNT_JSON": settings.GOOGLE_ADS_SERVICE_ACCOUNT_JSON.strip(),
        "GOOGLE_ADS_CUSTOMER_ID": settings.GOOGLE_ADS_CUSTOMER_ID.strip(),
        "GOOGLE_ADS_CONVERSION_ACTION_ID": settings.GOOGLE_ADS_CONVERSION_ACTION_ID.strip(),
    }
    if not any(values.values()):
        return ["not configured"]
    problems = [f"{name} is not set" for name, value in values.items() if not value]
    json_text = values["GOOGLE_ADS_SERVICE_ACCOUNT_JSON"]
    if json_text and _service_account(json_text) is None:
        problems.append(
            "GOOGLE_ADS_SERVICE_ACCOUNT_JSON is not a service account's JSON key (it needs "
            "client_email, private_key and token_uri)"
        )
    ids = {
        "GOOGLE_ADS_CUSTOMER_ID": _account(values["GOOGLE_ADS_CUSTOMER_ID"]),
        "GOOGLE_ADS_CONVERSION_ACTION_ID": values["GOOGLE_ADS_CONVERSION_ACTION_ID"],
        "GOOGLE_ADS_LOGIN_CUSTOMER_ID": _account(settings.GOOGLE_ADS_LOGIN_CUSTOMER_ID),
    }
    for name, value in ids.items():
        if value and not _DIGITS.fullmatch(value):
            problems.append(f"{name} must be digits (dashes allowed)")
    return problems


def ga4() -> GA4 | None:
    if ga4_problems():
        return None
    return GA4(
        measurement_id=settings.GA4_MEASUREMENT_ID.strip(),
        api_secret=settings.GA4_API_SECRET.strip(),
        url=settings.GA4_MP_URL,
    )


def ga4_problems() -> list[str]:
    measurement_id = settings.GA4_MEASUREMENT_ID.strip()
    secret = settings.GA4_API_SECRET.strip()
    if not measurement_id and not secret:
        return ["not configured"]
    problems = []
    if not measurement_id:
        problems.append("GA4_MEASUREMENT_ID is not set")
    elif not measurement_id.startswith("G-"):
        problems.append("GA4_MEASUREMENT_ID must be a web stream's measurement id (G-…)")
    if not secret:
        problems.append("GA4_API_SECRET is not set")
    return problems


def destinations() -> list[str]:
    """The destinations configured now."""
    from conversions.models import Upload

    found = []
    if google_ads() is not None:
        found.append(Upload.Destination.GOOGLE_ADS)
    if ga4() is not None:
        found.append(Upload.Destination.GA4)
    return found
