# factory-floor — the README's two commands (`make plan`, `make test`) create their environment on first use.
PYTHON ?= python3
STACK ?= dev
VENV := .venv
BIN := $(VENV)/bin
CHECKOV_VENV := .venv-checkov

.PHONY: plan plan-all test lint typecheck unit bench docs clean

$(BIN)/.installed: requirements.txt requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements.txt -r requirements-dev.txt
	touch $@

$(CHECKOV_VENV)/.installed: requirements-checkov.txt
	$(PYTHON) -m venv $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/python -m pip install --quiet --disable-pip-version-check -r requirements-checkov.txt
	touch $@

## Offline plan of one stack (exit 0 clean, 1 mandatory violation, 2 config error)
plan: $(BIN)/.installed
	$(BIN)/python -m offline.plan --stack $(STACK)

plan-all: $(BIN)/.installed
	@for s in $$(ls stacks | sed -n 's/^Pulumi\.\(.*\)\.yaml$$/\1/p'); do $(BIN)/python -m offline.plan --stack $$s > /dev/null || exit $$?; echo "planned $$s"; done

lint: $(BIN)/.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(BIN)/.installed
	$(BIN)/mypy

## Everything CI runs: lint, types, unit/component/policy tests, stack sweep, outside judges
test: $(BIN)/.installed $(CHECKOV_VENV)/.installed lint typecheck
	CHECKOV=$(CURDIR)/$(CHECKOV_VENV)/bin/checkov $(BIN)/python -m pytest

bench: $(BIN)/.installed
	$(BIN)/python -m offline.bench

docs: $(BIN)/.installed
	$(BIN)/python -m offline.config_reference > docs/configuration.md
	$(BIN)/python -m offline.policy_catalogue > docs/policies.md

clean:
	rm -rf build .pytest_cache .mypy_cache .ruff_cache
