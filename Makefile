# The two commands of the README: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test lint bench venv dev-venv local-twilio-token

$(VENV)/.runtime: requirements.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.txt
	touch $@

$(VENV)/.dev: requirements.txt requirements-dev.txt $(VENV)/.runtime
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $@

venv: $(VENV)/.runtime
dev-venv: $(VENV)/.dev

# Local settings for `make run` and manage.py commands: development mode, a generated secret,
# a local Twilio auth token (the server and `simulate_call --url` sign with the same one) and
# the demo business's time zone.
.env:
	@printf 'DEBUG=true\nSECRET_KEY=%s\nTIME_ZONE=America/Chicago\n' "$$($(PYTHON) -c 'import secrets; print(secrets.token_urlsafe(50))')" > $@
	@echo "Wrote .env for local development (DEBUG=true, a generated SECRET_KEY, TIME_ZONE)."

# A checkout whose .env predates the local token gets one too; a real token is never replaced.
local-twilio-token: .env
	@grep -q '^TWILIO_AUTH_TOKEN=' .env || { printf 'TWILIO_AUTH_TOKEN=%s\n' "$$($(PYTHON) -c 'import secrets; print(secrets.token_hex(16))')" >> .env; echo "Added a local TWILIO_AUTH_TOKEN to .env (replace it with your account's to take real calls)."; }

# Local development server on SQLite, with demo data on first start, and the background
# worker beside it (it stops with the server). System checks run once, with the server; the
# set-up commands and the worker skip them.
run: venv .env local-twilio-token
	DEBUG=$${DEBUG:-true} $(PY) manage.py migrate --noinput --skip-checks
	DEBUG=$${DEBUG:-true} $(PY) manage.py seed_demo --if-empty --skip-checks
	DEBUG=$${DEBUG:-true} $(PY) manage.py ensure_admin --url http://$(HOST):$(PORT)/admin/ --skip-checks
	DEBUG=$${DEBUG:-true} $(PY) manage.py run_worker --skip-checks & worker=$$!; \
	trap 'kill $$worker 2>/dev/null; wait $$worker' EXIT INT TERM; \
	DEBUG=$${DEBUG:-true} $(PY) manage.py runserver $(HOST):$(PORT)

# The whole suite; DATABASE_URL=postgres://… runs it on PostgreSQL.
# A developer's .env (DEBUG, TIME_ZONE…) is not the tests' business: ENV_FILE=/dev/null.
test: dev-venv
	ENV_FILE=$${ENV_FILE:-/dev/null} SECRET_KEY=$${SECRET_KEY:-tests-only-not-secret} $(PY) -m pytest $(PYTEST_ARGS)

lint: dev-venv
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

# Benchmarks (PostgreSQL on 127.0.0.1:5432, Redis on 127.0.0.1:6379); figures go to
# docs/performance.md.
bench: dev-venv
	$(PY) -m bench.load --sweep-workers 1,2,3,4,5
	$(PY) -m bench.profile
	$(PY) -m bench.scale
	$(PY) -m bench.webhooks
	$(PY) -m bench.api
	$(PY) -m bench.dni
	$(PY) -m bench.accuracy
