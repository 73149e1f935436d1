# The two commands of the README: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test lint bench venv dev-venv

$(VENV)/.runtime: requirements.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.txt
	touch $@

$(VENV)/.dev: requirements.txt requirements-dev.txt $(VENV)/.runtime
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $@

venv: $(VENV)/.runtime
dev-venv: $(VENV)/.dev

# Local settings for `make run` and manage.py commands: development mode, a generated secret.
.env:
	@printf 'DEBUG=true\nSECRET_KEY=%s\n' "$$($(PYTHON) -c 'import secrets; print(secrets.token_urlsafe(50))')" > $@
	@echo "Wrote .env for local development (DEBUG=true and a generated SECRET_KEY)."

# Local development server on SQLite, with demo data on first start, and the background
# worker beside it (it stops with the server).
run: venv .env
	DEBUG=$${DEBUG:-true} $(PY) manage.py migrate --noinput
	DEBUG=$${DEBUG:-true} $(PY) manage.py seed_demo --if-empty
	DEBUG=$${DEBUG:-true} $(PY) manage.py ensure_admin --url http://$(HOST):$(PORT)/admin/
	DEBUG=$${DEBUG:-true} $(PY) manage.py run_worker & worker=$$!; \
	trap 'kill $$worker 2>/dev/null; wait $$worker' EXIT INT TERM; \
	DEBUG=$${DEBUG:-true} $(PY) manage.py runserver $(HOST):$(PORT)

# The whole suite; DATABASE_URL=postgres://… runs it on PostgreSQL.
test: dev-venv
	SECRET_KEY=$${SECRET_KEY:-tests-only-not-secret} $(PY) -m pytest $(PYTEST_ARGS)

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
	$(PY) -m bench.dni
	$(PY) -m bench.accuracy
