# The two commands of the README: `make demo` and `make test`. Everything they need is
# installed here, into .venv; nothing depends on what was installed by hand.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# PostgreSQL for the second run of the suite (CI and this machine: trust auth, user postgres).
TEST_POSTGRES_URL ?= postgres://postgres@127.0.0.1:5432/linli
PYTEST_WORKERS ?= 2
# Extra pytest arguments for every run, e.g. `make test PYTEST_ARGS=linli/cases`.
PYTEST_ARGS ?=
# The third run: the whole suite on SQLite with the clock moved (LINLI_TEST_CLOCK, see
# linli/conftest.py) to ten minutes before the end of next year, in Asia/Shanghai: always in
# the future and across a year end, so a test that leans on today's date fails today.
TEST_CLOCK ?= $(shell echo $$(( $$(date +%Y) + 1 )))-12-31T23:50:00+08:00
# Records each run and prints the final summary (var/test-runs/).
SUITE := $(BIN)/python .ci/suite.py

.PHONY: demo test install install-test chromium lint test-sqlite test-postgres test-shifted bench serve messages clean

# pip's and setuptools' chatter (the editable-install banner with its "!!", notes about package
# indexes) reads like an error to a newcomer: each step's output goes to var/install.log and is
# shown only if the step fails. var/ is made private to its owner (`linli check --deploy`).
INSTALL_LOG := var/install.log
QUIETLY = mkdir -p -m 700 var && { $(1) ; } >$(INSTALL_LOG) 2>&1 || { cat $(INSTALL_LOG); echo "*** Install failed; the log above is in $(INSTALL_LOG) ***"; exit 1; }

$(BIN)/python:
	@echo "Creating the virtual environment in $(VENV) …"
	@$(call QUIETLY,$(PYTHON) -m venv $(VENV) && $(BIN)/pip install --upgrade pip)

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	@echo "Installing Linli and its dependencies (log: $(INSTALL_LOG)) …"
	@$(call QUIETLY,$(BIN)/pip install -e .)
	@touch $@

$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	@echo "Installing Linli with its test tools (log: $(INSTALL_LOG)) …"
	@$(call QUIETLY,$(BIN)/pip install -e '.[test]')
	@touch $@ $(VENV)/.installed

install: $(VENV)/.installed
install-test: $(VENV)/.installed-test

# `linli demo` migrates the embedded database itself, generates, prints the logins and serves.
# Staff log in with their password alone here, so that anyone can look around in a minute;
# production asks them for an authenticator code too. `make demo LINLI_STAFF_TWO_FACTOR=1`
# shows that.
LINLI_STAFF_TWO_FACTOR ?= 0
demo: install
	LINLI_STAFF_TWO_FACTOR=$(LINLI_STAFF_TWO_FACTOR) $(BIN)/linli demo

serve: install
	$(BIN)/linli serve

# Debian's Chromium for the browser tests; Playwright never downloads a browser of its own.
chromium:
	@test -x /usr/bin/chromium || (apt-get update -qq && apt-get install -y -qq chromium >/dev/null)

# Style, formatting, migrations, the layering contract of docs/architecture.md (import-linter,
# [tool.importlinter] in pyproject.toml) and the types of the kernel, services and selectors
# (mypy with django-stubs, [tool.mypy]).
lint: install-test
	$(BIN)/ruff check linli bench .ci
	$(BIN)/ruff format --check linli bench .ci
	$(BIN)/linli makemigrations --check --dry-run
	$(BIN)/lint-imports
	$(BIN)/mypy

# Lint, then the suite on SQLite, on PostgreSQL and on SQLite with the clock moved: every run
# runs even when one before it failed, and the summary at the end fails `make test` if any did.
test: install-test chromium
	@$(SUITE) reset
	@$(SUITE) run lint -- $(MAKE) --no-print-directory lint || true
	@$(MAKE) --no-print-directory test-sqlite || true
	@$(MAKE) --no-print-directory test-postgres || true
	@$(MAKE) --no-print-directory test-shifted || true
	@$(SUITE) summary

test-sqlite: install-test
	@env -u DATABASE_URL -u LINLI_TEST_CLOCK $(SUITE) run sqlite -- $(BIN)/pytest -n $(PYTEST_WORKERS) $(PYTEST_ARGS)

# PostgreSQL not answering is said loudly and skipped; it fails the run when CI or
# LINLI_REQUIRE_POSTGRES is set (.ci/suite.py).
test-postgres: install-test
	@env -u LINLI_TEST_CLOCK $(SUITE) run postgres --postgres $(TEST_POSTGRES_URL) -- $(BIN)/pytest -n $(PYTEST_WORKERS) $(PYTEST_ARGS)

# Tests that drive real processes (marked slow or faults) are left out: the processes read the
# real clock, so moving the suite's clock proves nothing about them, and they are the slowest.
test-shifted: install-test
	@env -u DATABASE_URL LINLI_TEST_CLOCK=$(TEST_CLOCK) $(SUITE) run shifted -- $(BIN)/pytest -n $(PYTEST_WORKERS) -m "not slow and not faults" $(PYTEST_ARGS)

bench: install-test
	$(BIN)/python bench/run.py

messages: install
	cd linli && ../$(BIN)/linli makemessages -l zh_Hans -l en --no-obsolete && ../$(BIN)/linli compilemessages

clean:
	rm -rf $(VENV) var build *.egg-info
