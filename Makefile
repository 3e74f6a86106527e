# Two commands do all the set-up on a fresh machine (see README):
#   make demo   - create .venv, install, and render a loop (debug model when no weights are downloaded)
#   make test   - create .venv, install, lint, and run the whole test suite (Python + Max for Live JS)
# TORCH pins the PyTorch build: 2.13.0 is a CPU wheel here; on a CUDA machine the same pin from PyPI is
# the CUDA build. Override e.g. `make test TORCH="torch==2.13.0 --index-url ..."`.

PYTHON ?= python3
TORCH ?= torch==2.13.0
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: setup demo serve test bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet "$(TORCH)"
	$(BIN)/pip install --quiet -e ".[dev]"
	touch $(STAMP)

setup: $(STAMP)

demo: $(STAMP)
	$(BIN)/musicgen-bridge generate "warm analog house groove with a deep bassline" \
		--bpm 124 --bars 4 --model auto --out out

serve: $(STAMP)
	$(BIN)/musicgen-bridge serve --model auto

test: $(STAMP)
	$(BIN)/ruff check bridge gui tests
	$(BIN)/python -m pytest -q
	@if [ -d max_for_live/test ]; then cd max_for_live && node --test; fi

bench: $(STAMP)
	$(BIN)/musicgen-bridge bench --arch debug
	$(BIN)/musicgen-bridge bench --arch small --seconds 2

clean:
	rm -rf $(VENV) out
