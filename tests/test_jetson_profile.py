"""The Jetson profile (deploy/jetson/constraints-jp6-humble.txt) resolves: pip, asked for README's
drone install as a JetPack 6 machine would ask (CPython 3.10, aarch64, glibc 2.35), finds a wheel
for every package within the constraints, and no torch. Needs PyPI (the one network this project
may use); skipped where pip cannot reach it."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from packaging.requirements import Requirement

tomllib = pytest.importorskip("tomllib")  # Python 3.11+

REPO = Path(__file__).resolve().parents[1]
CONSTRAINTS = REPO / "deploy" / "jetson" / "constraints-jp6-humble.txt"
ALSO = ["rosbags", "pyyaml", "cuda-python"]  # README's Jetson install names these beside the extra
GLIBC = 35  # Ubuntu 22.04
UNREACHABLE = ("Could not fetch URL", "NewConnectionError", "Max retries exceeded", "Temporary failure in name resolution")


def drone_requirements() -> list[str]:
    """What `pip install '.[drone]'` asks for: the core dependencies and the drone extra."""
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    return [*project["dependencies"], *project["optional-dependencies"]["drone"]]


def test_the_jetson_profile_resolves_for_python_3_10_on_aarch64(tmp_path):
    report = tmp_path / "report.json"
    platforms = [a for v in range(GLIBC, 16, -1) for a in ("--platform", f"manylinux_2_{v}_aarch64")]
    run = subprocess.run([sys.executable, "-m", "pip", "install", "--dry-run", "--ignore-installed", "--quiet",
                          "--report", str(report), *platforms, "--python-version", "3.10", "--implementation", "cp",
                          "--abi", "cp310", "--only-binary=:all:", "-c", str(CONSTRAINTS), *drone_requirements(), *ALSO],
                         capture_output=True, text=True, timeout=300)
    if run.returncode != 0 and any(s in run.stderr for s in UNREACHABLE):
        pytest.skip(f"PyPI is not reachable: {run.stderr.strip().splitlines()[-1]}")
    assert run.returncode == 0, run.stderr[-3000:]
    picked = {re.sub(r"[-_.]+", "-", i["metadata"]["name"]).lower(): i["metadata"]["version"]
              for i in json.loads(report.read_text())["install"]}
    constraints = [Requirement(line.split("#")[0]) for line in CONSTRAINTS.read_text().splitlines()
                   if line.split("#")[0].strip()]
    for c in constraints:
        assert c.name in picked and c.specifier.contains(picked[c.name]), (c, picked.get(c.name))
    assert picked["numpy"].startswith("1.") and picked["cuda-python"].startswith("12.6")
    for wanted in ("onnxruntime", "tokenizers", "pillow", "rosbags"):
        assert wanted in picked
    assert not [n for n in picked if n in ("torch", "transformers", "pybullet")]
