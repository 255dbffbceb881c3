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


# -- hostile data: every problem is a DatasetError naming the file, the row and what is wrong ----

def _replace_column(path, name, values, type_=None):
    t = pq.read_table(path)
    i = t.column_names.index(name)
    pq.write_table(t.set_column(i, name, pa.array(values, type_ or t.schema.field(name).type)), path)


@pytest.mark.parametrize("bad", [b"\x89PNG\r\n\x1a\n" + b"garbage" * 20, "truncated", "other size", None])
def test_corrupt_image_names_file_row_and_episode(tmp_path, bad):
    _, writer = _write(tmp_path)
    writer.finalize()
    path = data_path(tmp_path, 1)  # episodes 2 (4 frames) and 3 (2 frames)
    cells = pq.read_table(path).column(DATA_COLUMNS[0]).to_pylist()
    if bad == "truncated":
        bad = cells[5]["bytes"][: len(cells[5]["bytes"]) // 2]
    elif bad == "other size":
        bad = encode_image(np.zeros((SIZE * 2, SIZE, 3), np.uint8))
    cells[5] = {"bytes": bad, "path": None}
    _replace_column(path, DATA_COLUMNS[0], cells)
    ds = DemoDataset(tmp_path)
    with pytest.raises(DatasetError) as e:
        ds.frames([DATA_COLUMNS[0], "action"])
    msg = str(e.value)
    assert str(path) in msg and "row 5" in msg and "episode 3" in msg and "image" in msg, msg


@pytest.mark.parametrize("values, type_, match", [
    ([[0.1, 0.2, 0.3]] * 6, pa.list_(pa.float32(), 3), r"row 0 .*'action' has 3 values, expected 4"),
    ([[0.1] * 4] * 3 + [[0.1] * 5] + [[0.1] * 4] * 2, pa.list_(pa.float32()), r"row 3 .*'action' has 5 values, expected 4"),
    ([[0.1] * 4] * 2 + [None] + [[0.1] * 4] * 3, pa.list_(pa.float32(), 4), r"row 2 .*'action' is null"),
    ([[0.1] * 4] * 4 + [[0.1, float("nan"), 0.1, 0.1]] + [[0.1] * 4], pa.list_(pa.float32(), 4), r"row 4 .*'action' holds NaN"),
    (["fast"] * 6, pa.string(), r"'action' is string, expected a list of 4 numbers"),
])
def test_wrong_action_shapes_name_file_and_row(tmp_path, values, type_, match):
    _, writer = _write(tmp_path)
    writer.finalize()
    path = data_path(tmp_path, 1)
    _replace_column(path, "action", values, type_)
    ds = DemoDataset(tmp_path)
    with pytest.raises(DatasetError, match=match) as e:
        ds.frames(["action", "observation.state"])
    assert str(path) in str(e.value)
    ds.frames(["instruction"])  # columns not asked for are not checked


@pytest.mark.parametrize("change, match", [
    ({"q99": [1e308] * 4}, "stats.json: .*'action'.*1e\\+03"),
    ({"q01": [1.0] * 4, "q99": [0.0] * 4}, "stats.json: .*'action'.*q99 must be >= q01"),
    ({"q01": [0.0] * 3}, "stats.json: .*'action'"),
])
def test_absurd_action_stats_are_refused(tmp_path, change, match):
    _, writer = _write(tmp_path)
    writer.finalize()
    stats = json.loads((tmp_path / "meta/stats.json").read_text())
    stats["action"].update(change)
    (tmp_path / "meta/stats.json").write_text(json.dumps(stats))
    with pytest.raises(DatasetError, match=match):
        DemoDataset(tmp_path)


@pytest.mark.parametrize("name", [INFO_PATH, "meta/stats.json"])
@pytest.mark.parametrize("text, match", [("[" * 100_000 + "]" * 100_000, "nested"), ('{"a": NaN}', "NaN"), ("{", "not valid JSON")])
def test_hostile_json_is_one_dataset_error(tmp_path, name, text, match):
    _, writer = _write(tmp_path)
    writer.finalize()
    (tmp_path / name).write_text(text)
    with pytest.raises(DatasetError, match=match) as e:
        DemoDataset(tmp_path)
    assert name in str(e.value)


# -- regressions from tests/fuzz/test_dataset_reader.py ----------------------------------------------

def _rewrite_info(root, **change):
    info = json.loads((root / INFO_PATH).read_text())
    (root / INFO_PATH).write_text(json.dumps({**info, **change}))


@pytest.mark.parametrize("template, match", [
    ("{chunk_index[0]}", "only use"),  # was TypeError
    ("{chunk_index:>99999999999}", "only use"),  # was MemoryError
    ("{chunk_index!r}", "only use"),
    ("{0}/{file_index}", "only use"),
    ("{chunk_index", "not a path template"),
    ("x" * 5000, "5000 characters"),  # was OSError: file name too long
    ("/etc/{chunk_index}", "inside the dataset folder"),
    ("data/../../{chunk_index}/{file_index}", "inside the dataset folder"),
    (5, "path string"),
    ("", "path string"),
    ("data/{chunk_index}\n{file_index}", "printable"),  # a newline would split the error message
])
def test_hostile_data_path_is_one_dataset_error(tmp_path, template, match):
    _, writer = _write(tmp_path)
    writer.finalize()
    _rewrite_info(tmp_path, data_path=template)
    with pytest.raises(DatasetError, match=match) as e:
        DemoDataset(tmp_path)
    assert INFO_PATH in str(e.value) and "\n" not in str(e.value)


def test_data_path_through_a_symlink_out_of_the_folder_is_refused(tmp_path):
    root, outside = tmp_path / "ds", tmp_path / "elsewhere"
    _, writer = _write(root)
    writer.finalize()
    (root / "data").rename(outside)
    (root / "data").symlink_to(outside)
    with pytest.raises(DatasetError, match="outside the dataset folder"):
        DemoDataset(root)


def test_data_path_with_other_integer_specs_reads(tmp_path):
    _, writer = _write(tmp_path)
    writer.finalize()
    for k in range(3):
        data_path(tmp_path, k).rename(tmp_path / "data" / f"c{0:d}-f{k:05d}.parquet")
    _rewrite_info(tmp_path, data_path="data/c{chunk_index:d}-f{file_index:05d}.parquet")
    assert len(DemoDataset(tmp_path).frames(["index"])) == 20


@pytest.mark.parametrize("value", [[[1.0], [1.0, 2.0]], "x", "\n", None, {"a": 1}])
def test_malformed_stats_values_are_a_dataset_error(tmp_path, value):
    _, writer = _write(tmp_path)
    writer.finalize()
    stats = json.loads((tmp_path / "meta/stats.json").read_text())
    stats["observation.state"]["mean"] = value  # ragged lists were numpy's ValueError
    (tmp_path / "meta/stats.json").write_text(json.dumps(stats))
    with pytest.raises(DatasetError, match=r"stats\.json: 'observation\.state' 'mean'") as e:
        DemoDataset(tmp_path)
    assert "\n" not in str(e.value)


@pytest.mark.parametrize("values, type_", [
    ([[0.5, -0.5, 0.25, 1.0]] * 6, pa.list_(pa.float32())),
    ([[0.5, -0.5, 0.25, 1.0]] * 6, pa.list_(pa.float64())),
    ([[1, 2, 3, 4]] * 6, pa.list_(pa.int64())),
])
def test_data_files_with_other_vector_types_read_as_one(tmp_path, values, type_):
    """Was pyarrow.ArrowInvalid from concat_tables: list<float> here, fixed_size_list<float>[4] there."""
    _, writer = _write(tmp_path)
    writer.finalize()
    _replace_column(data_path(tmp_path, 1), "action", values, type_)
    t = DemoDataset(tmp_path).frames(["action", "index"])
    assert t.schema.field("action").type == pa.list_(pa.float32(), 4)
    np.testing.assert_allclose(np.array(t.column("action").to_pylist())[8:14], np.array(values, np.float32))


def test_vector_values_beyond_float32_are_refused(tmp_path):
    _, writer = _write(tmp_path)
    writer.finalize()
    path = data_path(tmp_path, 1)
    _replace_column(path, "action", [[0.1] * 4] + [[1e300, 0.0, 0.0, 0.0]] + [[0.1] * 4] * 4, pa.list_(pa.float64()))
    with pytest.raises(DatasetError, match=r"row 1 .*'action' holds values beyond float32"):
        DemoDataset(tmp_path).frames(["action"])


def test_data_files_of_types_that_do_not_convert_are_a_dataset_error(tmp_path):
    _, writer = _write(tmp_path)
    writer.finalize()
    path = data_path(tmp_path, 2)
    _replace_column(path, "instruction", [b"\xff"] * 6, pa.binary())  # not UTF-8: no string
    with pytest.raises(DatasetError) as e:
        DemoDataset(tmp_path).frames(["instruction"])
    msg = str(e.value)
    assert str(path) in msg and "'instruction' is binary" in msg and "\n" not in msg


@pytest.mark.parametrize("entry", [[], "yes", "\n", None, 1, {"complete": "no"}])
def test_cognitivedrone_entry_must_be_an_object(tmp_path, entry):
    _, writer = _write(tmp_path)
    writer.finalize()
    _rewrite_info(tmp_path, cognitivedrone=entry)  # a list was AttributeError from .complete
    with pytest.raises(DatasetError, match=r"info\.json: 'cognitivedrone'") as e:
        DemoDataset(tmp_path)
    assert "\n" not in str(e.value)
    _rewrite_info(tmp_path, cognitivedrone={"complete": False})
    assert DemoDataset(tmp_path).complete is False
