"""The LeRobotDataset v3 layout, written from synthetic episodes (no simulator)."""

from __future__ import annotations

import json
import os

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from cognitivedrone.data.lerobot_format import (
    CODEBASE_VERSION,
    DATA_COLUMNS,
    INFO_PATH,
    TASKS_PATH,
    DatasetError,
    DatasetWriter,
    DemoDataset,
    EpisodeRecord,
    data_path,
    encode_image,
    episodes_path,
    image_stats,
    remove_tmp_files,
    write_shard,
)

TASKS = ["go to the zebra", "the big red gate", "go to 7", "the small blue gate"]
SIZE = 16


def _record(index: int, length: int, rng: np.random.Generator) -> tuple[EpisodeRecord, list[np.ndarray]]:
    frames = [rng.integers(0, 256, (SIZE, SIZE, 3), dtype=np.uint8) for _ in range(length)]
    t = 2 * (index % 2)
    meta = {"episode_id": f"ep-{index}", "category": "symbol", "family": "symbol/animal",
            "success": index % 3 != 2, "outcome": "success" if index % 3 != 2 else "timeout",
            "prompt": TASKS[t], "prompt_simpler": TASKS[t + 1], "seed": 100 + index,
            "options": ["a", "b", "c"], "correct": 1, "gates": ["big round red"] * 3, "noise_sigma": [0.1, 0.1, 0.05, 0.2]}
    rec = EpisodeRecord(
        episode_index=index, images=[encode_image(f) for f in frames],
        states=rng.normal(size=(length, 12)).astype(np.float32), actions=rng.normal(size=(length, 4)).astype(np.float32),
        executed=rng.normal(size=(length, 4)).astype(np.float32), task_index=t, meta=meta, image_stats=image_stats(frames),
    )
    return rec, frames


def _write(root, shards=(0, 1, 2), lengths=((3, 5), (4, 2), (6,))):
    """Shards of episodes with the given lengths; returns ({episode_index: frames}, writer)."""
    rng = np.random.default_rng(0)
    frames_of = {}
    index = 0
    for k, lens in enumerate(lengths):
        recs = []
        for n in lens:
            rec, frames = _record(index, n, rng)
            frames_of[index] = (rec, frames)
            recs.append(rec)
            index += 1
        if k in shards:
            write_shard(root, k, recs, fps=10)
    writer = DatasetWriter(root, len(lengths), TASKS, fps=10.0, robot_type="cf2x", image_size=SIZE, extra={"test": True})
    return frames_of, writer


def test_roundtrip_and_global_indices(tmp_path):
    frames_of, writer = _write(tmp_path)
    # Before finalizing, shard 1 holds shard-relative frame indices.
    assert pq.read_table(data_path(tmp_path, 1), columns=["index"]).column("index").to_pylist() == list(range(6))
    info = writer.finalize()
    assert info["codebase_version"] == CODEBASE_VERSION and info["total_episodes"] == 5 and info["total_frames"] == 20
    assert info["splits"] == {"train": "0:5"} and info["video_path"] is None and info["fps"] == 10
    assert set(DATA_COLUMNS) == set(info["features"]) and info["cognitivedrone"]["complete"]
    ds = DemoDataset(tmp_path)
    assert len(ds) == 20 and [e["episode_index"] for e in ds.episodes] == list(range(5))
    t = ds.frames()
    assert t.column("index").to_pylist() == list(range(20))
    assert t.column_names == list(DATA_COLUMNS)
    for e in ds.episodes:
        rec, frames = frames_of[e["episode_index"]]
        rows = t.slice(e["dataset_from_index"], e["length"])
        assert rows.column("episode_index").to_pylist() == [e["episode_index"]] * e["length"]
        assert rows.column("frame_index").to_pylist() == list(range(e["length"]))
        assert rows.column("next.done").to_pylist() == [False] * (e["length"] - 1) + [True]
        np.testing.assert_array_equal(np.array(rows.column("action").to_pylist(), np.float32), rec.actions)
        for i, cell in enumerate(rows.column("observation.image")):
            np.testing.assert_array_equal(ds.decode_image(cell), frames[i])  # PNG is lossless
        assert ds.tasks[rows.column("task_index")[0].as_py()] == rec.meta["prompt"]
        assert e["tasks"] == [rec.meta["prompt"], rec.meta["prompt_simpler"]]
    # Image stats pooled over episodes equal the direct computation.
    allf = np.stack([f for _, fr in frames_of.values() for f in fr]).reshape(-1, 3) / 255.0
    np.testing.assert_allclose(ds.stats["observation.image"]["mean"].reshape(3), allf.mean(0), atol=1e-9)
    np.testing.assert_allclose(ds.stats["observation.image"]["std"].reshape(3), allf.std(0), atol=1e-9)
    assert ds.stats["action"]["q01"].shape == (4,) and ds.stats["action"]["count"].tolist() == [20]


def test_finalize_is_idempotent(tmp_path):
    _, writer = _write(tmp_path)
    writer.finalize()
    files = [data_path(tmp_path, k) for k in range(3)] + [episodes_path(tmp_path, k) for k in range(3)]
    before = [os.stat(p).st_mtime_ns for p in files]
    # A new writer (a rerun) finds nothing to rewrite either.
    DatasetWriter(tmp_path, 3, TASKS, 10.0, "cf2x", SIZE, {}).finalize()
    assert [os.stat(p).st_mtime_ns for p in files] == before


def test_tasks_parquet_has_lerobot_index(tmp_path):
    _, writer = _write(tmp_path)
    writer.finalize()
    t = pq.read_table(tmp_path / TASKS_PATH)
    assert t.schema.field("task_index").type == pa.int64() and t.schema.field("task").type == pa.string()
    assert t.column("task").to_pylist() == TASKS
    meta = json.loads(t.schema.metadata[b"pandas"])
    assert meta["index_columns"] == ["task"]


def test_gap_in_shards_is_reported(tmp_path):
    _, writer = _write(tmp_path, shards=(0, 2))
    info = writer.finalize()
    assert info["total_episodes"] == 3 and not info["cognitivedrone"]["complete"]
    with pytest.raises(DatasetError, match="not contiguous"):
        DemoDataset(tmp_path)


def test_missing_column_names_file_and_column(tmp_path):
    _, writer = _write(tmp_path)
    writer.finalize()
    path = data_path(tmp_path, 1)
    t = pq.read_table(path)
    pq.write_table(t.drop_columns(["action"]), path)
    with pytest.raises(DatasetError) as e:
        DemoDataset(tmp_path)
    assert str(path) in str(e.value) and "'action'" in str(e.value)


def test_missing_data_file(tmp_path):
    _, writer = _write(tmp_path)
    writer.finalize()
    data_path(tmp_path, 2).unlink()
    with pytest.raises(DatasetError, match="data file missing"):
        DemoDataset(tmp_path)


def test_missing_info_and_wrong_version(tmp_path):
    with pytest.raises(DatasetError, match="info.json"):
        DemoDataset(tmp_path)
    _, writer = _write(tmp_path)
    writer.finalize()
    info = json.loads((tmp_path / INFO_PATH).read_text())
    info["codebase_version"] = "v2.1"
    (tmp_path / INFO_PATH).write_text(json.dumps(info))
    with pytest.raises(DatasetError, match="v2.1"):
        DemoDataset(tmp_path)
    (tmp_path / INFO_PATH).unlink()
    with pytest.raises(DatasetError, match="missing"):
        DemoDataset(tmp_path)


def test_remove_tmp_files(tmp_path):
    _, writer = _write(tmp_path)
    writer.finalize()
    stray = data_path(tmp_path, 1).with_name("file-001.parquet.tmp")
    stray.write_bytes(b"half")
    assert remove_tmp_files(tmp_path) == [stray] and not stray.exists()
    assert data_path(tmp_path, 1).exists()


def test_frames_rejects_unknown_column(tmp_path):
    _, writer = _write(tmp_path)
    writer.finalize()
    ds = DemoDataset(tmp_path)
    assert ds.frames(["action", "instruction"]).column_names == ["action", "instruction"]
    with pytest.raises(DatasetError, match="nope"):
        ds.frames(["nope"])
