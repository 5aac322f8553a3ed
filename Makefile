# Two entry points for a fresh machine (see README.md):
#   make book   — set up .venv and build the book into _build/html
#   make test   — set up .venv and run every check CI runs
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(abspath $(VENV))/bin
export PATH := $(BIN):$(PATH)
export TF_CPP_MIN_LOG_LEVEL ?= 2

NBVAL_FLAGS = --nbval-lax --nbval-current-env --nbval-cell-timeout=600 \
              --nbval-sanitize-with tests/nbval_sanitize.cfg

.PHONY: setup book test lint unit notebooks build clean

$(VENV)/.installed: requirements.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt
	touch $@

setup: $(VENV)/.installed

book: setup
	jupyter-book build .

lint: setup
	ruff check medtools tests chapters

unit: setup
	python -m pytest tests

# Two numeric paths (see README, "Two numeric paths"): nbval executes every notebook with
# TensorFlow's reference CPU kernels (oneDNN off); the book build executes them again with
# TensorFlow's defaults, as a reader's machine does. The weight cache keys on the kernel
# set, so each path trains its own models and both must pass every assert.
notebooks: setup
	TF_ENABLE_ONEDNN_OPTS=0 python -m pytest $(NBVAL_FLAGS) chapters

build: setup
	jupyter-book build . -W -n --keep-going

test: setup
	@start=$$(date +%s); \
	for stage in lint unit notebooks build; do \
	  t0=$$(date +%s); \
	  $(MAKE) --no-print-directory $$stage || exit 1; \
	  echo "== stage $$stage took $$(( $$(date +%s) - t0 )) s"; \
	done; \
	echo "== all checks passed in $$(( $$(date +%s) - start )) s"

clean:
	rm -rf _build
