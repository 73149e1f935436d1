"""What a visit's page and referrer say about where it came from, and which source rule that
matches. Pure functions of untrusted strings: anything malformed reads as absent."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlsplit

UTM_NAMES = ("utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content")
CLICK_IDS = ("gclid", "gbraid", "wbraid", "msclkid", "fbclid")
# Which click ids each ad network's rule looks for.
NETWORK_CLICK_IDS = {
    "google": ("gclid", "gbraid", "wbraid"),
    "microsoft": ("msclkid",),
    "meta": ("fbclid",),
}
MAX_VALUE = 200
MAX_URL = 1000

# Control characters: PostgreSQL refuses NUL in text, and none belongs in a URL or a UTM value.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
_HOST = re.compile(r"^(\*\.)?([a-z0-9-]{1,63}\.)*[a-z0-9-]{1,63}$")


def printable(value: str) -> str:
    return _CONTROL.sub("", value)


def plain_host(value: str) -> str:
    """`example.com` from "https://www.Example.com/path", "*.example.com" kept; '' if not a
    host name."""
    value = value.strip().lower()
    if "://" in value:
        value = urlsplit(value).hostname or ""
    value = value.split("/")[0].split(":")[0].rstrip(".")
    return value if _HOST.match(value) else ""


def host_of(url: str) -> str:
    try:
        return (urlsplit(url).hostname or "").lower().rstrip(".")
    except ValueError:
        return ""


def origin_allowed(origin: str, domains: list[str]) -> bool:
    """Whether a browser Origin ("https://shop.example.com") is one of the website's hosts.

    Scheme-less host match; a subdomain only where the domain is written "*.example.com"."""
    host = host_of(origin)
    if not host or not origin.startswith(("https://", "http://")):
        return False
    for domain in domains:
        if domain.startswith("*."):
            if host == domain[2:] or host.endswith(domain[1:]):
                return True
        elif host == domain:
            return True
    return False


def _domain_matches(host: str, domain: str) -> bool:
    return host == domain or host.endswith("." + domain)


@dataclass(frozen=True)
class Touch:
    """How a visit arrived: its landing page, referrer, UTM values and ad click ids."""

    page: str = ""
    referrer: str = ""
    utm: dict[str, str] = field(default_factory=dict)
    click_ids: dict[str, str] = field(default_factory=dict)

    @classmethod
    def of(cls, page: str, referrer: str) -> Touch:
        page, referrer = printable(page[:MAX_URL]), printable(referrer[:MAX_URL])
        try:
            query = urlsplit(page).query
        except ValueError:
            query = ""
        values: dict[str, str] = {}
        for name, value in parse_qsl(query, keep_blank_values=False):
            name = name.lower()
            if (name in UTM_NAMES or name in CLICK_IDS) and name not in values:
                values[name] = printable(value).strip()[:MAX_VALUE]
        return cls(
            page=page,
            referrer=referrer,
            utm={name: values[name] for name in UTM_NAMES if values.get(name)},
            click_ids={name: values[name] for name in CLICK_IDS if values.get(name)},
        )

    @property
    def referrer_host(self) -> str:
        return host_of(self.referrer)

    def external_referrer(self, site_host: str) -> str:
        """The referrer's host, unless it is the site itself (an internal page view)."""
        host = self.referrer_host
        if not host or (site_host and _domain_matches(host, site_host.removeprefix("www."))):
            return ""
        return host

    def is_direct(self) -> bool:
        return (
            not self.utm and not self.click_ids and not self.external_referrer(host_of(self.page))
        )

    def is_campaign(self) -> bool:
        """Carries what marks a new arrival: UTM values, a click id or another site's link."""
        return not self.is_direct()


def source_matches(source: Any, touch: Touch) -> bool:
    """Whether `touch` matches the rule of `source` (a Source row, or the settings the number
    endpoint keeps of one)."""
    return rule_matches(
        source.rule,
        touch,
        utm_source=source.utm_source,
        utm_medium=source.utm_medium,
        utm_campaign=source.utm_campaign,
        click_id=source.click_id,
        referrer_domain=source.referrer_domain,
    )


def rule_matches(
    rule: str,
    touch: Touch,
    *,
    utm_source: str = "",
    utm_medium: str = "",
    utm_campaign: str = "",
    click_id: str = "",
    referrer_domain: str = "",
) -> bool:
    if rule == "utm":
        wanted = {
            "utm_source": utm_source,
            "utm_medium": utm_medium,
            "utm_campaign": utm_campaign,
        }
        wanted = {name: value for name, value in wanted.items() if value}
        return bool(wanted) and all(
            touch.utm.get(name, "").lower() == value.lower() for name, value in wanted.items()
        )
    if rule == "click_id":
        return any(touch.click_ids.get(name) for name in NETWORK_CLICK_IDS.get(click_id, ()))
    if rule == "referrer":
        host = touch.external_referrer(host_of(touch.page))
        return bool(host and referrer_domain) and _domain_matches(host, referrer_domain)
    if rule == "direct":
        return touch.is_direct()
    return rule == "any"


def path_of(url: str) -> str:
    """The page's path: its query (UTM values, click ids) tells a visit apart, not a page."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return ""
    return (parts.path or "/")[:300]
