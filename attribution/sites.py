"""A website's settings as the number endpoint uses them: its domains, the numbers to swap, and
its sources in order with their rules and numbers, read once and kept by each process for a
few seconds."""

from __future__ import annotations

import functools
import json
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
    numbers: dict[int, list[SourceNumber]] = {}
    for row in SourceNumber.objects.filter(
        source__website=website, number__is_active=True
    ).select_related("number"):
        numbers.setdefault(row.source_id, []).append(row)

    def with_role(source: Source, role: str) -> list[SourceNumber]:
        return sorted(
            (row for row in numbers.get(source.pk, []) if row.role == role),
            key=lambda row: row.number_id,
        )

    sources = []
    for source in website.sources.all():
        single = with_role(source, SourceNumber.Role.NUMBER)
        overflow = with_role(source, SourceNumber.Role.OVERFLOW)
        sources.append(
            SourceConfig(
                id=source.pk,
                name=source.name,
                rule=source.rule,
                utm_source=source.utm_source,
                utm_medium=source.utm_medium,
                utm_campaign=source.utm_campaign,
                click_id=source.click_id,
                referrer_domain=source.referrer_domain,
                number=single[0].number.phone_number if single else "",
                pool=tuple(
                    (row.number_id, row.number.phone_number)
                    for row in with_role(source, SourceNumber.Role.POOL)
                ),
                overflow=overflow[0].number.phone_number if overflow else "",
            )
        )
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
# that saved; others follow within CONFIG_SECONDS).
_configs: dict[str, tuple[float, SiteConfig | None]] = {}


def site_config(key: str) -> SiteConfig | None:
    now = time.monotonic()
    cached = _configs.get(key)
    if cached is not None and now - cached[0] < CONFIG_SECONDS:
        return cached[1]
    config = _load(key)
    if len(_configs) > 1000:
        _configs.clear()
    _configs[key] = (now, config)
    return config


_all_domains: list[tuple[float, list[str]]] = []


def site_config_cached(key: str) -> bool:
    """Whether this process has the website's settings at hand, not to be read from the database."""
    cached = _configs.get(key)
    return cached is not None and time.monotonic() - cached[0] < CONFIG_SECONDS


def origin_of_some_website(origin: str) -> bool:
    now = time.monotonic()
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
