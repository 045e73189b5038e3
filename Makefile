# Ticketwerk: `make run` serves the app, `make test` runs every test. See README.md.

PORT ?= 5000
# Three test processes on two cores: many tests wait on subprocesses, sockets or Chromium, and a third process
# fills those waits.
TEST_JOBS ?= 3
BROWSER_TEST_JOBS ?= 3
export PORT

VENV   := .venv
PYTHON := $(VENV)/bin/python
FLASK  := $(VENV)/bin/flask --app wsgi
STAMP  := $(VENV)/.requirements-stamp

# apt-get needs root; use sudo only where we are not root and sudo exists.
SUDO := $(shell [ "$$(id -u)" -ne 0 ] && command -v sudo >/dev/null 2>&1 && echo sudo)

.PHONY: run demo test bench lint venv translations database chromium

run: venv translations database
	exec $(PYTHON) wsgi.py

# The bulk tickets come with their search documents and report data: no rebuild afterwards.
demo: venv translations database
	$(FLASK) demo $(if $(TICKETS),--tickets $(TICKETS))

# Unit, route and service tests on three processes; then the browser tests, three at a time (each has its own
# server, database and browser context).
test: venv translations chromium
	$(PYTHON) -m pytest -n $(TEST_JOBS) --ignore=tests/browser $(PYTEST_ARGS)
	$(PYTHON) -m pytest -n $(BROWSER_TEST_JOBS) tests/browser $(PYTEST_ARGS)

# `make bench SCALE=1000000` measures every data-dependent figure at that size too, next to 100,000.
bench: venv translations
	$(PYTHON) benchmarks/run_all.py $(if $(SCALE),--scale $(SCALE))

lint: venv
	$(VENV)/bin/ruff check app tests

# --- internal steps ---------------------------------------------------------

venv: $(STAMP)

$(PYTHON):
	python3 -m venv $(VENV)

# Reinstall only when requirements.txt changed since the last install.
$(STAMP): requirements.txt | $(PYTHON)
	$(PYTHON) -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(PYTHON) -m pip install --quiet --disable-pip-version-check -r requirements.txt
	touch $@

# Compiled catalogs (.mo) are build output, not committed.
translations: venv
	@if [ -d app/translations ]; then $(VENV)/bin/pybabel compile -d app/translations -f >/dev/null; fi

# A random SECRET_KEY in instance/config.py on first start, then the schema at the newest migration, and the
# report data of an installation that has tickets but none yet (the report tables arrive empty).
database: venv
	$(PYTHON) -m app.bootstrap
	$(FLASK) db upgrade
	$(FLASK) reports rebuild --if-empty

# Browser tests drive Debian's Chromium.
chromium:
	@if [ ! -x /usr/bin/chromium ]; then \
		export DEBIAN_FRONTEND=noninteractive; \
		$(SUDO) apt-get install -y chromium || { $(SUDO) apt-get update && $(SUDO) apt-get install -y chromium; }; \
	fi
