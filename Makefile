# GRC — everyday commands. `make run` serves the product with demo data; `make test` runs
# ruff, mypy and the whole suite on SQLite and on the local PostgreSQL.
VENV ?= .venv
PYTHON ?= python3
HOST ?= 127.0.0.1
PORT ?= 5000
FLASK = $(VENV)/bin/flask --app wsgi

.PHONY: run test lint format install install-test clean translations

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --upgrade pip

$(VENV)/.installed: $(VENV)/bin/python pyproject.toml
	$(VENV)/bin/pip install --quiet -e .
	touch $@

# Browser tests check pages with axe-core, from the npm registry.
AXE_CORE = axe-core@4.11.4

$(VENV)/.installed-test: $(VENV)/.installed pyproject.toml
	$(VENV)/bin/pip install --quiet -e '.[test,bench]'
	npm install --silent --no-save --no-audit --no-fund --prefix $(VENV)/node $(AXE_CORE) \
	  || echo "axe-core could not be installed: accessibility checks will be skipped" >&2
	touch $@

install: $(VENV)/.installed

install-test: $(VENV)/.installed-test

# Links in work-order e-mails (one-click pages, photos) point at this server unless
# GRC_PUBLIC_URL says otherwise.
RUN_ENV = GRC_PUBLIC_URL=$${GRC_PUBLIC_URL:-http://$(HOST):$(PORT)}

run: install
	$(FLASK) db upgrade
	$(RUN_ENV) $(FLASK) grc demo --if-empty
	@echo "API docs: http://$(HOST):$(PORT)/api/docs   (tokens: instance/demo-tokens.json)"
	$(RUN_ENV) $(FLASK) run --host $(HOST) --port $(PORT)

test: install-test lint
	$(VENV)/bin/python -m pytest -n 2 --dist loadfile -q

lint: install-test
	$(VENV)/bin/ruff check grc workers notifications contractors tests bench migrations wsgi.py
	$(VENV)/bin/ruff format --check grc workers notifications contractors tests bench migrations/env.py wsgi.py
	$(VENV)/bin/mypy

format: install-test
	$(VENV)/bin/ruff check --fix grc workers notifications contractors tests bench migrations wsgi.py
	$(VENV)/bin/ruff format grc workers notifications contractors tests bench migrations/env.py wsgi.py

# Each package with screens keeps its French catalogue in <package>/translations (the words
# in the code are English): extract its words, merge them into the catalogue, compile it.
# A new package starts its catalogue with `mkdir -p grc/<package>/translations`. The
# catalogues carry a fixed date, so that running it changes nothing when no word changed.
translations: install-test
	@for dir in grc/*/translations; do \
	  package=$${dir%/translations}; \
	  $(VENV)/bin/pybabel -q extract --no-location --sort-output -F babel.cfg \
	    -k lazy_gettext -k _l -o $$dir/messages.pot $$package || exit 1; \
	  if [ -f $$dir/fr/LC_MESSAGES/messages.po ]; then \
	    $(VENV)/bin/pybabel -q update --ignore-obsolete --no-fuzzy-matching \
	      -i $$dir/messages.pot -d $$dir -l fr || exit 1; \
	  else \
	    $(VENV)/bin/pybabel -q init -i $$dir/messages.pot -d $$dir -l fr || exit 1; \
	  fi; \
	  rm $$dir/messages.pot; \
	  sed -i -e 's/^"POT-Creation-Date: .*/"POT-Creation-Date: 2026-01-01 00:00+0000\\n"/' \
	    -e '/^"PO-Revision-Date: /d' $$dir/fr/LC_MESSAGES/messages.po; \
	  $(VENV)/bin/pybabel -q compile -d $$dir -l fr || exit 1; \
	done

clean:
	rm -rf $(VENV) instance .pytest_cache .ruff_cache .mypy_cache
