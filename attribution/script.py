"""The website script, `/dni/v1/swap.js`: one static file, read once, served with an ETag.

Its URL is versioned (`/v1/`) and stable, so a marketer's snippet never changes; browsers and
CDNs keep it for an hour and revalidate it with the ETag, so a new release reaches every site
within the hour without any change on their side.
"""

from __future__ import annotations

import gzip
import hashlib
from functools import cache
from pathlib import Path

from django.http import HttpRequest, HttpResponse, HttpResponseNotModified
from django.utils.cache import patch_vary_headers
from django.views.decorators.http import require_safe

SCRIPT = Path(__file__).resolve().parent / "static" / "attribution" / "swap.js"
MAX_AGE = 3600


@cache
def _script() -> tuple[bytes, bytes, str]:
    """The script, its gzip form and its ETag (its content's hash), computed once per process."""
    body = SCRIPT.read_bytes()
    return body, gzip.compress(body, mtime=0), '"' + hashlib.sha256(body).hexdigest()[:32] + '"'


def _etag_matches(header: str, etag: str) -> bool:
    # A cache may send back the weak form of our ETag (W/"…"): the content is the same either way.
    tags = {tag.strip().removeprefix("W/") for tag in header.split(",")}
    return etag in tags or "*" in tags


@require_safe
def swap_js(request: HttpRequest) -> HttpResponse:
    body, gzipped, etag = _script()
    if _etag_matches(request.headers.get("If-None-Match", ""), etag):
        response = HttpResponseNotModified()
    else:
        use_gzip = "gzip" in request.headers.get("Accept-Encoding", "").lower()
        response = HttpResponse(
            gzipped if use_gzip else body, content_type="text/javascript; charset=utf-8"
        )
        if use_gzip:
            response["Content-Encoding"] = "gzip"
    response["ETag"] = etag
    response["Cache-Control"] = f"public, max-age={MAX_AGE}"
    # Embedded by other sites, including those that isolate themselves (COEP require-corp).
    response["Cross-Origin-Resource-Policy"] = "cross-origin"
    patch_vary_headers(response, ["Accept-Encoding"])
    return response
