"""The worker as deployed: `manage.py run_worker` in its own process, against a database file
shared with the app, delivering to a real receiver; and killed in the middle of a send."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from urllib.parse import urlsplit, urlunsplit

import psycopg
import pytest

from tests.support.receiver import Receiver, Reply
from tests.support.servers import ROOT

SETUP = """
from tracking.models import Campaign, TrackingNumber
from integrations.models import Endpoint
from tracking.services import IncomingCall, Target, call_start
campaign = Campaign.objects.create(name="Spring Billboard")
number = TrackingNumber.objects.create(phone_number="+15125550100", campaign=campaign)
endpoint = Endpoint.objects.create(url=URL, events=["call.started"])
call_start(call=IncomingCall(sid="CA100", called="+15125550100", caller="+13125550123"),
           number_id=number.pk, campaign_id=campaign.pk,
           targets=[Target("Front desk", "+15125550199")])
print(endpoint.secret)
"""
DELIVERY = """
import json
from integrations.models import Delivery
print(json.dumps(list(Delivery.objects.values("status", "attempts", "event__event_id"))))
"""
RECOVER = """
from integrations import delivery
print(delivery.recover_stalled())
"""
# The lease a worker took runs out (the clock moved on by a lease).
LEASE_RUNS_OUT = """
from datetime import timedelta
from django.db.models import F
from integrations import delivery
from integrations.models import Delivery
gone = delivery.lease() + timedelta(seconds=1)
print(Delivery.objects.update(lease_until=F("lease_until") - gone))
"""


class Site:
    """The app's environment around a database of its own: a file on SQLite, or (when the suite
    runs on PostgreSQL) a database created for the test on the same server."""

    def __init__(self, folder) -> None:
        self.postgres = os.environ.get("DATABASE_URL", "").startswith("postgres")
        self.database = f"ct_worker_{os.getpid()}_{folder.name[-12:]}".replace("-", "_").lower()
        if self.postgres:
            server = urlsplit(os.environ["DATABASE_URL"])
            url = urlunsplit(server._replace(path=f"/{self.database}"))
            self._admin("CREATE DATABASE {}")
        else:
            url = f"sqlite:///{folder / 'db.sqlite3'}"
        self.env = {
            **os.environ,
            "DATABASE_URL": url,
            "SECRET_KEY": "worker-test",
            "DEBUG": "false",
            "CACHE_URL": f"filecache://{folder / 'cache'}",
            "CALL_SPOOL_DIR": str(folder / "spool"),
            "WEBHOOK_TIMEOUT": "20",
            "ENV_FILE": "/dev/null",
        }
        self.worker: subprocess.Popen | None = None

    def _admin(self, statement: str) -> None:
        with psycopg.connect(
            urlunsplit(urlsplit(os.environ["DATABASE_URL"])._replace(path="/postgres")),
            autocommit=True,
        ) as connection:
            connection.execute(statement.format(self.database))

    def remove(self) -> None:
        if self.postgres:
            self._admin("DROP DATABASE IF EXISTS {} WITH (FORCE)")

    def manage(self, *args: str) -> str:
        result = subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=ROOT,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert result.returncode == 0, result.stderr
        return result.stdout

    def shell(self, code: str) -> str:
        return self.manage("shell", "-c", code).strip().splitlines()[-1]

    def start_worker(self) -> None:
        self.worker = subprocess.Popen(
            [sys.executable, "manage.py", "run_worker", "--interval", "0.2"],
            cwd=ROOT,
            env=self.env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )

    def stop_worker(self, sig: int = signal.SIGTERM) -> None:
        if self.worker and self.worker.poll() is None:
            self.worker.send_signal(sig)
            self.worker.wait(timeout=30)

    def deliveries(self) -> list[dict]:
        return json.loads(self.shell(DELIVERY))


@pytest.fixture
def site(tmp_path):
    site = Site(tmp_path)
    try:
        site.manage("migrate", "--noinput")
        yield site
    finally:
        site.stop_worker(signal.SIGKILL)
        site.remove()


@pytest.fixture
def receiver():
    receiver = Receiver().start()
    yield receiver
    receiver.stop()


def test_the_worker_delivers_a_call_that_started_while_it_was_away(site, receiver):
    receiver.secrets.append(site.shell(f"URL = {receiver.url!r}\n" + SETUP))

    site.start_worker()
    assert receiver.arrived.wait(60), "the worker never delivered"
    site.stop_worker()

    [request] = receiver.received
    assert request.verified_with == receiver.secrets
    assert request.payload["type"] == "call.started"
    assert request.payload["data"]["id"] == "CA100"
    [delivery] = site.deliveries()
    assert (delivery["status"], delivery["attempts"]) == ("delivered", 1)


def test_a_worker_killed_mid_send_leaves_one_repeat_with_the_same_id(site, receiver):
    receiver.replies = [Reply(204, hold=60)]
    receiver.secrets.append(site.shell(f"URL = {receiver.url!r}\n" + SETUP))

    site.start_worker()
    assert receiver.arrived.wait(60), "the worker never sent"
    site.stop_worker(signal.SIGKILL)  # dies while the receiver holds the request
    [held] = site.deliveries()
    assert held["status"] == "sending"

    receiver.arrived.clear()
    site.start_worker()  # a new worker leaves it alone: another may still be sending
    assert site.shell(RECOVER) == "0"
    site.shell(LEASE_RUNS_OUT)
    assert site.shell(RECOVER) == "1"
    assert receiver.arrived.wait(60), "the recovered delivery was never sent"
    site.stop_worker()

    assert [r.id for r in receiver.received] == [held["event__event_id"]] * 2
    [delivery] = site.deliveries()
    assert (delivery["status"], delivery["attempts"]) == ("delivered", 2)
