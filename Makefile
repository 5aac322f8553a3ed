# Two entry points for a fresh machine (see README.md):
#   make book   — set up .venv and build the book into _build/html
#   make test   — set up .venv and run every check CI runs
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(abspath $(VENV))/bin
export PATH := $(BIN):$(PATH)
export TF_CPP_MIN_LOG_LEVEL ?= 2

# Every stage runs through tools/progress.py: one console line per chapter (with an estimate of
# what remains, from tools/timings.json) and a summary; the stage's full output goes to
# _build/logs/<stage>.log, and its last lines are printed when the stage fails.
PROGRESS = python tools/progress.py

# Test processes for the unit tests and the notebooks (pytest-xdist); TEST_WORKERS=1 runs them in one.
TEST_WORKERS ?= 2

NBVAL_FLAGS = --nbval-lax --nbval-current-env --nbval-cell-timeout=600 \
              --nbval-sanitize-with tests/nbval_sanitize.cfg

.PHONY: setup book test quick lint unit notebooks notebooks-paths build browser dist colab-check colab-cells pdf clean

# Preflight, then the install: Python 3.11-3.13 (TensorFlow 2.21 has wheels for no other) with
# a working venv module (Debian/Ubuntu ship it separately), each failure with the exact fix.
$(VENV)/.installed: requirements.txt pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(not (3, 11) <= sys.version_info[:2] <= (3, 13))' 2>/dev/null || { \
	  echo "setup: the book needs Python 3.11, 3.12 or 3.13 (TensorFlow 2.21 has wheels for no other);"; \
	  echo "       PYTHON=$(PYTHON) is: $$($(PYTHON) --version 2>/dev/null || echo 'not found')."; \
	  echo "       Install one (e.g. Debian/Ubuntu: sudo apt-get install python3.11 python3.11-venv;"; \
	  echo "       macOS: brew install python@3.12), then run: make setup PYTHON=python3.12"; \
	  exit 1; }
	@echo "setup: $$($(PYTHON) --version) from $$($(PYTHON) -c 'import sys; print(sys.executable)')"
	@$(PYTHON) -m venv $(VENV) || { \
	  v=$$($(PYTHON) -c 'import sys; print("%d.%d" % sys.version_info[:2])'); \
	  echo "setup: '$(PYTHON) -m venv $(VENV)' failed: this Python's venv module (ensurepip) is missing."; \
	  echo "       Debian/Ubuntu: sudo apt-get install python$$v-venv   then run make setup again."; \
	  exit 1; }
	$(BIN)/python -m pip install --quiet --upgrade pip
	@echo "setup: installing requirements.txt into $(VENV) (TensorFlow, Jupyter Book, ...: a few minutes)"
	$(BIN)/python -m pip install -r requirements.txt
	touch $@

setup: $(VENV)/.installed

book: setup
	$(PROGRESS) book -- jupyter-book build .

lint: setup
	$(PROGRESS) lint -- ruff check medtools tests chapters tools
	$(PROGRESS) types -- mypy

# Two test processes (pytest-xdist): most tests are small and single-threaded.
unit: setup
	$(PROGRESS) unit -- python -m pytest tests --ignore=tests/browser --durations=15 -n $(TEST_WORKERS)

# Lint and the fast unit tests (no training, no benchmark): a minute or two, before every commit.
quick: setup
	$(MAKE) --no-print-directory lint
	python -m pytest tests --ignore=tests/browser -m "not slow" -q

# The chapters' Colab cells run against Colab's published versions (colab-constraints.txt) in a
# stand-in runtime, _build/colab-venv: tools/colab_check.py says what it checks and what not.
colab-check: setup
	python tools/colab_check.py --python $(PYTHON)

# Write every chapter's Colab cell and "Open in Colab" badge from medtools.book's template.
colab-cells: setup
	python -m medtools.book colab-cells

# The PDF edition: the whole book on one page (reusing the executed notebooks of `make book`),
# printed by the system Chromium (tools/pdf.py), then checked (tests/pdf): _build/pdf/book.pdf.
pdf: setup
	$(PROGRESS) pdf -- jupyter-book build . --builder singlehtml
	python tools/pdf.py
	python -m pytest -q tests/pdf

# The package's sdist and wheel in dist/, checked as PyPI would (README "Releasing the package").
dist: setup
	rm -rf dist
	python -m build --outdir dist .
	python -m twine check --strict dist/*

# Numeric paths (see README, "Numeric paths"): nbval executes every notebook with TensorFlow's
# defaults and trains the models; tools/nbval_cache.py stores what it executed in the build's
# jupyter-cache, so the book build (next stage) renders those outputs instead of executing every
# chapter again (a chapter whose code changed since is executed by the build, reusing the trained
# weights through the weight cache). Two chapters run at a time (pytest-xdist, a whole notebook
# per worker): one chapter's kernel keeps about one core busy (its CPU time is about its wall
# time), so two workers use a 2-core machine; TEST_WORKERS=1 runs them one after another.
# notebooks-paths is the author's check before changing a chapter that trains: the same
# notebooks with TensorFlow's reference CPU kernels (oneDNN off) and on one thread, each path
# training its own models (the cache keys on the numeric path) and storing nothing for the build.
NBVAL_PARALLEL = -n $(TEST_WORKERS) --dist loadfile

notebooks: setup
	$(PROGRESS) notebooks -- python -m pytest -v $(NBVAL_FLAGS) $(NBVAL_PARALLEL) -p tools.nbval_cache chapters

notebooks-paths: setup
	TF_ENABLE_ONEDNN_OPTS=0 $(PROGRESS) notebooks-onednn-off -- python -m pytest -v $(NBVAL_FLAGS) $(NBVAL_PARALLEL) chapters
	TF_NUM_INTRAOP_THREADS=1 TF_NUM_INTEROP_THREADS=1 $(PROGRESS) notebooks-one-thread -- python -m pytest -v $(NBVAL_FLAGS) $(NBVAL_PARALLEL) chapters

build: setup
	$(PROGRESS) build -- jupyter-book build . -W -n --keep-going

# Every page of _build/html in headless system Chromium, with no network but 127.0.0.1
# (tests/browser; needs the Debian packages chromium, chromium-driver and fonts-noto-cjk,
# which .ci/run installs), then a chapter opened in a JupyterLab started on 127.0.0.1
# (tests/browser/test_jupyterlab.py: MyST prose rendered by jupyterlab-myst). Screenshots:
# _build/screenshots/.
browser: setup
	$(PROGRESS) browser -- python -m pytest tests/browser

test: setup
	@start=$$(date +%s); \
	for stage in lint unit notebooks build browser; do \
	  t0=$$(date +%s); \
	  $(MAKE) --no-print-directory $$stage || exit 1; \
	  echo "== stage $$stage took $$(( $$(date +%s) - t0 )) s"; \
	done; \
	echo "== all checks passed in $$(( $$(date +%s) - start )) s"

clean:
	rm -rf _build dist
