"""`purge_calls` applies the call log's retention period to website visits too."""

from __future__ import annotations

from datetime import timedelta

from django.core.management import call_command
from django.utils import timezone

from attribution import api
from attribution.models import CallAttribution, Hold, Visit, Visitor
from tests.attribution.client import visit
from tests.attribution.test_visits_endpoint import AD
from tests.whisper.steps import incoming
from tracking.models import Call


def _visit_at(client, website, monkeypatch, moment) -> dict:
    monkeypatch.setattr(api, "clock", lambda: moment)
    return visit(client, website, page=AD, referrer="https://www.google.com/").json()


def test_visitors_not_seen_in_the_period_go_with_their_visits_and_holds(
    client, ads, monkeypatch, capsys
):
    now = timezone.now()
    _visit_at(client, ads.website, monkeypatch, now - timedelta(days=40))
    recent = _visit_at(client, ads.website, monkeypatch, now - timedelta(days=3))

    call_command("purge_calls", "--days", "30")

    assert list(Visitor.objects.values_list("key", flat=True)) == [recent["visitor"]]
    assert Visit.objects.count() == 1
    assert Hold.objects.count() == 1
    assert "deleted 1 website visitors" in capsys.readouterr().out


def test_a_visitor_who_came_back_lately_is_kept(client, ads, monkeypatch):
    now = timezone.now()
    first = _visit_at(client, ads.website, monkeypatch, now - timedelta(days=40))
    monkeypatch.setattr(api, "clock", lambda: now - timedelta(days=2))
    visit(client, ads.website, page=AD + "&again=1", visitor=first["visitor"])

    call_command("purge_calls", "--days", "30")

    assert Visit.objects.count() == 2


def test_old_calls_lose_click_ids_and_keep_what_reports_read(client, twilio, ads, monkeypatch):
    number = _visit_at(client, ads.website, monkeypatch, timezone.now() - timedelta(minutes=3))
    incoming(twilio, sid="CA1", To=number["swaps"][0]["number"])
    Call.objects.filter(call_sid="CA1").update(started_at=timezone.now() - timedelta(days=40))

    call_command("purge_calls", "--days", "30")

    row = CallAttribution.objects.get()
    assert (row.gclid, row.ga_client_id, row.referrer) == ("", "", "")
    assert row.landing_page == "/emergency"
    assert (row.source, row.utm_campaign, row.utm_term) == (ads, "spring", "plumber near me")


def test_a_dry_run_counts_visitors_too(client, ads, monkeypatch, capsys):
    _visit_at(client, ads.website, monkeypatch, timezone.now() - timedelta(days=40))
    call_command("purge_calls", "--days", "30", "--dry-run")
    assert "would delete 1 website visitors" in capsys.readouterr().out
    assert Visitor.objects.count() == 1
