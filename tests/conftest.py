from __future__ import annotations

import pytest

from tests.twilio_signing import ACCOUNT_SID, AUTH_TOKEN, TwilioPoster
from tracking.models import Campaign, TrackingNumber


@pytest.fixture(autouse=True)
def _isolated_cache_and_spool(settings, tmp_path):
    # Each test gets its own routing cache and spool; spooled events are replayed by the test.
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    settings.CALL_SPOOL_DIR = tmp_path / "spool"
    settings.CALL_SPOOL_AUTO_REPLAY = False
    from django.core.cache import cache

    cache.clear()


@pytest.fixture(autouse=True)
def _twilio_settings(settings):
    settings.TWILIO_ACCOUNT_SID = ACCOUNT_SID
    settings.TWILIO_AUTH_TOKEN = AUTH_TOKEN
    settings.TWILIO_VALIDATE_SIGNATURES = True
    settings.PUBLIC_BASE_URL = ""
    # Sign-ins in tests need no protection against offline cracking, only speed.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    # Tests do not run collectstatic: serve static files from the apps, unhashed.
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


@pytest.fixture
def twilio(client) -> TwilioPoster:
    return TwilioPoster(client)


@pytest.fixture
def campaign(db) -> Campaign:
    campaign = Campaign.objects.create(name="Spring Billboard")
    campaign.destinations.create(label="Front desk", phone_number="+15125550199")
    return campaign


@pytest.fixture
def number(campaign) -> TrackingNumber:
    return TrackingNumber.objects.create(
        phone_number="+15125550100", campaign=campaign, label="I-35 billboard"
    )


@pytest.fixture
def two_destinations(number):
    number.campaign.destinations.create(position=1, label="Owner", phone_number="+15125550122")
    return number


@pytest.fixture
def all_at_once(number):
    campaign = number.campaign
    campaign.destinations.create(position=1, label="Owner", phone_number="+15125550122")
    campaign.destinations.create(position=2, label="Sales", phone_number="+15125550133")
    campaign.ring_strategy = Campaign.RingStrategy.SIMULTANEOUS
    campaign.save()
    return number


@pytest.fixture
def menu_number(number):
    """Spring Billboard with three destinations and a menu: 1 Billing rings the owner, 2 New
    customer (the default) rings the front desk, then sales."""
    campaign = number.campaign
    front_desk = campaign.destinations.get()
    owner = campaign.destinations.create(position=1, label="Owner", phone_number="+15125550122")
    sales = campaign.destinations.create(position=2, label="Sales", phone_number="+15125550133")
    campaign.menu_greeting = "Thanks for calling Spring Billboard"
    campaign.save()
    billing = campaign.menu_options.create(key="1", label="Billing", words="billing, invoice")
    billing.destinations.set([owner])
    new = campaign.menu_options.create(key="2", label="New customer", is_default=True)
    new.destinations.set([sales, front_desk])
    return number


@pytest.fixture
def all_at_once_menu(menu_number):
    campaign = menu_number.campaign
    campaign.ring_strategy = Campaign.RingStrategy.SIMULTANEOUS
    campaign.save()
    return menu_number
