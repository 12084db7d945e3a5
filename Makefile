# authgate: `make run` starts the service on SQLite; `make test` installs and runs the tests.
# Installs come from uv.lock (the tested set of every dependency), through uv, which `make`
# fetches into .cache/uv on first use. After editing pyproject's dependencies: `make lock`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
UV_VERSION := 0.13.9
UV := .cache/uv/bin/uv
# uv creates and fills .venv with this interpreter; --locked fails when uv.lock is stale.
SYNC := UV_PROJECT_ENVIRONMENT=$(VENV) $(UV) sync --locked --python $(PYTHON) --quiet
RUN_STAMP := $(VENV)/.installed-run
TEST_STAMP := $(VENV)/.installed-test

.PHONY: help install run migrate test lint typecheck fmt bench docs swagger-ui lock upgrade check-bare clean

help: ## Show the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-10s %s\n", $$1, $$2}'

$(UV):
	$(PYTHON) -m venv .cache/uv
	.cache/uv/bin/pip install --quiet uv==$(UV_VERSION)

# Serving: the package and its postgres and redis extras, no test tools. --inexact leaves
# what `make test` installed in place (its stamp stays true).
$(RUN_STAMP): pyproject.toml uv.lock | $(UV)
	$(SYNC) --no-dev --extra postgres --extra redis --inexact
	touch $@

# Testing: every extra and the dev group (pytest, mypy, ruff, ...).
$(TEST_STAMP): pyproject.toml uv.lock | $(UV)
	$(SYNC) --all-extras
	touch $@ $(RUN_STAMP)

install: $(TEST_STAMP) ## Create .venv and install authgate with its test tools (from uv.lock)

run: $(RUN_STAMP) ## Serve on http://127.0.0.1:8000 with ./authgate.sqlite3
	$(BIN)/authgate serve --host 127.0.0.1 --port 8000

migrate: $(RUN_STAMP) ## Create or upgrade the database
	$(BIN)/authgate migrate

# Test modules run in parallel (pytest-xdist), a whole module per worker: module-scoped servers
# start once. Each worker has its own databases (tests/conftest.py). Two: the cores of the
# machine CI runs on (more only thrash the tests that start servers). TEST_WORKERS=0: serially.
# --no-loadscope-reorder: modules are dealt in tests/conftest.py's order (the slow ones first),
# not xdist's by number of tests, which dealt a long module of one test (the fuzzer's) last.
TEST_WORKERS ?= 2

test: $(TEST_STAMP) ## Run the tests (PostgreSQL, Redis too where they answer locally); ARGS=... to pick
	$(BIN)/pytest -n $(TEST_WORKERS) --dist loadfile --no-loadscope-reorder $(ARGS)

lint: $(TEST_STAMP) ## ruff
	$(BIN)/ruff check src tests bench examples
	$(BIN)/ruff format --check src tests bench examples

typecheck: $(TEST_STAMP) ## mypy --strict
	$(BIN)/mypy

fmt: $(TEST_STAMP) ## Format the code
	$(BIN)/ruff format src tests bench examples
	$(BIN)/ruff check --fix src tests bench examples

bench: $(TEST_STAMP) ## Benchmark authgate against the real Djoser stack (needs wrk)
	$(BIN)/python bench/run.py

lock: | $(UV) ## Update uv.lock after a dependency was added or changed in pyproject.toml
	$(UV) lock

upgrade: | $(UV) ## Refresh uv.lock to the newest releases pyproject allows (then: make test)
	$(UV) lock --upgrade

check-bare: | $(UV) ## Install the package bare (no extras, newest releases) in a clean venv; serve SQLite
	.ci/bare-install $(UV)

docs: $(TEST_STAMP) ## Build the documentation site (docs/, MkDocs Material) into site/, offline
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict --site-dir site

swagger-ui: ## Copy the pinned Swagger UI (web/package.json) into src/authgate/static (needs npm)
	scripts/update-swagger-ui.sh

clean: ## Remove the virtualenv and caches
	rm -rf $(VENV) .cache .pytest_cache .mypy_cache .ruff_cache site
