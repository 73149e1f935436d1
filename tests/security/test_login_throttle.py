from __future__ import annotations

import pytest
from django.contrib.auth.models import User


@pytest.fixture
def staff(db):
    return User.objects.create_superuser("marta", "marta@example.com", "right-horse-battery")


def _sign_in(client, username, password, address="203.0.113.5"):
    return client.post(
        "/admin/login/?next=/admin/",
        {"username": username, "password": password},
        REMOTE_ADDR=address,
    )


def _refused(response) -> bool:
    return response.status_code == 200 and "Too many failed sign-in attempts" in (
        response.content.decode()
    )


@pytest.mark.django_db
def test_after_five_failures_even_the_right_password_is_refused(client, staff, settings):
    settings.LOGIN_FAILURE_LIMIT = 5
    for _ in range(5):
        assert not _refused(_sign_in(client, "marta", "wrong"))

    response = _sign_in(client, "marta", "right-horse-battery")

    assert _refused(response)
    assert "_auth_user_id" not in client.session


@pytest.mark.django_db
def test_fewer_failures_do_not_lock_anyone_out(client, staff, settings):
    settings.LOGIN_FAILURE_LIMIT = 5
    for _ in range(4):
        _sign_in(client, "marta", "wrong")

    response = _sign_in(client, "marta", "right-horse-battery")

    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(staff.pk)


@pytest.mark.django_db
def test_the_username_is_locked_from_every_address(client, staff, settings):
    settings.LOGIN_FAILURE_LIMIT = 3
    for address in ["198.51.100.1", "198.51.100.2", "198.51.100.3"]:
        _sign_in(client, "MARTA", "wrong", address=address)

    assert _refused(_sign_in(client, "marta", "right-horse-battery", address="198.51.100.9"))


@pytest.mark.django_db
def test_one_address_guessing_many_usernames_is_stopped(client, staff, settings):
    settings.LOGIN_FAILURE_LIMIT = 2  # an address gets ten times that
    for n in range(20):
        _sign_in(client, f"user{n}", "wrong")

    assert _refused(_sign_in(client, "marta", "right-horse-battery"))
    assert not _refused(_sign_in(client, "marta", "right-horse-battery", address="192.0.2.7"))
