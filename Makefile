# The two commands: `make demo` runs the platform, `make test` runs every check.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed

.PHONY: demo test lint format messages clean

$(INSTALLED): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@

demo: $(INSTALLED)
	DEBUG=1 $(BIN)/python manage.py rundemo

test: $(INSTALLED) lint
	$(BIN)/python manage.py makemigrations --check --dry-run
	$(BIN)/python -m pytest

lint: $(INSTALLED)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(INSTALLED)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

# Rebuild locale/*/LC_MESSAGES/django.po from the code and compile them (needs GNU gettext).
messages: $(INSTALLED)
	$(BIN)/python manage.py makemessages -l ru -l en --ignore '.venv/*' --ignore '.data/*'
	$(BIN)/python manage.py makemessages -d djangojs -l ru -l en --ignore '.venv/*' --ignore '.data/*'
	$(BIN)/python manage.py compilemessages --ignore '.venv/*'

clean:
	rm -rf $(VENV) .data
