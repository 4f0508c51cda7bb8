# NextStep: the two commands are `make run` and `make test` (see README.md).
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: run test reliability lint format check clean browser-deps fonts translations catalogues

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

# Without BOT_TOKEN this starts the local sandbox (chat page on http://127.0.0.1:8080).
run: $(STAMP) fonts translations
	$(PY) -m bot run --sandbox-without-token

test: $(STAMP) browser-deps translations
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy
	$(PY) -m pytest --cov=bot --cov=handlers --cov=storage

# The gettext catalogues (templates/locale/<lang>/LC_MESSAGES/messages.po) compiled to .mo;
# `make catalogues` extracts the texts again and merges them into every .po (then translate
# the new entries; tests/test_i18n.py fails while any is missing, fuzzy or out of date).
LOCALE_DIR := templates/locale
translations: $(STAMP)
	@$(VENV)/bin/pybabel --quiet compile -d $(LOCALE_DIR) -D messages

catalogues: $(STAMP)
	$(VENV)/bin/pybabel --quiet extract -F $(LOCALE_DIR)/babel.cfg -k N_ --no-location -w 99 \
	  --sort-output --project NextStep --copyright-holder NextStep -o $(LOCALE_DIR)/messages.pot .
	$(VENV)/bin/pybabel --quiet update -i $(LOCALE_DIR)/messages.pot -d $(LOCALE_DIR) -D messages \
	  -w 99 --ignore-obsolete

# Debian packages: the Noto fonts the chart draws Cyrillic, Devanagari and Gujarati names
# with (to run and to test), and Chromium for the browser test. As root (CI) a missing one is
# installed; otherwise the command to run is printed. $(1): "path=package" pairs.
define debian_packages
	@missing=""; for pair in $(1); do \
	  test -e "$${pair%%=*}" || missing="$$missing $${pair#*=}"; done; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "Installing Debian packages:$$missing"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
	      apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	  else \
	    echo "NextStep needs Debian packages: sudo apt-get install$$missing"; \
	    exit 1; \
	  fi; \
	fi
endef
FONTS := /usr/share/fonts/truetype/noto/NotoSansGujarati-Regular.ttf=fonts-noto-core
CHROMIUM := /usr/bin/chromium=chromium

fonts:
	$(call debian_packages,$(FONTS))

browser-deps:
	$(call debian_packages,$(FONTS) $(CHROMIUM))

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
