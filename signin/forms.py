"""Admin sign-in that refuses further attempts after repeated failures.

Attempts are counted per username *and* client address together (LOGIN_FAILURE_LIMIT within
LOGIN_FAILURE_WINDOW seconds), in the database, so:

- a guesser cannot lock the real owner out: their failures count against their own address;
- colleagues behind one office address do not lock each other out;
- counting is atomic whatever the cache: each attempt takes its place in a locked row *before*
  the password is checked, so simultaneous guesses never get more checks than the limit.
"""

from __future__ import annotations

import hashlib
from datetime import timedelta

from django.conf import settings
from django.contrib.admin.forms import AdminAuthenticationForm
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from signin.models import SignInAttempts


def client_address(request) -> str:
    if getattr(settings, "USE_X_FORWARDED_HOST", False):
        # Behind our proxy the last hop it appended is the client as the proxy saw it.
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
        if forwarded:
            return forwarded.split(",")[-1].strip()
    return request.META.get("REMOTE_ADDR", "")


def _key(username: str, address: str) -> str:
    return hashlib.sha256(f"{username.strip().lower()}\0{address}".encode()).hexdigest()


def attempt_reserve(*, username: str, address: str) -> bool:
    """Count one attempt for `username` from `address`; False when the limit is reached (the
    attempt is then not counted, and its password must not be checked)."""
    now = timezone.now()
    window_start = now - timedelta(seconds=settings.LOGIN_FAILURE_WINDOW)
    with transaction.atomic():
        SignInAttempts.objects.filter(window_started__lt=window_start).delete()
        row, _ = SignInAttempts.objects.select_for_update().get_or_create(
            key=_key(username, address), defaults={"window_started": now}
        )
        if row.attempts >= settings.LOGIN_FAILURE_LIMIT:
            return False
        row.attempts += 1
        row.save(update_fields=["attempts"])
    return True


def attempts_clear(*, username: str, address: str) -> None:
    """The right password: the count for this username from this address starts again."""
    SignInAttempts.objects.filter(key=_key(username, address)).delete()


class ThrottledAdminLoginForm(AdminAuthenticationForm):
    error_messages = {
        **AdminAuthenticationForm.error_messages,
        "throttled": "Too many failed sign-in attempts. Wait %(minutes)d minutes and try again.",
    }

    def clean(self):
        username = self.cleaned_data.get("username") or ""
        address = client_address(self.request)
        if not attempt_reserve(username=username, address=address):
            raise ValidationError(
                self.error_messages["throttled"],
                code="throttled",
                params={"minutes": max(1, settings.LOGIN_FAILURE_WINDOW // 60)},
            )
        cleaned = super().clean()
        attempts_clear(username=username, address=address)
        return cleaned
