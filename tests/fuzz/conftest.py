"""The fuzz suite's hypothesis settings ("Hardening: nothing unsafe reaches the motors, no message
kills a node").

Two profiles, applied per test through `fuzz_settings(n)` (never loaded globally, so the other
test modules' hypothesis settings stay as they are):

- cognitivedrone-ci (default): a seeded sample (`derandomize=True`, no example database) of `n`
  examples per test, sized so that all of tests/fuzz runs in under 2 minutes on 2 cores;
- cognitivedrone-fuzz (COGNITIVEDRONE_FUZZ=1, `make fuzz`): random, at least 10,000 examples per
  test (COGNITIVEDRONE_FUZZ_EXAMPLES to change it).

ROS domain ids: the ROS handler tests (test_ros_handlers.py, xdist group "fuzz-ros") create their
nodes in-process on ROS_DOMAIN_ID 100 + (xdist worker index % 2), i.e. 100..101: apart from
tests/ros (10..89 per test, 90..99 module fixtures and `perf`), and still below Fast DDS's ports'
limit (ids up to 101). The nodes' handlers are called directly; nothing goes over DDS.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

FUZZ = os.environ.get("COGNITIVEDRONE_FUZZ", "") not in ("", "0")
FUZZ_EXAMPLES = max(10_000, int(os.environ.get("COGNITIVEDRONE_FUZZ_EXAMPLES", "10000") or 10_000))

_COMMON = dict(
    deadline=None,  # a node's first message loads a model; timing is not the property here
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much,
                           HealthCheck.large_base_example, HealthCheck.function_scoped_fixture],
    database=None,  # nothing written into the working tree; failures print their reproduce blob
    print_blob=True,
)
settings.register_profile("cognitivedrone-ci", derandomize=True, max_examples=100, **_COMMON)
settings.register_profile("cognitivedrone-fuzz", derandomize=False, max_examples=FUZZ_EXAMPLES, **_COMMON)
PROFILE_NAME = "cognitivedrone-fuzz" if FUZZ else "cognitivedrone-ci"
PROFILE = settings.get_profile(PROFILE_NAME)


def fuzz_settings(ci_examples: int, **overrides) -> settings:
    """The profile's settings for one test: `ci_examples` in the CI sample, FUZZ_EXAMPLES under
    COGNITIVEDRONE_FUZZ=1."""
    return settings(PROFILE, max_examples=FUZZ_EXAMPLES if FUZZ else ci_examples, **overrides)
