"""Admin sign-in that refuses further attempts after repeated failures.

Failures are counted per username and per client address in the cache, over a fixed window
(LOGIN_FAILURE_LIMIT, LOGIN_FAILURE_WINDOW). Counting by username stops a guesser spread over
many addresses; counting by address stops one that tries many usernames.
"""

from __future__ import annotations

import hashlib

from django.conf import settings
from django.contrib.admin.forms import AdminAuthenticationForm
from django.core.cache import cache
from django.core.exceptions import ValidationError

# One address may fail this many times the per-user limit: an office behind one NAT has many
# users who each mistype now and then.
ADDRESS_FACTOR = 10


def client_address(request) -> str:
    if getattr(settings, "USE_X_FORWARDED_HOST", False):
        # Behind our proxy the last hop it appended is the client as the proxy saw it.
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
        if forwarded:
            return forwarded.split(",")[-1].strip()
    return request.META.get("REMOTE_ADDR", "")


def _key(kind: str, value: str) -> str:
    return f"login-failures:{kind}:{hashlib.sha256(value.encode()).hexdigest()}"


class ThrottledAdminLoginForm(AdminAuthenticationForm):
    error_messages = {
        **AdminAuthenticationForm.error_messages,
        "throttled": "Too many failed sign-in attempts. Wait %(minutes)d minutes and try again.",
    }

    def clean(self):
        username = (self.cleaned_data.get("username") or "").strip().lower()
        keys = {
            _key("user", username): settings.LOGIN_FAILURE_LIMIT,
            _key("address", client_address(self.request)): settings.LOGIN_FAILURE_LIMIT
            * ADDRESS_FACTOR,
        }
        counts = cache.get_many(list(keys))
        if any(counts.get(key, 0) >= limit for key, limit in keys.items()):
            raise ValidationError(
                self.error_messages["throttled"],
                code="throttled",
                params={"minutes": max(1, settings.LOGIN_FAILURE_WINDOW // 60)},
            )
        try:
            return super().clean()
        except ValidationError:
            for key in keys:
                # add() starts the window on the first failure; incr() never extends it.
                cache.add(key, 0, settings.LOGIN_FAILURE_WINDOW)
                try:
                    cache.incr(key)
                except ValueError:
                    cache.set(key, 1, settings.LOGIN_FAILURE_WINDOW)
            raise
