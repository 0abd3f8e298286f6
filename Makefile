# The two commands are `make run` and `make test`; everything else is a step of theirs.
SHELL := /bin/bash
.SHELLFLAGS := -o errexit -o nounset -o pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed
PYTEST_ARGS ?=

# Settings good enough for lint and check --deploy; never used to serve anything.
DEPLOY_CHECK_ENV := DJANGO_DEBUG=0 DJANGO_SECRET_KEY=check-deploy-only-$$(head -c 48 /dev/urandom | base64 | tr -dc 'a-zA-Z0-9') DJANGO_ALLOWED_HOSTS=weather.example.com

# Every target that names a command rather than a file, in one place.
.PHONY: help install run test unit integration e2e lighthouse lint format lock lock-pipeline \
	messages migrate superuser clean bench bench-slow-clients lint-containers pipeline-check k8s-check lock-k8s proxy-check \
	observability-check contract-check docs

help: ## List the targets
	@grep -E '^[a-z0-9-]+:.*## ' $(MAKEFILE_LIST) | awk -F ':.*## ' '{printf "  make %-16s %s\n", $$1, $$2}'

# Hash-checking mode: only the files the lock files name by hash are installed.
# --upgrade-deps first: the pip of an older Python (3.11's 23.x) cannot install
# dev.txt in that mode (an extra one package asks of another trips it); the pinned
# pip then replaces it, checked like everything else.
PIP_INSTALL := $(BIN)/python -m pip install --quiet --disable-pip-version-check --require-hashes

$(INSTALLED): requirements/base.txt requirements/dev.txt
	$(PYTHON) -m venv --upgrade-deps $(VENV)
	$(PIP_INSTALL) -r requirements/base.txt -r requirements/dev.txt
	touch $@

install: $(INSTALLED) ## Create .venv and install the pinned requirements

# Browser checks need more than Python: Debian's chromium (apt-get, as root), Playwright
# (pip) and Lighthouse (npm, pinned in package-lock.json). `make test` needs none of it.
E2E_INSTALLED := $(VENV)/.installed-e2e
NODE_INSTALLED := node_modules/.installed

$(E2E_INSTALLED): $(INSTALLED) requirements/e2e.txt scripts/install-chromium.sh
	scripts/install-chromium.sh
	$(PIP_INSTALL) -r requirements/e2e.txt
	touch $@

$(NODE_INSTALLED): package.json package-lock.json
	npm ci --no-audit --no-fund
	touch $@

run: $(INSTALLED) ## Serve the dashboard on http://127.0.0.1:8000 with a local Vault (Ctrl-C stops all)
	$(BIN)/python scripts/devstack.py

test: $(INSTALLED) ## Run the whole test suite
	$(BIN)/python -m pytest $(PYTEST_ARGS)

unit: $(INSTALLED) ## Unit tests only (no network, no servers)
	$(BIN)/python -m pytest tests/unit $(PYTEST_ARGS)

integration: $(INSTALLED) ## Integration tests (real OpenBao, fake upstream over HTTP)
	$(BIN)/python -m pytest tests/integration $(PYTEST_ARGS)

e2e: $(E2E_INSTALLED) ## Browser tests: Playwright drives Debian's Chromium against a live server
	$(BIN)/python -m pytest tests/e2e -m "not lighthouse" $(PYTEST_ARGS)

CONTRACT_INSTALLED := $(VENV)/.installed-contract

$(CONTRACT_INSTALLED): $(INSTALLED) requirements/contract.txt
	$(PIP_INSTALL) -r requirements/contract.txt
	touch $@

contract-check: $(CONTRACT_INSTALLED) ## The API against its OpenAPI document: schemathesis on the app under gunicorn
	$(BIN)/python -m pytest tests/contract $(PYTEST_ARGS)

# The manual: mkdocs-material, its own lock on top of the test set. --strict turns every
# warning (a broken link or anchor, a page missing from the nav) into a failure; the
# hooks in docs/hooks/ write the reference pages from the code they describe.
DOCS_INSTALLED := $(VENV)/.installed-docs

$(DOCS_INSTALLED): $(INSTALLED) requirements/docs.txt
	$(PIP_INSTALL) -r requirements/docs.txt
	touch $@

docs: $(DOCS_INSTALLED) ## Build the manual (docs/) into public/ with mkdocs --strict
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict --site-dir public

lighthouse: $(E2E_INSTALLED) $(NODE_INSTALLED) ## Lighthouse scores of the home and a result page
	$(BIN)/python -m pytest tests/e2e -m lighthouse $(PYTEST_ARGS)

lint: $(INSTALLED) ## ruff, formatting, mypy, import contracts (no circles), migrations in sync, check --deploy
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports --no-cache --no-logo
	$(DEPLOY_CHECK_ENV) $(BIN)/python manage.py makemigrations --check --dry-run
	$(DEPLOY_CHECK_ENV) $(BIN)/python manage.py check --deploy --fail-level WARNING

format: $(INSTALLED) ## Apply ruff's fixes and formatting
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

# requirements/NAME.in says what we ask for; pip-compile writes its pinned closure to
# NAME.txt, keeping every pin it can. One rule makes them all (and the proof's own
# locks in proof/requirements/). It exists only inside `make lock`, `make lock-pipeline`
# and `make lock-k8s` (LOCKING=1), which install pip-compile first, so no other target
# ever re-pins behind your back. A lock is redone when its .in, or a
# lock that .in reads as constraints (-c), is newer: touch the .in to force one.
# --generate-hashes: every pin carries the hashes of its files, and pip installs
# nothing else (install and the Dockerfile use --require-hashes).
PIP_COMPILE := $(BIN)/pip-compile --quiet --strip-extras --no-header --no-emit-index-url --no-emit-find-links --allow-unsafe --generate-hashes

ifdef LOCKING
requirements/%.txt: requirements/%.in
	$(PIP_COMPILE) -o $@ $<

proof/requirements/%.txt: proof/requirements/%.in
	$(PIP_COMPILE) -o $@ $<

# The -c lines of each .in: those locks are brought up to date first.
requirements/dev.txt: requirements/base.txt
requirements/e2e.txt requirements/contract.txt requirements/docs.txt requirements/pipeline.txt: requirements/base.txt requirements/dev.txt
endif

lock: $(INSTALLED) ## Re-pin requirements/{base,dev,e2e,contract,docs}.txt from their .in files
	$(MAKE) --no-print-directory LOCKING=1 requirements/base.txt requirements/dev.txt requirements/e2e.txt \
		requirements/contract.txt requirements/docs.txt

lock-pipeline: $(INSTALLED) ## Re-pin requirements/pipeline.txt from requirements/pipeline.in
	$(MAKE) --no-print-directory LOCKING=1 requirements/pipeline.txt

lock-k8s: $(INSTALLED) ## Re-pin proof/requirements/k8s.txt from its .in
	$(MAKE) --no-print-directory LOCKING=1 proof/requirements/k8s.txt

# The translation catalogs: every string wrapped for translation in weather/ into
# weather/locale/<lang>/LC_MESSAGES/django.po (file names, no line numbers, so moving
# code does not churn them), then compiled to the .mo files that are committed, so the
# image and a fresh clone need no gettext at run time. GNU gettext does both.
MESSAGE_LANGUAGES := de fr es pt ja ar

messages: $(INSTALLED) ## Extract the strings to translate (.po) and compile the catalogs (.mo)
	command -v msgfmt >/dev/null || { apt-get update -qq && apt-get install -y -qq gettext; }
	cd weather && DJANGO_DEBUG=1 ../$(BIN)/python ../manage.py makemessages --no-wrap --no-obsolete --add-location file \
		--ignore 'migrations/*' $(addprefix -l ,$(MESSAGE_LANGUAGES))
	cd weather && DJANGO_DEBUG=1 ../$(BIN)/python ../manage.py compilemessages $(addprefix -l ,$(MESSAGE_LANGUAGES))

migrate: $(INSTALLED) ## Apply migrations to the configured database
	DJANGO_DEBUG=1 $(BIN)/python manage.py migrate

superuser: $(INSTALLED) ## Create an admin user for /admin/
	DJANGO_DEBUG=1 $(BIN)/python manage.py createsuperuser

# --- The image, the compose stack and the GitLab pipeline ------------------------------
# Checked without a Docker engine: hadolint, schema checks and `docker compose config`
# (lint-containers, which GitLab's lint job runs too), then the proof in proof/pipeline:
# gitlab-ci-local for the pipeline's rules and jobs, a podman build and run of the image,
# compose up (pipeline-check; proof/README.md). Tools beyond Python, and the stand-in
# images, are cached outside the repository in WEATHER_CI_CACHE.
WEATHER_CI_CACHE ?= $(if $(shell test -w /var/cache && echo y),/var/cache/weather-ci,$(HOME)/.cache/weather-ci)
PIPELINE_INSTALLED := $(VENV)/.pipeline-installed
PIPELINE_ENV := PATH="$(CURDIR)/$(BIN):$(WEATHER_CI_CACHE)/bin-trixie:$(WEATHER_CI_CACHE)/bin:$$PATH" WEATHER_CI_CACHE="$(WEATHER_CI_CACHE)" CONTAINERS_CONF="$(WEATHER_CI_CACHE)/containers.conf"

$(PIPELINE_INSTALLED): $(INSTALLED) requirements/pipeline.txt
	$(PIP_INSTALL) -r requirements/pipeline.txt
	touch $@

lint-containers: $(PIPELINE_INSTALLED) ## hadolint, compose/GitLab schema checks, compose config
	$(PIPELINE_ENV) scripts/ci/lint-containers

pipeline-check: lint-containers ## Prove the image, compose.yaml and .gitlab-ci.yml (podman; root)
	$(PIPELINE_ENV) proof/tools/install-tools
	$(PIPELINE_ENV) $(BIN)/python -m pytest proof/pipeline -v -p no:cacheprovider --timeout 900 --durations=0 $(PYTEST_ARGS)

# --- Running on Kubernetes: the manifests and a fleet ----------------------------------
# The overlays in deploy/kubernetes/ rendered with kustomize, validated offline against
# the Kubernetes API schemas and linted with checkov (no cluster needed); the tools live
# in a virtual environment of their own (proof/requirements/k8s.in says why), and kubectl
# is the one on PATH when there is one, else the pinned one from there. Then proof/fleet:
# three gunicorn masters behind nginx (Debian's, proof/tools/install-nginx) on the
# PostgreSQL of DATABASE_URL, or the machine's when that is not PostgreSQL.
K8S_VENV := .venv-k8s
K8S_INSTALLED := $(K8S_VENV)/.installed
KUBECTL ?= $(or $(shell command -v kubectl),$(CURDIR)/$(K8S_VENV)/bin/kubectl)

$(K8S_INSTALLED): proof/requirements/k8s.txt
	$(PYTHON) -m venv $(K8S_VENV)
	$(K8S_VENV)/bin/python -m pip install --quiet --disable-pip-version-check --require-hashes -r proof/requirements/k8s.txt
	touch $@

k8s-check: $(INSTALLED) $(K8S_INSTALLED) ## Check the Kubernetes overlays; prove a 3-instance fleet
	KUBECTL="$(KUBECTL)" K8S_TOOLS="$(CURDIR)/$(K8S_VENV)/bin" \
		$(NGINX_BINARY) \
		$(BIN)/python -m pytest proof/k8s proof/fleet -p no:cacheprovider $(PYTEST_ARGS)

# --- The compose stack's reverse proxy ----------------------------------------------------
# proof/proxy: docker/nginx/weather.conf, as it is, in front of gunicorn as the image runs
# it, with Debian's nginx (proof/tools/install-nginx): slow clients, large bodies, headers.
NGINX_BINARY = NGINX="$$(WEATHER_CI_CACHE="$(WEATHER_CI_CACHE)" proof/tools/install-nginx)"

proxy-check: $(INSTALLED) ## Prove the stack's nginx config in front of gunicorn (slow clients)
	$(NGINX_BINARY) $(BIN)/python -m pytest proof/proxy -p no:cacheprovider $(PYTEST_ARGS)

# --- What an operator sees ------------------------------------------------------------------
# tests/observability: a real Prometheus (Debian's, proof/tools/install-prometheus) scraping the
# app under gunicorn with several workers, PromQL against what the fake upstream saw;
# promtool on the exposition and on deploy/prometheus/ (rules and their unit tests); the
# stack's nginx passing its request ID through the app's JSON log lines.
PROMETHEUS_BINARIES = PROMETHEUS_BIN="$$(WEATHER_CI_CACHE="$(WEATHER_CI_CACHE)" proof/tools/install-prometheus)"

observability-check: $(INSTALLED) ## Prove metrics (real Prometheus), alert rules and request IDs
	$(PROMETHEUS_BINARIES) $(NGINX_BINARY) \
		$(BIN)/python -m pytest tests/observability -p no:cacheprovider $(PYTEST_ARGS)

clean: ## Remove the virtual environment, caches and the local database
	rm -rf $(VENV) $(K8S_VENV) public .pytest_cache .ruff_cache staticfiles db.sqlite3 db.sqlite3-shm db.sqlite3-wal .coverage coverage.xml reports

bench: $(INSTALLED) ## Benchmark the cached paths against bare Django; writes bench/RESULTS.md
	command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk; }
	$(NGINX_BINARY) $(BIN)/python bench/run.py $(BENCH_ARGS)

bench-slow-clients: $(INSTALLED) ## /healthz with slow clients connected: gunicorn alone vs. behind nginx
	$(NGINX_BINARY) $(BIN)/python bench/slow_clients.py
