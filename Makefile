# Every target sets up what it needs: a .venv with pinned dependencies (requirements.lock as constraints).
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
OLDEST_VENV := .venv-oldest
BIN := $(VENV)/bin
PIP := $(BIN)/python -m pip --disable-pip-version-check -q
STAMP := $(VENV)/.installed
BENCH_STAMP := $(VENV)/.installed-bench

.PHONY: run test test-fast test-oldest bench bench-quick bench-eval bench-metrics bench-store bench-engines bench-anomaly lint dev clean venv

$(STAMP): pyproject.toml requirements.lock
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info[:2] == (3, 11) else "Python 3.11 is required, found " + sys.version.split()[0])'
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@echo "Installing pinned dependencies into $(VENV) (first run only, about a minute)..."
	@$(PIP) install -c requirements.lock pip==25.3
	@$(PIP) install -c requirements.lock -e '.[dev,spark]'
	@touch $@

$(BENCH_STAMP): $(STAMP)
	@$(PIP) install -c requirements.lock -e '.[dev,spark,bench]'
	@touch $@

venv: $(STAMP)

## Build the Product Affinity data product from fresh sample data and print a summary.
run: $(STAMP)
	@$(BIN)/slo run $(ARGS)

## Lint, type-check and run the test suite.
test: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports
	$(BIN)/pytest $(PYTEST_ARGS)

## The daily lane: lint, type-check and the tests not marked slow or heavy (no month-long replays, no reliability runs,
## no Spark session).
test-fast: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports
	$(BIN)/pytest -m "not slow and not heavy" $(PYTEST_ARGS)

## The fast lane again on the oldest versions pyproject.toml admits (requirements-oldest.txt), in $(OLDEST_VENV): the
## ranges are tested at both ends (the lock is the newest end).
$(OLDEST_VENV)/.installed: pyproject.toml requirements-oldest.txt
	@test -x $(OLDEST_VENV)/bin/python || $(PYTHON) -m venv $(OLDEST_VENV)
	@echo "Installing the oldest supported dependencies into $(OLDEST_VENV) (first run only, a few minutes)..."
	@$(OLDEST_VENV)/bin/python -m pip --disable-pip-version-check -q install -c requirements-oldest.txt -e '.[dev]'
	@touch $@

test-oldest: $(OLDEST_VENV)/.installed
	$(OLDEST_VENV)/bin/pytest -m "not slow and not heavy" -p no:cacheprovider $(PYTEST_ARGS)

## Large-scale benchmarks (minutes); results go to BENCHMARKS.md by hand.
## ARGS go to the build benchmark (e.g. --skip-mlxtend), EVAL_ARGS to the evaluation one (e.g. --skip-gx),
## METRICS_ARGS to the exporter one (e.g. --sizes 10000,100000), STORE_ARGS to the store one (SQLite against
## PostgreSQL; e.g. --url postgresql://me@localhost/postgres, else it starts a private cluster), ENGINE_ARGS to the
## engine one (DuckDB, PostgreSQL and Spark; e.g. --sizes 1000000 --repeats 3 or --postgres-url ...), ANOMALY_ARGS to
## the anomaly detection one (e.g. --seeds 10 --per-day 1, or --tune).
bench: $(BENCH_STAMP)
	$(BIN)/python -m benchmarks.build_bench $(ARGS)
	$(BIN)/python -m benchmarks.eval_bench $(EVAL_ARGS)
	$(BIN)/python -m benchmarks.metrics_bench $(METRICS_ARGS)
	$(BIN)/python -m benchmarks.store_bench $(STORE_ARGS)
	$(BIN)/python -m benchmarks.engine_bench $(ENGINE_ARGS)
	$(BIN)/python -m benchmarks.anomaly_bench $(ANOMALY_ARGS)

## A few minutes: start-up, evaluation, pair step and the 1M build as ratios against baselines of the same run,
## compared with the ratios recorded in BENCHMARKS.md (moves over 20% are printed). QUICK_ARGS: --record, --strict.
bench-quick: $(STAMP)
	$(BIN)/python -m benchmarks.quick_bench $(QUICK_ARGS)

## Only the exporter benchmark: /metrics latency and memory with 1,000 SLOs and 10k..1M stored evaluations.
bench-metrics: $(BENCH_STAMP)
	$(BIN)/python -m benchmarks.metrics_bench $(METRICS_ARGS)

## Only the results store benchmark: the exporter on SQLite and on PostgreSQL side by side, and write throughput.
bench-store: $(BENCH_STAMP)
	$(BIN)/python -m benchmarks.store_bench $(STORE_ARGS)

## Only the engine benchmark: the plan on DuckDB, PostgreSQL (a private cluster unless --postgres-url) and local Spark,
## each against a hand-written single-scan floor on the same engine; queries and scans counted (reuses the databases
## the build benchmark left, else builds them).
bench-engines: $(BENCH_STAMP)
	$(BIN)/python -m benchmarks.engine_bench $(ENGINE_ARGS)

## Only the anomaly detection benchmark: our detector against a z-score, replayed over generated 180-day histories
## with planted anomalies (precision, recall, false alarms per 90 days on clean histories). Pure Python, a few minutes.
bench-anomaly: $(STAMP)
	$(BIN)/python -m benchmarks.anomaly_bench $(ANOMALY_ARGS)

## Only the SLO evaluation benchmark (reuses the databases the build benchmark left, else builds them).
bench-eval: $(BENCH_STAMP)
	$(BIN)/python -m benchmarks.eval_bench $(EVAL_ARGS)

## The Dagster UI on the same instance and database that `make run` uses.
dev: $(STAMP)
	@mkdir -p .slo_state/dagster
	@test -f .slo_state/dagster/dagster.yaml || printf 'telemetry:\n  enabled: false\n' > .slo_state/dagster/dagster.yaml
	DAGSTER_HOME=$(CURDIR)/.slo_state/dagster $(BIN)/dagster dev

clean:
	rm -rf .slo_state .pytest_cache .mypy_cache .ruff_cache .import_linter_cache
