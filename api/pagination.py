"""Cursor pages for the call log: each page is an index range scan from where the last ended,
so the thousandth page costs what the first does (an OFFSET would read every row before it)."""

from __future__ import annotations

from django.utils.dateparse import parse_datetime
from rest_framework import exceptions
from rest_framework.pagination import CursorPagination


class CallCursorPagination(CursorPagination):
    # call_started_idx serves the range on started_at; the id only orders calls that started in
    # the same microsecond, so that no call is skipped or repeated between two pages.
    ordering = ("-started_at", "-id")
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 250

    def decode_cursor(self, request):
        """A cursor the API did not write is bad input (400), not a missing page."""
        try:
            cursor = super().decode_cursor(request)
        except exceptions.NotFound:
            raise exceptions.ValidationError({"cursor": ["Invalid cursor."]}) from None
        if cursor is not None and cursor.position is not None:
            try:
                position = parse_datetime(cursor.position)
            except ValueError:
                position = None
            # The API writes UTC instants; anything else was not written by it.
            if position is None or position.tzinfo is None or not 1900 <= position.year <= 9000:
                raise exceptions.ValidationError({"cursor": ["Invalid cursor."]})
        return cursor
