# Two commands matter: `make run` and `make test`. See README.md.
SHELL := /bin/bash
VENV := .venv
BIN := $(VENV)/bin
PY := $(BIN)/python
RASA := $(BIN)/rasa
MODEL := models/assistant.tar.gz
# Rasa phones home unless told not to; this machine has no internet.
export RASA_TELEMETRY_ENABLED := false
export TF_CPP_MIN_LOG_LEVEL := 2
export PYTHONHASHSEED := 0
export SQLALCHEMY_SILENCE_UBER_WARNING := 1

TRAINING_INPUTS := config.yml domain.yml $(shell find data components -name '*.yml' -o -name '*.py' 2>/dev/null | sort)

.PHONY: install run run-cluster test test-cluster cluster-deps validate validate-deploy lint pytest train shell eval kpi prune bench turns browser-deps clean help bench-console

help:
	@echo "make run     install if needed, train if needed, start everything (Ctrl-C stops)"
	@echo "make test    install if needed, lint, validate data, train, pytest, rasa test"
	@echo "make run-cluster   the production profile: PostgreSQL, Redis, nginx, 2 Rasa, 2 action servers (README, "Production profile")"
	@echo "make test-cluster  its end-to-end and fault tests (tests/cluster; CLUSTER_BASE_PORT, default 7300)"
	@echo "make install | train | shell | eval | clean"
	@echo "make validate-deploy  schema-check deploy/ (Kubernetes manifests, docker-compose.yml) and tests/deploy"
	@echo "make prune   delete expired de-duplication, routing and outbox rows (run it daily)"
	@echo "make bench   load test (locust): 10, 20, 50, 200 customers, single-process then cluster profile; make turns: one customer"
	@echo "make bench-console  a year of 10 000 conversations a day: times the console's dashboard (not in make test)"
	@echo "make kpi     active users, outcomes, deflection, NPS (FROM=YYYY-MM-DD TO=YYYY-MM-DD BY=channel|language|market)"

install: $(VENV)/.installed webchat/node_modules/.installed console/node_modules/.installed

$(VENV)/.installed: requirements.txt
	@py=$$(scripts/find_python310.sh) || exit 1; \
	  [ -x $(PY) ] || { echo "creating $(VENV) with $$py"; "$$py" -m venv $(VENV); }
	$(PY) -m pip install -q --upgrade "pip==24.3.1" "setuptools<70" wheel
	$(PY) -m pip install -q -r requirements.txt
	$(PY) -m pip check
	touch $@

webchat/node_modules/.installed: webchat/package.json webchat/package-lock.json
	@command -v npm >/dev/null || { echo "npm is missing: install Node.js (apt-get install nodejs npm)"; exit 1; }
	cd webchat && npm ci --no-audit --no-fund --loglevel=error
	touch $@

# Chart.js for the operator console's dashboard, served from console/node_modules (offline).
console/node_modules/.installed: console/package.json console/package-lock.json
	@command -v npm >/dev/null || { echo "npm is missing: install Node.js (apt-get install nodejs npm)"; exit 1; }
	cd console && npm ci --no-audit --no-fund --loglevel=error
	touch $@

# Debian's chromium drives the web chat test; installed only when missing.
browser-deps:
	@command -v chromium >/dev/null || scripts/install_chromium.sh

$(MODEL): $(VENV)/.installed $(TRAINING_INPUTS)
	mkdir -p models
	$(RASA) train --fixed-model-name assistant --out models
	touch $@

train: $(MODEL)

validate: $(VENV)/.installed
	$(RASA) data validate --fail-on-warning
	$(PY) scripts/check_nlu.py data/nlu

# ruff (pinned in requirements.txt, settings in pyproject.toml): the linter, and the formatter as a check.
lint: $(VENV)/.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# tests/deploy run in validate-deploy, next to the schema checks.
pytest: install browser-deps $(MODEL)
	$(PY) -m pytest -q tests --ignore=tests/deploy

test: install browser-deps lint validate validate-deploy $(MODEL) pytest
	$(RASA) test core --model $(MODEL) --stories tests/stories --fail-on-prediction-errors --out results/core

# The deployment files (deploy/): Docker and Kubernetes do not run here, so they are validated, not run. The
# validators need newer libraries than Rasa's pins: their own venv, pinned in deploy/requirements-validate.txt.
DEPLOY_VENV := .venv-deploy
$(DEPLOY_VENV)/.installed: deploy/requirements-validate.txt
	@py=$$(scripts/find_python310.sh) || exit 1; \
	  [ -x $(DEPLOY_VENV)/bin/python ] || "$$py" -m venv $(DEPLOY_VENV)
	$(DEPLOY_VENV)/bin/python -m pip install -q -r deploy/requirements-validate.txt
	touch $@

validate-deploy: $(VENV)/.installed $(DEPLOY_VENV)/.installed
	DEPLOY_VENV=$(DEPLOY_VENV) deploy/validate.sh
	$(PY) -m pytest -q tests/deploy

run: install $(MODEL)
	scripts/run.sh

# The production profile on this machine (scripts/cluster.py): Ctrl-C stops everything. CLUSTER_BASE_PORT (7100) and
# CLUSTER_DIR (var/cluster) choose where it listens and keeps its files.
run-cluster: install $(MODEL)
	scripts/cluster.sh run

# Debian's PostgreSQL, Redis and nginx, installed when missing (root; CI runs on a fresh machine).
cluster-deps:
	@missing=""; [ -x /usr/lib/postgresql/15/bin/postgres ] || missing="$$missing postgresql"; \
	  command -v redis-server >/dev/null || missing="$$missing redis-server"; \
	  command -v nginx >/dev/null || missing="$$missing nginx"; \
	  if [ -n "$$missing" ]; then echo "installing$$missing"; apt-get update -q && \
	    DEBIAN_FRONTEND=noninteractive apt-get install -y -q $$missing >/dev/null; fi

# The cluster's end-to-end and fault tests (about 10 minutes), and the Redis lock store's against a real Redis.
test-cluster: install cluster-deps $(MODEL)
	$(PY) -m pytest -q tests/cluster tests/connectors/test_lock_store.py --cluster

shell: install $(MODEL)
	scripts/run.sh --shell

eval: install
	$(PY) scripts/eval_nlu.py

clean:
	rm -rf models results .pytest_cache var $(DEPLOY_VENV)

# make kpi [FROM=YYYY-MM-DD] [TO=YYYY-MM-DD] [BY=channel|language|market]: default the last 30 days
kpi: $(VENV)/.installed
	$(PY) scripts/kpi.py $(if $(FROM),--from $(FROM)) $(if $(TO),--to $(TO)) $(if $(BY),--by $(BY))

# Daily housekeeping of the assistant's own tables (common/state/retention.py says what goes and what stays).
prune: $(VENV)/.installed
	$(PY) -m common.state.retention
# The load tester lives in its own venv: locust's gevent and flask pins need not fit Rasa's.
BENCH_VENV := .venv-bench
$(BENCH_VENV)/.installed: bench/requirements.txt
	@py=$$(scripts/find_python310.sh) || exit 1; \
	  [ -x $(BENCH_VENV)/bin/python ] || { echo "creating $(BENCH_VENV) with $$py"; "$$py" -m venv $(BENCH_VENV); }
	$(BENCH_VENV)/bin/python -m pip install -q "pip==24.3.1"
	$(BENCH_VENV)/bin/python -m pip install -q -r bench/requirements.txt
	touch $@

# make bench [CUSTOMERS=10,20,50,200] [DURATION=60] [PROFILES=single,cluster]; not part of make test (README "Load").
bench: install $(MODEL) $(BENCH_VENV)/.installed
	$(BENCH_VENV)/bin/python bench/run.py $(if $(CUSTOMERS),--customers $(CUSTOMERS)) \
	  $(if $(DURATION),--duration $(DURATION)) $(if $(PROFILES),--profiles $(PROFILES))

# One customer, one turn at a time: p50/p95 of NLU-only turns and of turns with one operator call, CPU per process.
turns: install $(MODEL)
	$(PY) bench/turns.py $(if $(ROUNDS),--rounds $(ROUNDS))

# A year of 10 000 conversations a day in the dashboard's daily aggregate, then the page timed (README "Operator console").
bench-console: install
	$(PY) bench/console.py $(if $(PER_DAY),--per-day $(PER_DAY)) $(if $(DAYS),--days $(DAYS))
