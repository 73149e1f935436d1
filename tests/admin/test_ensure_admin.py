from __future__ import annotations

import io
import re

from django.contrib.auth.models import User
from django.core.management import call_command


def ensure_admin() -> str:
    out = io.StringIO()
    call_command("ensure_admin", stdout=out)
    return out.getvalue()


def test_it_creates_one_superuser_and_prints_its_password_once(db):
    output = ensure_admin()

    admin = User.objects.get(is_superuser=True)
    assert admin.username == "admin"
    assert "http://127.0.0.1:8000/admin/" in output
    password = re.search(r"Password: (\S+)", output).group(1)
    assert len(password) >= 12
    assert admin.check_password(password)

    again = ensure_admin()
    assert User.objects.filter(is_superuser=True).count() == 1
    assert password not in again
    assert "python manage.py changepassword admin" in again


def test_it_generates_a_different_password_each_time(db):
    first = re.search(r"Password: (\S+)", ensure_admin()).group(1)
    User.objects.all().delete()
    second = re.search(r"Password: (\S+)", ensure_admin()).group(1)
    assert first != second


def test_it_leaves_an_existing_superuser_alone(db):
    User.objects.create_superuser("owner", password="theirs-1234")
    output = ensure_admin()
    assert list(User.objects.values_list("username", flat=True)) == ["owner"]
    assert "changepassword owner" in output


def test_it_never_promotes_an_existing_user_named_admin(db):
    User.objects.create_user("admin", password="theirs-1234")
    output = ensure_admin()
    assert not User.objects.filter(is_superuser=True).exists()
    assert "createsuperuser" in output


def test_it_names_the_address_the_server_was_started_on(db):
    out = io.StringIO()
    call_command("ensure_admin", url="http://127.0.0.1:8123/admin/", stdout=out)

    assert "URL:      http://127.0.0.1:8123/admin/" in out.getvalue()
