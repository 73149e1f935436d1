"""Agents: people who answer calls in the browser, through Twilio's Voice SDK.

An agent is a staff user with an Agent row (the agent role). A campaign's destination can be an
agent instead of a phone: the <Dial> rings their browser as a <Client> identity, with the same
whisper and keys. Agents who are away are not rung.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

CLIENT_PREFIX = "client:"


def client_address(identity: str) -> str:
    """How a destination that is a browser is written where a phone number would be."""
    return CLIENT_PREFIX + identity


def client_identity(address: str) -> str:
    """The Client identity of `address`, or "" for a phone number."""
    return address[len(CLIENT_PREFIX) :] if address.startswith(CLIENT_PREFIX) else ""


class Agent(models.Model):
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="agent"
    )
    is_available = models.BooleanField(
        "available",
        default=False,
        help_text="Rung for calls. Agents set it themselves in the agent console.",
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["user__username"]

    def __str__(self) -> str:
        return self.user.get_full_name() or self.user.get_username()

    @property
    def identity(self) -> str:
        """The Twilio Client identity of the agent's browser: stable, and no personal data."""
        return f"agent_{self.user_id}"

    @property
    def address(self) -> str:
        return client_address(self.identity)
