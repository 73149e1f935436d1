"""API clients carrying tokens of people with known permissions, and calls to read."""

from __future__ import annotations

import importlib
import itertools
from datetime import datetime, timedelta

import pytest
from django.contrib.auth.models import Group, Permission, User
from django.utils import timezone
from rest_framework.test import APIClient

from api import tokens
from api.models import ApiToken
from tests.provisioning.conftest import fake, fake_server  # noqa: F401  (the fake Twilio)
from tracking.models import Call, CallLeg, Recording, TrackingNumber

_sids = itertools.count(1)
# Yesterday at noon: calls built from it are in the past whatever day the suite runs.
NOW = timezone.now().replace(hour=12, minute=0, second=0, microsecond=0) - timedelta(days=1)


def marketers() -> Group:
    """The Marketers group as the migrations make it. Live-server tests flush the database,
    and a flush recreates permissions but not the groups data migrations made."""
    group, created = Group.objects.get_or_create(name="Marketers")
    if created:
        for app, migration in [
            ("tracking", "0002_marketers_group"),
            ("api", "0002_marketers_tokens"),
        ]:
            codenames = importlib.import_module(f"{app}.migrations.{migration}").PERMISSIONS
            group.permissions.add(
                *Permission.objects.filter(content_type__app_label=app, codename__in=codenames)
            )
    return group


def client_for(user: User, scope: str = ApiToken.Scope.READ_WRITE) -> APIClient:
    _token, key = tokens.token_issue(user=user, name="tests", scope=scope)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    return client


@pytest.fixture(autouse=True)
def _generous_throttle(settings):
    settings.API_THROTTLE_RATE = "10000/minute"


@pytest.fixture
def marketer(db) -> User:
    user = User.objects.create_user("marketer", is_staff=True)
    user.groups.add(marketers())
    return user


@pytest.fixture
def api(marketer) -> APIClient:
    """A marketer's read-and-write token."""
    return client_for(marketer)


@pytest.fixture
def read_only(marketer) -> APIClient:
    return client_for(marketer, ApiToken.Scope.READ)


@pytest.fixture
def nobody(db) -> APIClient:
    """A token of a staff member with no permission at all."""
    return client_for(User.objects.create_user("intern", is_staff=True))


@pytest.fixture
def viewer(db) -> APIClient:
    """A read-and-write token of someone who may only view campaigns, numbers and calls."""
    user = User.objects.create_user("viewer", is_staff=True)
    user.user_permissions.add(
        *Permission.objects.filter(
            codename__in=["view_campaign", "view_trackingnumber", "view_call"]
        )
    )
    return client_for(user)


def make_call(
    number: TrackingNumber | None,
    *,
    started_at: datetime,
    outcome: str = Call.Outcome.ACCEPTED,
    **fields,
) -> Call:
    return Call.objects.create(
        call_sid=f"CA{next(_sids):032x}",
        tracking_number=number,
        campaign=number.campaign if number else None,
        called_number=number.phone_number if number else "+15125550177",
        caller_number=fields.pop("caller_number", "+15125550111"),
        outcome=outcome,
        started_at=started_at,
        **fields,
    )


@pytest.fixture
def answered_call(number) -> Call:
    """An accepted call that rang two destinations and was recorded."""
    call = make_call(
        number,
        started_at=NOW - timedelta(hours=2),
        whispered_at=NOW - timedelta(hours=2) + timedelta(seconds=9),
        talk_seconds=95,
        answered_by="Owner",
        caller_city="Austin",
    )
    for position, label, phone_number, result in [
        (0, "Front desk", "+15125550199", "no_answer"),
        (1, "Owner", "+15125550122", "accepted"),
    ]:
        CallLeg.objects.create(
            call=call,
            position=position,
            label=label,
            phone_number=phone_number,
            result=result,
            started_at=call.started_at,
            campaign=call.campaign,
        )
    Recording.objects.create(
        call=call, recording_sid="RE" + "1" * 32, kind="conversation", duration_seconds=90
    )
    return call
