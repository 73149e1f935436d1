from __future__ import annotations

import itertools
from datetime import timedelta

import pytest
from django.contrib.auth.models import Group, User
from django.test import Client
from django.utils import timezone

from tracking.models import Call, Campaign, TrackingNumber

_sids = itertools.count(1)


def make_call(
    *,
    number: TrackingNumber | None,
    outcome: str = Call.Outcome.ACCEPTED,
    whispered: bool | None = None,
    ago: timedelta = timedelta(hours=1),
    **fields,
) -> Call:
    """A logged call; whispered defaults to what the outcome implies (the callee heard it)."""
    if whispered is None:
        whispered = outcome in (Call.Outcome.ACCEPTED, Call.Outcome.REJECTED, Call.Outcome.NO_INPUT)
    started = timezone.now() - ago
    fields.setdefault("call_sid", f"CA{next(_sids):032x}")
    return Call.objects.create(
        tracking_number=number,
        campaign=number.campaign if number else None,
        called_number=number.phone_number if number else "+15125550199",
        outcome=outcome,
        started_at=started,
        whispered_at=started + timedelta(seconds=8) if whispered else None,
        **fields,
    )


@pytest.fixture
def marketer(db) -> User:
    user = User.objects.create_user("marketer", password="not-used", is_staff=True)
    user.groups.add(Group.objects.get(name="Marketers"))
    return user


@pytest.fixture
def marketer_client(marketer) -> Client:
    client = Client()
    client.force_login(marketer)
    return client


@pytest.fixture
def staff_client(db) -> Client:
    """A staff member with no permission at all."""
    client = Client()
    client.force_login(User.objects.create_user("intern", is_staff=True))
    return client


@pytest.fixture
def other_campaign(db) -> Campaign:
    campaign = Campaign.objects.create(name="Radio Spot")
    campaign.destinations.create(label="Owner", phone_number="+15125550198")
    return campaign


@pytest.fixture
def other_number(other_campaign) -> TrackingNumber:
    return TrackingNumber.objects.create(phone_number="+15125550101", campaign=other_campaign)
