"""Middleware of our own."""

from __future__ import annotations

import logging

from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse
from django.template.loader import render_to_string
from django.urls import resolve

logger = logging.getLogger(__name__)

# Where Twilio's webhooks live (calltracking/urls.py).
WEBHOOKS_PREFIX = "/twilio/"

# Seconds a browser (or a person) should wait before trying again.
RETRY_AFTER = 30


class DatabaseUnavailableMiddleware:
    """Admin pages and sign-in during a database outage: a page that says so (503), not a
    bare "Server Error (500)". Webhooks never get here: they answer from the cache and spool.

    The page is rendered without a request context: the signed-in user, the session and
    everything else in the database are out of reach."""

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception):
        if not isinstance(exception, OperationalError | InterfaceError):
            return None
        logger.error(
            "Database unreachable: %s %s answered 503 (%s)",
            request.method,
            request.path,
            str(exception).splitlines()[0] if str(exception) else "",
        )
        response = HttpResponse(render_to_string("503.html"), status=503)
        response["Retry-After"] = str(RETRY_AFTER)
        return response


class TwilioWebhooksMiddleware:
    """Twilio's webhooks go straight to their view, past the middleware listed after this one.

    Sessions, CSRF, signed-in users, messages and frame options are for browsers: a webhook
    carries none of them (each is checked by its X-Twilio-Signature instead) and answers TwiML
    to Twilio, while a caller waits. What comes before this one (security, static files) still
    applies. An unknown path under the prefix is a 404 as anywhere else.
    """

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not request.path_info.startswith(WEBHOOKS_PREFIX):
            return self.get_response(request)
        match = resolve(request.path_info)
        request.resolver_match = match
        return match.func(request, *match.args, **match.kwargs)
