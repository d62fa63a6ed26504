# SOFI — `make run` serves the app with demo data; `make test` runs every test on SQLite and PostgreSQL.
VENV    := .venv
BIN     := $(VENV)/bin
STAMP   := $(VENV)/.installed-$(shell cat requirements.txt requirements-dev.txt | md5sum | cut -c1-12)
PYTHON  ?= python3
FLASK   := $(BIN)/flask --app app
WORKERS ?= 2

.PHONY: run test lint bench setup postgres clean browser audit

$(STAMP): requirements.txt requirements-dev.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	rm -f $(VENV)/.installed-* && touch $@

setup: $(STAMP)
	$(FLASK) db upgrade
	$(FLASK) sofi setup

run: setup
	$(FLASK) run --host 127.0.0.1 --port 5000

postgres:
	scripts/ensure-postgres

# Debian's headless Chromium for the accessibility test (axe-core is vendored in tests/vendor); idempotent.
browser:
	test -x /usr/bin/chromium || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# Known vulnerabilities of the pinned dependencies (PyPI advisories): fails when one is found; a
# package the advisory service cannot be asked about is listed as "could not be audited".
audit: $(STAMP)
	$(BIN)/pip-audit -r requirements.txt -r requirements-dev.txt --no-deps --disable-pip --progress-spinner off

test: $(STAMP) postgres lint audit browser
	$(BIN)/pytest -n $(WORKERS) -q

# Benchmarks (not part of `make test`): builds a data set of SESSIONS sessions on DB, prints one JSON line per scenario.
DB       ?= sqlite
SESSIONS ?= 100000
bench: $(STAMP) postgres
	@$(BIN)/python -m pip install --quiet --disable-pip-version-check -r bench/requirements.txt
	@command -v wrk >/dev/null || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk)
	@$(BIN)/python bench/run.py --db $(DB) --sessions $(SESSIONS) $(BENCH_ARGS)

clean:
	rm -rf $(VENV) instance .pytest_cache
