# newsdesk — two commands: `make demo`, `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
RAY_STAMP := $(VENV)/.ray-installed
DEMO_QUESTION := What did Blinken say about a multinational force?

export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1

.PHONY: demo test test-all bench lint browser redis clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	# The CPU build of torch must come first; a bare `torch` requirement pulls a CUDA build.
	$(BIN)/pip install --quiet torch==2.13.0
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

# Ray is an optional extra for users; the tests of the Ray build run with it.
$(RAY_STAMP): $(STAMP)
	$(BIN)/pip install --quiet -e '.[ray]'
	touch $(RAY_STAMP)

demo: $(STAMP)
	$(BIN)/newsdesk index build --corpus corpus
	$(BIN)/newsdesk ask "$(DEMO_QUESTION)"

# Headless Chromium for the chat-page test, from Debian's packages.
browser:
	@command -v chromium >/dev/null 2>&1 || { \
		echo "Installing Debian's chromium for the browser test"; \
		SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
		$$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq chromium >/dev/null; }

# A real redis-server for the shared-session tests, from Debian's packages.
redis:
	@command -v redis-server >/dev/null 2>&1 || { \
		echo "Installing Debian's redis-server for the shared-session tests"; \
		SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
		$$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq redis-server >/dev/null; }

test: $(STAMP) $(RAY_STAMP) browser redis
	$(BIN)/python -m pytest

test-all: $(STAMP) $(RAY_STAMP) browser redis
	$(BIN)/python -m pytest -m ''

bench: $(STAMP)
	$(BIN)/python bench/index_build.py

lint: $(STAMP)
	$(BIN)/ruff check . && $(BIN)/ruff format --check .

clean:
	rm -rf .newsdesk .pytest_cache
