# Everything the project needs is installed by these targets into .venv.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
# OpenMP oversubscription makes tree fits on 2 cores many times slower.
export OMP_NUM_THREADS := 1
export MLFLOW_DISABLE_TELEMETRY := true

.PHONY: install install-test run demo test lint bench fuzz lock clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

# Every package at the version and hash the lock names; the project itself on top, with nothing more.
$(VENV)/.installed: $(BIN)/python pyproject.toml requirements.lock
	$(BIN)/pip install --quiet --require-hashes -r requirements.lock
	$(BIN)/pip install --quiet --no-deps -e .
	touch $@

# The test and benchmark tools: the service's lock plus theirs, resolved together.
$(VENV)/.installed-test: $(VENV)/.installed requirements-dev.lock
	$(BIN)/pip install --quiet --require-hashes -r requirements-dev.lock
	touch $@

install: $(VENV)/.installed
# The topology benchmark runs a real MLflow tracking server, from its own locked environment.
MLFLOW_VENV := .venv-mlflow
$(MLFLOW_VENV)/.installed: deploy/mlflow-server.lock
	$(PYTHON) -m venv $(MLFLOW_VENV)
	$(MLFLOW_VENV)/bin/pip install --quiet --require-hashes -r deploy/mlflow-server.lock
	touch $@

$(VENV)/.installed-bench: $(VENV)/.installed-test $(MLFLOW_VENV)/.installed
	touch $@

install-test: $(VENV)/.installed-test

# The outbox worker runs in the service here (no SMTP configured: each message goes to the log).
run: install
	$(BIN)/claims prepare
	CLAIMS_WORKER_IN_PROCESS=true $(BIN)/claims serve

demo: install
	$(BIN)/claims demo

test: install-test
	$(BIN)/pytest

lint: install-test
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

# The load benchmark's PostgreSQL flushes every commit to disk, as in production (tests skip it).
bench: $(VENV)/.installed-bench
	PG_FSYNC=on scripts/with-postgres $(BIN)/python -m bench

# The long fuzz run: 300 generated requests an operation and caller, on SQLite and PostgreSQL.
fuzz: install-test
	FUZZ_EXAMPLES=300 FUZZ_STATEFUL_EXAMPLES=200 scripts/with-postgres $(BIN)/pytest -s -q tests/service/test_fuzz.py

# After changing a dependency in pyproject.toml: resolve both locks again, with hashes.
lock: $(BIN)/python
	$(BIN)/pip install --quiet uv==0.13.9
	$(BIN)/uv pip compile pyproject.toml -q --generate-hashes --python-version 3.11 \
		--custom-compile-command "make lock" -o requirements.lock
	$(BIN)/uv pip compile pyproject.toml -q --extra test --extra bench --generate-hashes \
		--python-version 3.11 --custom-compile-command "make lock" -o requirements-dev.lock
	$(BIN)/uv pip compile deploy/mlflow-server.in -q --generate-hashes --python-version 3.11 \
		--custom-compile-command "make lock" -o deploy/mlflow-server.lock

clean:
	rm -rf $(VENV) $(MLFLOW_VENV) data bench/out
