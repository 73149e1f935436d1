"""The guard every Twilio webhook stands behind."""

from __future__ import annotations

import hmac
import logging
from collections.abc import Callable, Iterator
from functools import wraps
from urllib.parse import urlsplit

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseForbidden
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST
from twilio.request_validator import RequestValidator, add_port, remove_port

from calltracking.postgresql import wait_limit

logger = logging.getLogger(__name__)

View = Callable[[HttpRequest], HttpResponse]


def public_url(request: HttpRequest, path: str) -> str:
    """The absolute URL Twilio uses for `path` (an absolute path, which may carry a query
    string).

    PUBLIC_BASE_URL wins when set: behind a proxy the request alone cannot tell it. Otherwise
    the request's scheme and (validated) host, worked out once per request: a webhook names
    several URLs in its TwiML.
    """
    if settings.PUBLIC_BASE_URL:
        return settings.PUBLIC_BASE_URL + path
    origin = getattr(request, "_public_origin", None)
    if origin is None:
        origin = request._public_origin = f"{request.scheme}://{request.get_host()}"
    return origin + path


def _signed_urls(url: str) -> Iterator[str]:
    """The URL as we see it, then (only if asked for) the same with or without an explicit
    :443 or :80: Twilio signs with one or the other (its own validator tries both). Nothing
    for a malformed URL, such as one whose Host header names port 99999."""
    try:
        parsed = urlsplit(url)
        parsed.port  # noqa: B018 (raises ValueError for a port out of range)
    except ValueError:
        return
    yield url
    for variant in (remove_port(parsed), add_port(parsed)):
        if variant != url:
            yield variant


def has_valid_signature(request: HttpRequest) -> bool:
    """Whether X-Twilio-Signature is Twilio's for this request.

    As twilio's `RequestValidator.validate`, with its own `compute_signature`, except that the
    URL as we see it is tried first and the other port variant only if that fails: a genuine
    request costs one HMAC, not two. A malformed Host header (port out of range) is refused.
    """
    if not settings.TWILIO_VALIDATE_SIGNATURES:
        return True
    signature = request.headers.get("X-Twilio-Signature", "")
    if not signature or not settings.TWILIO_AUTH_TOKEN:
        if not settings.TWILIO_AUTH_TOKEN:
            logger.error("TWILIO_AUTH_TOKEN is not set: every Twilio webhook is refused.")
        return False
    validator = RequestValidator(settings.TWILIO_AUTH_TOKEN)
    expected = signature.encode()
    urls = _signed_urls(public_url(request, request.get_full_path()))
    params = [request.POST]
    if "StirVerstat" in request.POST:
        # One report (unconfirmed) has Twilio add StirVerstat after signing: accept a signature
        # of every other parameter too. At worst a replay could change the attestation shown.
        others = request.POST.copy()
        others.pop("StirVerstat")
        params.append(others)
    for url in urls:
        for each in params:
            computed = validator.compute_signature(url, each).encode()
            if hmac.compare_digest(computed, expected):
                return True
    return False


def twilio_webhook(fallback: View) -> Callable[[View], View]:
    """Make `view` a Twilio webhook: POST only, no CSRF, signed, and never a 500.

    A bad or missing signature gets 403 before any database work. Every wait on the database
    is bounded by WEBHOOK_DB_TIMEOUT, so a database that hangs fails like one that refuses.
    Should the view fail anyway, `fallback` answers (it must not touch the database) so that
    Twilio still gets valid TwiML.
    """

    def decorator(view: View) -> View:
        @wraps(view)
        def wrapper(request: HttpRequest) -> HttpResponse:
            if not has_valid_signature(request):
                logger.warning("Refused %s: missing or invalid X-Twilio-Signature", request.path)
                return HttpResponseForbidden("Invalid Twilio signature.")
            try:
                with wait_limit(settings.WEBHOOK_DB_TIMEOUT):
                    return view(request)
            except Exception:
                logger.exception("Webhook %s failed; answered with its fallback", request.path)
                return fallback(request)

        return csrf_exempt(require_POST(wrapper))

    return decorator
