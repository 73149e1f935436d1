"""Call-acceptance reports (admin page). Being written: see issue 4."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse


def report_view(request: HttpRequest, *, admin_site) -> HttpResponse:
    raise NotImplementedError
