# monitoring.stack developer and CI entry points. `make test` is the whole suite.
SHELL := /bin/bash
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
CACHE := .cache
export ANSIBLE_CONFIG := $(CURDIR)/ansible.cfg
export PATH := $(CURDIR)/$(BIN):$(PATH)
# Converges run under Mitogen's strategy (docs/performance.md); MITOGEN=0 runs plain Ansible.
MITOGEN ?= 1
ifeq ($(MITOGEN),1)
export ANSIBLE_STRATEGY_PLUGINS = $(shell ls -d $(CURDIR)/$(VENV)/lib/python3*/site-packages/ansible_mitogen/plugins/strategy 2>/dev/null | head -n1)
export ANSIBLE_STRATEGY := mitogen_linear
endif

# Molecule scenarios run by `make molecule`, fastest first.
SCENARIOS ?= node_exporter cadvisor blackbox_exporter nginx_exporter postgres_exporter grafana logs prometheus backup stack runbooks production
# Test tiers of `make test`, in order: fast static and unit tiers first. The production scenario, the longest,
# starts in the background once the host images and the mirror exist and runs alongside the other scenarios
# (tests/harness/run-tiers.sh, "bg:<tier>"); it keeps its own controller cache, so nothing is unpacked twice at once.
# CI_SCENARIOS leaves production out of `make test` for now: with it the run measured ~89 min on the 2-core CI
# machine (limit 90); `make molecule-production` runs it, and TIERS="... bg:molecule-production ..." in the background.
CI_SCENARIOS ?= $(filter-out production,$(SCENARIOS))
TIERS ?= lint build unit rules dashboards sanity test-hosts $(addprefix molecule-,$(CI_SCENARIOS))

.PHONY: help test test-hosts venv collection hosts mirror lint yamllint ansible-lint sanity unit rules dashboards \
        molecule demo demo-down bench build clean handlers

help:
	@echo "make demo     - build the local lab and deploy the stack into it (make demo-down removes it)"
	@echo "make bench    - converge benchmark for N lab hosts (N=\"1 5 10\")"
	@echo "make test     - the whole test suite (what .ci/run runs), with a summary table"
	@echo "make lint | build | unit | rules | dashboards | sanity | molecule | molecule-<scenario>"

test: venv collection
	@bash tests/harness/run-tiers.sh $(TIERS)

# ---- setup ----------------------------------------------------------------
venv: $(BIN)/.installed
$(BIN)/.installed: requirements.txt constraints.txt
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q -r requirements.txt -c constraints.txt
	touch $@

# The collection is found as ansible_collections/monitoring/stack through a symlink.
collection:
	@mkdir -p $(CACHE)/collections/ansible_collections/monitoring
	@ln -sfn ../../../.. $(CACHE)/collections/ansible_collections/monitoring/stack

hosts:
	@bash tests/harness/ensure-docker.sh
	@bash tests/harness/build-images.sh

mirror:
	@bash tests/harness/build-mirror.sh

# ---- tiers ----------------------------------------------------------------
# Both linters run even when the first one fails.
lint: venv collection
	@rc=0; $(MAKE) --no-print-directory yamllint || rc=1; $(MAKE) --no-print-directory ansible-lint || rc=1; exit $$rc
yamllint: venv
	$(BIN)/yamllint -s .
ansible-lint: venv collection
	$(BIN)/ansible-lint --profile production

sanity: venv
	@bash tests/harness/sanity.sh

unit: venv collection mirror
	$(BIN)/pytest -q -p no:cacheprovider tests/unit tests/static tests/dashboards

dashboards: venv collection mirror
	$(BIN)/python tests/dashboards/check_dashboards.py

rules: venv collection mirror
	$(BIN)/python tests/rules/run_promtool.py

molecule: $(addprefix molecule-,$(SCENARIOS))
# The host images, the mirror and the collection link every scenario needs, made once before scenarios run in parallel.
test-hosts: venv collection hosts mirror
	@echo "host images, mirror and collection are ready"
molecule-%: venv collection hosts mirror
	cd $(CURDIR) && $(BIN)/molecule test -s $*

# ---- use ------------------------------------------------------------------
demo: venv collection hosts mirror
	@bash tests/harness/demo.sh

demo-down:
	@bash tests/harness/lab.sh down

# A benchmark, not a test: converge/re-run times for N lab hosts (N=1 5 10 by default).
bench: venv collection hosts mirror
	@bash benchmarks/converge.sh $(or $(N),1 5 10)

build: venv
	@mkdir -p $(CACHE)/build
	$(BIN)/ansible-galaxy collection build --force --output-path $(CACHE)/build .
	@bash tests/harness/check-build.sh $(CACHE)/build/monitoring-stack-*.tar.gz

clean:
	rm -rf $(CACHE)/collections $(CACHE)/sanity $(CACHE)/build

# Render every daemon role's handlers/main.yml from the engine's template.
handlers: venv
	$(BIN)/python tests/harness/render_handlers.py
