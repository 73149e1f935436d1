"""A website's settings as the number endpoint uses them: its domains, the numbers to swap, and
its sources in order with their rules and numbers, read once and kept by each process for a
few seconds."""

from __future__ import annotations

import functools
import json
import random
import time
from dataclasses import dataclass

from attribution import matching, pools
from attribution.models import Source, SourceNumber, Website

CONFIG_SECONDS = 10.0


@dataclass(frozen=True)
class SourceConfig:
    id: int
    name: str
    rule: str
    utm_source: str
    utm_medium: str
    utm_campaign: str
    click_id: str
    referrer_domain: str
    number: str
    pool: tuple[tuple[int, str], ...]
    overflow: str
    # The most pool numbers in use at once as last read: a claim that does not pass it has
    # nothing to write (the peak only rises).
    peak: int = 0

    def matches(self, touch: matching.Touch) -> bool:
        return matching.source_matches(self, touch)


@dataclass(frozen=True)
class SiteConfig:
    id: int
    key: str
    domains: tuple[str, ...]
    targets: tuple[str, ...]
    cookie_days: int
    hold_minutes: int
    sources: tuple[SourceConfig, ...]

    def allows_origin(self, origin: str) -> bool:
        return matching.origin_allowed(origin, list(self.domains))

    def match(self, touch: matching.Touch) -> SourceConfig | None:
        return next((source for source in self.sources if source.matches(touch)), None)

    def source(self, source_id: int | None) -> SourceConfig | None:
        return next((source for source in self.sources if source.id == source_id), None)

    @functools.cached_property
    def pool_versions(self) -> str:
        """The sources that give out pool numbers, each with its pool's version (for `live`)."""
        return json.dumps(
            {
                str(source.id): pools.version([number_id for number_id, _ in source.pool])
                for source in self.sources
                if source.pool and not source.number
            }
        )


def _load(key: str) -> SiteConfig | None:
    website = Website.objects.filter(key=key, is_active=True).first()
    if website is None:
        return None
    # Values, not instances: a pool of hundreds of numbers is read every few seconds by every
    # process, and building a model instance for each number cost five times the query.
    numbers: dict[tuple[int, str], list[tuple[int, str]]] = {}
    rows = (
        SourceNumber.objects.filter(source__website=website, number__is_active=True)
        .order_by("number_id")
        .values_list("source_id", "role", "number_id", "number__phone_number")
    )
    for source_id, role, number_id, phone in rows:
        numbers.setdefault((source_id, role), []).append((number_id, phone))

    def phone(source: Source, role: str) -> str:
        held = numbers.get((source.pk, role))
        return held[0][1] if held else ""

    sources = [
        SourceConfig(
            id=source.pk,
            name=source.name,
            rule=source.rule,
            utm_source=source.utm_source,
            utm_medium=source.utm_medium,
            utm_campaign=source.utm_campaign,
            click_id=source.click_id,
            referrer_domain=source.referrer_domain,
            number=phone(source, SourceNumber.Role.NUMBER),
            pool=tuple(numbers.get((source.pk, SourceNumber.Role.POOL), ())),
            overflow=phone(source, SourceNumber.Role.OVERFLOW),
            peak=source.peak_in_use,
        )
        for source in website.sources.all()
    ]
    return SiteConfig(
        id=website.pk,
        key=website.key,
        domains=tuple(website.domain_list),
        targets=tuple(website.target_list),
        cookie_days=website.cookie_days,
        hold_minutes=website.hold_minutes,
        sources=tuple(sources),
    )


# Each process keeps a website's settings for a few seconds: the script asks for every page
# view and heartbeat, the settings change rarely (and saving them empties this in the process
# that saved; others follow within CONFIG_SECONDS). Each reading lasts a random part of the
# last fifth of that, so that processes which read a website together (a deploy, say) do not
# all read it again in the same instant, every time, while visitors wait.
_configs: dict[str, tuple[float, SiteConfig | None]] = {}
# The processes' clock; tests set their own.
monotonic = time.monotonic


def site_config(key: str) -> SiteConfig | None:
    now = monotonic()
    cached = _configs.get(key)
    if cached is not None and now < cached[0]:
        return cached[1]
    config = _load(key)
    if len(_configs) > 1000:
        _configs.clear()
    _configs[key] = (now + CONFIG_SECONDS * random.uniform(0.8, 1.0), config)
    return config


_all_domains: list[tuple[float, list[str]]] = []


def site_config_cached(key: str) -> bool:
    """Whether this process has the website's settings at hand, not to be read from the database."""
    cached = _configs.get(key)
    return cached is not None and monotonic() < cached[0]


def origin_of_some_website(origin: str) -> bool:
    now = monotonic()
    if not _all_domains or now - _all_domains[0][0] >= CONFIG_SECONDS:
        domains = [
            domain
            for website in Website.objects.filter(is_active=True).only("domains")
            for domain in website.domain_list
        ]
        _all_domains[:] = [(now, domains)]
    return matching.origin_allowed(origin, _all_domains[0][1])


def forget_configs() -> None:
    _configs.clear()
    _all_domains.clear()
