"""Thousands of random, missing, oversized and hostile bodies against the number endpoint:
always a JSON answer the script can read, never a 500, and never another visitor's data."""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.attribution.client import post
from tests.attribution.conftest import ORIGIN

HYPOTHESIS = settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
NAMES = ["website", "visitor", "page", "referrer", "ga", "first"]
JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=60),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)
PLAUSIBLE_PAGE = st.sampled_from(
    [
        "https://www.plumber.example/?gclid=abc&utm_source=google",
        "https://www.plumber.example/?utm_source=%00%ff&utm_term=" + "x" * 500,
        "http://[::1",
        "https://www.plumber.example/?gclid=",
        "https://www.plumber.example/" + "é" * 300,
    ]
)
FIRST = st.one_of(
    st.none(),
    JSON,
    st.fixed_dictionaries(
        {"page": st.one_of(PLAUSIBLE_PAGE, st.text()), "referrer": st.text(max_size=40)},
        optional={"at": st.one_of(st.integers(), st.floats(), st.text(max_size=5))},
    ),
)


@pytest.fixture
def site(ads, settings):
    settings.DNI_RATE_LIMIT = 10**9
    return ads.website


def _answer_is_sound(response) -> dict:
    assert response.status_code in (200, 400, 403, 405, 429), response.content[:300]
    assert response["Content-Type"] == "application/json"
    return json.loads(response.content)


@HYPOTHESIS
@given(
    body=st.dictionaries(st.sampled_from(NAMES) | st.text(max_size=10), JSON, max_size=8),
    use_key=st.booleans(),
    page=st.one_of(PLAUSIBLE_PAGE, st.text(max_size=80)),
    first=FIRST,
)
def test_any_body_gets_a_json_answer(client, site, body, use_key, page, first):
    if use_key:
        body = {**body, "website": site.key, "page": page, "first": first}
    answer = _answer_is_sound(post(client, body))
    assert set(answer) <= {"visitor", "swaps", "heartbeat", "cookie_days", "first", "error"}


@HYPOTHESIS
@given(raw=st.one_of(st.binary(max_size=600), st.binary(min_size=4000, max_size=9000)))
def test_any_bytes_get_a_json_answer(client, site, raw):
    response = client.generic(
        "POST", "/dni/v1/visits", raw, content_type="text/plain", HTTP_ORIGIN=ORIGIN
    )
    _answer_is_sound(response)


@HYPOTHESIS
@given(origin=st.text(max_size=80), method=st.sampled_from(["POST", "OPTIONS", "GET", "PUT"]))
def test_any_origin_and_method_gets_a_clear_answer(client, site, origin, method):
    body = json.dumps({"website": site.key, "page": "https://www.plumber.example/"})
    try:
        response = client.generic(
            method, "/dni/v1/visits", body, content_type="text/plain", HTTP_ORIGIN=origin
        )
    except UnicodeEncodeError:
        return  # not a header any HTTP client can send
    assert response.status_code in (200, 204, 403, 405)
    if response.get("Access-Control-Allow-Origin"):
        assert response["Access-Control-Allow-Origin"] == origin
        assert site.allows_origin(origin)


@HYPOTHESIS
@given(
    visitor=st.one_of(st.text(max_size=40), st.just("v_"), st.from_regex(r"v_[A-Za-z0-9_-]{22}"))
)
def test_a_guessed_visitor_key_reveals_nobody(client, site, visitor):
    owner = post(
        client,
        {"website": site.key, "page": "https://www.plumber.example/?gclid=SECRET&utm_term=private"},
    ).json()
    response = post(
        client, {"website": site.key, "visitor": visitor, "page": "https://www.plumber.example/"}
    )
    answer = _answer_is_sound(response)
    if visitor != owner["visitor"]:
        assert "SECRET" not in response.content.decode()
        assert "private" not in response.content.decode()
        assert answer.get("visitor") != owner["visitor"]
