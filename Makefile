# authgate: `make run` starts the service on SQLite; `make test` installs and runs the tests.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: help install run migrate test lint typecheck fmt bench docs swagger-ui clean

help: ## Show the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-10s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[postgres,redis,client]' pytest httpx aiosmtpd mypy ruff \
		pyyaml types-PyYAML types-zxcvbn schemathesis selenium hatchling mkdocs-material
	touch $(STAMP)

install: $(STAMP) ## Create .venv and install authgate with its test tools

run: $(STAMP) ## Serve on http://127.0.0.1:8000 with ./authgate.sqlite3
	$(BIN)/authgate serve --host 127.0.0.1 --port 8000

migrate: $(STAMP) ## Create or upgrade the database
	$(BIN)/authgate migrate

test: $(STAMP) ## Run the tests (SQLite; PostgreSQL too when AUTHGATE_TEST_POSTGRES_URL is set)
	$(BIN)/pytest

lint: $(STAMP) ## ruff
	$(BIN)/ruff check src tests bench examples
	$(BIN)/ruff format --check src tests bench examples

typecheck: $(STAMP) ## mypy --strict
	$(BIN)/mypy

fmt: $(STAMP) ## Format the code
	$(BIN)/ruff format src tests bench examples
	$(BIN)/ruff check --fix src tests bench examples

bench: $(STAMP) ## Benchmark authgate against the real Djoser stack (needs wrk)
	$(BIN)/python bench/run.py

docs: $(STAMP) ## Build the documentation site (docs/, MkDocs Material) into site/, offline
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict --site-dir site

swagger-ui: ## Copy the pinned Swagger UI (web/package.json) into src/authgate/static (needs npm)
	scripts/update-swagger-ui.sh

clean: ## Remove the virtualenv and caches
	rm -rf $(VENV) .cache .pytest_cache .mypy_cache .ruff_cache site
