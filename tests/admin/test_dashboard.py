"""The dashboard on the admin index: periods against the periods before, the call-back list."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from attribution.models import CallAttribution, Website
from tests.admin.conftest import make_call
from tests.admin.html import parse, texts
from tracking import dashboard
from tracking.models import Call, Recording

Outcome = Call.Outcome
INDEX = reverse("admin:index")
DAY = timedelta(days=1)


def figures(board: dashboard.Dashboard, days: int) -> dict[str, dashboard.Figure]:
    return next(w for w in board.windows if w.days == days).key_figures


def test_it_compares_the_last_7_days_with_the_7_before(db, number):
    # This week (to yesterday): 3 screened, 2 accepted, 1 voicemail; the week before: 2 calls.
    make_call(number=number, outcome=Outcome.ACCEPTED, ago=DAY, caller_number="+13125550101")
    make_call(number=number, outcome=Outcome.ACCEPTED, ago=2 * DAY, caller_number="+13125550102")
    make_call(number=number, outcome=Outcome.REJECTED, ago=3 * DAY, caller_number="+13125550103")
    make_call(number=number, outcome=Outcome.VOICEMAIL, ago=4 * DAY, caller_number="+13125550104")
    make_call(number=number, outcome=Outcome.ACCEPTED, ago=9 * DAY, caller_number="+13125550101")
    make_call(number=number, outcome=Outcome.NO_ANSWER, ago=10 * DAY, caller_number="+13125550105")
    # Today's calls are not in a whole day yet: counted apart.
    make_call(number=number, outcome=Outcome.ACCEPTED, ago=timedelta(0))

    board = dashboard.dashboard()
    week = figures(board, 7)

    assert (week["call_count"].value, week["call_count"].previous) == (4, 2)
    assert week["call_count"].change_text == "+100%"
    assert week["call_count"].trend == "good"
    assert (week["accepted"].value, week["screened"].value) == (2, 3)
    assert week["acceptance_rate"].text == "66.7%"  # accepted ÷ screened
    assert week["acceptance_rate"].denominator == 3
    assert week["connect_rate"].text == "50.0%"  # accepted ÷ calls
    # Missed: nobody took it and no message was left; more of them is bad news.
    assert (week["not_taken"].value, week["not_taken"].previous) == (1, 1)
    assert week["not_taken"].change_text == "no change"
    assert week["voicemail"].value == 1
    # +13125550101 called before, on day 9: not a first-time caller this week.
    assert (week["first_time"].value, week["first_time"].previous) == (3, 2)
    assert board.today_calls == 1
    assert figures(board, 30)["call_count"].value == 6


def test_a_rate_on_few_calls_is_flagged_and_changes_read_the_right_way(db, number):
    make_call(number=number, outcome=Outcome.ACCEPTED, ago=DAY)
    make_call(number=number, outcome=Outcome.REJECTED, ago=8 * DAY)
    make_call(number=number, outcome=Outcome.NO_ANSWER, ago=8 * DAY)

    week = figures(dashboard.dashboard(), 7)

    assert week["acceptance_rate"].small_sample
    assert week["acceptance_rate"].change_text == "+100.0 pts"  # points, not per cent
    assert week["not_taken"].trend == "good"  # fewer missed calls
    assert week["call_count"].trend == "bad"


def test_the_call_back_list_holds_missed_calls_and_voicemails_nobody_returned(db, number):
    waiting = make_call(number=number, outcome=Outcome.VOICEMAIL, caller_number="+13125550111")
    Recording.objects.create(
        call=waiting,
        recording_sid="RE" + "a" * 32,
        kind=Recording.Kind.VOICEMAIL,
        duration_seconds=9,
        transcription="Please call me back.",
    )
    missed = make_call(
        number=number, outcome=Outcome.NO_ANSWER, caller_number="+13125550112", ago=2 * DAY
    )
    # Done with already; no number to call; called again later and got through; taken.
    make_call(
        number=number,
        outcome=Outcome.BUSY,
        caller_number="+13125550113",
        callback_done_at=timezone.now(),
    )
    make_call(number=number, outcome=Outcome.NO_ANSWER, caller_number="anonymous")
    make_call(number=number, outcome=Outcome.REJECTED, caller_number="+13125550114", ago=3 * DAY)
    make_call(number=number, outcome=Outcome.ACCEPTED, caller_number="+13125550114", ago=DAY)

    board = dashboard.dashboard()

    assert [call.pk for call in board.callbacks] == [waiting.pk, missed.pk]
    assert board.callbacks_count == 2
    assert [v.transcription for v in board.callbacks[0].voicemails] == ["Please call me back."]


def test_a_marketer_marks_a_call_back_done_once(marketer, marketer_client, number):
    call = make_call(number=number, outcome=Outcome.NO_ANSWER, caller_number="+13125550111")
    url = reverse("admin:tracking_call_callback_done", args=[call.pk])

    assert marketer_client.get(url).status_code == 405
    response = marketer_client.post(url)
    again = marketer_client.post(url, follow=True)

    assert response.status_code == 302 and response["Location"].endswith("#call-backs")
    call.refresh_from_db()
    assert call.callback_done_by == "marketer" and call.callback_done_at is not None
    assert "already marked" in " ".join(texts(again, "info"))
    assert dashboard.callback_list().count() == 0


def test_someone_who_may_not_see_calls_cannot_mark_them(staff_client, number):
    call = make_call(number=number, outcome=Outcome.NO_ANSWER, caller_number="+13125550111")
    response = staff_client.post(reverse("admin:tracking_call_callback_done", args=[call.pk]))
    assert response.status_code == 403
    call.refresh_from_db()
    assert call.callback_done_at is None


def test_the_index_shows_the_figures_the_chart_and_the_call_backs(marketer_client, number):
    make_call(number=number, outcome=Outcome.ACCEPTED, ago=DAY)
    make_call(number=number, outcome=Outcome.NO_ANSWER, ago=DAY, caller_number="+13125550123")

    response = marketer_client.get(INDEX)

    assert response.status_code == 200
    page = parse(response.content)
    values = page.by_class["dash-value"]
    assert values[:3] == ["2", "100.0%", "50.0%"]  # calls, acceptance, connect; 7 days
    assert "of 1 screened: too few to rely on" in page.by_class["dash-basis"]
    assert 'id="chart-dashboard-days"' in response.content.decode()
    assert page.by_class["callback-number"] == ["(312) 555-0123"]
    assert "Spring Billboard 2 100.0%of 1 screened 50.0%" in texts(response, "dash-table")[0]
    # "View site" would loop back here.
    assert "View site" not in response.content.decode()


def test_the_sidebar_leads_to_the_dashboard_and_the_reports(marketer_client, db):
    response = marketer_client.get(reverse("admin:tracking_call_changelist"))
    sidebar = response.content.decode().split('id="nav-sidebar"', 1)[1].split("</nav>", 1)[0]
    assert f'href="{INDEX}">Dashboard</a>' in sidebar
    assert f'href="{reverse("admin:tracking_reports")}">Reports</a>' in sidebar
    # Django's stock heading ("Select call to view") says what the page is instead.
    assert "<h1>Calls</h1>" in response.content.decode()


def test_the_index_without_calls_says_how_to_make_one(marketer_client, number):
    response = marketer_client.get(INDEX)
    [command] = texts(response, "copyable")
    assert command == ("python manage.py simulate_call --to +15125550100 --from +13125550123")


def test_someone_who_may_not_see_calls_gets_no_dashboard(staff_client, number):
    make_call(number=number, outcome=Outcome.ACCEPTED, ago=DAY)
    response = staff_client.get(INDEX)
    assert response.status_code == 200
    assert "dash-value" not in response.content.decode()


@pytest.mark.parametrize("calls", [2, 30])
def test_the_dashboard_takes_the_same_queries_for_many_calls(
    marketer_client, number, calls, django_assert_max_num_queries
):
    for n in range(calls):
        make_call(
            number=number,
            outcome=Outcome.NO_ANSWER if n % 2 else Outcome.ACCEPTED,
            ago=DAY * (1 + n % 20),
            caller_number=f"+1312555{n:04d}",
        )
    # Session, user, permissions, the 60-day scan, the 30-day campaigns, first-time callers,
    # the call-back list (with its voicemails and count), whether there are calls, an example
    # number, the app list; and SET LOCAL / savepoints on PostgreSQL.
    with django_assert_max_num_queries(20):
        assert marketer_client.get(INDEX).status_code == 200


def test_the_top_sources_sit_beside_the_top_campaigns(marketer_client, number):
    website = Website.objects.create(name="Plumber", domains="www.plumber.example")
    ads = website.sources.create(
        name="Google Ads", rule="click_id", click_id="google", campaign=number.campaign
    )
    organic = website.sources.create(
        name="Organic <b>", rule="referrer", referrer_domain="google.com", campaign=number.campaign
    )

    def attributed(source, outcome, ago, **fields):
        call = make_call(number=number, outcome=outcome, ago=ago, **fields)
        CallAttribution.objects.create(
            call=call, kind="visit", started_at=call.started_at, website=website, source=source
        )

    attributed(ads, Outcome.ACCEPTED, DAY)
    attributed(ads, Outcome.ACCEPTED, 2 * DAY)
    attributed(ads, Outcome.REJECTED, 3 * DAY)
    attributed(ads, Outcome.NO_ANSWER, 4 * DAY)
    attributed(organic, Outcome.ACCEPTED, 5 * DAY)
    attributed(ads, Outcome.ACCEPTED, 31 * DAY)  # before the 30 days
    attributed(ads, Outcome.ACCEPTED, timedelta(0))  # today: not a whole day yet
    make_call(number=number, outcome=Outcome.ACCEPTED, ago=DAY)  # a billboard call

    response = marketer_client.get(INDEX)

    [table] = texts(response, "dash-sources")
    # Source, calls, screened, accepted, acceptance; most calls first; names escaped.
    assert table == (
        "SourceCallsScreenedAcceptedAcceptance Google Ads 4 3 2 66.7% Organic <b> 1 1 1 100.0%"
    )
    assert "Organic &lt;b&gt;" in response.content.decode()
