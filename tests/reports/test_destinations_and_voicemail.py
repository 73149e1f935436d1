"""Issue 7 in the reports: voicemail and after-hours columns, acceptance by destination."""

from __future__ import annotations

import csv
import io
from datetime import date

import pytest

from tests.reports.conftest import DAY1, DAY2, HEADERS, PERIOD, figures
from tracking import selectors
from tracking.selectors import DESTINATION_FIGURES, FIGURES, Period

PERIOD_QUERY = {"start": DAY1.isoformat(), "end": DAY2.isoformat()}
EMPTY = Period(date(2025, 1, 1), date(2025, 1, 31))

# Hand-worked from the `flows` fixture over PERIOD (UTC).
PLUMBING = figures(5, 3, 2, 0, 0, 1, 0, 2 / 3, 2 / 5, 45, voicemail=2, after_hours=2)
BILLBOARD = figures(3, 1, 1, 0, 0, 1, 1, 1.0, 1 / 3, 90, after_hours=1)
TOTAL = figures(8, 4, 3, 0, 0, 2, 1, 3 / 4, 3 / 8, 60, voicemail=2, after_hours=3)


def destination(rung=0, accepted=0, declined=0, no_input=0, unreached=0, stopped=0) -> dict:
    return {
        "rung": rung,
        "accepted": accepted,
        "declined": declined,
        "no_input": no_input,
        "unreached": unreached,
        "stopped": stopped,
        "acceptance_rate": pytest.approx(accepted / rung) if rung else None,
    }


DESTINATIONS = [
    (("After hours", "+15125550177"), destination(1, unreached=1)),
    (("Front desk", "+15125550188"), destination(2, stopped=2)),
    (("Front desk", "+15125550199"), destination(3, 1, 1, unreached=1)),
    # Both campaigns' Owner is one phone: one row. Plumbing's last call never rang it.
    (("Owner", "+15125550122"), destination(4, 1, 1, 1, stopped=1)),
    (("Sales", "+15125550133"), destination(2, 1, stopped=1)),
]
DESTINATION_TOTAL = destination(12, 3, 2, 1, 2, 4)


def _figures(row: dict, names=FIGURES) -> dict:
    return {name: row[name] for name in names}


def _destinations(rows: list[dict]) -> list[tuple]:
    return [
        ((row["label"], row["phone_number"]), _figures(row, DESTINATION_FIGURES)) for row in rows
    ]


def _csv(client, url: str, table: str, **query) -> list[list[str]]:
    response = client.get(url, {**PERIOD_QUERY, **query, "format": "csv", "table": table})
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    return list(csv.reader(io.StringIO(response.content.decode())))


def test_it_counts_voicemails_and_after_hours_calls_per_campaign(flows):
    rows = selectors.by_campaign(PERIOD)

    assert [row["name"] for row in rows] == ["Billboard", "Plumbing"]
    assert [_figures(row) for row in rows] == [BILLBOARD, PLUMBING]
    assert selectors.totals(PERIOD)["all"] == TOTAL


def test_it_counts_a_voicemail_as_not_accepted(flows):
    plumbing = selectors.by_campaign(PERIOD, flows["plumbing"])[0]

    # The Owner heard the whisper of call 2 and the caller then left a message: screened,
    # not accepted. The after-hours message was never screened, but is still no connection.
    assert plumbing["acceptance_rate"] == pytest.approx(2 / 3)
    assert plumbing["connect_rate"] == pytest.approx(2 / 5)


def test_it_counts_voicemails_and_after_hours_calls_in_every_table(flows):
    report = selectors.Report(PERIOD)

    numbers = {row["phone_number"]: row for row in report.by_number()}
    days = {row["day"]: row for row in report.by_day()}
    hours = {row["hour"]: row for row in report.by_hour()}
    places = report.by_place()

    assert (numbers["+15125550140"]["voicemail"], numbers["+15125550140"]["after_hours"]) == (2, 2)
    assert (numbers["+15125550141"]["voicemail"], numbers["+15125550141"]["after_hours"]) == (0, 1)
    assert [(days[day]["voicemail"], days[day]["after_hours"]) for day in (DAY1, DAY2)] == [
        (2, 1),
        (0, 2),
    ]
    assert {hour: row["after_hours"] for hour, row in hours.items() if row["after_hours"]} == {
        6: 1,
        20: 1,
        22: 1,
    }
    assert {hour: row["voicemail"] for hour, row in hours.items() if row["voicemail"]} == {
        11: 1,
        22: 1,
    }
    assert [(row["voicemail"], row["after_hours"]) for row in places] == [(2, 3)]


def test_one_campaign_shows_only_its_voicemails_and_after_hours_calls(flows):
    report = selectors.Report(PERIOD, flows["billboard"])

    assert [_figures(row) for row in report.by_campaign()] == [BILLBOARD]
    assert report.totals["all"] == BILLBOARD


def test_an_empty_period_has_no_voicemails_nor_after_hours_calls(flows):
    assert [_figures(row) for row in selectors.by_campaign(EMPTY)] == [figures()] * 2
    assert selectors.totals(EMPTY)["all"] == figures()


def test_it_reads_acceptance_by_destination_in_one_query(flows, django_assert_num_queries):
    report = selectors.Report(PERIOD)

    with django_assert_num_queries(1):
        rows = report.by_destination()
        total = report.destination_total

    assert _destinations(rows) == DESTINATIONS
    assert _figures(total, DESTINATION_FIGURES) == DESTINATION_TOTAL


def test_acceptance_by_destination_follows_the_campaign_filter(flows):
    report = selectors.Report(PERIOD, flows["plumbing"])

    assert _destinations(report.by_destination()) == [
        (("Front desk", "+15125550199"), destination(3, 1, 1, unreached=1)),
        # Rung on calls 1 and 2; call 5 was taken before it rang.
        (("Owner", "+15125550122"), destination(2, 1, no_input=1)),
    ]
    assert _figures(report.destination_total, DESTINATION_FIGURES) == destination(5, 2, 1, 1, 1)


def test_a_destination_never_rung_has_a_row_and_no_rate(flows, make_call):
    from tracking.models import CallLeg

    call = make_call("in_progress", PERIOD.bounds()[0], number=flows["p1"])
    CallLeg.objects.create(
        call=call,
        position=0,
        label="New line",
        phone_number="+15125550166",
        started_at=call.started_at,
        campaign_id=call.campaign_id,
    )

    rows = {row["label"]: row for row in selectors.by_destination(PERIOD, flows["plumbing"])}

    assert _figures(rows["New line"], DESTINATION_FIGURES) == destination()


def test_an_empty_period_has_no_destinations(flows):
    report = selectors.Report(EMPTY)

    assert report.by_destination() == []
    assert _figures(report.destination_total, DESTINATION_FIGURES) == destination()


def test_campaign_csv_has_the_voicemail_and_after_hours_columns(
    marketer_client, reports_url, flows
):
    rows = _csv(marketer_client, reports_url, "campaigns")

    assert rows[0][1:] == HEADERS
    assert rows[1:] == [
        ["Billboard", "3", "1", "1", "0", "0", "1", "1", "0", "1", "0", "1.0000", "0.3333", "90.0"],
        ["Plumbing", "5", "3", "2", "0", "0", "1", "0", "2", "2", "0", "0.6667", "0.4000", "45.0"],
        ["Total", "8", "4", "3", "0", "0", "2", "1", "2", "3", "0", "0.7500", "0.3750", "60.0"],
    ]


def test_destination_csv_has_every_figure(marketer_client, reports_url, flows):
    rows = _csv(marketer_client, reports_url, "destinations")

    assert rows == [
        [
            "Destination",
            "Phone number",
            "Rung",
            "Accepted",
            "Declined",
            "No key pressed",
            "No answer, busy or failed",
            "Stopped",
            "Take rate",
        ],
        ["After hours", "+15125550177", "1", "0", "0", "0", "1", "0", "0.0000"],
        ["Front desk", "+15125550188", "2", "0", "0", "0", "0", "2", "0.0000"],
        ["Front desk", "+15125550199", "3", "1", "1", "0", "1", "0", "0.3333"],
        ["Owner", "+15125550122", "4", "1", "1", "1", "0", "1", "0.2500"],
        ["Sales", "+15125550133", "2", "1", "0", "0", "0", "1", "0.5000"],
        ["Total", "", "12", "3", "2", "1", "2", "4", "0.2500"],
    ]


def test_destination_csv_follows_the_campaign_filter(marketer_client, reports_url, flows):
    rows = _csv(marketer_client, reports_url, "destinations", campaign=flows["billboard"].pk)

    assert rows[1:] == [
        ["After hours", "+15125550177", "1", "0", "0", "0", "1", "0", "0.0000"],
        ["Front desk", "+15125550188", "2", "0", "0", "0", "0", "2", "0.0000"],
        ["Owner", "+15125550122", "2", "0", "1", "0", "0", "1", "0.0000"],
        ["Sales", "+15125550133", "2", "1", "0", "0", "0", "1", "0.5000"],
        ["Total", "", "7", "1", "1", "0", "1", "4", "0.1429"],
    ]


def test_destination_csv_of_an_empty_period_has_only_the_total(marketer_client, reports_url, flows):
    rows = _csv(marketer_client, reports_url, "destinations", start="2025-01-01", end="2025-01-31")

    assert rows[1:] == [["Total", "", "0", "0", "0", "0", "0", "0", ""]]


def test_page_shows_the_new_columns_and_the_destination_table(marketer_client, reports_url, flows):
    response = marketer_client.get(reports_url, PERIOD_QUERY)

    assert response.status_code == 200
    tables = response.context["tables"]
    plumbing = next(
        item for item in tables["campaigns"].extra["rows"] if item["row"].labels == ["Plumbing"]
    )
    assert {cell["header"]: cell["text"] for cell in plumbing["cells"]} == {
        "Calls": "5",
        "Screened": "3",
        "Accepted": "2",
        "Rejected": "0",
        "No response": "0",
        "No answer": "1",
        "Abandoned": "0",
        "Voicemail": "2",
        "After hours": "2",
        "Spam": "0",
        "Acceptance rate": "66.7%",
        "Connect rate": "40.0%",
        "Avg talk time": "0:45",
    }
    destinations = tables["destinations"]
    assert destinations.title == "Acceptance by destination"
    assert [
        [*item["row"].labels, *(cell["text"] for cell in item["cells"])]
        for item in destinations.extra["rows"]
    ] == [
        ["After hours", "(512) 555-0177", "1", "0", "0", "0", "1", "0", "0.0%"],
        ["Front desk", "(512) 555-0188", "2", "0", "0", "0", "0", "2", "0.0%"],
        ["Front desk", "(512) 555-0199", "3", "1", "1", "0", "1", "0", "33.3%"],
        ["Owner", "(512) 555-0122", "4", "1", "1", "1", "0", "1", "25.0%"],
        ["Sales", "(512) 555-0133", "2", "1", "0", "0", "0", "1", "50.0%"],
    ]
    assert [cell["text"] for cell in destinations.extra["total"]] == [
        "12",
        "3",
        "2",
        "1",
        "2",
        "4",
        "25.0%",
    ]
    assert destinations.csv_url.endswith("&format=csv&table=destinations")
    html = response.content.decode()
    table = html.split('id="report-destinations"', 1)[1].split("</table>", 1)[0]
    assert '<th scope="col" class="num">No answer, busy or failed</th>' in table


def test_page_of_an_empty_period_says_no_destination_rang(marketer_client, reports_url, flows):
    response = marketer_client.get(reports_url, {"start": "2025-01-01", "end": "2025-01-31"})

    destinations = response.context["tables"]["destinations"]
    assert destinations.extra["rows"] == []
    assert [cell["text"] for cell in destinations.extra["total"]] == ["0"] * 6 + ["—"]
    assert "No destination rang in this period." in response.content.decode()
