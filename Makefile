# Billing Desktop — the two commands: `make run` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp

.PHONY: run test test-pg stress lint bench demo screenshots translations qm clean sysdeps

# Interface languages: English is the source (its file holds only the plural
# forms); the .qm files are built from the .ts files, never committed.
LANGS      := en it nl es de fr
TS_FILES   := $(LANGS:%=translations/billing_desktop_%.ts)
QM_FILES   := $(TS_FILES:.ts=.qm)
PY_SOURCES  = $(shell find billing_desktop -name '*.py' -not -path '*/__pycache__/*' | sort)

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
run: $(STAMP) $(QM_FILES)
	$(BIN)/billing-desktop --demo

## Run the whole test suite headless. The service and store tests also run on
## PostgreSQL when BILLING_DESKTOP_TEST_PG names a server (else: "skipped").
test: $(STAMP) $(QM_FILES)
	QT_QPA_PLATFORM=offscreen $(BIN)/python -m pytest -q

## The whole suite with a throwaway PostgreSQL server (Debian's package,
## installed when missing) started on 127.0.0.1 for the run.
test-pg: $(STAMP) $(QM_FILES)
	bash tools/pg.sh run $(MAKE) --no-print-directory test

## Crash injection: 1 000 runs of place order, cancellations and renewals killed
## (SIGKILL) at random statements and times; checks nothing is half-written.
stress: $(STAMP)
	$(BIN)/python tools/stress.py --trials 1000

lint: $(STAMP)
	$(BIN)/ruff check .

## Benchmarks: print ratios against baselines measured in the same run.
bench: $(STAMP)
	QT_QPA_PLATFORM=offscreen $(BIN)/python -m bench

## Pictures of the views and of every wizard page at 100 % and 150 %, under
## Xvfb, in build/screenshots/; the README's pictures are copied to docs/.
README_SHOTS := accounts account-subscriptions dashboard \
                wizard-cancellation-confirm wizard-checkout-review
screenshots: $(STAMP)
	@bash tools/sysdeps.sh --xvfb
	rm -rf build/screenshots
	xvfb-run -a $(BIN)/python tools/screenshots.py build/screenshots --scale 1
	xvfb-run -a $(BIN)/python tools/screenshots.py build/screenshots --scale 1.5
	@mkdir -p docs/screenshots
	for name in $(README_SHOTS); do cp build/screenshots/$$name@100.png docs/screenshots/$$name.png; done

## Collect new and changed interface texts into the .ts files (for the
## translators, e.g. with pyside6-linguist), then build the .qm files.
translations: $(STAMP)
	@$(BIN)/pyside6-lupdate -silent -locations none -no-obsolete $(PY_SOURCES) \
	    -ts $(filter-out %_en.ts,$(TS_FILES))
	@$(BIN)/pyside6-lupdate -silent -locations none -no-obsolete -pluralonly $(PY_SOURCES) \
	    -ts translations/billing_desktop_en.ts
	$(MAKE) qm

qm: $(QM_FILES)

translations/%.qm: translations/%.ts $(STAMP)
	$(BIN)/pyside6-lrelease -silent $< -qm $@

## Build a demo database with N generated accounts: make demo N=100000 DB=/tmp/demo.sqlite3
N  ?= 1000
DB ?= demo-$(N).sqlite3
demo: $(STAMP)
	$(BIN)/billing-desktop demo --db $(DB) --accounts $(N)

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .hypothesis build *.egg-info translations/*.qm
