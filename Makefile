# Two commands on a fresh machine: `make bench` and `make test`. Both set up .venv first.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
WORKERS ?= 2
SUITE  ?= cognitivedrone-v1
# The system as shipped: the default checkpoint with the offline reasoner in front (the expert,
# which reads no instructions, where no checkpoint is). REASONER=none flies the VLA alone.
POLICY ?= $(if $(wildcard cognitivedrone/checkpoints/default/model.safetensors),checkpoints/default,expert)
PROMPT ?= original
REASONER ?= $(if $(filter expert hover random,$(POLICY)),none,offline)
# Each run gets its own folder, named by what it flew: no run overwrites another's report.
RUN_NAME = $(notdir $(POLICY))-$(PROMPT)-$(subst /,-,$(subst :,-,$(REASONER)))

.PHONY: install bench test smoke clean-cache fuzz

install: $(STAMP)

ROS_PKG := ros_ws/src/cognitivedrone_ros
# `ros2 launch` has no PyPI wheels: where this kit is (beside the repository), it builds the ROS 2
# launch system into the venv, and tests/ros/test_launch.py runs the launch files under it (it
# skips where `ros2 launch` is missing; a ROS machine has it from apt).
LAUNCH_KIT ?= ../shared/ros2-launch-kit

$(STAMP): pyproject.toml $(ROS_PKG)/setup.py
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[sim,learn,dev,ros,cluster]"
	$(PY) -m pip install --quiet -e $(ROS_PKG)
	if [ -f $(LAUNCH_KIT)/install.sh ]; then \
	  bash $(LAUNCH_KIT)/install.sh $(VENV) || echo "ros2 launch was not installed (see above): tests/ros/test_launch.py will skip"; \
	fi
	touch $(STAMP)

bench: $(STAMP)
	$(VENV)/bin/cognitivedrone bench --suite $(SUITE) --policy $(POLICY) --prompt $(PROMPT) --reasoner $(REASONER) --workers $(WORKERS) --out runs/bench-$(RUN_NAME) --overwrite --video 3

smoke: $(STAMP)
	$(VENV)/bin/cognitivedrone bench --suite smoke --policy $(POLICY) --prompt $(PROMPT) --reasoner $(REASONER) --workers $(WORKERS) --out runs/smoke-$(RUN_NAME) --overwrite

# The ROS 2 wheels install their ament index into the venv; the tests' nodes talk on loopback only.
# The slowest dozen tests are listed, so one that grew slow is seen. Timing tests
# (marked solo) run after the rest, alone: beside the other worker's CPU-heavy tests
# a 50 Hz loop on 2 cores misses frames for reasons that are not its own.
test: $(STAMP)
	AMENT_PREFIX_PATH=$(CURDIR)/$(VENV) ROS_AUTOMATIC_DISCOVERY_RANGE=LOCALHOST $(PY) -m pytest -n $(WORKERS) --dist loadgroup -q -m "not solo" --durations=12 tests
	AMENT_PREFIX_PATH=$(CURDIR)/$(VENV) ROS_AUTOMATIC_DISCOVERY_RANGE=LOCALHOST $(PY) -m pytest -n 1 -q -m solo tests

# The fuzz suite at full size (tests/fuzz, also run by `make test` as a small seeded sample): random
# examples, at least 10,000 per test (COGNITIVEDRONE_FUZZ_EXAMPLES=N for more); prints how many
# examples each test ran and how long it took.
fuzz: $(STAMP)
	COGNITIVEDRONE_FUZZ=1 AMENT_PREFIX_PATH=$(CURDIR)/$(VENV) ROS_AUTOMATIC_DISCOVERY_RANGE=LOCALHOST $(PY) -m pytest -n $(WORKERS) --dist loadgroup -q tests/fuzz --hypothesis-show-statistics --durations=0

clean-cache:
	rm -rf $${COGNITIVEDRONE_CACHE:-$$HOME/.cache/cognitivedrone}
