"""The cached routes follow every change to campaigns and numbers."""

from __future__ import annotations

import pytest
from django.core.management import call_command

from tracking.models import Campaign, TrackingNumber
from tracking.routing import cached_route, route_for


@pytest.mark.django_db
def test_a_route_read_from_the_database_is_cached(number):
    route = route_for("+15125550100")

    assert cached_route("+15125550100") == route
    assert route.destination == "+15125550199"
    assert route.campaign_name == "Spring Billboard"


@pytest.mark.django_db
def test_saving_a_campaign_refreshes_its_numbers_routes(number):
    campaign = number.campaign
    campaign.name = "Summer Billboard"
    campaign.forward_to = "+15125550111"
    campaign.accept_digit = "5"
    campaign.save()

    route = cached_route("+15125550100")
    assert (route.campaign_name, route.destination, route.accept_digit) == (
        "Summer Billboard",
        "+15125550111",
        "5",
    )


@pytest.mark.django_db
def test_deactivating_forgets_the_route(number):
    number.campaign.is_active = False
    number.campaign.save()
    assert cached_route("+15125550100") is None

    number.campaign.is_active = True
    number.campaign.save()
    assert cached_route("+15125550100") is not None

    number.is_active = False
    number.save()
    assert cached_route("+15125550100") is None


@pytest.mark.django_db
def test_a_renumbered_or_deleted_number_stops_answering_on_its_old_number(number):
    number.phone_number = "+15125550101"
    number.save()

    assert cached_route("+15125550100") is None
    assert cached_route("+15125550101").number_id == number.pk

    number.delete()
    assert cached_route("+15125550101") is None


@pytest.mark.django_db
def test_refresh_routes_caches_every_active_number(campaign, django_capture_on_commit_callbacks):
    # Rows written without signals (bulk) are cached by the deploy-time command.
    TrackingNumber.objects.bulk_create(
        [
            TrackingNumber(phone_number="+15125550102", campaign=campaign),
            TrackingNumber(phone_number="+15125550103", campaign=campaign, is_active=False),
        ]
    )
    assert cached_route("+15125550102") is None

    call_command("refresh_routes")

    assert cached_route("+15125550102").campaign_id == campaign.pk
    assert cached_route("+15125550103") is None


@pytest.mark.django_db
def test_an_unknown_number_is_not_cached(db):
    assert route_for("+15125550177") is None
    assert cached_route("+15125550177") is None
    assert Campaign.objects.count() == 0
