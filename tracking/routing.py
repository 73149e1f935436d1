"""Where a call to a tracking number goes, and what the person answering hears.

The database is the truth. Every route read from it is also kept in the cache, and every change
to a campaign or a number refreshes the cached routes it touches, so that while the database is
down a call to a known number still rings the business with its whisper.
"""

from __future__ import annotations

import functools
import logging
from dataclasses import asdict, dataclass
from datetime import date, datetime, time

from django.core.cache import cache
from django.db import DatabaseError
from django.db.models import Prefetch

from tracking import hours, menus, phones, sql
from tracking.announcement import CallerContext, CallerPlace, announcement
from tracking.menus import MenuChoice
from tracking.models import Campaign, Destination, TrackingNumber, prefix_list, report_prompt
from tracking.services import Target

logger = logging.getLogger(__name__)

# Tracking numbers are stored in E.164; nothing else can have a route (or a cache key).

# Long enough to outlast any outage; a change refreshes the entry at once anyway.
ROUTE_TTL = 30 * 24 * 3600


@dataclass(frozen=True)
class Route:
    tracking_number: str
    number_id: int
    campaign_id: int
    campaign_name: str
    targets: tuple[Target, ...]
    ring_strategy: str
    ring_timeout: int
    announce_location: bool
    whisper_template: str
    accept_digit: str
    voice: str
    language: str
    missed_message: str
    voicemail_enabled: bool = False
    voicemail_greeting: str = ""
    voicemail_audio_url: str = ""
    voicemail_max_seconds: int = 120
    voicemail_transcribe: bool = False
    record_calls: bool = False
    recording_notice: str = ""
    # Business hours: (weekday, opens, closes) as ISO times, holidays as ISO dates.
    openings: tuple[tuple[int, str, str], ...] = ()
    holidays: tuple[str, ...] = ()
    time_zone: str = "UTC"
    after_hours_number: str = ""
    # The campaign's own destinations (`targets` may be a number's own forward instead), and
    # the campaign version they, the openings and the holidays were read at.
    destinations: tuple[Target, ...] = ()
    campaign_version: str = ""
    # The menu played before anything rings (none: no greeting, or a number's own forward).
    menu_greeting: str = ""
    menu: tuple[MenuChoice, ...] = ()
    # The campaign's CRM, asked who the caller is as the call comes in (none: not asked).
    crm_url: str = ""
    crm_secret: str = ""
    # Spam screening (tracking.screening).
    challenge_attestation: str = ""
    challenge_prefixes: tuple[str, ...] = ()
    burst_calls: int = 0
    burst_minutes: int = 10
    challenge_voip: bool = False
    spam_report_key: str = ""

    @classmethod
    def of(cls, number: TrackingNumber, known: Route | None = None) -> Route:
        """The route of `number` (with its campaign).

        The campaign's destinations, hours and holidays are read from the database, unless
        `known` (a cached route) was built from the same version of the campaign: every change
        to one of them stamps the campaign anew (see signals), so an incoming call usually
        needs one query, not four. A campaign without a menu reads no menu options.
        """
        campaign = number.campaign
        version = campaign.updated_at.isoformat() if campaign.updated_at else ""
        if known is not None and version and known.campaign_version == version:
            destinations, openings, holidays = known.destinations, known.openings, known.holidays
            menu = known.menu
        else:
            destinations = tuple(
                Target(
                    destination.label,
                    destination.address,
                    destination.pk,
                    away=destination.agent is not None and not destination.agent.is_available,
                )
                for destination in _destinations_with_agents(campaign)
            )
            openings = tuple(
                (each.weekday, each.opens.isoformat(), each.closes.isoformat())
                for each in campaign.opening_hours.all()
            )
            holidays = tuple(holiday.date.isoformat() for holiday in campaign.holidays.all())
            menu = ()
            if campaign.menu_greeting:
                menu = menus.menu_of(
                    campaign.menu_options.prefetch_related("destinations"),
                    [target.destination_id for target in destinations],
                )
        if number.forward_to:
            targets = (Target(number.label or "This number's own forward", number.forward_to),)
        else:
            targets = destinations
        forward_after_hours = campaign.after_hours_action == Campaign.AfterHours.FORWARD
        return cls(
            tracking_number=number.phone_number,
            number_id=number.pk,
            campaign_id=campaign.pk,
            campaign_name=campaign.name,
            targets=targets,
            ring_strategy=campaign.ring_strategy,
            ring_timeout=campaign.ring_timeout,
            announce_location=campaign.announce_location,
            whisper_template=campaign.whisper_template,
            accept_digit=campaign.accept_digit,
            voice=campaign.whisper_voice,
            language=campaign.whisper_language,
            missed_message=campaign.missed_message,
            voicemail_enabled=campaign.voicemail_enabled,
            voicemail_greeting=campaign.voicemail_greeting,
            voicemail_audio_url=campaign.voicemail_audio_url,
            voicemail_max_seconds=campaign.voicemail_max_seconds,
            voicemail_transcribe=campaign.voicemail_transcribe,
            record_calls=campaign.record_calls,
            recording_notice=campaign.recording_notice if campaign.record_calls else "",
            openings=openings,
            holidays=holidays,
            time_zone=campaign.time_zone,
            after_hours_number=campaign.after_hours_number if forward_after_hours else "",
            destinations=destinations,
            campaign_version=version,
            menu_greeting=campaign.menu_greeting if menu and not number.forward_to else "",
            menu=menu if campaign.menu_greeting and not number.forward_to else (),
            crm_url=campaign.crm_url if campaign.crm_secret else "",
            crm_secret=campaign.crm_secret if campaign.crm_url else "",
            challenge_attestation=campaign.challenge_attestation,
            challenge_prefixes=tuple(prefix_list(campaign.challenge_prefixes)),
            burst_calls=campaign.challenge_burst_calls,
            burst_minutes=campaign.challenge_burst_minutes,
            challenge_voip=campaign.challenge_voip,
            spam_report_key=campaign.spam_report_key,
        )

    @classmethod
    def from_cache(cls, data: dict) -> Route:
        def targets(name: str) -> tuple[Target, ...]:
            return tuple(Target(**target) for target in data[name])

        return cls(
            **{
                **data,
                "targets": targets("targets"),
                "destinations": targets("destinations"),
                "menu": tuple(MenuChoice.from_cache(choice) for choice in data.get("menu", ())),
                "challenge_prefixes": tuple(data.get("challenge_prefixes", ())),
            }
        )

    @property
    def simultaneous(self) -> bool:
        return self.ring_strategy == Campaign.RingStrategy.SIMULTANEOUS

    def is_open(self, at: datetime) -> bool:
        return hours.is_open(
            (
                hours.Opening(day, time.fromisoformat(o), time.fromisoformat(c))
                for day, o, c in self.openings
            ),
            (date.fromisoformat(day) for day in self.holidays),
            self.time_zone,
            at,
        )

    def plan(self, at: datetime) -> Plan:
        """Whom a call coming in at `at` rings: the destinations in business hours; outside
        them the after-hours number, or nobody (straight to voicemail)."""
        if self.is_open(at):
            return Plan(after_hours=False, targets=self.targets)
        if self.after_hours_number:
            return Plan(after_hours=True, targets=(Target("After hours", self.after_hours_number),))
        return Plan(after_hours=True, targets=())

    def offers_menu(self, plan: Plan) -> bool:
        """A menu plays before ringing, in business hours only (after hours rings nobody to
        choose from)."""
        return bool(self.menu) and not plan.after_hours

    def menu_choice(self, key: str) -> MenuChoice | None:
        return next((choice for choice in self.menu if choice.key == key), None)

    def targets_of(self, choice: MenuChoice) -> tuple[Target, ...]:
        """The destinations an option rings, in the campaign's ring order."""
        return tuple(
            self.destinations[position]
            for position in choice.positions
            if position < len(self.destinations)
        )

    def whisper_for(self, place: CallerPlace, context: CallerContext | None = None) -> str:
        words = announcement(
            campaign=self.campaign_name,
            place=place,
            announce_location=self.announce_location,
            template=self.whisper_template,
            accept_digit=self.accept_digit,
            context=context,
        )
        return words + report_prompt(self.spam_report_key)


@dataclass(frozen=True)
class Plan:
    after_hours: bool
    targets: tuple[Target, ...]


def _key(phone_number: str) -> str:
    return f"route:{phone_number}"


def _routable(number: TrackingNumber) -> bool:
    return number.is_active and number.campaign.is_active


_NUMBER = sql.Columns(TrackingNumber, "n")
_CAMPAIGN = sql.Columns(Campaign, "k")


@functools.cache
def _number_query() -> str:
    return (
        f"SELECT {_NUMBER.sql}, {_CAMPAIGN.sql} FROM {_NUMBER.table}"
        f" JOIN {_CAMPAIGN.table} ON {_CAMPAIGN.column('id')} = {_NUMBER.column('campaign')}"
        f" WHERE {_NUMBER.column('phone_number')} = %s"
        f" AND {_NUMBER.column('is_active')} AND {_CAMPAIGN.column('is_active')}"
    )


def _active_number(called: str) -> TrackingNumber | None:
    """The active number `called` of an active campaign, with its campaign: one query."""
    rows = sql.fetch(_number_query(), [called])
    if not rows:
        return None
    number = _NUMBER.instance(rows[0])
    campaign = _CAMPAIGN.instance(rows[0], len(_NUMBER))
    TrackingNumber.campaign.field.set_cached_value(number, campaign)
    return number


def route_for(called: str) -> Route | None:
    """The route of the number `called` (None: no active number of an active campaign).

    Raises DatabaseError only when the database is down and no route was ever cached.
    """
    if not phones.is_e164(called):
        return None
    cached = cached_route(called)
    try:
        number = _active_number(called)
        route = Route.of(number, known=cached) if number else None
    except DatabaseError:
        if cached is None:
            raise
        logger.warning("Database unavailable: routing %s from the cache", called)
        return cached
    if route != cached:
        _remember(called, route)
    return route


def cached_route(called: str) -> Route | None:
    if not phones.is_e164(called):
        return None
    try:
        data = cache.get(_key(called))
    except Exception:
        logger.exception("Routing cache unreadable")
        return None
    try:
        return Route.from_cache(data) if data else None
    except (TypeError, KeyError):
        # Cached by an older release with other fields: the database will refresh it.
        return None


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


def _destinations_with_agents(campaign: Campaign):
    if "destinations" in getattr(campaign, "_prefetched_objects_cache", {}):
        return campaign.destinations.all()
    return campaign.destinations.select_related("agent")


def _with_campaign(numbers):
    return numbers.select_related("campaign").prefetch_related(
        Prefetch("campaign__destinations", Destination.objects.select_related("agent")),
        "campaign__opening_hours",
        "campaign__holidays",
    )


def refresh_campaign(campaign: Campaign) -> None:
    for number in _with_campaign(campaign.numbers.all()):
        refresh_number(number)


def forget_number(phone_number: str) -> None:
    _remember(phone_number, None)


def refresh_all() -> int:
    """Cache every routable number (on deploy, or after the cache was wiped)."""
    count = 0
    for number in _with_campaign(TrackingNumber.objects.all()):
        refresh_number(number)
        count += _routable(number)
    return count
