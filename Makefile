# Two commands on a fresh machine: `make bench` and `make test`. Both set up .venv first.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
WORKERS ?= 2
SUITE  ?= cognitivedrone-v1
# The shipped default checkpoint when there is one, else the privileged expert.
POLICY ?= $(if $(wildcard checkpoints/default/model.safetensors),checkpoints/default,expert)
PROMPT ?= original
REASONER ?= none

.PHONY: install bench test smoke clean-cache

install: $(STAMP)

ROS_PKG := ros_ws/src/cognitivedrone_ros

$(STAMP): pyproject.toml $(ROS_PKG)/setup.py
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[sim,learn,dev,ros]"
	$(PY) -m pip install --quiet -e $(ROS_PKG)
	touch $(STAMP)

bench: $(STAMP)
	$(VENV)/bin/cognitivedrone bench --suite $(SUITE) --policy $(POLICY) --prompt $(PROMPT) --reasoner $(REASONER) --workers $(WORKERS) --out runs/bench-$(notdir $(POLICY))-$(PROMPT) --video 3

smoke: $(STAMP)
	$(VENV)/bin/cognitivedrone bench --suite smoke --policy $(POLICY) --prompt $(PROMPT) --workers $(WORKERS) --out runs/smoke-$(notdir $(POLICY))-$(PROMPT)

# The ROS 2 wheels install their ament index into the venv; the tests' nodes talk on loopback only.
test: $(STAMP)
	AMENT_PREFIX_PATH=$(CURDIR)/$(VENV) ROS_AUTOMATIC_DISCOVERY_RANGE=LOCALHOST $(PY) -m pytest -n $(WORKERS) --dist loadgroup -q tests

clean-cache:
	rm -rf $${COGNITIVEDRONE_CACHE:-$$HOME/.cache/cognitivedrone}
