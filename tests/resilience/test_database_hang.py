"""A PostgreSQL that stops answering (rather than refusing connections), in the middle of calls.

The app runs under gunicorn with the documented production settings (deploy/gunicorn.conf.py)
and reaches its own PostgreSQL through a TCP proxy that stops forwarding while keeping every
connection open. Every webhook must still answer well inside Twilio's 15 s, from the routing
cache and the spool, exactly as when the database refuses connections; admin pages say the
database is unreachable; once the database answers again every call has one truthful row.
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from urllib.parse import urlencode

import pytest

from tests.support.proxy import StallingProxy
from tests.support.servers import PG_BIN, ROOT, AppServer, ThrowawayPostgres
from tests.support.twilio_http import HttpTwilio
from tests.twilio_signing import AUTH_TOKEN

pytestmark = pytest.mark.skipif(not PG_BIN.exists(), reason="PostgreSQL server binaries missing")

# Twilio waits 15 s for an answer. Each webhook gets far less here, on a shared, noisy machine:
# the database wait is bounded at WEBHOOK_DB_TIMEOUT (2 s) and a connect at 2 s.
ANSWER_WITHIN = 8.0

SETUP = """
from django.contrib.auth.models import User
from django.test import Client
from tracking.models import Campaign, TrackingNumber
campaign = Campaign.objects.create(
    name="Spring Billboard", voicemail_enabled=True,
    missed_message="Spring Billboard will call you back.")
campaign.destinations.create(label="Front desk", phone_number="+15125550199")
TrackingNumber.objects.create(phone_number="+15125550100", campaign=campaign)
client = Client()
client.force_login(User.objects.create_superuser("marta", "marta@example.com", "x-y-z-w"))
print(client.cookies["sessionid"].value)
"""
ROWS = """
import json
from tracking.models import Call
print(json.dumps(list(Call.objects.order_by("call_sid").values(
    "call_sid", "outcome", "called_number", "voicemail_at", "duration_seconds", "decision"))))
"""


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    folder = tmp_path_factory.mktemp("hang")
    postgres = ThrowawayPostgres().init()
    postgres.start()
    proxy = StallingProxy(postgres.port)
    app = AppServer(
        {
            # The app's settings with static files served unhashed (no collectstatic here).
            "DJANGO_SETTINGS_MODULE": "bench.settings",
            "DATABASE_URL": f"postgres://postgres@127.0.0.1:{proxy.port}/postgres",
            "SECRET_KEY": "hang-test",
            "DEBUG": "false",
            "ALLOWED_HOSTS": "127.0.0.1",
            "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
            "PUBLIC_BASE_URL": "",
            "CACHE_URL": f"filecache://{folder / 'cache'}",
            "CALL_SPOOL_DIR": str(folder / "spool"),
            "EMAIL_URL": "dummymail://",
        },
        config=str(ROOT / "deploy" / "gunicorn.conf.py"),
    )
    try:
        app.manage("migrate", "--noinput")
        session = app.manage("shell", "-c", SETUP).split()[-1]
        app.start()
        yield proxy, app, folder / "spool", session
    finally:
        app.stop()
        proxy.close()
        postgres.remove()


class TimedTwilio(HttpTwilio):
    """Twilio's side, asserting that every answer comes in time."""

    def post(self, url, params, timeout=20):
        started = time.monotonic()
        answer = super().post(url, params, timeout=timeout)
        took = time.monotonic() - started
        assert took < ANSWER_WITHIN, f"{url} took {took:.1f} s"
        return answer


def _incoming(twilio, sid: str, to: str = "+15125550100"):
    return twilio.twiml(
        "/twilio/voice/",
        {"CallSid": sid, "From": "+13125550123", "To": to, "CallStatus": "ringing"},
    )


def _get(app: AppServer, path: str, session: str) -> tuple[int, str]:
    request = urllib.request.Request(app.url + path, headers={"Cookie": f"sessionid={session}"})
    try:
        with urllib.request.urlopen(request, timeout=20) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def _sign_in(app: AppServer) -> tuple[int, str]:
    """The sign-in form, filled in: GET it (no database needed), then POST it."""
    with urllib.request.urlopen(app.url + "/admin/login/", timeout=20) as response:
        cookie = response.headers["Set-Cookie"].split(";")[0]
        page = response.read().decode()
    token = page.split('name="csrfmiddlewaretoken" value="')[1].split('"')[0]
    request = urllib.request.Request(
        app.url + "/admin/login/",
        data=urlencode(
            {"csrfmiddlewaretoken": token, "username": "marta", "password": "x-y-z-w"}
        ).encode(),
        headers={"Cookie": cookie, "Referer": app.url + "/admin/login/"},
    )
    try:
        with urllib.request.urlopen(request, timeout=20) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def test_calls_are_answered_in_time_while_the_database_hangs(stack):
    proxy, app, spool, session = stack
    twilio = TimedTwilio(app.url, AUTH_TOKEN)

    # Call A is ringing and its callee hears the whisper while the database answers.
    dial_a = _incoming(twilio, "CA_A").find("Dial")
    whisper_a = twilio.twiml(dial_a.find("Number").get("url"), {"CallSid": "CA_A_CHILD"})
    assert _get(app, "/admin/", session)[0] == 200

    proxy.stall()

    # The callee presses 1 while the database hangs: joined, in time.
    key = twilio.twiml(
        whisper_a.find("Gather").get("action"), {"CallSid": "CA_A_CHILD", "Digits": "1"}
    )
    assert list(key) == []

    # Call B rings the campaign from the cache; the caller hangs up while it rings.
    dial_b = _incoming(twilio, "CA_B").find("Dial")
    assert dial_b.find("Number").text == "+15125550199"
    after_b = twilio.twiml(dial_b.get("action"), {"CallSid": "CA_B", "DialCallStatus": "canceled"})
    assert [el.tag for el in after_b] == ["Hangup"], "no voicemail for a caller who is gone"

    # Call C is to a number nobody knows.
    assert [el.tag for el in _incoming(twilio, "CA_C", to="+15125550999")] == ["Say", "Hangup"]

    after_a = twilio.twiml(
        dial_a.get("action"),
        {"CallSid": "CA_A", "DialCallStatus": "completed", "DialBridged": "true"},
    )
    assert [el.tag for el in after_a] == ["Hangup"]
    for sid, duration in [("CA_A", "61"), ("CA_B", "9"), ("CA_C", "3")]:
        status, _ = twilio.post(
            "/twilio/voice/status/",
            {"CallSid": sid, "CallStatus": "completed", "CallDuration": duration},
        )
        assert status == 204

    # People in the admin are told what is going on; load balancers still see a live app.
    status, page = _get(app, "/admin/", session)
    assert status == 503
    assert "The database is unreachable" in page
    status, page = _sign_in(app)
    assert status == 503
    assert "The database is unreachable" in page
    assert _get(app, "/healthz", session) == (200, "ok")

    proxy.resume()

    deadline = time.monotonic() + 60
    while list(spool.glob("*.json")) and time.monotonic() < deadline:
        time.sleep(0.5)
    assert list(spool.glob("*.json")) == []
    rows = json.loads(app.manage("shell", "-c", ROWS).splitlines()[-1])
    assert rows == [
        {
            "call_sid": "CA_A",
            "outcome": "accepted",
            "called_number": "+15125550100",
            "voicemail_at": None,
            "duration_seconds": 61,
            "decision": "accepted",
        },
        {
            "call_sid": "CA_B",
            "outcome": "abandoned",
            "called_number": "+15125550100",
            "voicemail_at": None,
            "duration_seconds": 9,
            "decision": "",
        },
        {
            "call_sid": "CA_C",
            "outcome": "unmatched",
            "called_number": "+15125550999",
            "voicemail_at": None,
            "duration_seconds": 3,
            "decision": "",
        },
    ]
    # A worker that saw the database fail tries it again once its back-off (DB_RETRY_SECONDS,
    # 5 s) has passed, however soon another worker replayed the spool: then every admin page
    # is back, on whichever worker answers.
    deadline = time.monotonic() + 20
    in_a_row = 0
    while in_a_row < 10 and time.monotonic() < deadline:
        in_a_row = in_a_row + 1 if _get(app, "/admin/", session)[0] == 200 else 0
        time.sleep(0.1)
    assert in_a_row == 10
