# One command to try streamcore, one to test it. Both set up what they need:
# FFmpeg from apt when missing, a virtual environment, the package.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
SUDO   := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
STAMP  := $(VENV)/.installed

.PHONY: setup demo test lint serve clean system-deps

# FFmpeg for the media pipeline; espeak-ng speaks the sentences the transcription
# tests and benchmark check against.
system-deps:
	@if ! command -v ffmpeg >/dev/null || ! command -v ffprobe >/dev/null \
		|| ! command -v espeak-ng >/dev/null; then \
		echo "Installing FFmpeg and espeak-ng from apt"; \
		$(SUDO) apt-get update -qq && $(SUDO) DEBIAN_FRONTEND=noninteractive \
			apt-get install -y -qq ffmpeg espeak-ng; \
	fi

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev]'
	touch $(STAMP)

setup: system-deps $(STAMP)

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
	rm -rf $(VENV) data .pytest_cache .mypy_cache .ruff_cache
