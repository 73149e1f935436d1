"""The website settings each process keeps for the number endpoint (`attribution.sites`)."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from attribution import sites
from attribution.models import SourceNumber
from tests.attribution.client import visit
from tests.attribution.conftest import buy
from tracking.models import TrackingNumber

AD = "https://www.plumber.example/emergency?utm_source=google&gclid=Cj0abc"


@pytest.fixture
def monotonic(monkeypatch):
    """The processes' clock, in seconds; set `monotonic[0]` to move it."""
    moment = [1000.0]
    monkeypatch.setattr(sites, "monotonic", lambda: moment[0])
    return moment


def test_the_settings_hold_each_role_of_number_and_only_active_ones(ads, organic):
    retired = buy(ads.campaign, "+15125550209")
    retired.is_active = False
    retired.save()
    SourceNumber.objects.create(source=ads, number=retired, role="pool")

    config = sites.site_config(ads.website.key)

    by_name = {source.name: source for source in config.sources}
    pool = by_name["Google Ads"].pool
    assert [phone for _, phone in pool] == ["+15125550200", "+15125550201", "+15125550202"]
    assert [number_id for number_id, _ in pool] == sorted(number_id for number_id, _ in pool)
    assert by_name["Google Ads"].overflow == "+15125550299"
    assert by_name["Google Ads"].number == ""
    assert by_name["Google organic"].number == "+15125550300"
    assert by_name["Google organic"].pool == ()


def test_a_change_no_signal_announced_is_read_within_the_settings_lifetime(ads, monotonic):
    before = sites.site_config(ads.website.key)
    # A bulk change sends no signal: this process learns of it when its reading lapses.
    TrackingNumber.objects.filter(website_use__source=ads, website_use__role="pool").update(
        is_active=False
    )

    monotonic[0] += sites.CONFIG_SECONDS * 0.8 - 0.01
    assert sites.site_config(ads.website.key) is before
    monotonic[0] += 0.02 + sites.CONFIG_SECONDS * 0.2
    assert sites.site_config(ads.website.key).source(ads.pk).pool == ()


def test_readings_lapse_at_different_moments(ads, monotonic):
    lapses = set()
    for _ in range(20):
        sites.forget_configs()
        sites.site_config(ads.website.key)
        lapses.add(sites._configs[ads.website.key][0] - monotonic[0])
    # Processes that read a website together read it again apart.
    assert len(lapses) > 1
    assert all(0.8 * sites.CONFIG_SECONDS <= lapse <= sites.CONFIG_SECONDS for lapse in lapses)


def test_a_website_read_once_is_known_to_be_at_hand_until_it_lapses(ads, monotonic):
    assert not sites.site_config_cached(ads.website.key)
    sites.site_config(ads.website.key)
    assert sites.site_config_cached(ads.website.key)
    monotonic[0] += sites.CONFIG_SECONDS
    assert not sites.site_config_cached(ads.website.key)


def test_a_claim_below_the_peak_read_raises_nothing(
    client, ads, backend, clock, django_capture_on_commit_callbacks
):
    type(ads).objects.filter(pk=ads.pk).update(peak_in_use=2)
    # The peak is raised after the claim's commit: the callbacks run inside the capture.
    with (
        CaptureQueriesContext(connection) as captured,
        django_capture_on_commit_callbacks(execute=True),
    ):
        visit(client, ads.website, page=AD)
        visit(client, ads.website, page=AD)
    # Not past the peak read with the settings: no statement to raise it.
    assert not [
        q for q in captured.captured_queries if q["sql"].startswith('UPDATE "attribution_source"')
    ]
    ads.refresh_from_db()
    assert ads.peak_in_use == 2
    # Past it, the peak rises.
    with django_capture_on_commit_callbacks(execute=True):
        visit(client, ads.website, page=AD)
    ads.refresh_from_db()
    assert ads.peak_in_use == 3
