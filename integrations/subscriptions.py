"""Who subscribes to what, cached, so that a call on a system without webhook endpoints (or
without one for the event at hand) costs no query at all.

The cache holds the set of event types some active endpoint wants. Every change to an endpoint
writes it anew once committed (see signals); the entry also expires, which bounds how stale a
cache that missed a change (one per machine, say) can be.
"""

from __future__ import annotations

import logging

from django.core.cache import cache

from integrations.models import Endpoint, EventType
from tracking import outbox

logger = logging.getLogger(__name__)

CACHE_KEY = "integrations:subscribed:v1"
CACHE_SECONDS = 300

# What each kind of call-log write may become.
EVENTS_OF = {
    outbox.STARTED: {EventType.CALL_STARTED},
    outbox.CHANGED: {EventType.CALL_COMPLETED, EventType.CALL_UPDATED},
}


def read() -> frozenset[str]:
    types: set[str] = set()
    for events in Endpoint.objects.filter(is_active=True).values_list("events", flat=True):
        types.update(events)
    return frozenset(types)


def refresh() -> frozenset[str]:
    types = read()
    try:
        cache.set(CACHE_KEY, sorted(types), CACHE_SECONDS)
    except Exception:
        logger.exception("Could not cache webhook subscriptions")
    return types


def forget() -> None:
    try:
        cache.delete(CACHE_KEY)
    except Exception:
        logger.exception("Could not forget the cached webhook subscriptions")


def subscribed() -> frozenset[str]:
    """The event types at least one active endpoint wants."""
    try:
        cached = cache.get(CACHE_KEY)
    except Exception:
        cached = None
    if cached is not None:
        return frozenset(cached)
    return refresh()


class _Listener:
    """The call log's listener: each write that matters becomes one job, which works out (off
    the caller's path) which events it makes and to whom they go."""

    def wants(self, kind: str) -> bool:
        return bool(EVENTS_OF.get(kind, set()) & subscribed())

    def jobs(self, call_sid: str, kind: str) -> list[outbox.Job]:
        from integrations import tasks

        return [(tasks.publish_call_events, (call_sid, kind))]


listener = _Listener()
