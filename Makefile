# Suanli developer entry points. `make run` and `make test` bootstrap .venv themselves.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
PYTEST_ARGS ?=
HOST ?= 127.0.0.1
PORT ?= 8000
PY_DIRS := $(wildcard src tests benchmarks scripts)

.PHONY: install run test test-all lint format bench clean browser-deps web-deps lock report-deps messages

# Installs the versions CI tested: requirements.lock (made by `make lock`) as pip constraints.
$(STAMP): pyproject.toml requirements.lock
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@$(BIN)/python -m pip install -q --disable-pip-version-check --upgrade pip
	@$(BIN)/python -m pip install -q --disable-pip-version-check -c requirements.lock -e '.[dev]'
	@touch $(STAMP)

install: $(STAMP)

# Re-resolve every dependency to its newest allowed version (pyproject ranges) into
# requirements.lock; then `make test` and commit the lock if green. Run monthly (docs/cli.md).
lock:
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python scripts/lock.py

# The demo center (docs/dashboard.md): migrate + seed a SQLite file in the user data dir (once),
# then serve API + dashboard. Re-running reuses the seeded file; DEMO_DB=path picks another.
DEMO_DB ?=
run: install web-deps
	$(BIN)/suanli demo --host $(HOST) --port $(PORT) $(if $(DEMO_DB),--db $(DEMO_DB),)

# htmx and plotly.js for the dashboard and Swagger UI for /docs, from the npm registry into the
# venv (nothing committed, nothing from a CDN).
HTMX_VERSION := 2.0.11
SWAGGER_UI_VERSION := 5.35.0
PLOTLY_JS_VERSION := 4.1.1
WEB_STAMP := $(VENV)/share/suanli-web/.stamp-$(HTMX_VERSION)-$(SWAGGER_UI_VERSION)-$(PLOTLY_JS_VERSION)
web-deps: $(WEB_STAMP)
$(WEB_STAMP): | install
	@if command -v npm >/dev/null; then \
	  SCARF_ANALYTICS=false npm install --silent --no-audit --no-fund --prefix $(VENV)/share/suanli-web \
	    htmx.org@$(HTMX_VERSION) swagger-ui-dist@$(SWAGGER_UI_VERSION) \
	    plotly.js-dist-min@$(PLOTLY_JS_VERSION) && touch $@; \
	else echo "web-deps: npm not found; no charts and forms fall back to full page loads (apt-get install -y npm)"; fi

# Chinese and English (docs/dashboard.md, "Languages"): re-extract every _() / N_() / {% trans %}
# message into the template and merge it into the Chinese catalog; then translate the entries
# left empty in src/suanli/locale/zh/LC_MESSAGES/messages.po (tests/unit/test_i18n.py lists them).
# The .po files are read as they are at run time: nothing to compile.
messages: install
	$(BIN)/pybabel -q extract -F babel.cfg -k N_ --sort-output --no-location --omit-header \
	  -o src/suanli/locale/messages.pot .
	$(BIN)/pybabel -q update -i src/suanli/locale/messages.pot -d src/suanli/locale -D messages \
	  --ignore-obsolete --no-fuzzy-matching -w 100

# Debian's chromium for the browser tests (Playwright drives it; never `playwright install`).
browser-deps:
	@bash scripts/browser-deps.sh

lint: install
	$(BIN)/ruff check $(PY_DIRS)
	$(BIN)/ruff format --check $(PY_DIRS)
	$(BIN)/mypy
	$(BIN)/lint-imports

format: install
	$(BIN)/ruff check --fix $(PY_DIRS)
	$(BIN)/ruff format $(PY_DIRS)

# Essential suites: unit + integration on SQLite and PostgreSQL + dataset subsets. Slow suites
# (marked `slow`) run with `make test-all`.
test: lint web-deps browser-deps report-deps
	$(BIN)/python -m pytest -n 2 -m "not slow" --durations=15 $(PYTEST_ARGS)

test-all: lint web-deps browser-deps report-deps
	$(BIN)/python -m pytest -n 2 $(PYTEST_ARGS)

bench: install
	@for b in benchmarks/bench_*.py; do echo "== $$b"; $(BIN)/python $$b || exit 1; done

clean:
	rm -rf $(VENV) .mypy_cache .pytest_cache .ruff_cache build *.egg-info src/*.egg-info

# Pango for the PDF operating report (weasyprint, the [report] extra).
report-deps:
	@bash scripts/report-deps.sh
