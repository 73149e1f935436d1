"""The reports page in the admin: figures as people read them, CSV downloads, forms, access."""

from __future__ import annotations

import csv
import io
import re
from datetime import timedelta

import pytest
from django.contrib.auth.models import User
from django.utils import timezone

from tests.reports.conftest import DAY1, DAY2, HEADERS, at
from tracking.models import Campaign

PERIOD_QUERY = {"start": DAY1.isoformat(), "end": DAY2.isoformat()}


def _csv(client, url: str, table: str, **query) -> list[list[str]]:
    response = client.get(url, {**PERIOD_QUERY, **query, "format": "csv", "table": table})
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith("attachment; filename=")
    return list(csv.reader(io.StringIO(response.content.decode())))


def _cells(html: str, table: str, row_label: str) -> list[str]:
    """The text of every cell of the row whose first cell is `row_label`, in `table`."""
    body = html.split(f'id="report-{table}"', 1)[1].split("</table>", 1)[0]
    for row in re.findall(r"<tr[^>]*>(.*?)</tr>", body, flags=re.S):
        cells = [
            re.sub(r"<(small|sup)[^>]*>.*?</(small|sup)>", "", cell).strip()
            for cell in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, flags=re.S)
        ]
        if cells and cells[0] == row_label:
            return cells
    raise AssertionError(f"no row {row_label!r} in table {table}")


def test_campaign_csv_has_every_figure(marketer_client, reports_url, world):
    rows = _csv(marketer_client, reports_url, "campaigns")

    assert rows == [
        ["Campaign", *HEADERS],
        ["Quiet", "0", "0", "0", "0", "0", "0", "0", "0", "0", "0", "", "", ""],
        ["Radio", "4", "1", "2", "0", "0", "1", "0", "0", "0", "0", "1.0000", "0.5000", "60.0"],
        [
            "Spring Billboard",
            "7",
            "4",
            "2",
            "1",
            "1",
            "2",
            "1",
            "0",
            "0",
            "0",
            "0.5000",
            "0.2857",
            "90.0",
        ],
        [
            "Unmatched (no campaign)",
            "1",
            "0",
            "0",
            "0",
            "0",
            "0",
            "0",
            "0",
            "0",
            "0",
            "",
            "0.0000",
            "",
        ],
        ["Total", "12", "5", "4", "1", "1", "3", "1", "0", "0", "0", "0.6000", "0.3333", "75.0"],
    ]


def test_number_csv_has_every_figure(marketer_client, reports_url, world):
    rows = _csv(marketer_client, reports_url, "numbers")

    assert [row[:3] for row in rows] == [
        ["Tracking number", "Label", "Campaign"],
        ["+15125550103", "", "Quiet"],
        ["+15125550101", "KUT", "Radio"],
        ["+15125550100", "I-35 billboard", "Spring Billboard"],
        ["+15125550102", "Bus", "Spring Billboard"],
        ["No tracking number", "", ""],
        ["Total", "", ""],
    ]
    assert [row[3:] for row in rows] == [
        HEADERS,
        ["0", "0", "0", "0", "0", "0", "0", "0", "0", "0", "", "", ""],
        ["4", "1", "2", "0", "0", "1", "0", "0", "0", "0", "1.0000", "0.5000", "60.0"],
        ["4", "4", "2", "1", "1", "0", "0", "0", "0", "0", "0.5000", "0.5000", "90.0"],
        ["3", "0", "0", "0", "0", "2", "1", "0", "0", "0", "", "0.0000", ""],
        ["1", "0", "0", "0", "0", "0", "0", "0", "0", "0", "", "0.0000", ""],
        ["12", "5", "4", "1", "1", "3", "1", "0", "0", "0", "0.6000", "0.3333", "75.0"],
    ]


def test_day_csv_lists_every_day_of_the_period(marketer_client, reports_url, world):
    rows = _csv(marketer_client, reports_url, "days", end=(DAY2 + timedelta(days=1)).isoformat())

    assert rows == [
        ["Day", *HEADERS],
        [
            DAY1.isoformat(),
            "5",
            "3",
            "4",
            "0",
            "0",
            "0",
            "1",
            "0",
            "0",
            "0",
            "1.0000",
            "0.8000",
            "75.0",
        ],
        [
            DAY2.isoformat(),
            *["7", "2", "0", "1", "1", "3", "0", "0", "0", "0", "0.0000", "0.0000", ""],
        ],
        # The decoy at midnight of the day after now falls inside the period.
        [
            (DAY2 + timedelta(days=1)).isoformat(),
            *["1", "1", "1", "0", "0", "0", "0", "0", "0", "0", "1.0000", "1.0000", "5.0"],
        ],
        ["Total", "13", "6", "5", "1", "1", "3", "1", "0", "0", "0", "0.6667", "0.3846", "61.0"],
    ]


def test_hour_csv_lists_all_24_hours(marketer_client, reports_url, world):
    rows = _csv(marketer_client, reports_url, "hours")

    assert rows[0] == ["Hour", *HEADERS]
    assert [row[0] for row in rows[1:-1]] == [f"{hour:02d}:00" for hour in range(24)]
    by_hour = {row[0]: row[1:] for row in rows[1:-1]}
    assert by_hour["09:00"] == [
        "3",
        "2",
        "1",
        "1",
        "0",
        "0",
        "1",
        "0",
        "0",
        "0",
        "0.5000",
        "0.3333",
        "60.0",
    ]
    assert by_hour["10:00"] == [
        "1",
        "1",
        "1",
        "0",
        "0",
        "0",
        "0",
        "0",
        "0",
        "0",
        "1.0000",
        "1.0000",
        "120.0",
    ]
    assert by_hour["14:00"] == [
        "3",
        "1",
        "0",
        "0",
        "1",
        "2",
        "0",
        "0",
        "0",
        "0",
        "0.0000",
        "0.0000",
        "",
    ]
    assert by_hour["16:00"] == [
        "4",
        "1",
        "2",
        "0",
        "0",
        "1",
        "0",
        "0",
        "0",
        "0",
        "1.0000",
        "0.5000",
        "60.0",
    ]
    assert by_hour["23:00"] == ["1", "0", "0", "0", "0", "0", "0", "0", "0", "0", "", "0.0000", ""]
    assert by_hour["00:00"] == ["0", "0", "0", "0", "0", "0", "0", "0", "0", "0", "", "", ""]
    assert rows[-1][0] == "Total" and rows[-1][1] == "12"


def test_place_csv_has_every_place(marketer_client, reports_url, world):
    rows = _csv(marketer_client, reports_url, "places")

    assert rows == [
        ["Country", "State", "City", *HEADERS],
        [
            "US",
            "TX",
            "Austin",
            "6",
            "3",
            "4",
            "0",
            "0",
            "1",
            "0",
            "0",
            "0",
            "0",
            "1.0000",
            "0.6667",
            "75.0",
        ],
        ["", "", "", "2", "0", "0", "0", "0", "1", "0", "0", "0", "0", "", "0.0000", ""],
        ["US", "IL", "Chicago", "2", "0", "0", "0", "0", "1", "1", "0", "0", "0", "", "0.0000", ""],
        [
            "US",
            "TX",
            "Dallas",
            "2",
            "2",
            "0",
            "1",
            "1",
            "0",
            "0",
            "0",
            "0",
            "0",
            "0.0000",
            "0.0000",
            "",
        ],
        [
            "Total",
            "",
            "",
            "12",
            "5",
            "4",
            "1",
            "1",
            "3",
            "1",
            "0",
            "0",
            "0",
            "0.6000",
            "0.3333",
            "75.0",
        ],
    ]


def test_csv_follows_the_campaign_filter(marketer_client, reports_url, world):
    rows = _csv(marketer_client, reports_url, "campaigns", campaign=world["spring"].pk)

    assert [row[:2] for row in rows[1:]] == [["Spring Billboard", "7"], ["Total", "7"]]


def test_csv_cells_typed_by_people_cannot_run_as_formulas(marketer_client, reports_url, world):
    world["quiet"].name = "=HYPERLINK(1)"
    world["quiet"].save()

    rows = _csv(marketer_client, reports_url, "campaigns")

    assert rows[1][0] == "'=HYPERLINK(1)"


def test_page_shows_figures_as_people_read_them(marketer_client, reports_url, world):
    response = marketer_client.get(reports_url, PERIOD_QUERY)
    html = response.content.decode()

    assert response.status_code == 200
    assert _cells(html, "campaigns", "Spring Billboard") == [
        "Spring Billboard",
        "7",
        "4",
        "2",
        "1",
        "1",
        "2",
        "1",
        "0",
        "0",
        "0",
        "50.0%",
        "28.6%",
        "1:30",
    ]
    # Rates resting on a handful of calls say so.
    assert '50.0%<sup aria-label="only 4 screened">*</sup>' in html
    # Nothing screened, nothing to divide: dashes, not 0 % and not an error.
    assert _cells(html, "campaigns", "Quiet")[11:] == ["—", "—", "—"]
    assert _cells(html, "campaigns", "Total")[11:] == ["60.0%", "33.3%", "1:15"]
    assert _cells(html, "numbers", "(512) 555-0100")[:3] == [
        "(512) 555-0100",
        "Spring Billboard",
        "4",
    ]
    assert '(512) 555-0100<small class="row-note">I-35 billboard</small>' in html
    assert _cells(html, "days", "Mon, Mar 2, 2026")[1:4] == ["5", "3", "4"]
    assert _cells(html, "hours", "16:00–17:00")[1:4] == ["4", "1", "2"]
    assert _cells(html, "places", "—")[3:5] == ["2", "0"]


def test_page_charts_are_inline_svg_with_the_table_figures(marketer_client, reports_url, world):
    html = marketer_client.get(reports_url, PERIOD_QUERY).content.decode()

    assert html.count('<svg class="chart"') == 2
    assert '<title id="chart-days-title">' in html
    # A day's rate resting on fewer than 5 screened calls is named, not drawn as a spike.
    titles = re.findall(r"<title>((?:Mon|Tue), Mar [23], 2026: [^<]*)</title>", html)
    assert titles == [
        "Mon, Mar 2, 2026: 5 calls, 4 accepted, acceptance 100% of only 3 screened (not drawn)",
        "Tue, Mar 3, 2026: 7 calls, 0 accepted, acceptance 0% of only 2 screened (not drawn)",
    ]
    assert "<title>00:00–01:00: 0 calls, 0 accepted, no calls screened</title>" in html


def test_page_loads_nothing_from_another_host(marketer_client, reports_url, world):
    html = marketer_client.get(reports_url, PERIOD_QUERY).content.decode()

    assert re.findall(r'(?:src|href)="(?:https?:)?//', html) == []


def test_page_reads_the_calls_in_four_scans_and_their_legs_in_one(
    marketer_client, reports_url, world, django_assert_max_num_queries
):
    # On PostgreSQL the report's SET LOCAL tuning adds itself and a savepoint around it.
    with django_assert_max_num_queries(15) as queries:
        response = marketer_client.get(reports_url, PERIOD_QUERY)

    assert response.status_code == 200
    control = ("SET ", "SAVEPOINT", "RELEASE SAVEPOINT")
    reads = [q["sql"] for q in queries.captured_queries if not q["sql"].startswith(control)]
    # Session, user, the user's two permission reads, the campaign menu, the campaigns and the
    # numbers of the tables, and the five below.
    assert len(reads) <= 12
    call_queries = [q["sql"] for q in queries.captured_queries if "tracking_call" in q["sql"]]
    # By campaign and number (their tables and the totals), by hour (days and hours), by place,
    # the calls that heard a menu by option, and the legs by destination.
    assert len(call_queries) == 5
    assert len([sql for sql in call_queries if "tracking_callleg" in sql]) == 1


def test_an_empty_period_shows_dashes(marketer_client, reports_url, world):
    response = marketer_client.get(reports_url, {"start": "2025-01-01", "end": "2025-01-31"})
    html = response.content.decode()

    assert response.status_code == 200
    assert (
        _cells(html, "campaigns", "Total")
        == ["Total", "0", "0", "0", "0", "0", "0", "0", "0", "0", "0"] + ["—"] * 3
    )
    assert _cells(html, "days", "Wed, Jan 1, 2025")[11:] == ["—", "—", "—"]
    assert "No calls in this period." in html  # the places table
    assert response.context["summary"][-3:] == [
        {"name": "acceptance_rate", "header": "Acceptance rate", "text": "—"},
        {"name": "connect_rate", "header": "Connect rate", "text": "—"},
        {"name": "avg_talk_seconds", "header": "Avg talk time", "text": "—"},
    ]


def test_one_campaign_without_calls_shows_dashes(marketer_client, reports_url, world):
    html = marketer_client.get(
        reports_url, {**PERIOD_QUERY, "campaign": world["quiet"].pk}
    ).content.decode()

    assert _cells(html, "campaigns", "Quiet")[1:] == ["0"] * 10 + ["—"] * 3
    assert "Spring Billboard" not in html.split('id="report-campaigns"')[1].split("</table>")[0]


def test_the_default_period_is_the_last_30_days(marketer_client, reports_url, make_call, world):
    today = timezone.localdate()
    make_call("accepted", timezone.now(), number=world["a1"], screened=True, talk=10)
    make_call("accepted", timezone.now() - timedelta(days=31), number=world["a1"], screened=True)

    response = marketer_client.get(reports_url)

    period = response.context["period"]
    assert (period.start, period.end) == (today - timedelta(days=29), today)
    assert _cells(response.content.decode(), "campaigns", "Spring Billboard")[1:4] == [
        "1",
        "1",
        "1",
    ]


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ({"start": "2026-13-45", "end": "2026-03-03"}, "Enter a valid date."),
        ({"start": "", "end": "2026-03-03"}, "This field is required."),
        ({"start": "2026-03-04", "end": "2026-03-03"}, "The start date is after the end date."),
        ({"start": "2024-01-01", "end": "2026-03-03"}, "Choose at most 366 days."),
        ({**PERIOD_QUERY, "campaign": "999999"}, "Select a valid choice."),
        ({**PERIOD_QUERY, "campaign": "abc"}, "Select a valid choice."),
    ],
)
def test_invalid_input_shows_errors_not_a_crash(
    marketer_client, reports_url, world, query, message
):
    page = marketer_client.get(reports_url, query)
    download = marketer_client.get(reports_url, {**query, "format": "csv", "table": "days"})

    assert page.status_code == 200
    assert message in page.content.decode()
    assert 'id="report-campaigns"' not in page.content.decode()
    assert download.status_code == 400
    assert message in download.content.decode()


def test_an_unknown_table_is_a_bad_request(marketer_client, reports_url, world):
    response = marketer_client.get(reports_url, {"format": "csv", "table": "users"})

    assert response.status_code == 400


def test_csv_links_carry_the_filters(marketer_client, reports_url, world):
    spring = world["spring"]
    response = marketer_client.get(reports_url, {**PERIOD_QUERY, "campaign": spring.pk})

    links = {key: table.csv_url for key, table in response.context["tables"].items()}
    assert links["places"] == (
        f"?start=2026-03-02&end=2026-03-03&campaign={spring.pk}&format=csv&table=places"
    )
    assert set(links) == {"campaigns", "numbers", "destinations", "menu", "days", "places", "hours"}


def test_anonymous_visitors_are_sent_to_log_in(client, reports_url, world):
    response = client.get(reports_url)

    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]


def test_staff_without_the_call_permission_are_refused(client, reports_url, world):
    client.force_login(User.objects.create_user("intern", password="x", is_staff=True))

    page = client.get(reports_url, PERIOD_QUERY)
    download = client.get(reports_url, {**PERIOD_QUERY, "format": "csv", "table": "campaigns"})

    assert page.status_code == 403
    assert download.status_code == 403


def test_inactive_campaigns_are_marked_on_the_page(marketer_client, reports_url, world):
    Campaign.objects.filter(pk=world["radio"].pk).update(is_active=False)

    html = marketer_client.get(reports_url, PERIOD_QUERY).content.decode()

    assert _cells(html, "campaigns", "Radio")[1] == "4"
    assert 'Radio<small class="row-note">Inactive</small>' in html


def test_a_call_at_local_midnight_lands_on_its_local_day(
    marketer_client, reports_url, settings, make_call, world
):
    settings.TIME_ZONE = "Europe/Paris"  # UTC+1 in winter
    make_call("rejected", at(DAY1, 23, 30), number=world["a1"], screened=True)

    rows = _csv(marketer_client, reports_url, "days", start="2026-03-03", end="2026-03-03")

    # 23:30 UTC on the 2nd is 00:30 on the 3rd in Paris, so the 3rd has its six daytime calls
    # and this one, while the unmatched call at 23:59:59 UTC moves to the 4th.
    assert rows[1][:5] == ["2026-03-03", "7", "3", "0", "2"]


def test_a_campaign_without_calls_says_how_to_make_a_first_one(marketer_client, reports_url):
    campaign = Campaign.objects.create(name="Brand new")
    campaign.numbers.create(phone_number="+15125550188")

    html = marketer_client.get(reports_url, {"campaign": campaign.pk}).content.decode()

    assert "No calls in this period" in html
    assert (
        "<code>python manage.py simulate_call --to +15125550188 --from +13125550123</code>" in html
    )
