"""A real PostgreSQL stopped in the middle of calls, then started again.

The app runs under gunicorn against a PostgreSQL cluster of this test's own; Twilio's part is
played over HTTP with signed requests. While the database is down, calls still ring the business
with the campaign's whisper and key; once it is back, every call has exactly one truthful row.
"""

from __future__ import annotations

import json
import time

import pytest

from tests.support.servers import PG_BIN, AppServer, ThrowawayPostgres
from tests.support.twilio_http import HttpTwilio
from tests.twilio_signing import AUTH_TOKEN

pytestmark = pytest.mark.skipif(not PG_BIN.exists(), reason="PostgreSQL server binaries missing")

SETUP = """
from tracking.models import Campaign, TrackingNumber
campaign = Campaign.objects.create(
    name="Spring Billboard", accept_digit="7",
    missed_message="Spring Billboard will call you back.")
campaign.destinations.create(label="Front desk", phone_number="+15125550199")
TrackingNumber.objects.create(phone_number="+15125550100", campaign=campaign)
support = Campaign.objects.create(name="Support line", menu_greeting="Thanks for calling")
desk = support.destinations.create(label="Desk", phone_number="+15125550155")
billing = support.destinations.create(position=1, label="Billing", phone_number="+15125550166")
support.menu_options.create(key="1", label="Sales", is_default=True).destinations.set([desk])
support.menu_options.create(key="2", label="Invoices").destinations.set([billing])
TrackingNumber.objects.create(phone_number="+15125550101", campaign=support)
"""
MENU_ROWS = """
import json
from tracking.models import Call
print(json.dumps(list(Call.objects.filter(call_sid__startswith="CA_M").order_by("call_sid")
    .values("call_sid", "menu_choice", "outcome", "legs__label"))))
"""
ROWS = """
import json
from tracking.models import Call
print(json.dumps(list(Call.objects.order_by("call_sid").values(
    "call_sid", "outcome", "decision", "talk_seconds", "duration_seconds", "campaign__name",
    "caller_city", "dial_call_sid"))))
"""


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    folder = tmp_path_factory.mktemp("outage")
    postgres = ThrowawayPostgres().init()
    postgres.start()
    app = AppServer(
        {
            "DATABASE_URL": postgres.url,
            "SECRET_KEY": "outage-test",
            "DEBUG": "false",
            "ALLOWED_HOSTS": "127.0.0.1",
            "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
            "PUBLIC_BASE_URL": "",
            "CACHE_URL": f"filecache://{folder / 'cache'}",
            "CALL_SPOOL_DIR": str(folder / "spool"),
            "EMAIL_URL": "dummymail://",
            "DB_CONNECT_TIMEOUT": "2",
        }
    )
    try:
        app.manage("migrate", "--noinput")
        app.manage("shell", "-c", SETUP)
        app.start()
        yield postgres, app, folder / "spool"
    finally:
        app.stop()
        postgres.remove()


def _incoming(twilio: HttpTwilio, sid: str):
    return twilio.twiml(
        "/twilio/voice/",
        {
            "CallSid": sid,
            "From": "+13125550123",
            "To": "+15125550100",
            "FromCity": "AUSTIN",
            "FromState": "TX",
            "CallStatus": "ringing",
        },
    )


def _answer(twilio: HttpTwilio, dial, child: str):
    return twilio.twiml(
        dial.find("Number").get("url"), {"CallSid": child, "CallStatus": "in-progress"}
    )


def _press(twilio: HttpTwilio, whisper, child: str, digits: str):
    return twilio.twiml(whisper.find("Gather").get("action"), {"CallSid": child, "Digits": digits})


def _dial_done(twilio: HttpTwilio, dial, sid: str, **params: str):
    return twilio.twiml(dial.get("action"), {"CallSid": sid, **params})


def _status(twilio: HttpTwilio, sid: str, duration: str):
    status, _ = twilio.post(
        "/twilio/voice/status/",
        {"CallSid": sid, "CallStatus": "completed", "CallDuration": duration},
    )
    assert status == 204


def test_calls_ring_through_an_outage_and_are_logged_once_it_ends(stack):
    postgres, app, spool = stack
    twilio = HttpTwilio(app.url, AUTH_TOKEN)

    # Call A starts while the database is up; the callee hears the whisper.
    dial_a = _incoming(twilio, "CA_A").find("Dial")
    whisper_a = _answer(twilio, dial_a, "CA_A_CHILD")
    assert "Press 7 to accept" in whisper_a.find("Gather/Say").text

    postgres.stop()

    # The callee accepts call A while the database is down: the campaign's key still bridges.
    assert list(_press(twilio, whisper_a, "CA_A_CHILD", "7")) == []

    # Call B comes in and ends entirely during the outage.
    dial_b = _incoming(twilio, "CA_B").find("Dial")
    assert dial_b.find("Number").text == "+15125550199"
    whisper_b = _answer(twilio, dial_b, "CA_B_CHILD")
    assert whisper_b.find("Gather/Say").text.startswith("Call from Spring Billboard. Press 7")
    assert [el.tag for el in _press(twilio, whisper_b, "CA_B_CHILD", "2")] == ["Hangup"]
    after_b = _dial_done(twilio, dial_b, "CA_B", DialCallStatus="completed", DialBridged="false")
    assert after_b.find("Say").text == "Spring Billboard will call you back."
    _status(twilio, "CA_B", "14")
    _status(twilio, "CA_B", "14")  # Twilio retries

    # Call A ends during the outage too.
    after_a = _dial_done(
        twilio,
        dial_a,
        "CA_A",
        DialCallStatus="completed",
        DialBridged="true",
        DialCallDuration="42",
    )
    assert [el.tag for el in after_a] == ["Hangup"]
    _status(twilio, "CA_A", "61")

    assert len(list(spool.glob("*.json"))) == 9

    postgres.start()

    # The web workers replay their spool on their own once the database answers.
    deadline = time.monotonic() + 60
    while list(spool.glob("*.json")) and time.monotonic() < deadline:
        time.sleep(0.5)
    assert list(spool.glob("*.json")) == []

    rows = json.loads(app.manage("shell", "-c", ROWS).splitlines()[-1])
    assert rows == [
        {
            "call_sid": "CA_A",
            "outcome": "accepted",
            "decision": "accepted",
            "talk_seconds": 42,
            "duration_seconds": 61,
            "campaign__name": "Spring Billboard",
            "caller_city": "AUSTIN",
            "dial_call_sid": "CA_A_CHILD",
        },
        {
            "call_sid": "CA_B",
            "outcome": "rejected",
            "decision": "rejected",
            "talk_seconds": None,
            "duration_seconds": 14,
            "campaign__name": "Spring Billboard",
            "caller_city": "AUSTIN",
            "dial_call_sid": "CA_B_CHILD",
        },
    ]


def test_the_menu_plays_and_routes_while_the_database_is_down(stack):
    postgres, app, spool = stack
    twilio = HttpTwilio(app.url, AUTH_TOKEN)
    app.manage("refresh_routes")
    postgres.stop()
    try:
        menu = twilio.twiml(
            "/twilio/voice/",
            {"CallSid": "CA_M1", "From": "+13125550123", "To": "+15125550101"},
        )
        assert menu.find("Gather").get("input") == "dtmf speech"
        ringing = twilio.twiml(
            menu.find("Gather").get("action"), {"CallSid": "CA_M1", "Digits": "2"}
        )
        number = ringing.find("Dial/Number")
        assert number.text == "+15125550166"
        whisper = twilio.twiml(number.get("url"), {"CallSid": "CA_M1_CHILD"})
        assert whisper.find("Gather/Say").text.startswith(
            "Call from Support line, caller chose Invoices."
        )
        assert list(_press(twilio, whisper, "CA_M1_CHILD", "1")) == []
    finally:
        postgres.start()

    deadline = time.monotonic() + 60
    while list(spool.glob("*.json")) and time.monotonic() < deadline:
        time.sleep(0.5)
    rows = json.loads(app.manage("shell", "-c", MENU_ROWS).splitlines()[-1])
    assert rows == [
        {
            "call_sid": "CA_M1",
            "menu_choice": "Invoices",
            "outcome": "accepted",
            "legs__label": "Billing",
        }
    ]
