# Genonaut: the app's database layer and the test-seed tooling. `make help` lists the targets.

PYTHON ?= python3
VENV := env/python_venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
SCALE ?= 0.01
DATASETS_DIR ?= ../shared/datasets
ARGS ?=
EXPORT_ARGS ?=
IMPORT_ARGS ?=
SEED := genonaut.db.demo.seed_data_gen

.DEFAULT_GOAL := help
.PHONY: help install test test-datasets test-mariadb lint format demo init-demo init-test \
	generate-demo-data bench export-demo-seed import-demo-seed-to-test \
	refresh-test-seed-from-demo check-demo-seed clean reset-test-db

help: ## List the targets
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z_-]+:.*## / {printf "  %-30s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev,bench]'
	touch $@

install: $(STAMP) ## Create env/python_venv and install the project with its dev tools

test: $(STAMP) ## Run the tests (a real PostgreSQL: GENONAUT_TEST_DATABASE_URL, or an embedded one)
	@echo "==> unit and database tests (test/, not test/datasets or test/mariadb) on $(if $(GENONAUT_TEST_DATABASE_URL),GENONAUT_TEST_DATABASE_URL,an embedded PostgreSQL); the slowest are listed at the end"
	$(PY) -m pytest test --ignore=test/datasets --ignore=test/mariadb --durations=10 $(ARGS)

test-datasets: $(STAMP) ## Run the tests on the public sample databases in DATASETS_DIR, and the larger damage and kill runs
	@test -f $(DATASETS_DIR)/load.sh || { echo "Error: no sample databases in DATASETS_DIR=$(DATASETS_DIR) (it holds no load.sh)" >&2; echo "Hint: name the directory that holds them: make test-datasets DATASETS_DIR=/path/to/datasets (load.sh and a folder per database: pagila, chinook, northwind, hr, adventureworks_schema, musicbrainz_schema; docs/testing.md says where they come from)" >&2; exit 2; }
	@echo "==> the tools on the sample databases in $(DATASETS_DIR), and the larger damage and kill runs"
	DATASETS_DIR=$(DATASETS_DIR) GENONAUT_DAMAGE_CASES=3000 GENONAUT_KILL_CASES=40 $(PY) -m pytest test/datasets test/damage --durations=10

test-mariadb: $(STAMP) ## Run the MariaDB engine's tests (GENONAUT_MARIADB_URL, default mysql://root@127.0.0.1:3306/)
	DATASETS_DIR=$(DATASETS_DIR) $(PY) -m pytest test/mariadb

lint: $(STAMP) ## ruff, mypy --strict and the import layering contract
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy --strict genonaut bench test
	$(VENV)/bin/lint-imports

format: $(STAMP) ## Format the code with ruff
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

demo: $(STAMP) ## The whole workflow on an embedded PostgreSQL (or DATABASE_URL_DEMO/_TEST)
	$(PY) -m genonaut.db.demo.run_demo --scale $(SCALE) $(ARGS)

init-demo: $(STAMP) ## Create the demo database and its schema if missing
	$(PY) -m genonaut.db.init_db --env-target demo

init-test: $(STAMP) ## Create the test database and its schema if missing
	$(PY) -m genonaut.db.init_db --env-target test

generate-demo-data: $(STAMP) ## Fill the demo database with demo data (SCALE=0.01; 1.0 is full size)
	$(PY) -m $(SEED) --env-target demo --scale $(SCALE) $(ARGS)

bench: $(STAMP) ## Benchmark export and import at scales 0.1, 0.3 and 1.0, the pytest plugin, and the sample databases on each engine (bench/results/)
	$(PY) bench/run_bench.py $(ARGS)
	$(PY) bench/plugin_bench.py
	DATASETS_DIR=$(DATASETS_DIR) $(PY) bench/engines_bench.py

export-demo-seed: $(STAMP) ## Export the demo database's seed into test/db/input/rdbms_init_from_demo/
	$(PY) -m $(SEED).export_seed_from_demo $(ARGS)

import-demo-seed-to-test: $(STAMP) ## Load test/db/input/rdbms_init_from_demo/ into the test database
	$(PY) -m $(SEED).import_seed_to_test $(ARGS)

reset-test-db: $(STAMP) ## Put the test database back to exactly the committed seed (ARGS=--cascade)
	$(PY) -m $(SEED).import_seed_to_test --reset $(ARGS)

refresh-test-seed-from-demo: $(STAMP) ## Export the seed, then import it (EXPORT_ARGS, IMPORT_ARGS)
	$(PY) -m $(SEED).export_seed_from_demo $(EXPORT_ARGS)
	$(PY) -m $(SEED).import_seed_to_test $(IMPORT_ARGS)

check-demo-seed: $(STAMP) ## Fail when the committed fixtures no longer match the demo schema
	@$(PY) -m $(SEED).export_seed_from_demo --check $(ARGS) || { code=$$?; echo "check-demo-seed: exit $$code ($$( [ $$code = 1 ] && echo stale fixtures || echo error)); make reports 2 either way, CI should run: $(PY) -m $(SEED).export_seed_from_demo --check" >&2; exit $$code; }

clean: ## Remove caches, build output and embedded server data (keeps the venv)
	rm -rf build .pytest_cache .mypy_cache .ruff_cache .hypothesis .pgdata
	find . -name __pycache__ -type d -prune -not -path './env/*' -exec rm -rf {} +
