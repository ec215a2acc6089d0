# factory-floor — the README's two commands (`make plan`, `make test`) create their environment on first use.
PYTHON ?= python3
STACK ?= dev
VENV := .venv
BIN := $(VENV)/bin
CHECKOV_VENV := .venv-checkov
REFS ?= HEAD

# uv: the one on PATH, else the version pinned in pyproject.toml's dev group, bootstrapped with pip into .tools/.
TOOLS := .tools
UV_VERSION := $(shell sed -n 's/^ *"uv==\([^"]*\)",*$$/\1/p' pyproject.toml)
UV ?= $(or $(shell command -v uv 2>/dev/null),$(TOOLS)/bin/uv)

# Bytecode: PYTHONDONTWRITEBYTECODE=1 on developer machines and CI, so Python never caches what it compiles and
# every process recompiles the modules it imports. `uv sync --compile-bytecode` compiles all ~14,700 modules
# (25-40 s here), mostly the cloud SDKs' thousands of lazily imported service modules that a plan never runs.
# Compiling what a plan runs (the Pulumi SDK, the Kubernetes SDK, pydantic, protobuf/grpc and the cloud SDKs'
# top-level modules) costs 2-5 s, halves every plan (2.3 s -> 1.3 s) and saves ~5 s of `make test`; modules left
# out still work (compiled in memory on import). Measured: none, this, and all (offline/setup_timing.py).
PRECOMPILE := pulumi pulumi_kubernetes pydantic google grpc
PRECOMPILE_TOP_LEVEL := pulumi_aws pulumi_azure_native pulumi_gcp

.PHONY: plan plan-all test lint typecheck unit bench bench-config profile bench-setup docs urns requirements clean \
	pin-digests

$(TOOLS)/bin/uv:
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/python -m pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)

# The program's dependencies and the dev group, exactly as uv.lock pins them (what `pulumi install` syncs too).
$(BIN)/.installed: pyproject.toml uv.lock | $(UV)
	UV_PROJECT_ENVIRONMENT=$(VENV) $(UV) sync --quiet --frozen --all-groups --python $(PYTHON)
	site=$$($(BIN)/python -c 'import sysconfig; print(sysconfig.get_path("purelib"))') && \
	  $(BIN)/python -m compileall -q -j 0 $(addprefix $$site/,$(PRECOMPILE)) && \
	  $(BIN)/python -m compileall -q -j 0 -l $(addprefix $$site/,$(PRECOMPILE_TOP_LEVEL)) || \
	  echo "note: some modules were not precompiled; Python compiles them on import (slower, not wrong)"
	touch $@

# checkov keeps its own environment; all of it is compiled: the test run starts checkov four times (~5 s -> ~2.3 s).
$(CHECKOV_VENV)/.installed: requirements-checkov.txt | $(UV)
	$(UV) venv --quiet --clear --python $(PYTHON) $(CHECKOV_VENV)
	$(UV) pip install --quiet --compile-bytecode --python $(CHECKOV_VENV)/bin/python -r requirements-checkov.txt
	touch $@

## Offline plan of one stack (exit 0 clean, 1 mandatory violation, 2 config error)
plan: $(BIN)/.installed
	$(BIN)/python -m offline.plan --stack $(STACK)

## Recovery procedure of one factory (docs/disaster-recovery.md): make recover STACK=rheinfeld SCENARIO=cluster-lost
## RECOVER_FLAGS="--cluster plant [--out FILE]"; exit 2 names the option at fault
.PHONY: recover
recover: $(BIN)/.installed
	$(BIN)/python -m offline.recover --stack $(STACK) $(if $(SCENARIO),--scenario $(SCENARIO)) $(RECOVER_FLAGS)

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

## How long judging a broken stack of 250 to 5000 lines takes (linear, every problem reported)
bench-config: $(BIN)/.installed
	$(BIN)/python -m offline.bench_config

## Where the time of one 100-line plan goes (cProfile, grouped by where the code lives)
profile: $(BIN)/.installed
	$(BIN)/python -m offline.profile

## Fresh clone of each ref in REFS, cold caches: wall seconds of `make plan` and `make test` (build/setup-timing.json)
bench-setup:
	$(PYTHON) -m offline.setup_timing $(addprefix --ref ,$(REFS))

## Ask each registry what every catalogue image's tag points at; exit 1 if a recorded digest differs (needs network)
pin-digests: $(BIN)/.installed
	$(BIN)/python -m offline.pin_digests $(PIN_FLAGS)

docs: $(BIN)/.installed
	$(BIN)/python -m offline.config_reference > docs/configuration.md
	$(BIN)/python -m offline.policy_catalogue > docs/policies.md
	$(BIN)/python -m offline.offline_parity > docs/offline-parity.md

## After a reviewed, aliased move: rewrite the URN snapshots the tests compare every reference stack with
urns: $(BIN)/.installed
	$(BIN)/python -m offline.urns

## After `uv lock` (or editing requirements-checkov.in): regenerate the pip-facing requirements files
requirements: | $(UV)
	{ echo "# The program's dependencies for pip users: python -m pip install -r requirements.txt"; \
	  echo "# (uv users: uv sync). Generated from uv.lock by \`make requirements\`; do not edit."; \
	  $(UV) export --quiet --frozen --no-dev --format requirements-txt; } > requirements.txt
	{ echo "# Program, tests and linters for pip users: python -m pip install -r requirements-dev.txt"; \
	  echo "# (includes everything in requirements.txt; uv users: uv sync). Generated from uv.lock by"; \
	  echo "# \`make requirements\`; do not edit. checkov has its own environment: requirements-checkov.txt."; \
	  $(UV) export --quiet --frozen --all-groups --format requirements-txt; } > requirements-dev.txt
	$(UV) pip compile --quiet --generate-hashes --universal --python-version 3.11 \
	  requirements-checkov.in -o requirements-checkov.txt
	$(UV) pip compile --quiet --generate-hashes --universal --python-version 3.11 \
	  policy/requirements.in -c requirements.txt -o policy/requirements.txt

clean:
	rm -rf build .pytest_cache .mypy_cache .ruff_cache
