# koe's two entry points (see README.md):
#   make demo   installs everything into .venv and runs the pipeline on the bundled sample calls
#   make test   installs everything (dev tools, headless Chromium) and runs the whole test suite
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.koe-installed

.PHONY: install demo test lint browser serve

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/koe demo

serve: $(STAMP)
	$(BIN)/koe serve

# Browser tests drive Debian's Chromium (a test tool's own browser download does not work offline),
# with Noto CJK so Japanese pages render (and screenshot) with real glyphs.
browser:
	@if command -v chromium >/dev/null 2>&1 && [ -d /usr/share/fonts/opentype/noto ]; then :; \
	elif [ "$$(id -u)" = 0 ]; then \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-noto-cjk >/dev/null; \
	else echo "!! chromium/fonts-noto-cjk missing and not root: browser tests will be skipped (sudo apt-get install chromium fonts-noto-cjk)"; fi

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/mypy koe cli transcribe textmining insights models flows api

test: $(STAMP) browser lint
	$(BIN)/python -m pytest
