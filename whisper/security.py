"""The guard every Twilio webhook stands behind."""

from __future__ import annotations

import logging
from collections.abc import Callable
from functools import wraps

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseForbidden
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST
from twilio.request_validator import RequestValidator

logger = logging.getLogger(__name__)

View = Callable[[HttpRequest], HttpResponse]


def public_url(request: HttpRequest, path: str) -> str:
    """The absolute URL Twilio uses for `path` (which may carry a query string).

    PUBLIC_BASE_URL wins when set: behind a proxy the request alone cannot tell it.
    """
    if settings.PUBLIC_BASE_URL:
        return settings.PUBLIC_BASE_URL + path
    return request.build_absolute_uri(path)


def has_valid_signature(request: HttpRequest) -> bool:
    if not settings.TWILIO_VALIDATE_SIGNATURES:
        return True
    signature = request.headers.get("X-Twilio-Signature", "")
    if not signature or not settings.TWILIO_AUTH_TOKEN:
        if not settings.TWILIO_AUTH_TOKEN:
            logger.error("TWILIO_AUTH_TOKEN is not set: every Twilio webhook is refused.")
        return False
    validator = RequestValidator(settings.TWILIO_AUTH_TOKEN)
    url = public_url(request, request.get_full_path())
    return validator.validate(url, request.POST, signature)


def twilio_webhook(fallback: View) -> Callable[[View], View]:
    """Make `view` a Twilio webhook: POST only, no CSRF, signed, and never a 500.

    A bad or missing signature gets 403 before any database work. Should the view fail anyway,
    `fallback` answers (it must not touch the database) so that Twilio still gets valid TwiML.
    """

    def decorator(view: View) -> View:
        @wraps(view)
        def wrapper(request: HttpRequest) -> HttpResponse:
            if not has_valid_signature(request):
                logger.warning("Refused %s: missing or invalid X-Twilio-Signature", request.path)
                return HttpResponseForbidden("Invalid Twilio signature.")
            try:
                return view(request)
            except Exception:
                logger.exception("Webhook %s failed; answered with its fallback", request.path)
                return fallback(request)

        return csrf_exempt(require_POST(wrapper))

    return decorator
