from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from django.contrib.auth.models import User
from django.contrib.auth.signals import user_login_failed
from django.db import connection
from django.test import Client
from django.utils import timezone

from signin.models import SignInAttempts


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
def test_a_guesser_elsewhere_cannot_lock_the_owner_out(client, staff, settings):
    settings.LOGIN_FAILURE_LIMIT = 3
    for _ in range(10):
        _sign_in(client, "MARTA", "wrong", address="198.51.100.1")
    assert _refused(_sign_in(client, "marta", "right-horse-battery", address="198.51.100.1"))

    response = _sign_in(client, "marta", "right-horse-battery", address="203.0.113.5")

    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(staff.pk)


@pytest.mark.django_db
def test_colleagues_behind_one_address_do_not_lock_each_other_out(client, staff, settings):
    settings.LOGIN_FAILURE_LIMIT = 2
    for n in range(60):
        _sign_in(client, f"user{n}", "wrong")

    assert _sign_in(client, "marta", "right-horse-battery").status_code == 302


@pytest.mark.django_db
def test_the_pause_ends_with_its_window(client, staff, settings):
    settings.LOGIN_FAILURE_LIMIT = 2
    settings.LOGIN_FAILURE_WINDOW = 900
    for _ in range(2):
        _sign_in(client, "marta", "wrong")
    SignInAttempts.objects.update(window_started=timezone.now() - timedelta(seconds=901))

    assert _sign_in(client, "marta", "right-horse-battery").status_code == 302
    assert not SignInAttempts.objects.exists()


@pytest.mark.django_db
def test_the_count_does_not_depend_on_the_cache(client, staff, settings):
    settings.LOGIN_FAILURE_LIMIT = 2
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.dummy.DummyCache"}}
    for _ in range(2):
        _sign_in(client, "marta", "wrong")

    assert _refused(_sign_in(client, "marta", "right-horse-battery"))


@pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="SQLite's shared in-memory test database refuses concurrent writers outright",
)
@pytest.mark.django_db(transaction=True)
def test_simultaneous_wrong_guesses_never_get_more_checks_than_the_limit(settings):
    User.objects.create_superuser("marta", "marta@example.com", "right-horse-battery")
    settings.LOGIN_FAILURE_LIMIT = 5
    guesses = 40
    checked = []

    def count(sender, credentials, **kwargs):
        checked.append(credentials["username"])

    user_login_failed.connect(count, weak=False, dispatch_uid="count-checks")
    start = threading.Barrier(guesses)
    answers = []

    def guess():
        try:
            start.wait()
            answers.append(_refused(_sign_in(Client(), "marta", "wrong")))
        finally:
            connection.close()

    try:
        threads = [threading.Thread(target=guess) for _ in range(guesses)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        user_login_failed.disconnect(dispatch_uid="count-checks")

    assert len(checked) == 5
    assert answers.count(True) == guesses - 5
    assert SignInAttempts.objects.get().attempts == 5
