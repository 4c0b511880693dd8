# Hangar: `make run` starts the whole system on embedded defaults; `make test` installs and runs every check.
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
PACKAGES := -e protos/gen/python -e libs/kit -e services/identity -e services/keys \
            -e services/registry -e services/blobstore -e services/gateway -e cli
STAMP := $(VENV)/.installed

.PHONY: install run test lint typecheck protos protos-check buf-lint system-deps bench-deps bench unit contract integration clean

install: $(STAMP)

$(STAMP): Makefile requirements-dev.txt constraints.txt $(wildcard */pyproject.toml */*/pyproject.toml protos/gen/python/pyproject.toml)
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt $(PACKAGES) -r requirements-dev.txt
	touch $(STAMP)

run: install
	$(BIN)/hangar up --data-dir ./data --port 5000

# Debian's registry clients for the end-to-end tests, those missing (CI runs as root; elsewhere sudo is used
# if present).
system-deps:
	@missing=$$(for tool in skopeo podman; do command -v $$tool >/dev/null || echo $$tool; done); \
	[ -z "$$missing" ] || { SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing; }

# The benchmark's side: the reference registry and the load generators (Debian), then the whole run.
bench-deps: system-deps
	@for tool in docker-registry:docker-registry wrk:wrk ab:apache2-utils; do \
	  command -v $${tool%%:*} >/dev/null || MISSING="$$MISSING $${tool##*:}"; done; \
	if [ -n "$$MISSING" ]; then SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$MISSING; fi

BENCH_ARGS ?=
bench: install bench-deps
	$(BIN)/python bench/run_all.py $(BENCH_ARGS)

node_modules/.bin/buf: package.json
	npm install --no-audit --no-fund --silent
	touch $@

buf-lint: node_modules/.bin/buf
	cd protos && ../node_modules/.bin/buf lint

protos: install
	$(BIN)/python scripts/gen_protos.py

protos-check: install
	$(BIN)/python scripts/gen_protos.py --check

lint: install protos-check buf-lint
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

typecheck: install
	$(BIN)/mypy

unit: install
	$(BIN)/pytest -q libs/kit/tests services -m "not postgres"

test: install system-deps lint typecheck
	$(BIN)/pytest

clean:
	rm -rf $(VENV) node_modules
