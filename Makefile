# CostPlan developer commands. `make run` and `make test` are the README quickstart.
# CPython 3.13, the Lambda runtime's minor version: python3.13 on PATH, else pyenv's 3.13 (tools/find_python.sh).
PYTHON ?= $(shell tools/find_python.sh 2>/dev/null)
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
PORT   ?= 3000
COV    := --cov=costplan.core --cov=costplan.services --cov=costplan.catalog --cov-report=term-missing:skip-covered

.PHONY: help run test unit fuzz lint openapi catalog bench build release-check clean

$(STAMP): requirements.txt requirements-dev.txt layers/engine/pyproject.toml contracts/pyproject.toml client/pyproject.toml tools/find_python.sh
	@test -n "$(PYTHON)" || tools/find_python.sh
	@$(BIN)/python -c 'import sys; sys.exit(sys.version_info[:2] != (3, 13))' 2>/dev/null || { rm -rf $(VENV); $(PYTHON) -m venv $(VENV); }
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -r requirements-dev.txt -e contracts -e layers/engine -e client
	@touch $(STAMP)

run: $(STAMP)  ## serve every template.yaml HttpApi route on http://127.0.0.1:$(PORT)
	$(BIN)/python -m tools.local_api --port $(PORT)

test: $(STAMP)  ## the whole suite (unit + integration), with core coverage
	@bash tools/bootstrap_browser.sh
	$(BIN)/python -m pytest -q tests -m "" $(COV) --cov-fail-under=90

unit: $(STAMP)  ## fast unit tests only
	$(BIN)/python -m pytest -q tests

FUZZ_EXAMPLES ?= 1000
fuzz: $(STAMP)  ## schemathesis, FUZZ_EXAMPLES (default 1000) cases per operation; `make test` runs 300
	FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) $(BIN)/python -m pytest -q -m "" -s tests/e2e/test_fuzz.py

help:  ## list these targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed -E 's/:[^#]*## /\t/' | expand -t 16

lint: $(STAMP)  ## ruff, cfn-lint, sam validate --lint + both auth modes (.venv-sam), checkov (.venv-checkov)
	$(BIN)/ruff check .
	$(BIN)/cfn-lint template.yaml
	bash tools/sam_check.sh
	bash tools/checkov_check.sh

build: $(STAMP)  ## sam build (no container)
	bash tools/sam_check.sh build

openapi: $(STAMP)  ## regenerate contracts/openapi.json (refuses breaking changes)
	$(BIN)/python -m tools.openapi write

catalog: $(STAMP)  ## rebuild the hosted-LLM catalog: genai-prices + LiteLLM's map from its pinned, hash-checked wheel (AS_OF=YYYY-MM-DD)
	$(BIN)/python -m tools.build_catalog $(if $(AS_OF),--as-of $(AS_OF))

bench: $(STAMP)  ## benchmarks (print ratios against peers; not tests); pandas and llm-analysis are benchmark-only dependencies
	$(BIN)/python -m pip install -q -r requirements-bench.txt
	$(BIN)/python -m pip install -q --no-deps -r requirements-bench-nodeps.txt
	$(BIN)/python benchmarks/plan_llm.py
	$(BIN)/python benchmarks/report.py
	$(BIN)/python benchmarks/invoice.py
	$(BIN)/python benchmarks/training.py

release-check: $(STAMP)  ## every RELEASE.md gate (tests, lint, checkov, OpenAPI diff, sam build, benchmarks): PASS/FAIL per line
	bash tools/release_check.sh

clean:
	rm -rf $(VENV) .aws-sam .pytest_cache .coverage
