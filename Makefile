PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
HOST ?= 127.0.0.1
PORT ?= 5000

.PHONY: install run test bench fuzz faults clean migration

$(STAMP): pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -c constraints.txt -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	$(BIN)/engage db upgrade
	$(BIN)/engage seed-demo
	@echo "Engage: http://$(HOST):$(PORT)/api/docs (Ctrl-C stops)"
	@echo "Console: http://$(HOST):$(PORT)/console (sign in as demo@example.com, password engage-demo)"
	@echo "Console sessions are signed with ENGAGE_SECRET_KEY, or else instance/secret_key (generated once)"
	$(BIN)/engage serve --host $(HOST) --port $(PORT)

test: $(STAMP)
	$(BIN)/python -m pytest -n 2 -q

bench: $(STAMP)
	$(BIN)/python -m bench

# schemathesis, every check and phase, >= 5,000 cases against a served instance (a few minutes).
# FUZZ_DATABASE_URL=postgresql://... fuzzes an empty PostgreSQL database instead of SQLite.
fuzz: $(STAMP)
	$(BIN)/python -m tests.support.fuzz_served

clean:
	rm -rf $(VENV) instance .pytest_cache test-artifacts test-results

# Real processes under failure (kill -9, a flaky provider, a PostgreSQL outage): one table, exit 1
# on any loss or duplicate. `make test` runs the short version (tests/integration/test_faults_short.py).
faults: $(STAMP)
	$(BIN)/python -m faults
