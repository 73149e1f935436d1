"""The seam through which other systems hear about calls.

The call log does not know who listens. A listener (the outbound webhooks) registers itself
when its app loads; the services tell it, inside the transaction of each write, that a call was
logged or that an ended call changed, so whatever jobs the listener writes commit or roll back
with the change that caused them. Asking a listener costs no query when nobody subscribes.
"""

from __future__ import annotations

from typing import Protocol

# A call was logged with its route (campaign, number, caller).
STARTED = "started"
# An ended call was written to: its end itself, or any later fact (a leg's late report, a
# recording, a transcription).
CHANGED = "changed"


class Listener(Protocol):
    def wants(self, kind: str) -> bool:
        """Whether anything listens for `kind`; cheap (no query in the common case)."""

    def publish(self, call_sid: str, kind: str) -> None:
        """Called inside the write's transaction."""


_listeners: list[Listener] = []


def register(listener: Listener) -> None:
    if listener not in _listeners:
        _listeners.append(listener)


def wanted(kind: str) -> bool:
    return any(listener.wants(kind) for listener in _listeners)


def publish(call_sid: str, kind: str) -> None:
    for listener in _listeners:
        if listener.wants(kind):
            listener.publish(call_sid, kind)
