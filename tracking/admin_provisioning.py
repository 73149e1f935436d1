"""Buying, re-pointing and releasing Twilio numbers from the tracking-number admin (issue 5)."""

from __future__ import annotations


class NumberProvisioningMixin:
    """Mixed into TrackingNumberAdmin; adds its own URLs, actions and change-list buttons."""
