# Two commands for a new user: `make run` and `make test`. Everything they need is installed here.
SHELL := /bin/bash
PYTHON ?= $(shell for p in python3.13 python3.12 python3.11 python3; do \
	command -v $$p >/dev/null && $$p -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null \
	&& { echo $$p; break; }; done)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: run test lint install node tools bench soak clean lock wheelhouses artifact fuzz

$(STAMP): pyproject.toml
	@test -n "$(PYTHON)" || { echo "wsgate needs Python 3.11 or newer on PATH"; exit 1; }
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade 'pip<26.3'  # chalice 1.34 requires pip<26.3
	$(BIN)/python -m pip install -q -e '.[dev]'
	@touch $(STAMP)

install: $(STAMP)

# wscat (the tutorial's client) for the CLI-client tests; skipped with a message without npm.
node:
	@if command -v npm >/dev/null; then \
		test -x node_modules/.bin/wscat || npm install --no-audit --no-fund --silent; \
	else echo "npm not found: the wscat tests will be skipped (install Node.js to run them)"; fi

# checkov (infra's security checks) pins an older botocore than aiobotocore needs, so it lives
# in its own virtualenv; without it the checkov test is skipped with the reason.
CHECKOV := .tools/checkov/bin/checkov
$(CHECKOV):
	@$(PYTHON) -m venv .tools/checkov && .tools/checkov/bin/python -m pip install -q 'checkov==3.3.30' \
		|| { rm -rf .tools/checkov; echo "could not install checkov: the checkov test will be skipped"; }

tools: $(CHECKOV)

# The service's locked dependencies (pip's resolver for the instance's Python and platform).
lock: install
	$(BIN)/python -c 'from wsgate.artifact.lock import main; main()'

# The locked wheels for this machine and for x86_64 instances, so the artifact and boot
# rehearsal tests build artifacts offline (pip --no-index); only this step needs PyPI.
WHEELHOUSES := build/wheelhouse/.stamp
$(WHEELHOUSES): ec2_service/deploy/service.lock $(STAMP)
	$(BIN)/python -m wsgate.artifact.prefetch build/wheelhouse
	@touch $@

wheelhouses: $(WHEELHOUSES)

# The service artifact for the fleet (ARCH=x86_64|arm64), in dist/.
ARCH ?= x86_64
artifact: install
	$(BIN)/wsgate build --architecture $(ARCH) -o dist

run: install
	$(BIN)/wsgate local --reload $(ARGS)

test: install node tools wheelhouses
	$(BIN)/python -m pytest -rs

# The hostile-input fuzz at 100,000 seeded frames (make test runs 10,000); FUZZ_SEED changes
# the inputs, FUZZ_FRAMES the count.
FUZZ_FRAMES ?= 100000
fuzz: install
	FUZZ_FRAMES=$(FUZZ_FRAMES) $(BIN)/python -m pytest -rs -s \
		tests/gateway/test_hostile_input.py::test_fuzz_frames_never_break_the_gateway

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy shared ec2_service chalice_app infra wsgate

bench: install
	$(BIN)/wsgate bench --capacity --check

# 1,000 clients chat through `wsgate local` for 5 minutes, then the service is killed, the store
# is killed and the service is paused 35 s (docs/reliability.md). Not part of `make test`, which
# runs a 20-client version. SOAK_ARGS overrides, e.g. SOAK_ARGS='--clients 200 --duration-s 60'.
SOAK_ARGS ?=
soak: install
	@mkdir -p .wsgate
	$(BIN)/python -m wsgate.bench.soak --out .wsgate/soak.json $(SOAK_ARGS)

clean:
	rm -rf $(VENV) .tools node_modules build dist .pytest_cache .mypy_cache .ruff_cache .hypothesis
