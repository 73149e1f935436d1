"""Random, hostile and oversized input against every endpoint: a 2xx, a 400 naming what was
wrong, a 404 or a 405; never a 500, and nothing half-saved."""

from __future__ import annotations

from urllib.parse import quote, urlencode

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tracking.models import Campaign, Destination, TrackingNumber

pytestmark = pytest.mark.django_db

HOSTILE_TEXT = st.one_of(
    st.text(max_size=80),
    st.sampled_from(
        [
            "",
            "0",
            "-1",
            "99999999999999999999999",
            "1e400",
            "NaN",
            "2026-02-30",
            "2026-06-01T25:00",
            "9999-12-31",
            "0001-01-01",
            "9999-12-31T23:59:59-23:00",
            "0001-01-01T00:00:00+23:00",
            "\x00",
            "' OR 1=1 --",
            "+15125550100",
            "accepted",
            '=HYPERLINK("x")',
            "x" * 5000,
        ]
    ),
)
CALL_PARAMS = st.dictionaries(
    st.sampled_from(
        [
            "start",
            "end",
            "campaign",
            "number",
            "outcome",
            "caller_number",
            "updated_since",
            "cursor",
            "page_size",
            "other",
        ]
    ),
    HOSTILE_TEXT,
    max_size=5,
)
JSON_SCALAR = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False, allow_infinity=False),
    HOSTILE_TEXT,
)
JSON_VALUE = st.recursive(
    JSON_SCALAR,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=10), inner, max_size=3)
    ),
    max_leaves=8,
)
CAMPAIGN_KEYS = st.sampled_from(
    [
        "name",
        "ring_strategy",
        "ring_timeout",
        "time_zone",
        "after_hours_action",
        "after_hours_number",
        "whisper_template",
        "voicemail_enabled",
        "voicemail_audio_url",
        "destinations",
        "opening_hours",
        "holidays",
        "numbers",
        "id",
        "unknown",
    ]
)
PART = st.dictionaries(
    st.sampled_from(
        ["id", "label", "phone_number", "weekday", "opens", "closes", "date", "name", "order"]
    ),
    JSON_VALUE,
    max_size=4,
)
CAMPAIGN_BODY = st.dictionaries(
    CAMPAIGN_KEYS, st.one_of(JSON_VALUE, st.lists(PART, max_size=3)), max_size=6
)
NUMBER_BODY = st.dictionaries(
    st.sampled_from(["phone_number", "campaign", "label", "forward_to", "is_active", "twilio_sid"]),
    JSON_VALUE,
    max_size=5,
)
ALLOWED = {200, 201, 204, 400, 404, 405, 409}
FUZZ = settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))


def _snapshot():
    return (
        list(Campaign.objects.order_by("pk").values()),
        list(Destination.objects.order_by("pk").values()),
        list(TrackingNumber.objects.order_by("pk").values()),
    )


@FUZZ
@given(params=CALL_PARAMS)
def test_calls_list_never_fails(api, answered_call, params):
    response = api.get("/api/v1/calls/?" + urlencode(params))

    assert response.status_code in {200, 400}, response.content
    if response.status_code == 400:
        assert set(response.json()) <= set(params) | {"cursor"}


@FUZZ
@given(params=st.dictionaries(st.sampled_from(["start", "end", "campaign"]), HOSTILE_TEXT))
def test_reports_never_fail(api, number, params):
    response = api.get("/api/v1/reports/?" + urlencode(params))

    assert response.status_code in {200, 400}, response.content


@FUZZ
@given(path=HOSTILE_TEXT)
def test_unknown_ids_are_404(api, number, path):
    for base in ["calls", "campaigns", "numbers"]:
        response = api.get(f"/api/v1/{base}/{quote(path, safe='')}x/")
        assert response.status_code == 404
    response = api.get(f"/api/v1/recordings/{quote(path, safe='')}x/audio/")
    assert response.status_code == 404


@FUZZ
@given(body=CAMPAIGN_BODY)
def test_campaign_writes_never_fail_or_half_save(api, number, body):
    campaign = number.campaign
    before = _snapshot()

    created = api.post("/api/v1/campaigns/", body, format="json")
    changed = api.patch(f"/api/v1/campaigns/{campaign.pk}/", body, format="json")

    assert created.status_code in ALLOWED, created.content
    assert changed.status_code in ALLOWED, changed.content
    if created.status_code == 400 and changed.status_code == 400:
        assert _snapshot() == before
    # Whatever was saved, the admin would have let through: every campaign still rings someone.
    assert not Campaign.objects.filter(destinations=None).exists()


@FUZZ
@given(body=NUMBER_BODY)
def test_number_writes_never_fail_or_half_save(api, number, body):
    before = _snapshot()

    created = api.post("/api/v1/numbers/", body, format="json")
    changed = api.patch(f"/api/v1/numbers/{number.pk}/", body, format="json")

    assert created.status_code in ALLOWED, created.content
    assert changed.status_code in ALLOWED, changed.content
    if created.status_code == 400 and changed.status_code == 400:
        assert _snapshot() == before
    for saved in TrackingNumber.objects.all():
        assert saved.phone_number.startswith("+")
        assert saved.forward_to != saved.phone_number


@FUZZ
@given(raw=st.binary(max_size=200))
def test_any_bytes_as_a_body_are_400(api, number, raw):
    response = api.generic(
        "PATCH", f"/api/v1/numbers/{number.pk}/", raw, content_type="application/json"
    )

    assert response.status_code in {200, 400}, response.content


@pytest.mark.parametrize("body", ["[" * 100_000, '{"a":' * 100_000, "{not json", "\x00", ""])
def test_malformed_or_deeply_nested_json_is_400(api, number, body):
    response = api.generic(
        "PATCH", f"/api/v1/numbers/{number.pk}/", body, content_type="application/json"
    )

    assert response.status_code in {200, 400}
    if body:
        assert response.status_code == 400
        assert "JSON parse error" in response.json()["detail"]
