# One command to try streamcore, one to test it. Both set up what they need:
# FFmpeg from apt when missing, a virtual environment, the package.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
SUDO   := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
STAMP  := $(VENV)/.installed
# Azurite (the Azure Blob emulator the tests start) comes from npm into tools/.
TOOLS_STAMP := tools/node_modules/.installed
# The player's and console's browser libraries (pinned in web/package-lock.json),
# copied into the package's static folder: nothing loads from a CDN.
WEB_STAMP := src/streamcore/web/static/vendor/.installed

.PHONY: setup demo test lint serve clean system-deps

# FFmpeg for the media pipeline; espeak-ng speaks the sentences the transcription
# tests and benchmark check against; Node.js runs the JS socket.io-client in the tests;
# headless Chromium plays the HLS output with hls.js. For the operations tests:
# Prometheus (and promtool) scrapes a deployment, docker-compose validates
# deploy/docker-compose.yml, jq runs the README's curl examples. nginx fronts
# streamcore in the X-Accel-Redirect tests and is the serving benchmark's reference,
# driven by wrk. PostgreSQL and Redis: the test session starts throwaway instances of
# both (never the machine's servers).
APT_NEEDS := $(strip $(if $(shell command -v ffmpeg),,ffmpeg) $(if $(shell command -v espeak-ng),,espeak-ng) $(if $(shell command -v node),,nodejs npm) $(if $(wildcard /usr/bin/chromium),,chromium) \
	$(if $(shell command -v promtool),,prometheus) $(if $(shell command -v docker-compose),,docker-compose) $(if $(shell command -v jq),,jq) \
	$(if $(wildcard /usr/sbin/nginx),,nginx) $(if $(shell command -v wrk),,wrk) \
	$(if $(wildcard /usr/lib/postgresql/*/bin/initdb),,postgresql) $(if $(shell command -v redis-server),,redis-server))

system-deps:
	@if [ -n "$(APT_NEEDS)" ]; then \
		echo "Installing from apt: $(APT_NEEDS)"; \
		$(SUDO) apt-get update -qq && $(SUDO) DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(APT_NEEDS); \
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

JS_PEER := tests/signaling/js/node_modules/.package-lock.json
JS_PLAYER := tests/stream/js/node_modules/.package-lock.json

# The official socket.io-client, for the signaling tests.
$(JS_PEER): tests/signaling/js/package-lock.json
	cd tests/signaling/js && npm ci --no-audit --no-fund --silent

# hls.js and playwright-core (driving the system Chromium), for the player test.
$(JS_PLAYER): tests/stream/js/package-lock.json
	cd tests/stream/js && npm ci --no-audit --no-fund --silent

$(TOOLS_STAMP): tools/package.json tools/package-lock.json
	cd tools && npm ci --no-audit --no-fund --loglevel=error
	touch $(TOOLS_STAMP)

$(WEB_STAMP): web/package.json web/package-lock.json web/copy-assets.mjs
	cd web && npm ci --no-audit --no-fund --loglevel=error && node copy-assets.mjs
	touch $(WEB_STAMP)

setup: system-deps $(STAMP) $(JS_PEER) $(JS_PLAYER) $(TOOLS_STAMP) $(WEB_STAMP)

demo: setup
	$(BIN)/streamcore demo

serve: setup
	$(BIN)/streamcore serve

lint: setup
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/mypy
	$(BIN)/lint-imports
	cd web && npx --no-install tsc -p jsconfig.json

test: setup lint
	$(BIN)/pytest

clean:
	rm -rf $(VENV) data .pytest_cache .mypy_cache .ruff_cache tools/node_modules web/node_modules src/streamcore/web/static/vendor
