from __future__ import annotations

import pytest

from tests.provisioning.fake_twilio import FakeTwilio, FakeTwilioServer
from tests.twilio_signing import ACCOUNT_SID, AUTH_TOKEN
from tracking.models import Campaign

PUBLIC = "https://calls.example.com"
VOICE_URL = PUBLIC + "/twilio/voice/"
STATUS_URL = PUBLIC + "/twilio/voice/status/"
FALLBACK_URL = PUBLIC + "/twilio/voice/fallback/"


@pytest.fixture
def fake_server(settings):
    """The fake Twilio, reached through the app's own client via TWILIO_API_BASE_URL."""
    server = FakeTwilioServer(FakeTwilio(account_sid=ACCOUNT_SID, auth_token=AUTH_TOKEN))
    settings.TWILIO_API_BASE_URL = server.url
    settings.PUBLIC_BASE_URL = PUBLIC
    yield server
    server.stop()


@pytest.fixture
def fake(fake_server) -> FakeTwilio:
    return fake_server.fake


@pytest.fixture
def cnam_campaign(db) -> Campaign:
    campaign = Campaign.objects.create(name="Radio Spot", caller_name_lookup=True)
    campaign.destinations.create(label="Front desk", phone_number="+15125550188")
    return campaign
