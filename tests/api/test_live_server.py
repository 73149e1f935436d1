"""The API over real HTTP, as the README's curl example uses it."""

from __future__ import annotations

from datetime import timedelta

import pytest
import requests

from tests.api.conftest import NOW, make_call, marketers
from tracking.models import Campaign, TrackingNumber


@pytest.fixture
def token(transactional_db):
    from django.contrib.auth.models import User

    from api import tokens

    user = User.objects.create_user("crm", is_staff=True)
    user.groups.add(marketers())
    return tokens.token_issue(user=user, name="CRM", scope="read_write")[1]


def test_a_client_pages_through_calls_and_moves_a_number(live_server, token):
    campaign = Campaign.objects.create(name="Spring Billboard")
    campaign.destinations.create(label="Front desk", phone_number="+15125550199")
    number = TrackingNumber.objects.create(phone_number="+15125550100", campaign=campaign)
    made = [make_call(number, started_at=NOW - timedelta(minutes=n)) for n in range(3)]
    http = requests.Session()
    http.headers["Authorization"] = f"Bearer {token}"

    first = http.get(f"{live_server.url}/api/v1/calls/", params={"page_size": 2}, timeout=10)
    second = http.get(first.json()["next"], timeout=10)
    detail = http.get(f"{live_server.url}/api/v1/calls/{made[0].call_sid}/", timeout=10)
    moved = http.patch(
        f"{live_server.url}/api/v1/numbers/{number.pk}/", json={"label": "Bus shelter"}, timeout=10
    )
    anonymous = requests.get(f"{live_server.url}/api/v1/calls/", timeout=10)

    assert first.status_code == 200
    assert first.headers["Content-Type"] == "application/json"
    assert first.json()["next"].startswith(live_server.url)
    seen = [row["call_sid"] for row in first.json()["results"] + second.json()["results"]]
    assert seen == [call.call_sid for call in made]
    assert second.json()["next"] is None
    assert detail.json()["legs"] == []
    assert moved.status_code == 200
    number.refresh_from_db()
    assert number.label == "Bus shelter"
    assert anonymous.status_code == 401
    assert anonymous.headers["WWW-Authenticate"] == 'Bearer realm="api"'
