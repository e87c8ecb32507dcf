# The whole contributor interface: `make run` and `make test` (README.md).
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
export OCELOT_HOME ?= $(CURDIR)/var

.PHONY: run venv install install-test deps lint typecheck test test-sqlite test-all bench clean messages

$(BIN)/python:
	@$(PYTHON) -m venv $(VENV) || { \
	  echo "python3 -m venv failed; installing python3-venv"; \
	  [ "$$(id -u)" = 0 ] && apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv && $(PYTHON) -m venv $(VENV); }
	@$(BIN)/python -m pip install -q --upgrade pip

venv: $(BIN)/python

install: venv
	$(BIN)/pip install -q -e '.[server]'

install-test: venv
	$(BIN)/pip install -q -e '.[server,postgresql,mysql,test]'

# Starts the whole server on embedded SQLite under ./var (or $OCELOT_HOME).
run: install
	$(BIN)/ocelot server

# Debian packages the real-component tests use (as root, when missing).
deps:
	@bash tests/system/install-deps.sh

lint: install-test
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/lint-imports

typecheck: install-test
	$(BIN)/mypy

# Lint, type checks, then the whole suite on SQLite, PostgreSQL and MariaDB.
test: deps install-test lint typecheck
	bash tests/system/run-suite.sh

test-sqlite: install-test
	$(BIN)/pytest -q

bench: install-test
	$(BIN)/python -m bench.agents --help

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache

# Translations: extract the messages of src/ocelot (plus the texts translated from data:
# option help texts, section column names) into the French and Spanish catalogues
# src/ocelot/locale/<lang>/LC_MESSAGES/django.po, then compile them (.mo, committed too).
messages: install
	$(BIN)/python src/ocelot/locale/runtime_strings.py src/ocelot/_runtime_strings.py
	cd src/ocelot && $(abspath $(BIN))/django-admin makemessages --settings=ocelot.server.settings \
	  -l fr -l es --add-location=file --ignore='migrations/*'; \
	  status=$$?; rm -f _runtime_strings.py; exit $$status
	cd src/ocelot && $(abspath $(BIN))/django-admin compilemessages --settings=ocelot.server.settings
