# Billing Desktop — the two commands: `make run` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp

.PHONY: run test lint bench demo translations clean sysdeps

# Create .venv and install the package with its test tools; redone when
# pyproject.toml changes.
$(STAMP): pyproject.toml tools/sysdeps.sh
	@bash tools/sysdeps.sh
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	@touch $(STAMP)

sysdeps:
	@bash tools/sysdeps.sh

## Open the application on the demo database (created on first use).
run: $(STAMP)
	$(BIN)/billing-desktop --demo

## Run the whole test suite headless.
test: $(STAMP)
	QT_QPA_PLATFORM=offscreen $(BIN)/python -m pytest -q

lint: $(STAMP)
	$(BIN)/ruff check .

## Benchmarks: print ratios against baselines measured in the same run.
bench: $(STAMP)
	QT_QPA_PLATFORM=offscreen $(BIN)/python -m bench

## Build a demo database with N generated accounts: make demo N=100000 DB=/tmp/demo.sqlite3
N  ?= 1000
DB ?= demo-$(N).sqlite3
demo: $(STAMP)
	$(BIN)/billing-desktop demo --db $(DB) --accounts $(N)

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .hypothesis build *.egg-info
