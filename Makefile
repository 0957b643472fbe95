# Rapport: `make run` sets up and starts everything; `make test` sets up and runs every test.
SHELL := /bin/bash
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: install run test test-sqlite test-postgres lint bench clean

install: $(STAMP)
	@$(BIN)/python tools/compile_messages.py

$(STAMP): pyproject.toml constraints.txt
	@test -x $(BIN)/python || "$$(tools/find-python.sh)" -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -c constraints.txt -e '.[dev]'
	@touch $@

run: install
	$(BIN)/rapport serve

# The whole suite on SQLite, then again on a PostgreSQL server the tests start themselves.
test: install
	$(BIN)/python tools/system_packages.py postgresql chromium dovecot-imapd
	$(MAKE) --no-print-directory test-sqlite test-postgres

test-sqlite:
	RAPPORT_DATA_DIR=var/test-sqlite RAPPORT_DATABASE_URL= $(BIN)/pytest -p no:cacheprovider $(PYTEST_ARGS)

test-postgres:
	RAPPORT_DATA_DIR=var/test-postgres $(BIN)/python tools/with_postgres.py -- $(BIN)/pytest -p no:cacheprovider $(PYTEST_ARGS)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy src/rapport
	RAPPORT_DATA_DIR=var/lint $(BIN)/rapport makemigrations --check --dry-run

# Benchmarks, not tests: each prints JSON with its figure and its ratio to a baseline.
bench: install
	$(BIN)/python bench/import_contacts.py $(IMPORT_BENCH_ARGS)
	$(BIN)/python bench/segments.py $(SEGMENT_BENCH_ARGS)
	$(BIN)/python bench/render.py $(RENDER_BENCH_ARGS)
	$(BIN)/python bench/recommend.py $(RECOMMEND_BENCH_ARGS)
	$(BIN)/python bench/send.py $(SEND_BENCH_ARGS)
	$(BIN)/python bench/track.py $(TRACK_BENCH_ARGS)
	$(BIN)/python bench/report.py $(REPORT_BENCH_ARGS)
	$(BIN)/python bench/mime_build.py
	$(BIN)/python bench/dkim_sign.py
	$(BIN)/python bench/send_hours.py $(SEND_HOURS_BENCH_ARGS)
	$(BIN)/python bench/automation.py $(AUTOMATION_BENCH_ARGS)
	$(BIN)/python bench/suppression_check.py $(SUPPRESSION_BENCH_ARGS)

clean:
	rm -rf $(VENV) var
