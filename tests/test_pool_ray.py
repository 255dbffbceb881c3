"""The worker pool on Ray (cognitivedrone/pool_ray.py): the same results as the local pool, and
faults: a worker that dies mid-job, a job that always fails, a worker killed mid-datagen."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from cognitivedrone.pool import JobsFailed, parse_executor, run_jobs
from tests import pool_jobs

ray = pytest.importorskip("ray")
REPO = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.xdist_group("ray")  # one Ray at a time on 2 cores


@pytest.fixture(scope="module")
def local_ray():
    """One Ray of two CPUs for the in-process tests (run_jobs then joins it and leaves it up);
    its workers import this repository's tests package."""
    ray.init(num_cpus=2, include_dashboard=False, logging_level="ERROR",
             runtime_env={"env_vars": {"PYTHONPATH": str(REPO)}})
    yield
    ray.shutdown()


def test_the_executor_is_local_or_ray_with_an_optional_address():
    assert parse_executor("local") == ("local", None)
    assert parse_executor("ray") == ("ray", None)
    assert parse_executor("ray:10.0.0.5:6379") == ("ray", "10.0.0.5:6379")
    assert parse_executor("ray:ray://head:10001") == ("ray", "ray://head:10001")
    for bad in ("rai", "local:x", ""):
        with pytest.raises(ValueError, match="expected local, ray, or ray:ADDRESS"):
            parse_executor(bad)


def test_jobs_run_once_each_on_workers_that_init_once(local_ray):
    results, messages = [], []
    run_jobs([(k,) for k in range(8)], pool_jobs.square, pool_jobs.init, ("ray",), workers=2,
             on_result=results.append, on_message=messages.append, executor="ray", log=lambda _: None)
    assert sorted(r[:2] for r in results) == [(k, k * k) for k in range(8)]
    assert {r[2] for r in results} == {"ray"}  # init ran in the worker before its jobs
    assert len({r[3] for r in results}) <= 2 and os.getpid() not in {r[3] for r in results}
    assert sorted(messages) == [("started", k) for k in range(8)]  # notify() reached this process


def test_a_worker_that_dies_is_replaced_and_a_job_that_always_fails_is_named(local_ray, tmp_path):
    results, said = [], []
    with pytest.raises(JobsFailed, match=r"1 job\(s\) failed 3 times, the rest completed: job 2: RuntimeError: "
                                         "a shard that cannot be made"):
        run_jobs([(k, str(tmp_path)) for k in range(5)], pool_jobs.dies_once, workers=2, on_result=results.append,
                 executor="ray", log=said.append)
    assert sorted(results) == [0, 1, 3, 4]  # job 1 once, after its worker died; the rest once each
    assert (tmp_path / "job-1").read_text() == "died"
    assert any("job 1 failed (its worker died" in line for line in said), said
    assert any("1 worker(s) died and were replaced" in line for line in said), said


def _datagen(out: Path, *extra: str, env=None) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "cognitivedrone.cli", "datagen", "--episodes", "24", "--seed", "77",
                             "--out", str(out), "--shard-episodes", "4", "--quiet", *extra],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)


def _digest(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


def test_datagen_on_ray_writes_the_same_dataset_and_survives_a_killed_worker(tmp_path):
    """Same seed, local vs Ray: every file identical. Then a Ray worker is killed (SIGKILL) while
    shards are being made: the run completes and every episode is written exactly once."""
    local = _datagen(tmp_path / "local")
    assert local.wait(timeout=120) == 0, local.stdout.read()
    on_ray = _datagen(tmp_path / "ray", "--executor", "ray")
    assert on_ray.wait(timeout=120) == 0, on_ray.stdout.read()
    assert _digest(tmp_path / "local") == _digest(tmp_path / "ray")

    killed = tmp_path / "killed"
    run = _datagen(killed, "--executor", "ray")
    victim = None
    deadline = time.monotonic() + 60
    while victim is None and time.monotonic() < deadline and run.poll() is None:
        busy = subprocess.run(["pgrep", "-f", "ray::_Worker.run"], capture_output=True, text=True).stdout.split()
        if busy and any((killed / "data").rglob("*.parquet")):  # a shard is in, others are being made
            victim = int(busy[0])
            os.kill(victim, signal.SIGKILL)
        time.sleep(0.05)
    out, _ = run.communicate(timeout=120)
    assert victim is not None, f"no busy Ray worker to kill\n{out}"
    assert run.returncode == 0, out
    assert "died and were replaced" in out, out
    from cognitivedrone.data.lerobot_format import DemoDataset

    table = DemoDataset(killed).frames(["episode_index"])
    episodes = table.column("episode_index").to_pylist()
    assert sorted(set(episodes)) == list(range(24))
    info = json.loads((killed / "meta" / "info.json").read_text())
    assert info["total_episodes"] == 24 and info["cognitivedrone"]["complete"]
    # written once: as many frames as the untouched run, the same files
    assert len(episodes) == json.loads((tmp_path / "local" / "meta" / "info.json").read_text())["total_frames"]
    assert _digest(killed) == _digest(tmp_path / "local")
