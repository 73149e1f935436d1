"""The seam through which other systems hear about calls.

The call log does not know who listens. A listener (the outbound webhooks) registers itself
when its app loads; the services ask it, with each write, for the jobs that a call logged or a
change to an ended call makes, and write them with the change (in the same statement on
PostgreSQL), so they commit or roll back together. Asking costs no query when nobody listens.
An app that changes a call itself (a tag, a spam mark) calls `publish` in its transaction.
"""

from __future__ import annotations

from typing import Protocol

from django_tasks.base import Task

# A call was logged with its route (campaign, number, caller).
STARTED = "started"
# An ended call was written to: its end itself, or any later fact (a leg's late report, a
# recording, a transcription).
CHANGED = "changed"


class Listener(Protocol):
    def wants(self, kind: str) -> bool:
        """Whether anything listens for `kind`; cheap (no query in the common case)."""

    def jobs(self, call_sid: str, kind: str) -> list[Job]:
        """The background jobs a write of `kind` to the call makes, to be written with it."""


# A task and its arguments.
Job = tuple[Task, tuple]

_listeners: list[Listener] = []


def register(listener: Listener) -> None:
    if listener not in _listeners:
        _listeners.append(listener)


def jobs(call_sid: str, kind: str) -> list[Job]:
    """The jobs every listener wants written with a write of `kind` to the call."""
    found: list[Job] = []
    for listener in _listeners:
        if listener.wants(kind):
            found += listener.jobs(call_sid, kind)
    return found


def publish(call_sid: str, kind: str) -> None:
    """Enqueue those jobs now, inside the caller's transaction: for writes made outside the
    call log's services (an app that tags a call, say)."""
    for task, args in jobs(call_sid, kind):
        task.enqueue(*args)
