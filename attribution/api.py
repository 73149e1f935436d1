"""The number endpoint the website script calls: `POST /dni/v1/visits`.

Public and unauthenticated, so it trusts nothing: the body is bounded and checked field by field,
the website must exist and the browser's Origin must be one of its domains (CORS answers only
those), each client (a keyed hash of its address; the address is never stored) has a rate
limit, and nothing can make it answer 500. A visitor's answer holds only what their own key
(a random secret in their cookie) gives access to.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.views.decorators.csrf import csrf_exempt

from attribution import live, matching, pools, sites, visits
from signin.forms import client_address

logger = logging.getLogger(__name__)

MAX_BODY = 4096
# The endpoint's clock; tests set their own.
clock = timezone.now
MAX_KEY = 40
MAX_GA = 64
CONSENT_KEYS = ("ad_user_data", "ad_personalization")


class BadRequest(Exception):
    pass


def _client(request: HttpRequest) -> str:
    address = client_address(request).encode()
    return hmac.new(settings.SECRET_KEY.encode(), address, hashlib.sha256).hexdigest()[:32]


def _cors(response: HttpResponse, origin: str) -> HttpResponse:
    response["Access-Control-Allow-Origin"] = origin
    response["Access-Control-Allow-Methods"] = "POST, OPTIONS"
    response["Access-Control-Allow-Headers"] = "Content-Type"
    response["Access-Control-Max-Age"] = "600"
    return response


def _answer(data: dict, status: int = 200, origin: str = "") -> JsonResponse:
    response = JsonResponse(data, status=status)
    response["Cache-Control"] = "no-store"
    patch_vary_headers(response, ["Origin"])
    return _cors(response, origin) if origin else response


def _error(message: str, status: int, origin: str = "") -> JsonResponse:
    return _answer({"error": message}, status, origin)


def _text(data: dict, name: str, limit: int) -> str:
    value = data.get(name, "")
    if value is None:
        return ""
    if not isinstance(value, str):
        raise BadRequest(f"{name} must be a string")
    if len(value) > limit:
        raise BadRequest(f"{name} is too long")
    return matching.printable(value)


def _consent(data: dict) -> dict[str, bool | None] | None:
    """What the visitor consented to for ads, as far as the site said: `consent` is
    {ad_user_data, ad_personalization}, each true, false, or null or absent (not said)."""
    value = data.get("consent")
    if value is None:
        return None
    if not isinstance(value, dict) or not all(
        isinstance(value.get(name), bool | None) for name in CONSENT_KEYS
    ):
        raise BadRequest("consent must hold ad_user_data and ad_personalization as booleans")
    said = {name: value[name] for name in CONSENT_KEYS if value.get(name) is not None}
    return said or None


def _body(request: HttpRequest) -> dict:
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    if length > MAX_BODY:
        raise BadRequest("body too large")
    raw = request.read(MAX_BODY + 1)
    if len(raw) > MAX_BODY:
        raise BadRequest("body too large")
    try:
        data = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise BadRequest("body must be JSON") from None
    if not isinstance(data, dict):
        raise BadRequest("body must be a JSON object")
    return data


def _preflight(request: HttpRequest, origin: str) -> HttpResponse:
    # A preflight names no website: it is allowed for an origin some active website lists.
    if origin and sites.origin_of_some_website(origin):
        response = _cors(HttpResponse(status=204), origin)
    else:
        response = HttpResponse(status=403)
    patch_vary_headers(response, ["Origin"])
    return response


def _allowed(request: HttpRequest, now) -> bool:
    try:
        return pools.backend().allow(
            client=_client(request), limit=settings.DNI_RATE_LIMIT, now=now
        )
    except pools.Unavailable:
        # The limit protects the pool; without its store, visitors get the site's own number
        # or a source's, which is no reason to refuse them.
        logger.exception("Rate-limit store unavailable; request let through")
        return True


@csrf_exempt
def visits_view(request: HttpRequest) -> HttpResponse:
    try:
        return _visits(request)
    except Exception:
        # Never a 500: the script keeps the site's own number on any error.
        logger.exception("Number endpoint failed")
        return _error("temporarily unavailable", 503)


def _visits(request: HttpRequest) -> HttpResponse:
    origin = request.headers.get("Origin", "")[:300]
    if request.method == "OPTIONS":
        return _preflight(request, origin)
    if request.method != "POST":
        response = _error("use POST", 405)
        response["Allow"] = "POST, OPTIONS"
        return response
    now = clock()
    try:
        data = _body(request)
        key = _text(data, "website", MAX_KEY)
        visitor_key = _text(data, "visitor", MAX_KEY)
        page = _text(data, "page", MAX_BODY)
        referrer = _text(data, "referrer", MAX_BODY)
        ga = _text(data, "ga", MAX_GA)
        consent = _consent(data)
    except BadRequest as error:
        return _error(str(error), 400)
    if not page.startswith(("https://", "http://")):
        return _error("page must be an http(s) address", 400)
    visitor_key = visitor_key if visitor_key.startswith("v_") else ""
    # A known visitor of a website this process knows: with their state in Redis, the limit
    # is counted in the same round trip as the rest of the request (`live`). Any other
    # request is counted first, before a website is looked up in the database.
    counted_later = live.enabled() and bool(visitor_key) and sites.site_config_cached(key)
    if not counted_later and not _allowed(request, now):
        return _limited(now)
    site = sites.site_config(key) if key.startswith("wk_") else None
    if site is None:
        return _error("unknown website", 403)
    if not site.allows_origin(origin):
        return _error("origin not allowed", 403)
    try:
        answer = visits.record(
            site=site,
            visitor_key=visitor_key,
            page=page,
            referrer=referrer,
            ga=ga,
            first=visits.first_touch(data.get("first"), now),
            now=now,
            consent=consent,
            client=_client(request) if counted_later else None,
        )
    except live.Limited:
        return _limited(now)
    return _answer(answer, origin=origin)


def _limited(now) -> JsonResponse:
    response = _error("too many requests", 429)
    response["Retry-After"] = str(60 - now.second)
    return response
