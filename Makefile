# Two commands for a new user: `make run` and `make test`. Everything they need is installed here.
SHELL := /bin/bash
PYTHON ?= $(shell for p in python3.13 python3.12 python3.11 python3; do \
	command -v $$p >/dev/null && $$p -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null \
	&& { echo $$p; break; }; done)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: run test lint install node tools bench clean

$(STAMP): pyproject.toml
	@test -n "$(PYTHON)" || { echo "wsgate needs Python 3.11 or newer on PATH"; exit 1; }
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
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

run: install
	$(BIN)/wsgate local

test: install node tools
	$(BIN)/python -m pytest -rs

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy shared ec2_service chalice_app infra wsgate

bench: install
	$(BIN)/wsgate bench --capacity --check

clean:
	rm -rf $(VENV) .tools node_modules .pytest_cache .mypy_cache .ruff_cache .hypothesis
