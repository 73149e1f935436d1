"""The cached routes follow every change to campaigns and numbers."""

from __future__ import annotations

from datetime import date, time

import pytest
from django.core.cache import cache
from django.core.management import call_command

from tracking.models import Campaign, TrackingNumber
from tracking.routing import cached_route, route_for
from tracking.services import Target


@pytest.mark.django_db
def test_a_route_read_from_the_database_is_cached(number):
    route = route_for("+15125550100")

    assert cached_route("+15125550100") == route
    assert route.targets == (Target("Front desk", "+15125550199", route.targets[0].destination_id),)
    assert route.campaign_name == "Spring Billboard"


@pytest.mark.django_db
def test_saving_a_campaign_refreshes_its_numbers_routes(number):
    campaign = number.campaign
    campaign.name = "Summer Billboard"
    campaign.accept_digit = "5"
    campaign.save()

    route = cached_route("+15125550100")
    assert (route.campaign_name, route.accept_digit) == ("Summer Billboard", "5")


@pytest.mark.django_db
def test_changing_destinations_hours_or_holidays_refreshes_the_routes(number):
    campaign = number.campaign
    front_desk = campaign.destinations.get()
    front_desk.phone_number = "+15125550111"
    front_desk.save()
    campaign.destinations.create(position=1, label="Owner", phone_number="+15125550122")
    campaign.opening_hours.create(weekday=0, opens=time(9), closes=time(17))
    campaign.holidays.create(date=date(2026, 12, 25), name="Christmas")

    route = cached_route("+15125550100")
    assert [(t.label, t.phone_number) for t in route.targets] == [
        ("Front desk", "+15125550111"),
        ("Owner", "+15125550122"),
    ]
    assert route.openings == ((0, "09:00:00", "17:00:00"),)
    assert route.holidays == ("2026-12-25",)

    campaign.destinations.filter(label="Owner").delete()
    campaign.holidays.all().delete()
    route = cached_route("+15125550100")
    assert [t.label for t in route.targets] == ["Front desk"]
    assert route.holidays == ()


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


@pytest.mark.django_db
def test_a_cached_route_of_the_same_campaign_version_spares_three_queries(
    number, django_assert_num_queries
):
    route_for("+15125550100")  # caches the route of the campaign as it is now
    with django_assert_num_queries(1):
        route_for("+15125550100")

    cache.clear()
    with django_assert_num_queries(4):
        route = route_for("+15125550100")
    assert [t.label for t in route.targets] == ["Front desk"]


@pytest.mark.django_db
def test_a_new_destination_is_routed_at_once_though_the_old_route_is_cached(number):
    before = route_for("+15125550100")
    number.campaign.destinations.create(position=1, label="Owner", phone_number="+15125550122")

    after = route_for("+15125550100")

    assert after.campaign_version != before.campaign_version
    assert [t.label for t in after.targets] == ["Front desk", "Owner"]


@pytest.mark.django_db
def test_a_campaign_changed_behind_the_cache_is_still_routed_as_it_is_now(number):
    route_for("+15125550100")
    Campaign.objects.filter(pk=number.campaign_id).update(ring_timeout=45, accept_digit="9")

    route = route_for("+15125550100")

    assert (route.ring_timeout, route.accept_digit) == (45, "9")
