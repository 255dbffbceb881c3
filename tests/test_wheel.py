"""The built wheel carries everything a user needs (docs/design.md, Package data): installed into a
fresh venv and run from an empty directory, far from the checkout, `bench` and `fly` work with
the suites, art and checkpoints shipped inside it.

The fresh venv borrows the project venv's third-party packages (torch, pybullet, ...) through a
.pth line instead of downloading them again; that line adds a plain folder to sys.path, so the
project venv's editable install of cognitivedrone (a finder run from a .pth file there) is not
in play: the import must come from the wheel, which the test checks.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
import venv
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]

# Not beside the ROS latency test (tests/ros/test_perf_ros.py): a wheel build and its two flights
# take both cores for a minute, and the node there must answer 50 frames a second.
pytestmark = pytest.mark.xdist_group("wheel-and-latency")


def _run(cmd: list[str], cwd: Path, env: dict | None = None, timeout: float = 600) -> str:
    proc = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    assert proc.returncode == 0, f"{' '.join(map(str, cmd))} failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}"
    return proc.stdout


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    """Built from a copy of what git holds (tracked, and new files it does not ignore), as a clean
    clone would be: no build/ left over in the checkout, no ignored exports."""
    src, out = tmp_path_factory.mktemp("source"), tmp_path_factory.mktemp("wheel")
    listed = _run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=REPO).split("\0")
    for rel in filter(None, listed):
        if (REPO / rel).is_file():
            (src / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(REPO / rel, src / rel)
    _run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(out), str(src)],
         cwd=out)
    (path,) = out.glob("cognitivedrone-*.whl")
    return path


@pytest.fixture(scope="module")
def installed(wheel, tmp_path_factory) -> tuple[Path, dict]:
    root = tmp_path_factory.mktemp("fresh")
    venv.EnvBuilder(with_pip=False).create(root / "venv")
    python = root / "venv" / "bin" / "python"
    site = Path(_run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"], cwd=root).strip())
    (site / "borrowed-dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    _run([sys.executable, "-m", "pip", "--python", str(python), "install", "--no-deps", "-q", str(wheel)], cwd=root)
    empty = root / "empty"
    empty.mkdir()
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env.update(COGNITIVEDRONE_CACHE=str(root / "cache"), PATH=f"{root / 'venv' / 'bin'}{os.pathsep}{env.get('PATH', '')}",
               OMP_NUM_THREADS="1")
    return root / "venv", env, empty


def test_the_wheel_ships_the_package_data_and_not_the_exports(wheel):
    names = zipfile.ZipFile(wheel).namelist()
    for needed in ("cognitivedrone/tasks/suites/smoke.json", "cognitivedrone/tasks/suites/cognitivedrone-v1.json",
                   "cognitivedrone/checkpoints/default/model.safetensors", "cognitivedrone/checkpoints/default/config.json",
                   "cognitivedrone/checkpoints/perception/reader.safetensors", "cognitivedrone/sim_assets/billboard.obj",
                   "cognitivedrone/sim_assets/fonts/SOURCE.json"):
        assert needed in names, f"{needed} is not in {wheel.name}"
    assert any(n.startswith("cognitivedrone/sim_assets/art/") for n in names)
    assert not [n for n in names if n.endswith((".onnx", ".plan", "tokenizer.json"))]
    assert any(n.endswith("licenses/LICENSE") for n in names)


def test_the_installed_wheel_imports_from_itself(installed):
    venv_dir, env, empty = installed
    where = _run([str(venv_dir / "bin" / "python"), "-c",
                  "import cognitivedrone, cognitivedrone.resources as r; print(cognitivedrone.__file__); "
                  "print(r.DEFAULT_CHECKPOINT)"], cwd=empty, env=env).split()
    assert all(Path(w).resolve().is_relative_to(venv_dir.resolve()) for w in where), where
    assert not any(Path(w).resolve().is_relative_to(REPO) for w in where)


def test_bench_runs_from_an_empty_directory(installed):
    venv_dir, env, empty = installed
    out = empty.parent / "bench-out"
    _run([str(venv_dir / "bin" / "cognitivedrone"), "bench", "--suite", "smoke", "--limit", "3", "--workers", "1",
          "--policy", "checkpoints/default", "--reasoner", "offline", "--out", str(out), "--quiet"], cwd=empty, env=env)
    results = json.loads((out / "results.json").read_text())
    assert results["n"] == 3 and results["policy"] == "checkpoints/default"
    assert list(empty.iterdir()) == []  # nothing written where it was run from


def test_fly_runs_from_an_empty_directory(installed):
    venv_dir, env, empty = installed
    video = empty.parent / "fly.mp4"
    stdout = _run([str(venv_dir / "bin" / "cognitivedrone"), "fly", "--suite", "smoke", "--video", str(video)],
                  cwd=empty, env=env)
    assert "outcome:" in stdout and video.stat().st_size > 10_000
    assert list(empty.iterdir()) == []
