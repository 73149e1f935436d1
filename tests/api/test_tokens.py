"""Tokens are made in the admin, shown once, kept as a digest, and act as their user."""

from __future__ import annotations

import hashlib
import re

import pytest
from django.contrib.auth.models import User
from django.test import Client
from rest_framework.test import APIClient

from api.models import ApiToken
from tests.api.conftest import client_for

pytestmark = pytest.mark.django_db

KEY = re.compile(r'value="(ct_[A-Za-z0-9_-]{43})"')


@pytest.fixture
def admin_client(marketer) -> Client:
    client = Client()
    client.force_login(marketer)
    return client


def test_a_marketer_makes_a_token_in_the_admin_and_sees_it_once(admin_client, marketer, number):
    response = admin_client.post("/admin/api/apitoken/add/", {"name": "CRM sync", "scope": "read"})

    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    key = KEY.search(response.content.decode())[1]
    token = ApiToken.objects.get()
    assert (token.user, token.name, token.scope) == (marketer, "CRM sync", "read")
    # Only a digest is kept: the key itself is nowhere in the database.
    assert token.digest == hashlib.sha256(key.encode()).hexdigest()
    assert key not in {token.prefix, token.digest, token.name}
    assert token.prefix == key[:10]
    # The change page shows the prefix only.
    page = admin_client.get(f"/admin/api/apitoken/{token.pk}/change/").content.decode()
    assert key not in page and f"{token.prefix}…" in page

    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    assert client.get("/api/v1/calls/").status_code == 200
    token.refresh_from_db()
    assert token.last_used_at is not None


def test_a_marketer_sees_and_makes_only_their_own_tokens(admin_client, marketer):
    boss = User.objects.create_superuser("boss")
    ApiToken.objects.create(user=boss, name="Boss's", digest="x" * 64, prefix="ct_x")

    listing = admin_client.get("/admin/api/apitoken/").content.decode()
    assert "Boss&#x27;s" not in listing and "Boss's" not in listing
    # A user field slipped into the form is ignored: the token is theirs.
    admin_client.post(
        "/admin/api/apitoken/add/", {"name": "Mine", "scope": "read", "user": boss.pk}
    )
    assert ApiToken.objects.get(name="Mine").user == marketer


def test_a_superuser_makes_tokens_for_staff_only(db):
    boss = User.objects.create_superuser("boss")
    outsider = User.objects.create_user("outsider")
    client = Client()
    client.force_login(boss)

    response = client.post(
        "/admin/api/apitoken/add/", {"name": "X", "scope": "read", "user": outsider.pk}
    )

    assert response.status_code == 200
    assert "Select a valid choice" in response.content.decode()
    assert not ApiToken.objects.exists()


@pytest.mark.parametrize(
    "header",
    [
        None,
        "Bearer",
        "Bearer ct_not-a-token",
        "Bearer a b",
        "Token ct_abc",
        "Basic bWFya2V0ZXI6eA==",
        "Bearer ct_\u00e9",
    ],
)
def test_every_endpoint_needs_a_valid_token(db, header):
    client = APIClient()
    if header is not None:
        client.credentials(HTTP_AUTHORIZATION=header.encode().decode("latin-1"))
    for url in ["/api/v1/calls/", "/api/v1/campaigns/", "/api/v1/numbers/", "/api/v1/reports/"]:
        response = client.get(url)
        assert response.status_code == 401, (url, header)
        assert response["WWW-Authenticate"] == 'Bearer realm="api"'


def test_a_deleted_token_stops_working(api):
    ApiToken.objects.all().delete()

    assert api.get("/api/v1/calls/").status_code == 401


@pytest.mark.parametrize("change", [{"is_active": False}, {"is_staff": False}])
def test_a_token_stops_when_its_user_loses_admin_access(api, marketer, change):
    User.objects.filter(pk=marketer.pk).update(**change)

    assert api.get("/api/v1/calls/").status_code == 401


def test_a_session_is_not_a_token(marketer):
    client = APIClient()
    client.force_login(marketer)

    assert client.get("/api/v1/calls/").status_code == 401


def test_superuser_token_can_do_everything(db, number):
    boss = client_for(User.objects.create_superuser("boss"))

    assert boss.get("/api/v1/calls/").status_code == 200
    assert boss.delete(f"/api/v1/numbers/{number.pk}/").status_code == 204


def test_marketers_may_manage_api_tokens(db):
    from django.contrib.auth.models import Group

    codenames = set(
        Group.objects.get(name="Marketers")
        .permissions.filter(content_type__app_label="api")
        .values_list("codename", flat=True)
    )
    assert codenames == {"add_apitoken", "change_apitoken", "delete_apitoken", "view_apitoken"}
