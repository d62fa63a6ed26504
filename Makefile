# SOFI — `make run` serves the app with demo data; `make test` runs every test on SQLite and PostgreSQL.
VENV    := .venv
BIN     := $(VENV)/bin
STAMP   := $(VENV)/.installed-$(shell cat requirements.txt requirements-dev.txt | md5sum | cut -c1-12)
PYTHON  ?= python3
FLASK   := $(BIN)/flask --app app
WORKERS ?= 2

.PHONY: run test lint bench setup postgres clean

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

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

test: $(STAMP) postgres lint
	$(BIN)/pytest -n $(WORKERS) -q

clean:
	rm -rf $(VENV) instance .pytest_cache
