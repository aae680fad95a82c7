# The two commands of the README: `make demo` and `make test`. Everything they need is
# installed here, into .venv; nothing depends on what was installed by hand.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# PostgreSQL for the second run of the suite (CI and this machine: trust auth, user postgres).
TEST_POSTGRES_URL ?= postgres://postgres@127.0.0.1:5432/linli
PYTEST_WORKERS ?= 2

.PHONY: demo test install install-test chromium lint test-sqlite test-postgres bench serve messages clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e '.[test]'
	touch $@ $(VENV)/.installed

install: $(VENV)/.installed
install-test: $(VENV)/.installed-test

# `linli demo` migrates the embedded database itself, generates, prints the logins and serves.
demo: install
	$(BIN)/linli demo

serve: install
	$(BIN)/linli serve

# Debian's Chromium for the browser tests; Playwright never downloads a browser of its own.
chromium:
	@test -x /usr/bin/chromium || (apt-get update -qq && apt-get install -y -qq chromium >/dev/null)

lint: install-test
	$(BIN)/ruff check linli bench
	$(BIN)/ruff format --check linli bench
	$(BIN)/linli makemigrations --check --dry-run

test: install-test chromium lint test-sqlite test-postgres

test-sqlite: install-test
	env -u DATABASE_URL $(BIN)/pytest -n $(PYTEST_WORKERS)

# Runs when PostgreSQL answers; says so loudly when it does not.
test-postgres: install-test
	@if $(BIN)/python -c "import psycopg; psycopg.connect('$(TEST_POSTGRES_URL)'.replace('/linli', '/postgres'), connect_timeout=3).close()" 2>/dev/null; then \
		DATABASE_URL=$(TEST_POSTGRES_URL) $(BIN)/pytest -n $(PYTEST_WORKERS); \
	else \
		echo "*** PostgreSQL at $(TEST_POSTGRES_URL) is not reachable: PostgreSQL run skipped ***"; \
	fi

bench: install-test
	$(BIN)/python bench/run.py

messages: install
	cd linli && ../$(BIN)/linli makemessages -l zh_Hans -l en --no-obsolete && ../$(BIN)/linli compilemessages

clean:
	rm -rf $(VENV) var build *.egg-info
