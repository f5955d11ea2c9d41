PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
HOST ?= 127.0.0.1
PORT ?= 5000

.PHONY: install run test bench faults clean migration

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
	$(BIN)/engage serve --host $(HOST) --port $(PORT)

test: $(STAMP)
	$(BIN)/python -m pytest -n 2 -q

bench: $(STAMP)
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) instance .pytest_cache

# Real processes under failure (kill -9, a flaky provider, a PostgreSQL outage): one table, exit 1
# on any loss or duplicate. `make test` runs the short version (tests/integration/test_faults_short.py).
faults: $(STAMP)
	$(BIN)/python -m faults
