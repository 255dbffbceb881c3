# Two commands on a fresh machine: `make bench` and `make test`. Both set up .venv first.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
WORKERS ?= 2
SUITE  ?= cognitivedrone-v1
# Until a trained checkpoint exists, `make bench` flies the privileged expert.
POLICY ?= expert

.PHONY: install bench test smoke clean-cache

install: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[learn,dev]"
	touch $(STAMP)

bench: $(STAMP)
	$(VENV)/bin/cognitivedrone bench --suite $(SUITE) --policy $(POLICY) --workers $(WORKERS) --out runs/bench-$(POLICY) --video 3

smoke: $(STAMP)
	$(VENV)/bin/cognitivedrone bench --suite smoke --policy $(POLICY) --workers $(WORKERS) --out runs/smoke-$(POLICY)

test: $(STAMP)
	$(PY) -m pytest -n $(WORKERS) -q tests

clean-cache:
	rm -rf $${COGNITIVEDRONE_CACHE:-$$HOME/.cache/cognitivedrone}
