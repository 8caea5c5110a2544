# Two commands for a newcomer:  `make demo`  (set up, start with the demo)  and  `make test`  (set up, run everything).
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
PG_TEST_URL ?= postgresql+psycopg://postgres@127.0.0.1:5432/test

.PHONY: demo serve test lint test-sqlite test-postgres test-browser system-deps clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[dev]"
	# ipycam (the third-party ONVIF camera of the tests) would pull the GUI build of OpenCV 5: its own code only.
	$(BIN)/pip install --quiet --no-deps ipycam==1.3.0
	touch $(STAMP)

system-deps:
	bash scripts/system-deps.sh

demo: $(STAMP)
	$(BIN)/supervision serve --demo

serve: $(STAMP)
	$(BIN)/supervision serve

lint: $(STAMP)
	$(BIN)/ruff check supervision cameras risk complaints web tests bench
	$(BIN)/mypy supervision cameras risk complaints web
	$(BIN)/lint-imports

test-sqlite: $(STAMP)
	SUPERVISION_TEST_DATABASE=sqlite $(BIN)/python -m pytest -p no:cacheprovider

test-postgres: $(STAMP)
	SUPERVISION_TEST_DATABASE=postgres SUPERVISION_TEST_POSTGRES_URL=$(PG_TEST_URL) $(BIN)/python -m pytest -p no:cacheprovider -m "not browser"

test: system-deps $(STAMP) lint test-sqlite test-postgres

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache
