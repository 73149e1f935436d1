"""Requests as the website script sends them: a CORS simple request with a JSON text body."""

from __future__ import annotations

import json

from tests.attribution.conftest import ORIGIN


def post(client, body, *, origin: str = ORIGIN, address: str = "203.0.113.7", raw: bool = False):
    data = body if raw else json.dumps(body)
    headers = {"HTTP_ORIGIN": origin} if origin else {}
    return client.generic(
        "POST",
        "/dni/v1/visits",
        data,
        content_type="text/plain;charset=UTF-8",
        REMOTE_ADDR=address,
        **headers,
    )


def visit(client, website, *, page="https://www.plumber.example/", referrer="", visitor="", **kw):
    body = {
        "website": website.key,
        "visitor": visitor,
        "page": page,
        "referrer": referrer,
        "ga": kw.pop("ga", ""),
        "first": kw.pop("first", None),
    }
    return post(client, body, **kw)
