from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.test import Client

from tracking.agents import Agent

TWIML_APP_SID = "AP" + "a" * 32
API_KEY = "SK" + "b" * 32
API_SECRET = "agent-token-secret-for-tests-0123456789"


@pytest.fixture(autouse=True)
def _agent_token_settings(settings):
    settings.TWILIO_TWIML_APP_SID = TWIML_APP_SID
    settings.TWILIO_API_KEY = API_KEY
    settings.TWILIO_API_SECRET = API_SECRET
    settings.AGENT_TOKEN_TTL = 600


def make_agent(username: str, *, available: bool = True) -> Agent:
    user = User.objects.create_user(
        username, password="not-used", is_staff=True, first_name=username.title()
    )
    return Agent.objects.create(user=user, is_available=available)


@pytest.fixture
def ana(db) -> Agent:
    return make_agent("ana")


@pytest.fixture
def ben(db) -> Agent:
    return make_agent("ben")


@pytest.fixture
def ana_client(ana) -> Client:
    client = Client()
    client.force_login(ana.user)
    return client


@pytest.fixture
def agent_number(number, ana, ben):
    """Spring Billboard rings Ana's browser, the front desk's phone, then Ben's browser."""
    campaign = number.campaign
    front_desk = campaign.destinations.get()
    front_desk.position = 1
    front_desk.save()
    campaign.destinations.create(position=0, label="Ana", agent=ana)
    campaign.destinations.create(position=2, label="Ben", agent=ben)
    return number
