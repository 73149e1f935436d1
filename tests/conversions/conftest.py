from __future__ import annotations

import itertools
from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from attribution.models import CallAttribution
from tests.admin.conftest import marketer, marketer_client, staff_client  # noqa: F401 (fixtures)
from tests.attribution.conftest import ads, ads_campaign, website  # noqa: F401 (fixtures)
from tests.support.fake_google import API_SECRET, MEASUREMENT_ID, FakeGoogle
from tracking.models import Call, Campaign

_sids = itertools.count(1)


@pytest.fixture
def google():
    fake = FakeGoogle().start()
    yield fake
    fake.stop()


@pytest.fixture
def google_ads(settings, google) -> FakeGoogle:
    """The Google Ads upload, configured against the fake."""
    settings.GOOGLE_ADS_SERVICE_ACCOUNT_JSON = google.service_account_json()
    settings.GOOGLE_ADS_CUSTOMER_ID = "123-456-7890"
    settings.GOOGLE_ADS_CONVERSION_ACTION_ID = "987654321"
    settings.GOOGLE_DATA_MANAGER_URL = google.url
    return google


@pytest.fixture
def ga4(settings, google) -> FakeGoogle:
    settings.GA4_MEASUREMENT_ID = MEASUREMENT_ID
    settings.GA4_API_SECRET = API_SECRET
    settings.GA4_MP_URL = google.url
    return google


@pytest.fixture
def leads_campaign(db) -> Campaign:
    """Leads after a minute's talk, worth 120 USD each."""
    return Campaign.objects.create(
        name="Google Ads: drains",
        lead_min_talk_seconds=60,
        lead_value=Decimal("120.00"),
        lead_currency="USD",
    )


def lead_call(
    campaign: Campaign,
    *,
    ago: timedelta = timedelta(hours=2),
    talk: int | None = 95,
    answered_by: str = "Front desk",
    spam: str = "",
    gclid: str = "",
    gbraid: str = "",
    wbraid: str = "",
    ga: str = "",
    consent: tuple[bool | None, bool | None] = (None, None),
    sid: str = "",
) -> Call:
    """An ended call (a qualified lead with the defaults) and its website attribution."""
    started = timezone.now() - ago
    call = Call.objects.create(
        call_sid=sid or f"CA{next(_sids):032x}",
        campaign=campaign,
        caller_number="+13125550123",
        called_number="+15125550100",
        started_at=started,
        answered_by=answered_by,
        talk_seconds=talk,
        ended_at=started + timedelta(seconds=(talk or 0) + 12),
        outcome=Call.Outcome.SPAM if spam else Call.Outcome.ACCEPTED,
        spam=spam,
    )
    CallAttribution.objects.create(
        call=call,
        kind=CallAttribution.Kind.VISIT,
        started_at=started,
        gclid=gclid,
        gbraid=gbraid,
        wbraid=wbraid,
        ga_client_id=ga,
        ad_user_data=consent[0],
        ad_personalization=consent[1],
    )
    return call
