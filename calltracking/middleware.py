"""Middleware of our own."""

from __future__ import annotations

import logging

from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse
from django.template.loader import render_to_string

logger = logging.getLogger(__name__)

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
