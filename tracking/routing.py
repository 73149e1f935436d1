"""Where a call to a tracking number goes, and what the person answering hears.

The database is the truth. Every route read from it is also kept in the cache, and every change
to a campaign or a number refreshes the cached routes it touches, so that while the database is
down a call to a known number still rings the business with its whisper.
"""

from __future__ import annotations

import logging
import re
from dataclasses import asdict, dataclass

from django.core.cache import cache
from django.db import DatabaseError

from tracking.announcement import CallerPlace, announcement
from tracking.models import Campaign, TrackingNumber

logger = logging.getLogger(__name__)

# Tracking numbers are stored in E.164; nothing else can have a route (or a cache key).
_E164 = re.compile(r"\+[1-9]\d{1,14}")

# Long enough to outlast any outage; a change refreshes the entry at once anyway.
ROUTE_TTL = 30 * 24 * 3600


@dataclass(frozen=True)
class Route:
    tracking_number: str
    number_id: int
    campaign_id: int
    campaign_name: str
    destination: str
    ring_timeout: int
    announce_location: bool
    whisper_template: str
    accept_digit: str
    voice: str
    language: str
    missed_message: str

    @classmethod
    def of(cls, number: TrackingNumber) -> Route:
        campaign = number.campaign
        return cls(
            tracking_number=number.phone_number,
            number_id=number.pk,
            campaign_id=campaign.pk,
            campaign_name=campaign.name,
            destination=number.destination,
            ring_timeout=campaign.ring_timeout,
            announce_location=campaign.announce_location,
            whisper_template=campaign.whisper_template,
            accept_digit=campaign.accept_digit,
            voice=campaign.whisper_voice,
            language=campaign.whisper_language,
            missed_message=campaign.missed_message,
        )

    def whisper_for(self, place: CallerPlace) -> str:
        return announcement(
            campaign=self.campaign_name,
            place=place,
            announce_location=self.announce_location,
            template=self.whisper_template,
            accept_digit=self.accept_digit,
        )


def _key(phone_number: str) -> str:
    return f"route:{phone_number}"


def _routable(number: TrackingNumber) -> bool:
    return number.is_active and number.campaign.is_active


def route_for(called: str) -> Route | None:
    """The route of the number `called` (None: no active number of an active campaign).

    Raises DatabaseError only when the database is down and no route was ever cached.
    """
    if not _E164.fullmatch(called):
        return None
    try:
        number = (
            TrackingNumber.objects.select_related("campaign")
            .filter(phone_number=called, is_active=True, campaign__is_active=True)
            .first()
        )
    except DatabaseError:
        cached = cached_route(called)
        if cached is None:
            raise
        logger.warning("Database unavailable: routing %s from the cache", called)
        return cached
    route = Route.of(number) if number else None
    _remember(called, route)
    return route


def cached_route(called: str) -> Route | None:
    if not _E164.fullmatch(called):
        return None
    try:
        data = cache.get(_key(called))
    except Exception:
        logger.exception("Routing cache unreadable")
        return None
    return Route(**data) if data else None


def _remember(called: str, route: Route | None) -> None:
    # A cache that fails must not fail the call: the database answered.
    try:
        if route is None:
            cache.delete(_key(called))
        elif cache.get(_key(called)) != asdict(route):
            cache.set(_key(called), asdict(route), ROUTE_TTL)
    except Exception:
        logger.exception("Routing cache unwritable")


def refresh_number(number: TrackingNumber) -> None:
    """Re-cache one number after it (or its campaign) changed."""
    _remember(number.phone_number, Route.of(number) if _routable(number) else None)


def refresh_campaign(campaign: Campaign) -> None:
    for number in campaign.numbers.select_related("campaign"):
        refresh_number(number)


def forget_number(phone_number: str) -> None:
    _remember(phone_number, None)


def refresh_all() -> int:
    """Cache every routable number (on deploy, or after the cache was wiped)."""
    count = 0
    for number in TrackingNumber.objects.select_related("campaign"):
        refresh_number(number)
        count += _routable(number)
    return count
