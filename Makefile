# One command to try streamcore, one to test it. Both set up what they need:
# FFmpeg from apt when missing, a virtual environment, the package.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
SUDO   := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
STAMP  := $(VENV)/.installed
# Azurite (the Azure Blob emulator the tests start) comes from npm into tools/.
TOOLS_STAMP := tools/node_modules/.installed

.PHONY: setup demo test lint serve clean system-deps

system-deps:
	@if ! command -v ffmpeg >/dev/null || ! command -v ffprobe >/dev/null; then \
		echo "Installing FFmpeg from apt"; \
		$(SUDO) apt-get update -qq && $(SUDO) DEBIAN_FRONTEND=noninteractive apt-get install -y -qq ffmpeg; \
	fi
	@if ! command -v npm >/dev/null; then \
		echo "Installing Node.js and npm from apt"; \
		$(SUDO) apt-get update -qq && $(SUDO) DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs npm; \
	fi

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev]'
	touch $(STAMP)

$(TOOLS_STAMP): tools/package.json tools/package-lock.json
	cd tools && npm ci --no-audit --no-fund --loglevel=error
	touch $(TOOLS_STAMP)

setup: system-deps $(STAMP) $(TOOLS_STAMP)

demo: setup
	$(BIN)/streamcore demo

serve: setup
	$(BIN)/streamcore serve

lint: setup
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/mypy

test: setup lint
	$(BIN)/pytest

clean:
	rm -rf $(VENV) data .pytest_cache .mypy_cache .ruff_cache tools/node_modules
