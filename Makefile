# The two commands: `make demo` and `make test`. Both build .venv on first use.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP_RUN := $(VENV)/.installed-run
STAMP_DEV := $(VENV)/.installed-dev

.PHONY: demo test lint typecheck unit bench clean constraints lambda-zip terraform-docs services

$(PY):
	$(PYTHON) -m venv $(VENV)

# Every install is pinned by constraints.txt, so a run is reproducible.
$(STAMP_RUN): pyproject.toml constraints.txt | $(PY)
	$(PY) -m pip install --quiet -c constraints.txt -e .
	touch $@

$(STAMP_DEV): pyproject.toml constraints.txt | $(PY)
	$(PY) -m pip install --quiet -c constraints.txt -e '.[dev]'
	touch $@ $(STAMP_RUN)

## demo: install, then walk a key through its whole life against the local Box emulator
demo: $(STAMP_RUN)
	$(PY) -m box_secrets._demo

## test: install with the dev extra, then ruff, mypy and the whole pytest suite
test: $(STAMP_DEV) lint typecheck unit

lint: $(STAMP_DEV)
	$(VENV)/bin/ruff check box_secrets tests bench
	$(VENV)/bin/ruff format --check box_secrets tests bench

typecheck: $(STAMP_DEV)
	$(VENV)/bin/mypy

# The token cache tests run a real redis-server (Debian's package). Installed here when
# missing and we may (root with apt-get, as on CI); otherwise those tests are skipped
# with the reason shown.
services:
	@command -v redis-server >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "installing redis-server (Debian's package) for the token cache tests"; \
	    { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
	        --no-install-recommends redis-server >/dev/null; } \
	      || echo "could not install redis-server: the Redis tests will be skipped"; \
	  else \
	    echo "redis-server is not installed (apt-get install redis-server): the Redis tests will be skipped"; \
	  fi; }

unit: $(STAMP_DEV) services
	$(VENV)/bin/pytest -n 2 --dist load -q --durations=15

## bench: the token and store benchmarks against box-sdk-gen (results go in docs/benchmarks.md)
bench: $(STAMP_DEV)
	$(PY) bench/token_bench.py
	$(PY) bench/store_bench.py
	$(PY) bench/lambda_bench.py
	$(PY) bench/terraform_bench.py
	$(PY) bench/signer_bench.py
	$(PY) bench/fleet_bench.py
	$(PY) bench/cli_token_bench.py

## lambda-zip: build dist/box-secrets-lambda.zip for AWS Lambda (ARCH=x86_64|arm64, LAMBDA_PYTHON=3.12)
ARCH          ?= x86_64
LAMBDA_PYTHON ?= 3.12
lambda-zip: $(STAMP_RUN)
	$(PY) -m box_secrets._lambda_zip --out dist/box-secrets-lambda.zip \
	  --python $(LAMBDA_PYTHON) --arch $(ARCH)

## terraform-docs: regenerate the inputs and outputs tables of terraform/modules/*/README.md
terraform-docs: $(STAMP_DEV)
	$(PY) -m tests.terraform_docs

## constraints: re-pin constraints.txt to the newest releases pyproject.toml allows
constraints:
	rm -rf .venv-pin && $(PYTHON) -m venv .venv-pin
	.venv-pin/bin/python -m pip install --quiet -e '.[dev]'
	{ sed -n '1,3p' constraints.txt; .venv-pin/bin/python -m pip freeze --exclude-editable \
	  | grep -v '^box-secrets'; } > constraints.txt.new && mv constraints.txt.new constraints.txt
	rm -rf .venv-pin

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache dist
