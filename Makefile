# pimdsl: `make demo` compiles the built-in ResNet18 for chip compass-s; `make test` runs every
# test. Both install pimdsl first: into the active virtualenv if there is one, else into .venv
# (created with Python >= 3.11; set PYTHON=/path/to/python3.11 to choose the interpreter).

PYTHON ?= $(shell command -v python3.11 || command -v python3)
ifdef VIRTUAL_ENV
VENV := $(VIRTUAL_ENV)
else
VENV := .venv
endif
BIN := $(VENV)/bin
PIM_OPT := $(BIN)/pim-opt
DEMO_MODEL ?= resnet18
DEMO_CHIP ?= compass-s
# pytest-xdist (in the test extras) spreads pytest over the cores when it is installed.
PYTEST_JOBS ?= $(shell $(BIN)/python -c "import xdist" 2>/dev/null && echo "-n 2")

.PHONY: demo demo-dse test lint pytest lit bench compass-table install install-test clean

demo: install
	@echo "== $(DEMO_MODEL) on $(DEMO_CHIP) =="
	$(PIM_OPT) --model $(DEMO_MODEL) --chip $(DEMO_CHIP) -t summary
	@if $(PIM_OPT) --list-passes | grep -qx partition; then \
		echo "== partitions (pim-opt --partition --report -) =="; \
		COLUMNS=$${COLUMNS:-120} $(PIM_OPT) --model $(DEMO_MODEL) --chip $(DEMO_CHIP) --partition --report - -o /dev/null; \
	else \
		echo "(partitioning: the --partition pass is not built yet)"; \
	fi

# the sweep of examples/sweep.toml (72 points, partition only) and its plots, shown in docs/dse.md
demo-dse: install-test
	$(BIN)/pim-dse examples/sweep.toml -o sweep-results --plots docs/img

test: install-test lint pytest lit

lint: install-test
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/pyright --pythonpath $(BIN)/python

pytest: install-test
	$(BIN)/pytest $(PYTEST_JOBS)

lit: install-test
	$(BIN)/lit -sv tests/filecheck

bench: install-test
	@set -e; for script in benchmarks/*.py; do echo "== $$script"; $(BIN)/python $$script; done

compass-table: install-test
	$(BIN)/python benchmarks/compass_table.py

install: $(VENV)/.pimdsl-installed
install-test: $(VENV)/.pimdsl-test-installed

$(BIN)/python:
	$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "pimdsl needs Python >= 3.11; set PYTHON=python3.11"'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

# Editable installs follow source edits; reinstall only when the package metadata changes.
$(VENV)/.pimdsl-installed: pyproject.toml | $(BIN)/python
	@echo "installing pimdsl into $(VENV) (log: $(VENV)/pip-install.log)"
	@$(BIN)/python -m pip install -e . > $(VENV)/pip-install.log 2>&1 || { cat $(VENV)/pip-install.log; exit 1; }
	@touch $@

$(VENV)/.pimdsl-test-installed: pyproject.toml | $(BIN)/python
	@echo "installing pimdsl[test] into $(VENV) (log: $(VENV)/pip-install.log)"
	@$(BIN)/python -m pip install -e '.[test]' > $(VENV)/pip-install.log 2>&1 || { cat $(VENV)/pip-install.log; exit 1; }
	@touch $@ $(VENV)/.pimdsl-installed

clean:
	rm -rf .venv build *.egg-info .pytest_cache .ruff_cache
