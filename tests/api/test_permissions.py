"""A token can do what its user may do in the admin, and a read-only token only reads."""

from __future__ import annotations

import pytest

from tracking.models import Campaign, TrackingNumber

pytestmark = pytest.mark.django_db

READS = ["/api/v1/calls/", "/api/v1/campaigns/", "/api/v1/numbers/", "/api/v1/reports/"]


@pytest.mark.parametrize("url", READS)
def test_a_marketer_reads_everything_the_admin_shows_them(api, number, url):
    assert api.get(url).status_code == 200


@pytest.mark.parametrize("url", READS)
def test_a_user_without_permissions_reads_nothing(nobody, number, url):
    assert nobody.get(url).status_code == 403


def test_a_read_only_token_cannot_write(read_only, number):
    campaign = number.campaign
    attempts = [
        read_only.post("/api/v1/campaigns/", {"name": "X"}, format="json"),
        read_only.patch(f"/api/v1/campaigns/{campaign.pk}/", {"name": "X"}, format="json"),
        read_only.delete(f"/api/v1/numbers/{number.pk}/"),
    ]

    for response in attempts:
        assert response.status_code == 403
        assert response.json() == {"detail": "This token is read-only."}
    assert Campaign.objects.get().name == "Spring Billboard"
    assert TrackingNumber.objects.exists()


def test_a_viewer_with_a_write_token_still_cannot_write(viewer, number):
    assert viewer.get("/api/v1/campaigns/").status_code == 200
    assert viewer.get("/api/v1/calls/").status_code == 200
    response = viewer.patch(f"/api/v1/numbers/{number.pk}/", {"label": "Changed"}, format="json")
    assert response.status_code == 403
    assert viewer.delete(f"/api/v1/campaigns/{number.campaign_id}/").status_code == 403
    number.refresh_from_db()
    assert number.label == "I-35 billboard"


def test_put_is_not_offered(api, number):
    # PATCH changes what it names; a PUT that left fields out would be ambiguous.
    response = api.put(f"/api/v1/numbers/{number.pk}/", {"label": "X"}, format="json")
    assert response.status_code == 405
