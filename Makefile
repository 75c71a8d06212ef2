# RustMemDB Lab — developer entry points.
#
#   make lab     open the tour notebook in JupyterLab (LAB_ARGS="--port=9999" adds flags)
#   make test    run the whole test suite (creates .venv on first use)
#   make demo    execute the tour notebook headless, print the executed copy's path
#   make bench   run every benchmark suite and print ratio tables
#   make soak    1,000 SIGKILL crash cycles plus 5x the fault-injection cases (durability)
#   make clean   remove caches and generated files (keeps .venv; `make distclean` drops it)
#
# Everything runs inside .venv, created from $(PYTHON) when missing. The install step is
# skipped when a stamp keyed on the content of both pyproject files is present, so
# `make test` is fast after the first run.

SHELL   := /bin/bash
PYTHON  ?= python3
VENV    ?= .venv
VPY     := $(VENV)/bin/python
PIP     := $(VPY) -m pip
NOTEBOOK ?= notebooks/00-tour.ipynb
EXECUTED_DIR ?= notebooks/executed
PYTEST_ARGS ?=
BENCH_ARGS ?=
LAB_ARGS ?=

# jupysql (test/bench extra) must not phone home for telemetry or version checks.
export PLOOMBER_STATS_ENABLED ?= false
export PLOOMBER_VERSION_CHECK_DISABLED ?= true

PYPROJECTS := pyproject.toml engine/pyproject.toml
STAMP := $(VENV)/.installed-$(shell cat $(PYPROJECTS) 2>/dev/null | sha1sum | cut -c1-12)

# The JupyterLab front end (labextension/, TypeScript) is rebuilt only when its sources
# change: jlpm (JupyterLab's pinned yarn) installs the npm packages pinned by yarn.lock and
# builds the prebuilt extension into rustmemodb_lab/labextension/, which
# `jupyter labextension develop` links into the venv's share/jupyter/labextensions/.
LABEXT_SRC := $(wildcard labextension/src/*.ts labextension/style/*) \
	labextension/package.json labextension/yarn.lock labextension/tsconfig.json
LABEXT_STAMP := $(VENV)/.labextension-built

.PHONY: venv lab demo test bench soak clean distclean

venv: $(STAMP) $(LABEXT_STAMP)

$(STAMP):
	@if [ ! -x "$(VPY)" ]; then \
		echo ">> creating $(VENV) with $(PYTHON)"; \
		$(PYTHON) -m venv $(VENV) && $(PIP) install -q --upgrade pip; \
	fi
	@echo ">> installing rustmemodb[cli] (engine/) and rustmemodb-lab[test,bench] editable"
	$(PIP) install -q -e './engine[cli,server,persist,rest,cluster-dask,cluster-ray]' -e '.[test,bench]'
	@# jupysql (comparison only) pulls in jupysql-plugin, a JupyterLab extension that also
	@# claims %%sql cells and is built for an older JupyterLab: keep it out of our UI.
	@-$(VENV)/bin/jupyter labextension disable --level=sys_prefix jupysql-plugin >/dev/null 2>&1
	@rm -f $(VENV)/.installed-*
	@touch $@

$(LABEXT_STAMP): $(STAMP) $(LABEXT_SRC)
	@bash .ci/ensure-node
	@echo ">> building the JupyterLab extension (labextension/ -> rustmemodb_lab/labextension/)"
	cd labextension && PATH="$(abspath $(VENV))/bin:$$PATH" jlpm install --immutable >/dev/null \
		&& PATH="$(abspath $(VENV))/bin:$$PATH" jlpm build:prod
	PATH="$(abspath $(VENV))/bin:$$PATH" $(VENV)/bin/jupyter labextension develop --overwrite . >/dev/null
	@touch $@

# Containers (and CI machines) run as root, where JupyterLab refuses to start without
# --allow-root. The news prompt ("get notified about official Jupyter news?") appears
# while the setting fetchNews is "none"; a settings override (overrides.d, the place
# JupyterLab reads per-package defaults from; a user's own choice still wins) sets it to
# "false", and the server flags turn off the news feed and the update check it would fetch.
LAB_OVERRIDES := $(VENV)/share/jupyter/lab/settings/overrides.d/rustmemodb-lab.json
LAB_FLAGS := --LabApp.news_url=None --LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate \
	$(if $(filter 0,$(shell id -u)),--allow-root)

lab: venv $(LAB_OVERRIDES)
	$(VENV)/bin/jupyter lab $(LAB_FLAGS) $(LAB_ARGS) $(NOTEBOOK)

$(LAB_OVERRIDES): labextension/overrides.json
	@mkdir -p $(dir $@)
	cp $< $@

demo: venv
	@mkdir -p $(EXECUTED_DIR)
	$(VENV)/bin/jupyter nbconvert --to notebook --execute \
		--ExecutePreprocessor.timeout=600 --ExecutePreprocessor.kernel_name=python3 \
		--output-dir $(EXECUTED_DIR) $(NOTEBOOK)
	@echo "executed notebook: $(EXECUTED_DIR)/$(notdir $(NOTEBOOK))"

# Browser tests need Debian's chromium; .ci/ensure-chromium installs it when it can and
# the browser tests skip themselves when it is absent. pytest's exit code is kept, except
# that 5 ("no tests collected") is turned into a failure.
test: venv
	@bash .ci/ensure-chromium || echo ">> chromium not available: browser tests will skip"
	@rc=0; $(VPY) -m pytest -q -p no:cacheprovider $(PYTEST_ARGS) tests || rc=$$?; \
	if [ $$rc -eq 5 ]; then echo ">> pytest collected no tests: failing"; exit 1; fi; \
	exit $$rc

bench: venv
	$(VPY) -m bench $(BENCH_ARGS)

# Durability soak: the crash loop of tests/engine/test_crash.py for SOAK_CYCLES cycles and
# the fault-injection suite with SOAK_FAULT_SCALE times as many damaged positions.
SOAK_CYCLES ?= 1000
SOAK_FAULT_SCALE ?= 5
soak: venv
	RUSTMEMODB_CRASH_CYCLES=$(SOAK_CYCLES) RUSTMEMODB_FAULT_SCALE=$(SOAK_FAULT_SCALE) \
		$(VPY) -m pytest -q -p no:cacheprovider --timeout=0 $(PYTEST_ARGS) \
		tests/engine/test_crash.py tests/engine/test_fault_injection.py

clean:
	rm -rf $(EXECUTED_DIR) .pytest_cache .hypothesis build dist
	find . -path ./$(VENV) -prune -o -name __pycache__ -type d -print0 | xargs -0 rm -rf
	find . -path ./$(VENV) -prune -o -name '*.egg-info' -type d -print0 | xargs -0 rm -rf
	rm -f bench/results/*.tmp

distclean: clean
	rm -rf $(VENV)
