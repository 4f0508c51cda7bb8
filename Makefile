# NextStep: the two commands are `make run` and `make test` (see README.md).
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: run test reliability lint format check clean browser-deps

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

# Without BOT_TOKEN this starts the local sandbox (chat page on http://127.0.0.1:8080).
run: $(STAMP)
	$(PY) -m bot run --sandbox-without-token

test: $(STAMP) browser-deps
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy
	$(PY) -m pytest --cov=bot --cov=handlers --cov=storage

# The browser test drives Debian's Chromium; as root (CI) it is installed when missing.
CHROMIUM := /usr/bin/chromium
browser-deps:
	@test -x $(CHROMIUM) || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "Installing Debian's chromium package for the browser test"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
	      apt-get install -y -qq --no-install-recommends chromium >/dev/null; \
	  else \
	    echo "The browser test needs Debian's chromium package: sudo apt-get install chromium"; \
	    exit 1; \
	  fi; }

# The full-size fault, SIGKILL and fuzz runs (pytest marker `reliability`; make test runs
# reduced versions of each). Takes several minutes.
reliability: $(STAMP)
	$(PY) -m pytest -m reliability -s tests/reliability

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy

format: $(STAMP)
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

check: $(STAMP)
	$(PY) -m bot check

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .mypy_cache .coverage
