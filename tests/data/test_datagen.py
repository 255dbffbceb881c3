"""`cognitivedrone datagen`: expert demonstrations with DART noise, resumable, in the v3 layout."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest

from cognitivedrone.data.datagen import (
    CLEAN_EVERY,
    DatagenConfig,
    DatagenError,
    committed_suite_seeds,
    free_seeds,
    generate,
    plan_episodes,
)
from cognitivedrone.data.lerobot_format import (
    INFO_PATH,
    STATS_PATH,
    DemoDataset,
    data_path,
    episodes_path,
)

SEED = 11


def _cfg(out, **kw) -> DatagenConfig:
    base = dict(episodes=6, seed=SEED, out=str(out), workers=1, shard_episodes=2)
    base.update(kw)
    return DatagenConfig(**base)


@pytest.fixture(scope="module")
def noisy(tmp_path_factory):
    out = tmp_path_factory.mktemp("dg") / "noisy"
    cfg = _cfg(out, workers=2)  # the process pool path
    return cfg, generate(cfg, progress=False)


@pytest.fixture(scope="module")
def clean(tmp_path_factory):
    out = tmp_path_factory.mktemp("dg") / "clean"
    cfg = _cfg(out, noise_scale=0.0)
    return cfg, generate(cfg, progress=False)


def _arr(table, name):
    return np.array(table.column(name).to_pylist(), dtype=np.float32)


def test_layout_and_totals(noisy):
    cfg, rep = noisy
    root = cfg.out
    assert rep.episodes == 6 and rep.generated_episodes == 6 and rep.skipped_shards == 0 and rep.complete
    for k in range(3):
        assert data_path(root, k).is_file() and episodes_path(root, k).is_file()
    info = json.loads((Path(root) / INFO_PATH).read_text())
    assert info["codebase_version"] == "v3.0" and info["robot_type"] == "cf2x" and info["fps"] == 10
    assert info["total_episodes"] == 6 and info["total_frames"] == rep.frames
    assert info["data_path"] == "data/chunk-{chunk_index:03d}/file-{file_index:03d}.parquet"
    assert info["cognitivedrone"]["datagen"]["seed"] == SEED
    ds = DemoDataset(root)
    assert len(ds) == rep.frames == sum(e["length"] for e in ds.episodes)
    assert info["total_tasks"] == len(ds.tasks)
    t = ds.frames()
    s = t.schema
    assert s.field("observation.image").type == pa.struct([("bytes", pa.binary()), ("path", pa.string())])
    assert s.field("observation.state").type == pa.list_(pa.float32(), 12)
    assert s.field("action").type == pa.list_(pa.float32(), 4) and s.field("action.executed").type == pa.list_(pa.float32(), 4)
    assert s.field("timestamp").type == pa.float32()
    for c in ("frame_index", "episode_index", "index", "task_index"):
        assert s.field(c).type == pa.int64()
    for c in ("instruction", "instruction_simple", "category", "family"):
        assert s.field(c).type == pa.string()
    assert s.field("success").type == pa.bool_() and s.field("next.done").type == pa.bool_()
    assert t.column("index").to_pylist() == list(range(len(t)))
    img = ds.decode_image(t.column("observation.image")[0])
    assert img.shape == (128, 128, 3) and img.dtype == np.uint8
    ids = [e["episode_id"] for e in ds.episodes]
    assert ids == [f"datagen-s{SEED}-{i:04d}" for i in range(6)]
    assert {e["category"] for e in ds.episodes} == {"human", "symbol", "reasoning"}
    for e in ds.episodes:
        rows = t.slice(e["dataset_from_index"], e["length"])
        assert set(rows.column("instruction").to_pylist()) == {e["prompt"]}
        assert set(rows.column("instruction_simple").to_pylist()) == {e["prompt_simpler"]}
        assert set(rows.column("success").to_pylist()) == {e["success"]}
        assert ds.tasks[rows.column("task_index")[0].as_py()] == e["prompt"]
        assert e["tasks"] == [e["prompt"], e["prompt_simpler"]]
        assert rows.column("next.done").to_pylist()[-1] and not any(rows.column("next.done").to_pylist()[:-1])
        np.testing.assert_allclose(_arr(rows, "timestamp"), np.arange(e["length"]) / 10, atol=1e-6)
    st = json.loads((Path(root) / STATS_PATH).read_text())
    for key in ("mean", "std", "min", "max", "count", "q01", "q99"):
        assert key in st["action"]
    assert len(st["action"]["q01"]) == 4 and len(st["observation.state"]["mean"]) == 12
    assert np.array(st["observation.image"]["mean"]).shape == (3, 1, 1)


def test_dart_noise_on_executed_only(noisy):
    cfg, _ = noisy
    ds = DemoDataset(cfg.out)
    t = ds.frames(["action", "action.executed"])
    a = _arr(t, "action")
    lim = np.array([1.5, 1.5, 0.75, 1.5], np.float32)
    assert np.all(np.abs(a) <= lim + 1e-6)
    for e in ds.episodes:
        rows = slice(e["dataset_from_index"], e["dataset_to_index"])
        lab, ex = a[rows], _arr(t, "action.executed")[rows]
        assert np.all(np.abs(ex) <= lim + 1e-6)
        if e["episode_index"] % CLEAN_EVERY == CLEAN_EVERY - 1:
            assert e["noise_sigma"] == [0.0] * 4
            np.testing.assert_array_equal(lab, ex)
        else:
            assert max(e["noise_sigma"]) > 0
            assert np.mean(np.any(lab != ex, axis=1)) > 0.9


def test_noise_free_labels_equal_executed(clean):
    cfg, rep = clean
    ds = DemoDataset(cfg.out)
    t = ds.frames(["action", "action.executed"])
    np.testing.assert_array_equal(_arr(t, "action"), _arr(t, "action.executed"))
    assert rep.successes >= 5 and sum(e["success"] for e in ds.episodes) == rep.successes


def test_resume_regenerates_only_the_interrupted_shard(noisy, tmp_path):
    cfg, rep = noisy
    out = tmp_path / "resumed"
    shutil.copytree(cfg.out, out)  # copy2: mtimes kept
    # Interrupt shard 1: its marker (episodes file) never got renamed into place; stray temp files.
    episodes_path(out, 1).unlink()
    (data_path(out, 1).parent / "file-001.parquet.tmp").write_bytes(b"half-written")
    (episodes_path(out, 1).parent / "file-001.parquet.tmp").write_bytes(b"half-written")
    others = [p(out, k) for k in (0, 2) for p in (data_path, episodes_path)]
    before = {p: os.stat(p).st_mtime_ns for p in others}
    rep2 = generate(_cfg(out), progress=False)  # one worker this time: same content
    assert rep2.skipped_shards == 2 and rep2.generated_episodes == 2 and rep2.complete
    assert {p: os.stat(p).st_mtime_ns for p in others} == before
    assert not list(out.rglob("*.tmp"))
    a, b = DemoDataset(cfg.out), DemoDataset(out)
    assert a.frames().equals(b.frames())
    assert a.episodes == b.episodes and a.tasks == b.tasks
    assert json.loads((out / STATS_PATH).read_text()) == json.loads((Path(cfg.out) / STATS_PATH).read_text())
    ia, ib = (json.loads((Path(r) / INFO_PATH).read_text()) for r in (cfg.out, out))
    assert ia == ib
    # A rerun of a finished dataset flies nothing.
    rep3 = generate(_cfg(out), progress=False)
    assert rep3.skipped_shards == 3 and rep3.generated_episodes == 0 and rep3.episodes == 6


def test_mismatched_config_is_refused(noisy, tmp_path):
    cfg, _ = noisy
    with pytest.raises(DatagenError, match="different configuration.*noise_scale.*new --out"):
        generate(_cfg(cfg.out, noise_scale=0.5), progress=False)
    with pytest.raises(DatagenError, match="shard_episodes"):
        generate(_cfg(cfg.out, shard_episodes=3), progress=False)
    foreign = tmp_path / "foreign"
    foreign.mkdir()
    (foreign / "notes.txt").write_text("mine")
    with pytest.raises(DatagenError, match="not a datagen dataset"):
        generate(_cfg(foreign), progress=False)


def test_episode_seeds_avoid_committed_suites(tmp_path):
    committed = committed_suite_seeds()
    assert len(committed) >= 300 and "smoke" in committed.values()
    plan = plan_episodes(_cfg(tmp_path, episodes=300))
    assert not {e.seed for e in plan} & set(committed)
    assert len({e.seed for e in plan}) == 300
    # A suite whose episode 3 uses the seed datagen would give episode 3: only that one changes.
    suites = tmp_path / "suites"
    suites.mkdir()
    (suites / "taken.json").write_text(json.dumps({"name": "taken", "episodes": [{"seed": plan[3].seed}]}))
    plan2 = plan_episodes(_cfg(tmp_path, episodes=300), suites_dir=suites)
    assert plan2[3].seed != plan[3].seed and plan2[3].seed not in committed
    assert [e.seed for i, e in enumerate(plan2) if i != 3] == [e.seed for i, e in enumerate(plan) if i != 3]
    assert plan_episodes(_cfg(tmp_path, episodes=300), suites_dir=suites)[3].seed == plan2[3].seed  # deterministic


def test_free_seeds_helper():
    assert free_seeds([5, 6, 7], reserved={6})[0::2] == [5, 7]
    out = free_seeds([5, 6, 7], reserved={6})
    assert out[1] not in {5, 6, 7} and out == free_seeds([5, 6, 7], reserved={6})
    dup = free_seeds([9, 9], reserved=set())
    assert dup[0] == 9 and dup[1] != 9


def test_seed_of_a_committed_suite_is_refused(tmp_path):
    smoke = json.loads(next(p for p in committed_suite_paths() if p.stem == "smoke").read_text())
    first = smoke["episodes"][0]["seed"]
    # Find the master seed the smoke suite was made with (its first episode seed reproduces).
    from cognitivedrone.tasks.generate import make_suite

    master = next((s for s in (2024, *range(0, 3000)) if make_suite("x", 1, s).episodes[0].seed == first), None)
    if master is None:
        pytest.skip("smoke suite was not made from a small seed")
    with pytest.raises(DatagenError, match="committed suite 'smoke'.*another --seed"):
        plan_episodes(_cfg(tmp_path, seed=master))
    with pytest.raises(DatagenError):
        generate(_cfg(tmp_path / "x", seed=master), progress=False)
    assert not (tmp_path / "x").exists()  # refused before anything is written


def committed_suite_paths():
    from cognitivedrone.tasks.suite import SUITES_DIR

    return sorted(SUITES_DIR.glob("*.json"))


def test_bad_arguments(tmp_path):
    for kw, msg in ((dict(episodes=0), "episodes"), (dict(seed=-1), "seed"), (dict(shard_episodes=0), "shard"),
                    (dict(noise_scale=-1.0), "noise"), (dict(workers=0), "workers")):
        with pytest.raises(DatagenError, match=msg):
            generate(_cfg(tmp_path / "bad", **kw), progress=False)


def test_cli_pair(tmp_path, capsys):
    from cognitivedrone.cli import main

    out = tmp_path / "cli"
    assert main(["datagen", "--episodes", "2", "--seed", "5", "--out", str(out), "--workers", "1",
                 "--shard-episodes", "1", "--noise-scale", "0.5", "--families", "symbol/digit, symbol/letter",
                 "--quiet"]) == 0
    assert "2 episodes" in capsys.readouterr().out
    made = DemoDataset(out).info["cognitivedrone"]["datagen"]
    assert made["noise_scale"] == 0.5 and made["families"] == ["symbol/digit", "symbol/letter"]
    assert main(["datagen", "--episodes", "3", "--seed", "5", "--out", str(out), "--quiet"]) == 2
    assert "different configuration" in capsys.readouterr().err


def test_families_restrict_the_plan_and_the_identity(tmp_path):
    cfg = _cfg(tmp_path / "fam", episodes=4, families=("reasoning/arithmetic",))
    assert {e.family for e in plan_episodes(cfg)} == {"reasoning/arithmetic"}
    assert cfg.identity()["families"] == ["reasoning/arithmetic"]
    assert "families" not in _cfg(tmp_path / "all").identity()  # older folders still resume


def _children(pid: int) -> list[int]:
    """Live processes whose parent is `pid` (from /proc; zombies count as gone)."""
    out = []
    for d in Path("/proc").iterdir():
        try:
            stat = (d / "stat").read_text()
        except OSError:  # not a process, or it just ended
            continue
        fields = stat[stat.rindex(")") + 2:].split()  # after "pid (comm) ": state, ppid, ...
        if fields[0] != "Z" and int(fields[1]) == pid:
            out.append(int(d.name))
    return out


def _alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat[stat.rindex(")") + 2] != "Z"


def _is_worker(pid: int) -> bool:
    try:
        return b"spawn_main" in Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_workers_end_when_the_parent_is_killed(tmp_path):
    """SIGKILL gives the parent no chance to shut its pool down: the workers must notice alone."""
    cmd = [sys.executable, "-m", "cognitivedrone.cli", "datagen", "--episodes", "40", "--seed", str(SEED),
           "--out", str(tmp_path / "killed"), "--workers", "2", "--shard-episodes", "10", "--quiet"]
    parent = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                              env=dict(os.environ, OMP_NUM_THREADS="1"))
    workers: list[int] = []
    try:
        deadline = time.monotonic() + 60
        while len(workers) < 2 and time.monotonic() < deadline and parent.poll() is None:
            workers = [p for p in _children(parent.pid) if _is_worker(p)]
            time.sleep(0.1)
        assert len(workers) == 2, "the pool's workers never started"
        time.sleep(2.0)  # past their initializer: flying
        parent.kill()
        parent.wait()
        deadline = time.monotonic() + 5
        while any(_alive(p) for p in workers) and time.monotonic() < deadline:
            time.sleep(0.1)
        left = [p for p in workers if _alive(p)]
        assert not left, f"workers {left} outlived their killed parent"
    finally:
        parent.kill()
        parent.wait()
        for p in workers:  # only the ones this test started
            if _alive(p) and _is_worker(p):
                os.kill(p, signal.SIGKILL)


@pytest.mark.parametrize("where", ["under_file", "proc"])
def test_unwritable_out_is_one_line(tmp_path, capsys, where):
    from cognitivedrone.cli import main

    (tmp_path / "file").write_text("x")
    out = tmp_path / "file" / "demos" if where == "under_file" else "/proc/cognitivedrone-no-such/demos"
    rc = main(["datagen", "--episodes", "1", "--seed", "5", "--out", str(out), "--workers", "1", "--quiet"])
    err = capsys.readouterr().err
    assert rc == 2 and err.startswith("cognitivedrone: error: --out ") and err.count("\n") == 1, err
