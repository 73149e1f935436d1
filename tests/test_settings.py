"""Settings that protect a production deployment."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


SHOW_DEBUG = (
    "import django; django.setup(); from django.conf import settings; print(settings.DEBUG)"
)


def _run(code: str, **env: str) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if k not in ("SECRET_KEY", "DEBUG")}
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        # A developer's .env must not decide what production does.
        env={
            **clean,
            "DJANGO_SETTINGS_MODULE": "calltracking.settings",
            "ENV_FILE": "/dev/null",
            **env,
        },
        capture_output=True,
        text=True,
        check=False,
    )


def _start(**env: str) -> subprocess.CompletedProcess:
    return _run(SHOW_DEBUG, **env)


@pytest.mark.parametrize("entry_point", ["calltracking.wsgi", "calltracking.asgi"])
def test_it_refuses_to_serve_without_a_secret_key_in_production(entry_point):
    result = _run(f"import {entry_point}")
    assert result.returncode != 0
    assert "SECRET_KEY is not set" in result.stderr


@pytest.mark.parametrize("entry_point", ["calltracking.wsgi", "calltracking.asgi"])
def test_it_refuses_to_print_callers_e_mails_into_the_log_in_production(entry_point):
    refused = _run(f"import {entry_point}", SECRET_KEY="x" * 50)
    assert refused.returncode != 0
    assert "EMAIL_URL is not set" in refused.stderr

    for email_url in ["smtp+tls://u:p@smtp.example.com:587", "dummymail://"]:
        served = _run(f"import {entry_point}", SECRET_KEY="x" * 50, EMAIL_URL=email_url)
        assert served.returncode == 0, served.stderr
    assert _run(f"import {entry_point}", DEBUG="true").returncode == 0


def test_commands_that_sign_nothing_run_without_a_secret_key():
    checked = _run(
        "from django.core.management import execute_from_command_line as run; "
        "run(['manage.py', 'check'])"
    )
    assert checked.returncode == 0, checked.stderr
    deploy = _run(
        "from django.core.management import execute_from_command_line as run; "
        "run(['manage.py', 'check', '--deploy'])"
    )
    assert "security.W009" in deploy.stderr + deploy.stdout, "the missing key is reported"


def test_debug_is_off_unless_asked_for():
    assert _start(SECRET_KEY="x" * 50).stdout.strip() == "False"
    assert _start(DEBUG="true").stdout.strip() == "True"


DATABASE_OPTIONS = (
    "import django, json; django.setup(); from django.conf import settings; "
    "print(json.dumps(sorted(settings.DATABASES['default']['OPTIONS'])))"
)


def test_postgresql_prepares_statements_unless_a_pooler_cannot_keep_them():
    url = "postgres://calls@db.example.com:5432/calls"

    default = _run(DATABASE_OPTIONS, DATABASE_URL=url)
    pooled = _run(DATABASE_OPTIONS, DATABASE_URL=url, DB_PREPARED_STATEMENTS="false")

    assert {"server_side_binding", "prepare_threshold"} <= set(json.loads(default.stdout))
    assert not {"server_side_binding", "prepare_threshold"} & set(json.loads(pooled.stdout))
