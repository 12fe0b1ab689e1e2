# AutoClip — every command sets itself up (.venv, packages, test services).
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
export AUTOCLIP_DATA_DIR ?= $(CURDIR)/data
FEED ?= autoclip_core/samples/sample_feed.rss.xml
PYTEST_ARGS ?=

.PHONY: help setup demo test dev lint bench-pipeline bench-ingest api bench-api bench-flow bench-batch bench-render bench-vendors bench-publish clean

help:
	@echo "make demo [FEED=path|url]  sample feed -> published mp4s (local providers, SQLite)"
	@echo "make test                  lint + full test suite (starts PostgreSQL itself)"
	@echo "make dev                   Dagster webserver + daemon on http://127.0.0.1:$${AUTOCLIP_DAGSTER_PORT:-3000}"
	@echo "                            and the API on http://127.0.0.1:$${AUTOCLIP_API_PORT:-8000}/api/v1 (migrates first)"
	@echo "make bench-pipeline        per-item pipeline time, split per asset"
	@echo "make api                   the API on http://127.0.0.1:$${AUTOCLIP_API_PORT:-8000}/api/v1 (migrates first)"
	@echo "make bench-ingest          ingestion throughput and 100-source sensor tick"
	@echo "make bench-api             API latency under load: /projects and /contents (PostgreSQL + Redis, wrk)"
	@echo "make bench-flow            through make dev's stack: POST /contents -> ready, generate -> run in"
	@echo "                            Dagster, approve -> published (PostgreSQL)"
	@echo "make bench-batch           20 shorts generated at once through the API: shorts/hour, p50/p95"
	@echo "make bench-render          30 s 9:16 short: our engine vs MoviePy vs encode-only floor"
	@echo "                            (BENCH_ARGS=\"--skip-moviepy --repeat 3 --keep DIR\")"
	@echo "make bench-vendors         paid providers against their fakes: time per call, calls per run"
	@echo "make bench-publish         50 MB uploads to the fake platforms: MB/s, with cuts resumed"

setup: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev]'
	# NanumGothic TTFs (Hangul captions); the wheel's matplotlib hook is not needed.
	$(BIN)/pip install -q --no-deps koreanize-matplotlib==0.1.1
	touch $@

demo: setup
	$(BIN)/python -m autoclip_api migrate
	$(BIN)/autoclip demo --feed "$(FEED)"

test: setup
	$(BIN)/ruff check .
	bash scripts/with-test-services.sh $(BIN)/pytest -q $(PYTEST_ARGS)

# autoclip_cli/dev.py: migrations, then webserver + daemon + API, each in its own process group
# (Ctrl-C/SIGTERM stops them all within 10 s). DAGSTER_PORT works as AUTOCLIP_DAGSTER_PORT.
dev: setup
	AUTOCLIP_FEEDS=$${AUTOCLIP_FEEDS-$(CURDIR)/$(FEED)} \
	AUTOCLIP_DAGSTER_PORT=$${AUTOCLIP_DAGSTER_PORT:-$${DAGSTER_PORT:-3000}} \
		exec $(BIN)/autoclip dev

lint: setup
	$(BIN)/ruff check .

bench-pipeline: setup
	$(BIN)/python bench/pipeline.py

bench-ingest: setup
	$(BIN)/python bench/ingest.py

bench-vendors: setup
	$(BIN)/python bench/vendors.py

bench-publish: setup
	$(BIN)/python bench/publish.py

api: setup
	$(BIN)/python -m autoclip_api migrate
	$(BIN)/python -m autoclip_api serve --host 127.0.0.1 --port $${AUTOCLIP_API_PORT:-8000}

bench-api: setup
	bash scripts/with-test-services.sh $(BIN)/python bench/api.py

bench-flow: setup
	bash scripts/with-test-services.sh $(BIN)/python bench/flow.py

bench-batch: setup
	bash scripts/with-test-services.sh $(BIN)/python bench/batch.py

# MoviePy 2.2 pins Pillow<12, so the bench extra gets its own venv (inside .venv/, ignored by
# git): installing it into .venv would downgrade the project's Pillow.
BENCH_VENV := $(VENV)/bench-moviepy
BENCH_ARGS ?=

$(BENCH_VENV)/.installed: pyproject.toml | $(VENV)/.installed
	test -x $(BENCH_VENV)/bin/python || $(PYTHON) -m venv $(BENCH_VENV)
	$(BENCH_VENV)/bin/pip install -q $$($(BIN)/python -c "import tomllib; \
		print(' '.join(tomllib.load(open('pyproject.toml', 'rb'))['project']['optional-dependencies']['bench']))")
	touch $@

bench-render: setup $(BENCH_VENV)/.installed
	$(BIN)/python bench/render.py --moviepy-python $(BENCH_VENV)/bin/python $(BENCH_ARGS)

clean:
	rm -rf $(AUTOCLIP_DATA_DIR) .pytest_cache
