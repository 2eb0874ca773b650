# The two commands a new user runs: `make lab` and `make test`. Both create .venv first.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
PY     := $(VENV)/bin/python
PORT   ?= 8888
STAMP  := $(VENV)/.installed

.PHONY: setup lab test demo bench dashboard clean

setup: $(STAMP)

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info[:2] < (3, 11))' || \
	  { echo "caselib needs Python 3.11 or newer (found: $(PYTHON))"; exit 1; }
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -e '.[all,test]'
	@touch $@

# Builds the synthetic demo database unless a database is already there
# (CASELIB_DB chooses which), then serves JupyterLab on 127.0.0.1:$(PORT).
# Analysts work on copies of notebooks/ in $(LAB_WORK) (ignored by git), made once and never
# overwritten; a tracked notebook opened anyway is saved without its outputs (the hook).
LAB_WORK ?= work
lab: setup
	@# A team's analyst (CASELIB_SHARED_URL set) works on a copy of the shared store: synced, never a demo.
	$(VENV)/bin/caselib $(if $(CASELIB_SHARED_URL),sync,demo --if-missing)
	$(PY) -m caselib.presentation.lab $(LAB_WORK)
	@# Air-gapped: JupyterLab must never offer to fetch Jupyter's news from the internet.
	@mkdir -p $(VENV)/share/jupyter/lab/settings
	@cp caselib/data/jupyterlab-overrides.json $(VENV)/share/jupyter/lab/settings/overrides.json
	$(VENV)/bin/jupyter lab --ip=127.0.0.1 --port=$(PORT) \
	  $(if $(DISPLAY),,--no-browser) $(if $(filter 0,$(shell id -u)),--allow-root,) \
	  --ServerApp.root_dir=$(CURDIR) --LabApp.default_url=/lab/tree/$(LAB_WORK) \
	  --ContentsManager.pre_save_hook=caselib.presentation.lab.strip_tracked_on_save \
	  --LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate --LabApp.news_url=None

# The management dashboard (Voilà) on 127.0.0.1:$(DASHBOARD_PORT): sources stripped, no code
# execution from the browser, nothing fetched from the internet (template dashboards/voila).
DASHBOARD_PORT ?= $(if $(filter command line environment,$(origin PORT)),$(PORT),8866)
dashboard: setup
	$(VENV)/bin/caselib $(if $(CASELIB_SHARED_URL),sync,demo --if-missing)
	JUPYTER_PATH=$(CURDIR)/dashboards$${JUPYTER_PATH:+:$$JUPYTER_PATH} $(VENV)/bin/voila \
	  dashboards/management.ipynb --Voila.ip=127.0.0.1 --port=$(DASHBOARD_PORT) --no-browser \
	  --template=caselib --strip_sources=True --show_tracebacks=False \
	  --VoilaConfiguration.multi_kernel_manager_class=caselib.presentation.dashboard_kernels.DashboardKernelManager

# Lint first: a ruff finding fails `make test` before the (long) test suite starts.
LINTED := caselib tests benchmarks data/boundaries
test: setup
	$(VENV)/bin/ruff check $(LINTED)
	$(PY) -m pytest

demo: setup
	$(VENV)/bin/caselib demo

# Load benchmark: caselib's CSV, Parquet, JSONL and JSON loads (first load, unchanged re-load,
# 1 % triage re-export) each beside DuckDB's own reader in the same run, at BENCH_LOAD_TIPS
# sizes (BENCH_LOAD_TIPS="30000 2000000 10000000" adds 10M), results in bench-results/load_<N>.*;
# then the widgets' server-side time, then the same interactions timed in headless Chromium
# (JupyterLab and the Voilà dashboard, network blocked) at 30,000 and BENCH_TIPS tips; then
# near-duplicate clustering, language detection and name extraction at 30,000 and BENCH_TIPS;
# then team mode: 1, 4 and 16 analysts (processes) deciding against one PostgreSQL server for
# BENCH_TEAM_SECONDS each on a campaign of BENCH_TEAM_TIPS tips (bench-results/team-<N>.*).
BENCH_LOAD_TIPS ?= 30000 2000000
BENCH_TIPS ?= 1000000
BENCH_TEAM_TIPS ?= 1000000
BENCH_TEAM_SECONDS ?= 30
bench: setup
	$(PY) benchmarks/bench_load.py --tips $(BENCH_LOAD_TIPS)
	$(PY) benchmarks/bench_widgets.py --tips 30000
	$(PY) benchmarks/bench_widgets.py --tips $(BENCH_TIPS)
	$(PY) benchmarks/bench_browser.py --tips 30000 $(BENCH_TIPS)
	mkdir -p bench-results
	$(PY) benchmarks/bench_clusters.py --tips 30000 $(BENCH_TIPS) > bench-results/clusters.txt && cat bench-results/clusters.txt
	$(PY) benchmarks/bench_languages.py --tips 30000 $(BENCH_TIPS) > bench-results/languages.txt && cat bench-results/languages.txt
	$(PY) benchmarks/bench_names.py --tips 30000 $(BENCH_TIPS) > bench-results/names.txt && cat bench-results/names.txt
	$(PY) benchmarks/bench_team.py --tips $(BENCH_TEAM_TIPS) --seconds $(BENCH_TEAM_SECONDS) --analysts 1 4 16

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis
