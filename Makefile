# The two commands of the README: `make demo` and `make test`. Each creates .venv when needed.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
STAMP  := $(VENV)/.installed-stamp

.PHONY: demo test lint typecheck bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --upgrade pip >/dev/null
	$(VENV)/bin/pip install --quiet -e '.[dev]'
	touch $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/duyet demo

# The suite on $(TEST_WORKERS) pytest-xdist workers (tests sharing a costly fixture, such as the
# stack, go to one worker: tests/conftest.py), then the `serial` tests alone (one stops the
# PostgreSQL server). Both always run; either failing fails the target.
TEST_WORKERS ?= 3

test: $(STAMP)
	status=0; \
	$(VENV)/bin/pytest -n $(TEST_WORKERS) --dist loadgroup --no-loadscope-reorder -m "not serial" || status=$$?; \
	$(VENV)/bin/pytest -m serial || status=$$?; \
	exit $$status

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

typecheck: $(STAMP)
	$(VENV)/bin/mypy duyet definitions records flows tasks notifications portal publishing bench

# What duyet costs on top of Prefect, and what it holds: bench/results/latest.json and
# docs/benchmarks.md (about 20 minutes on 2 cores; `python -m bench.run --only NAME` for one measure).
bench: $(STAMP)
	$(VENV)/bin/python -m bench.run

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache
