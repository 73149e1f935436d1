"""The documented production settings pass Django's deployment checklist."""

from __future__ import annotations

import os
import runpy
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _production_env() -> dict[str, str]:
    env = {}
    for line in (ROOT / "deploy" / "production.env.example").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            name, _, value = line.partition("=")
            env[name] = value
    env["SECRET_KEY"] = "k7#Qv2@pL9$wX4!mZ8&nR1^tY6*bH3%cJ5(fG0)sD-aE+uI=oP_lK~jM?hN<gB>vC"
    return env


def _check_deploy(env: dict[str, str]) -> subprocess.CompletedProcess:
    base = {k: v for k, v in os.environ.items() if k not in ("DEBUG", "SECRET_KEY")}
    return subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env={**base, "ENV_FILE": "/dev/null", **env},
        capture_output=True,
        text=True,
        check=False,
    )


def test_the_documented_production_settings_pass_check_deploy():
    result = _check_deploy(_production_env())

    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout


def test_check_deploy_fails_without_https():
    result = _check_deploy({**_production_env(), "HTTPS": "false"})

    assert result.returncode != 0
    assert "security.W008" in result.stderr  # SECURE_SSL_REDIRECT


def test_the_documented_gunicorn_kills_a_stuck_worker_before_twilio_gives_up():
    config = runpy.run_path(str(ROOT / "deploy" / "gunicorn.conf.py"))

    # Twilio waits 15 s for a webhook's answer.
    assert config["timeout"] < 15
    command = "gunicorn calltracking.wsgi -c deploy/gunicorn.conf.py"
    assert command in (ROOT / "README.md").read_text()
    assert command in (ROOT / "deploy" / "calltracking-web.service").read_text()
