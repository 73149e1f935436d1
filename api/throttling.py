"""Requests per user, across all of their tokens."""

from __future__ import annotations

from django.conf import settings
from rest_framework.throttling import UserRateThrottle


class TokenUserThrottle(UserRateThrottle):
    scope = "user"

    def get_rate(self) -> str:
        # Read on every request rather than once at import, so the setting can change in tests
        # and the environment names one rate for every view.
        return settings.API_THROTTLE_RATE
