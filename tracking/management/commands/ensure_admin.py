"""Make sure somebody can log in to a fresh install, without a password anybody could guess."""

from __future__ import annotations

import secrets

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand

USERNAME = "admin"


class Command(BaseCommand):
    help = "Create the superuser 'admin' with a generated password if there is no superuser."

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--url", default="http://127.0.0.1:8000/admin/", help="Where the admin is served."
        )

    def handle(self, *args, url: str, **options) -> None:
        User = get_user_model()
        existing = User.objects.filter(is_superuser=True).order_by("pk").first()
        if existing is not None:
            name = existing.get_username()
            self.stdout.write(
                f"Log in at {url} as “{name}” (or any other superuser).\n"
                f"Forgot the password? Run: python manage.py changepassword {name}"
            )
            return
        if User.objects.filter(**{User.USERNAME_FIELD: USERNAME}).exists():
            # Never turn an existing account into a superuser behind its owner's back.
            self.stdout.write(
                self.style.WARNING(
                    f"A user “{USERNAME}” exists but is not a superuser. "
                    "Create one with: python manage.py createsuperuser"
                )
            )
            return
        password = secrets.token_urlsafe(12)
        User.objects.create_superuser(**{User.USERNAME_FIELD: USERNAME}, password=password)
        rule = "=" * 60
        self.stdout.write(
            self.style.SUCCESS(
                f"{rule}\n"
                f"  Admin user created. This password is shown only once.\n"
                f"  URL:      {url}\n"
                f"  Username: {USERNAME}\n"
                f"  Password: {password}\n"
                f"  Change it with: python manage.py changepassword {USERNAME}\n"
                f"{rule}"
            )
        )
