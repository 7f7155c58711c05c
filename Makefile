# energydash: `make run` starts the console with the sandbox on SQLite; `make test` runs every test.
.DEFAULT_GOAL := help
PYTHON := $(shell scripts/find-python)
VENV := .venv
# requirements.txt: what the console needs to run (production installs only this, `make venv-runtime`);
# requirements-dev.txt: that plus the test, lint and tooling packages (`make venv`, and every target
# below). A change to either file reinstalls.
REQS_SUM := $(shell cat requirements.txt requirements-dev.txt pyproject.toml | cksum | cut -d' ' -f1)
STAMP := $(VENV)/.installed-dev-$(REQS_SUM)
RUNTIME_STAMP := $(VENV)/.installed-runtime-$(REQS_SUM)
PY := $(VENV)/bin/python
PYTEST_ARGS ?=

.PHONY: help venv venv-runtime run test test-unit test-browser lint smoke fuzz soak soak-watch bench messages

help:
	@echo "make run   set up and start the console with the provider sandbox (http://127.0.0.1:8000)"
	@echo "make test  set up and run the whole test suite (DATABASE_URL=postgres://... for PostgreSQL)"
	@echo "make venv  .venv with the runtime and development requirements (make venv-runtime: runtime only, production)"
	@echo "make lint  ruff and the import contract (import-linter)"
	@echo "make soak  chaos soak: SOAK_ORDERS orders (default 2000) under sandbox faults, PostgreSQL + Redis"
	@echo "make fuzz  only the fuzz tests"
	@echo "make bench scale benchmark: BENCH_ORDERS orders (default 1,000,000) vs 10,000, PostgreSQL"
	@echo "make messages  extract the console's strings into locale/*/django.po and compile the .mo files"

$(STAMP): requirements.txt requirements-dev.txt pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -qq --disable-pip-version-check -r requirements-dev.txt
	@rm -f $(VENV)/.installed-*
	@touch $@

# The runtime packages only (a production server: README "Production").
$(RUNTIME_STAMP): requirements.txt requirements-dev.txt pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -qq --disable-pip-version-check -r requirements.txt
	@rm -f $(VENV)/.installed-*
	@touch $@

venv: $(STAMP)

venv-runtime: $(RUNTIME_STAMP)

run: venv
	scripts/run

# Chromium, promtool and gettext first, so a machine that lacks them stops before anything runs
# (or gets them installed).
test:
	@scripts/ensure-chromium
	@scripts/ensure-promtool
	@scripts/ensure-gettext
	@$(MAKE) --no-print-directory lint test-unit test-browser

# The unit and view tests run in TEST_WORKERS processes (pytest-xdist; "auto": one per core),
# each with its own test database; TEST_WORKERS=0 runs them in this process.
TEST_WORKERS ?= auto
test-unit: venv
	$(PY) -m pytest -n $(TEST_WORKERS) --ignore=tests/browser $(PYTEST_ARGS)

test-browser: venv
	$(PY) -m pytest tests/browser $(PYTEST_ARGS)

# Deployment smoke test: gunicorn + two qcluster on PostgreSQL and Redis (both must be running).
smoke: venv
	$(PY) scripts/smoke

# The chaos soak (scripts/soak.py): needs PostgreSQL and Redis on 127.0.0.1 (as .ci/run starts them).
SOAK_ORDERS ?= 2000
soak: venv
	SOAK_ORDERS=$(SOAK_ORDERS) $(PY) scripts/soak.py

# Watch rules under simulated consumption (scripts/soak_watch.py, README "Watch rules"): a simulated
# day on a time_machine clock, in one process; PostgreSQL on 127.0.0.1. Long at 1,000 addresses.
soak-watch: venv
	$(PY) scripts/soak_watch.py

# Only the fuzz tests; HYPOTHESIS_PROFILE=explore FUZZ_SCALE=10 make fuzz for a longer random run.
fuzz: venv
	$(PY) -m pytest tests/fuzz $(PYTEST_ARGS)

# Scale benchmark (scripts/bench.py, docs/benchmarks.md): PostgreSQL on 127.0.0.1; seeds two
# databases (BENCH_SMALL and BENCH_ORDERS orders) and prints ratios measured side by side.
BENCH_ORDERS ?= 1000000
bench: venv
	BENCH_ORDERS=$(BENCH_ORDERS) $(PY) scripts/bench.py && $(PY) scripts/bench_paths.py \
		&& $(PY) scripts/bench_poller.py && $(PY) scripts/soak_watch.py

# ruff, then the import contract (pyproject.toml, [tool.importlinter]): the layers of README's Layout.
lint: venv
	$(VENV)/bin/ruff check energydash tests
	$(VENV)/bin/ruff format --check energydash tests
	$(VENV)/bin/lint-imports --no-cache

# Translations (README "Languages"): extract every marked string into locale/<language>/django.po
# (GNU gettext's xgettext), translate the new entries, then compile the .mo files (committed).
messages: venv
	@scripts/ensure-gettext
	$(PY) scripts/messages.py --compile
