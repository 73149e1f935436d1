from __future__ import annotations

import pytest

from tests.api.conftest import client_for

pytestmark = pytest.mark.django_db


def test_requests_past_the_rate_are_refused_with_retry_after(settings, marketer):
    settings.API_THROTTLE_RATE = "3/minute"
    first, second = client_for(marketer), client_for(marketer)

    statuses = [first.get("/api/v1/campaigns/").status_code for _ in range(3)]
    refused = second.get("/api/v1/campaigns/")

    assert statuses == [200, 200, 200]
    # The rate is per user: a second token of the same user shares it.
    assert refused.status_code == 429
    assert int(refused["Retry-After"]) > 0


def test_each_user_has_their_own_rate(settings, marketer, viewer):
    settings.API_THROTTLE_RATE = "1/minute"
    assert client_for(marketer).get("/api/v1/campaigns/").status_code == 200

    assert viewer.get("/api/v1/campaigns/").status_code == 200
