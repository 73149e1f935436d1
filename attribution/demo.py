"""`/demo/site/`: a business's landing page with the website snippet installed, served by the
app itself while developing (DEBUG), so that a newcomer sees numbers swap and can call one.

It shows the first active website whose domains include the host the page is opened on (the
demo data's website lists 127.0.0.1 and localhost), and links to arrive as each of its sources.
"""

from __future__ import annotations

import secrets
from urllib.parse import urlencode

import phonenumbers
from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse

from attribution import matching
from attribution.models import Source, Website


def _website_for(request: HttpRequest) -> Website | None:
    origin = f"{request.scheme}://{request.get_host()}"
    for website in Website.objects.filter(is_active=True).order_by("pk"):
        if website.allows_origin(origin):
            return website
    return None


def _national(number: str) -> str:
    try:
        parsed = phonenumbers.parse(number, settings.PHONE_DEFAULT_REGION)
    except phonenumbers.NumberParseException:
        return number
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.NATIONAL)


def _arrivals(website: Website) -> list[tuple[str, str]]:
    """(label, query string) of a visit each source of the website would match, where a link
    can make one (a referrer cannot be set by a link)."""
    arrivals = []
    for source in website.sources.all():
        if source.rule == Source.Rule.UTM:
            values = {
                "utm_source": source.utm_source,
                "utm_medium": source.utm_medium,
                "utm_campaign": source.utm_campaign,
            }
            query = {name: value for name, value in values.items() if value}
            if source.utm_medium in ("cpc", "ppc", "paid"):
                query["utm_term"] = "plumber near me"
        elif source.rule == Source.Rule.CLICK_ID:
            name = matching.NETWORK_CLICK_IDS.get(source.click_id, ("gclid",))[0]
            query = {"utm_term": "emergency plumber", name: "demo-" + secrets.token_hex(6)}
        elif source.rule == Source.Rule.DIRECT:
            query = {}
        else:
            continue
        arrivals.append((source.name, urlencode(query)))
    return arrivals


def site(request: HttpRequest) -> HttpResponse:
    if not settings.DEBUG:
        raise Http404("The demo site is served in development only (DEBUG=true).")
    website = _website_for(request)
    if website is None:
        return render(
            request, "attribution/demo_missing.html", {"host": request.get_host()}, status=404
        )
    targets = website.target_list
    printed = targets[0] if targets else ""
    return render(
        request,
        "attribution/demo_site.html",
        {
            "website": website,
            # The demo page is served by the app itself: the snippet points at this origin.
            "snippet": website.snippet(request.build_absolute_uri("/")),
            "printed": printed,
            "printed_national": _national(printed),
            "printed_dots": _national(printed)
            .replace("(", "")
            .replace(") ", ".")
            .replace("-", "."),
            "arrivals": _arrivals(website),
            "admin_url": reverse("admin:index"),
        },
    )
