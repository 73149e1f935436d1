"""A newcomer's commands say only what matters: no warning printed for what is fine."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from pathlib import Path

from django.urls import reverse

ROOT = Path(__file__).resolve().parent.parent


def _manage(*args: str, **env: str) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_URL", "TWILIO"))}
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**clean, "ENV_FILE": "/dev/null", "DEBUG": "true", **env},
        capture_output=True,
        text=True,
        check=False,
    )


def test_a_development_checkout_on_sqlite_prints_no_index_warning():
    done = _manage("check", TWILIO_AUTH_TOKEN="local-token")
    assert done.returncode == 0, done.stderr
    assert "W040" not in done.stdout + done.stderr
    assert "System check identified no issues" in done.stdout


def test_a_missing_twilio_token_is_still_reported():
    done = _manage("check")
    assert "whisper.W001" in done.stdout + done.stderr


def test_a_request_warning_is_logged_once(client, db, caplog):
    # Django's loggers pass on to the root's handler only: one line per warning.
    root_handlers = logging.getLogger().handlers
    assert logging.getLogger("django").handlers == []
    assert logging.getLogger("django").propagate
    assert root_handlers
    with caplog.at_level(logging.WARNING):
        client.get("/no-such-page/")
    assert [r.message for r in caplog.records].count("Not Found: /no-such-page/") == 1


def test_the_favicon_is_served(client, db):
    response = client.get("/favicon.ico")
    assert response.status_code == 301
    assert response["Location"].endswith("tracking/favicon.svg")
    page = client.get(reverse("admin:login")).content.decode()
    assert 'rel="icon"' in page


def test_make_run_writes_a_local_twilio_token_the_simulator_and_the_server_share(tmp_path):
    # The Makefile's own rules, run in a scratch copy: a fresh .env, then an older .env
    # without the token, which gets one; an existing token is never replaced.
    (tmp_path / "Makefile").write_text((ROOT / "Makefile").read_text())

    def make(*targets: str) -> None:
        subprocess.run(
            ["make", "-s", *targets, "PYTHON=" + sys.executable],
            cwd=tmp_path,
            check=True,
            capture_output=True,
        )

    make(".env", "local-twilio-token")
    first = dict(
        line.split("=", 1) for line in (tmp_path / ".env").read_text().splitlines() if line
    )
    assert first["DEBUG"] == "true" and first["TIME_ZONE"] == "America/Chicago"
    assert len(first["TWILIO_AUTH_TOKEN"]) == 32

    make("local-twilio-token")
    again = (tmp_path / ".env").read_text()
    assert again.count("TWILIO_AUTH_TOKEN=") == 1
    assert f"TWILIO_AUTH_TOKEN={first['TWILIO_AUTH_TOKEN']}" in again

    (tmp_path / ".env").write_text("DEBUG=true\nSECRET_KEY=old\n")
    make("local-twilio-token")
    assert "TWILIO_AUTH_TOKEN=" in (tmp_path / ".env").read_text()
