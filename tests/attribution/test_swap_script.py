"""The website script as served: where, how it is cached, and how small it stays."""

from __future__ import annotations

import gzip

import pytest
from django.urls import reverse

from attribution.script import SCRIPT

# What the script must stay under, gzipped, to cost a page no more than a small image.
BUDGET_BYTES = 3000


def test_served_at_its_versioned_address(client):
    assert reverse("attribution:swap-js") == "/dni/v1/swap.js"
    response = client.get("/dni/v1/swap.js")
    assert response.status_code == 200
    assert response["Content-Type"] == "text/javascript; charset=utf-8"
    assert response.content == SCRIPT.read_bytes()
    assert response["Cache-Control"] == "public, max-age=3600"
    assert response["Cross-Origin-Resource-Policy"] == "cross-origin"


def test_gzipped_for_browsers_that_accept_it_and_under_budget(client):
    response = client.get("/dni/v1/swap.js", headers={"Accept-Encoding": "gzip, deflate, br"})
    assert response["Content-Encoding"] == "gzip"
    assert "Accept-Encoding" in response["Vary"]
    assert gzip.decompress(response.content) == SCRIPT.read_bytes()
    assert len(response.content) < BUDGET_BYTES, f"{len(response.content)} bytes gzipped"


def test_revalidated_with_its_etag(client):
    etag = client.get("/dni/v1/swap.js")["ETag"]
    assert etag.startswith('"') and len(etag) > 10
    again = client.get("/dni/v1/swap.js", headers={"If-None-Match": etag})
    assert again.status_code == 304
    assert again.content == b""
    assert again["ETag"] == etag
    # A cache in between may have weakened it; a list of tags may hold it.
    weak = client.get("/dni/v1/swap.js", headers={"If-None-Match": f'"other", W/{etag}'})
    assert weak.status_code == 304
    stale = client.get("/dni/v1/swap.js", headers={"If-None-Match": '"an-older-release"'})
    assert stale.status_code == 200


@pytest.mark.parametrize("method", ["post", "put", "delete"])
def test_read_only(client, method):
    assert getattr(client, method)("/dni/v1/swap.js").status_code == 405


def test_head_answers_like_get_without_a_body(client):
    response = client.head("/dni/v1/swap.js")
    assert response.status_code == 200
    assert response["ETag"] == client.get("/dni/v1/swap.js")["ETag"]
