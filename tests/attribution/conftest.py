from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from attribution import api, pools, sites
from attribution.models import Source, SourceNumber, Website
from tests.admin.conftest import marketer, marketer_client, staff_client  # noqa: F401 (fixtures)
from tests.provisioning.conftest import fake, fake_server  # noqa: F401 (fixtures)
from tracking.models import Campaign, TrackingNumber

# Tests freeze the clock here and build every time from it.
# The endpoint's and the pools' injected clock: yesterday at 15:00, whatever day the suite runs.
NOW = datetime.now(UTC).replace(hour=15, minute=0, second=0, microsecond=0) - timedelta(days=1)
ORIGIN = "https://www.plumber.example"
PRINTED = "+15125550100"


@pytest.fixture(autouse=True)
def _fresh_configs():
    sites.forget_configs()
    yield
    sites.forget_configs()


@pytest.fixture
def clock(monkeypatch):
    """The endpoint's clock, frozen at NOW; set `clock[0]` to move it."""
    moment = [NOW]
    monkeypatch.setattr(api, "clock", lambda: moment[0])
    return moment


@pytest.fixture(params=["database", "redis"])
def backend(request, settings):
    """Each pool test runs on both backends; Redis on its own database, emptied first."""
    settings.DNI_BACKEND = request.param
    if request.param == "redis":
        settings.DNI_REDIS_URL = redis_url()
        pools._redis_pool.cache_clear()
        pools.backend().client.flushdb()
    return pools.backend()


def flushed() -> None:
    """With holds in Redis, what the worker writes behind (pages, last sights) written now."""
    from attribution import live

    if live.enabled():
        live.flush_all()


def redis_url() -> str:
    import os

    return os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/3")


@pytest.fixture
def ads_campaign(db) -> Campaign:
    campaign = Campaign.objects.create(name="Google Ads")
    campaign.destinations.create(label="Front desk", phone_number="+15125550199")
    return campaign


def buy(campaign: Campaign, phone: str) -> TrackingNumber:
    return TrackingNumber.objects.create(phone_number=phone, campaign=campaign)


@pytest.fixture
def website(ads_campaign) -> Website:
    website = Website.objects.create(
        name="Plumber", domains="www.plumber.example\n*.plumber.example", swap_targets=PRINTED
    )
    return website


@pytest.fixture
def ads(website, ads_campaign) -> Source:
    """A Google Ads source with a pool of three numbers and an overflow number."""
    source = website.sources.create(
        position=0,
        name="Google Ads",
        rule=Source.Rule.CLICK_ID,
        click_id=Source.ClickId.GOOGLE,
        campaign=ads_campaign,
    )
    for n in range(3):
        SourceNumber.objects.create(
            source=source, number=buy(ads_campaign, f"+1512555020{n}"), role="pool"
        )
    SourceNumber.objects.create(
        source=source, number=buy(ads_campaign, "+15125550299"), role="overflow"
    )
    return source


@pytest.fixture
def organic(website, ads_campaign) -> Source:
    """Google organic: one number for every visitor."""
    source = website.sources.create(
        position=1,
        name="Google organic",
        rule=Source.Rule.REFERRER,
        referrer_domain="google.com",
        campaign=ads_campaign,
    )
    SourceNumber.objects.create(
        source=source, number=buy(ads_campaign, "+15125550300"), role="number"
    )
    return source
