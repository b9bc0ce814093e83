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

# The Molecule scenarios, in one list, longest first (the pool's order below); `make molecule` runs them
# fastest first, the same list reversed.
POOL_SCENARIOS ?= production cluster runbooks prometheus backup logs grafana postgres_exporter nginx_exporter otel_collector \
                  blackbox_exporter node_exporter cadvisor
reverse = $(if $(1),$(call reverse,$(wordlist 2,$(words $(1)),$(1))) $(firstword $(1)))
SCENARIOS ?= $(strip $(call reverse,$(POOL_SCENARIOS)))
# Test tiers of `make test` (tests/harness/run-tiers.sh). "par:" tiers share a pool of JOBS slots: the host
# images and the mirror are made while the linters run (three at once: jobs=3), then (after "join") the scenarios run two at a
# time, longest first, with the short static tiers filling the last slots. Each scenario has its own docker
# network and controller cache, and most of a scenario's time is waiting on daemons, so two at once on two
# cores take little more than one: the summary prints each tier's seconds and the wall clock.
JOBS ?= 2
export JOBS
TIERS ?= jobs=$(if $(filter 1,$(JOBS)),1,3) par:test-hosts par:lint par:sanity par:build join jobs=$(JOBS) \
         $(addprefix par:molecule-,$(POOL_SCENARIOS)) par:docs par:unit par:rules par:dashboards

.PHONY: help test test-hosts venv collection hosts mirror lint yamllint ansible-lint sanity unit rules dashboards docs \
        molecule demo demo-down bench fleet build clean handlers

help:
	@echo "make demo     - build the local lab and deploy the stack into it (make demo-down removes it)"
	@echo "make bench    - converge/re-run of N lab hosts over SSH against the no-op floor (N=\"1 10 30\")"
	@echo "make fleet    - fleet benchmark: N lab hosts (N=30), two Prometheus shards and a VictoriaMetrics store"
	@echo "make test     - the whole test suite (what .ci/run runs), with a summary table"
	@echo "make lint | build | unit | rules | dashboards | sanity | molecule | molecule-<scenario>"
	@echo "make docs     - build the documentation site into .cache/docs/html (warnings are errors), then check"
	@echo "                its links and open its role, filter and guide pages in headless Chromium"

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

# The documentation site: antsibull-docs pages of the roles, modules and filters plus the guides of docs/, built
# by Sphinx with warnings as errors into .cache/docs/html (tests/docs/build_site.py), then tests/docs checks every
# internal link and opens the pages in headless Chromium (Debian's chromium). Prints the seconds of each part.
docs: venv collection
	@start=$$(date +%s); $(BIN)/python tests/docs/build_site.py && built=$$(date +%s) && \
	  $(BIN)/pytest -q -p no:cacheprovider tests/docs; rc=$$?; end=$$(date +%s); \
	  echo "docs: $$(( $${built:-$$end} - start )) s build, $$(( end - $${built:-$$end} )) s test"; exit $$rc

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

# A benchmark, not a test: converge and re-run of N lab hosts over SSH against the floor of as many no-op
# calls, with and without Mitogen (N="1 10 30" by default; MITOGEN=0 measures plain Ansible only).
bench: venv collection hosts mirror
	@BM_MODES="$(if $(filter 1,$(MITOGEN)),mitogen plain,plain)" bash benchmarks/converge.sh $(or $(N),1 10 30)

# A benchmark, not a test: N lab hosts (default 30) with two Prometheus shards and a VictoriaMetrics store.
fleet: venv collection hosts mirror
	@bash benchmarks/fleet.sh $(or $(N),30)

build: venv
	@mkdir -p $(CACHE)/build
	$(BIN)/ansible-galaxy collection build --force --output-path $(CACHE)/build .
	@bash tests/harness/check-build.sh $(CACHE)/build/monitoring-stack-*.tar.gz

clean:
	rm -rf $(CACHE)/collections $(CACHE)/sanity $(CACHE)/build $(CACHE)/docs

# Render every daemon role's handlers/main.yml from the engine's template.
handlers: venv
	$(BIN)/python tests/harness/render_handlers.py
