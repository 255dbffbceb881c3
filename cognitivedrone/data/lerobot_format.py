"""Demonstrations on disk in the LeRobotDataset v3 layout (codebase_version "v3.0"), and a
small numpy reader for them.

    DIR/meta/info.json                               totals, fps, features, paths, our config
    DIR/meta/tasks.parquet                           task_index + task (the instruction text)
    DIR/meta/stats.json                              per feature: mean, std, min, max, count (+ q01, q99)
    DIR/meta/episodes/chunk-CCC/file-FFF.parquet     one row per episode
    DIR/data/chunk-CCC/file-FFF.parquet              one row per frame

One *shard* (a fixed range of episodes, the unit of generation and resumption) is one data
file plus one episodes file with the same chunk/file index. A shard is written to
``*.parquet.tmp`` files and renamed into place, the episodes file LAST: a shard is done when,
and only when, its episodes file exists. Workers write a shard's ``index`` column (global
frame index) and ``dataset_from_index``/``dataset_to_index`` relative to the shard; once every
earlier shard is done the writer rewrites them to global values (``DatasetWriter.finalize``),
so a finished dataset is consistent on disk and readable by lerobot (``LeRobotDataset``) as is:

* images are an image feature (a struct {bytes, path} of PNG bytes, as HF ``datasets.Image``
  stores them), there are no videos (``video_path`` is null);
* ``meta/tasks.parquet`` carries pandas metadata that makes ``task`` its index, as lerobot's
  ``pd.read_parquet`` expects (written with pyarrow alone, no pandas needed);
* every data column is declared in ``info["features"]``.

Reader: ``DemoDataset(root)`` validates the layout up front and raises ``DatasetError`` naming
the file and the problem.

Why not lerobot's own ``LeRobotDataset`` writer and reader: the lerobot package brings
torchvision, ``datasets``, ``huggingface_hub`` and video decoding to every install that trains or
records, and its reader trusts the files it is given; this module needs pyarrow alone, shards
for resumable parallel writing, and refuses a corrupt dataset with one clear error. The layout
is lerobot's, so a dataset made here loads there.
"""

from __future__ import annotations

import io
import json
import os
import re
import string
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from PIL import Image

from cognitivedrone.bounded_json import JsonInputError, load_file

CODEBASE_VERSION = "v3.0"
CHUNKS_SIZE = 1000  # files per chunk folder, as lerobot
INFO_PATH = "meta/info.json"
STATS_PATH = "meta/stats.json"
TASKS_PATH = "meta/tasks.parquet"
EPISODES_DIR = "meta/episodes"
DATA_DIR = "data"
CHUNK_FILE = "chunk-{chunk_index:03d}/file-{file_index:03d}"
DATA_PATH = DATA_DIR + "/" + CHUNK_FILE + ".parquet"
EPISODES_PATH = EPISODES_DIR + "/" + CHUNK_FILE + ".parquet"
TMP_SUFFIX = ".tmp"

IMAGE_KEY = "observation.image"
IMAGE_FORMAT = "png"
# PNG is lossless; level 1 costs ~0.4 ms per 128 px frame (vs ~0.7 ms at level 6, ~20% larger files);
# JPEG q95 is faster (0.1 ms) but lossy and, on these flat-shaded frames, ~2x larger.
PNG_COMPRESS_LEVEL = 1

STATE_NAMES = ["x", "y", "z", "roll", "pitch", "yaw", "vx", "vy", "vz", "wx", "wy", "wz"]
ACTION_NAMES = ["vx", "vy", "vz", "yaw_rate"]

# Data columns, in file order.
DATA_COLUMNS = (
    IMAGE_KEY, "observation.state", "action", "action.executed", "timestamp", "frame_index",
    "episode_index", "index", "task_index", "instruction", "instruction_simple", "category",
    "family", "success", "next.done",
)
EPISODE_COLUMNS = (
    "episode_index", "tasks", "length", "data/chunk_index", "data/file_index", "dataset_from_index",
    "dataset_to_index", "meta/episodes/chunk_index", "meta/episodes/file_index",
    "episode_id", "category", "family", "success", "outcome", "prompt", "prompt_simpler", "seed",
    "options", "correct", "gates", "noise_sigma",
)
# Optional: each episode's look (docs/design.md, Looks) as JSON, "" for classic; datasets written
# before looks existed lack the column and read as classic.
LOOK_COLUMN = "look"
# Optional: a recorded flight's pose and camera as JSON ({"pose": bool, "fov_deg", "pitch_deg"}:
# whether every frame has the vehicle's pose, and the stored square frame's field of view and
# mount pitch), from which training labels where the flight went (docs/design.md, Recorded
# flights); "" for simulated episodes and for datasets written before it existed.
FLIGHT_COLUMN = "flight"
OPTIONAL_EPISODE_COLUMNS = (LOOK_COLUMN, FLIGHT_COLUMN)
EPISODE_INDEX_COLUMNS = ("episode_index", "length", "data/chunk_index", "data/file_index", "dataset_from_index",
                         "dataset_to_index")
IMAGE_STATS_COLUMNS = tuple(f"stats/{IMAGE_KEY}/{s}" for s in ("mean", "std", "min", "max", "count"))
# Numeric frame features that get stats; vectors also get q01/q99 per dimension.
STATS_FEATURES = ("observation.state", "action", "action.executed", "timestamp", "frame_index",
                  "episode_index", "index", "task_index")
QUANTILE_FEATURES = ("observation.state", "action", "action.executed")
# Vector columns and their width, checked row by row when read (``DemoDataset.frames``).
VECTOR_WIDTHS = {"observation.state": len(STATE_NAMES), "action": len(ACTION_NAMES), "action.executed": len(ACTION_NAMES)}
# No velocity command in SI units (m/s, rad/s) comes near this: action stats beyond it are a
# broken or hostile file. The same bound as ActionNormalizer.MAX_ABS (not imported: no torch here).
MAX_ABS_ACTION = 1e3
# Pillow opens many formats; some readers hand the file to other programs (EPS: Ghostscript).
# Frames are PNG (ours) or JPEG (other lerobot datasets).
IMAGE_FORMATS = ("PNG", "JPEG")
# info.json's data_path is formatted and opened: only these fields, with specs like ":03d" (width
# under 100, so a spec cannot ask for gigabytes), in a template no longer than a file name.
DATA_PATH_FIELDS = ("chunk_index", "file_index")
DATA_PATH_SPEC = re.compile(r"0?[0-9]{0,2}d?")
MAX_DATA_PATH = 255


class DatasetError(ValueError):
    """A dataset folder that cannot be read; the message names the file and the problem."""


# -- schema ----------------------------------------------------------------------------------------

def features(image_size: int) -> dict:
    """info.json "features": every data column, lerobot style (dtype, shape, names)."""
    scalar = lambda dtype: {"dtype": dtype, "shape": [1], "names": None}  # noqa: E731
    return {
        IMAGE_KEY: {"dtype": "image", "shape": [image_size, image_size, 3], "names": ["height", "width", "channels"]},
        "observation.state": {"dtype": "float32", "shape": [12], "names": list(STATE_NAMES)},
        "action": {"dtype": "float32", "shape": [4], "names": list(ACTION_NAMES)},
        "action.executed": {"dtype": "float32", "shape": [4], "names": list(ACTION_NAMES)},
        "timestamp": scalar("float32"),
        "frame_index": scalar("int64"),
        "episode_index": scalar("int64"),
        "index": scalar("int64"),
        "task_index": scalar("int64"),
        "instruction": scalar("string"),
        "instruction_simple": scalar("string"),
        "category": scalar("string"),
        "family": scalar("string"),
        "success": scalar("bool"),
        "next.done": scalar("bool"),
    }


IMAGE_TYPE = pa.struct([("bytes", pa.binary()), ("path", pa.string())])

DATA_SCHEMA = pa.schema([
    (IMAGE_KEY, IMAGE_TYPE),
    ("observation.state", pa.list_(pa.float32(), 12)),
    ("action", pa.list_(pa.float32(), 4)),
    ("action.executed", pa.list_(pa.float32(), 4)),
    ("timestamp", pa.float32()),
    ("frame_index", pa.int64()),
    ("episode_index", pa.int64()),
    ("index", pa.int64()),
    ("task_index", pa.int64()),
    ("instruction", pa.string()),
    ("instruction_simple", pa.string()),
    ("category", pa.string()),
    ("family", pa.string()),
    ("success", pa.bool_()),
    ("next.done", pa.bool_()),
])

EPISODES_SCHEMA = pa.schema([
    ("episode_index", pa.int64()),
    ("tasks", pa.list_(pa.string())),
    ("length", pa.int64()),
    ("data/chunk_index", pa.int64()),
    ("data/file_index", pa.int64()),
    ("dataset_from_index", pa.int64()),
    ("dataset_to_index", pa.int64()),
    ("meta/episodes/chunk_index", pa.int64()),
    ("meta/episodes/file_index", pa.int64()),
    ("episode_id", pa.string()),
    ("category", pa.string()),
    ("family", pa.string()),
    ("success", pa.bool_()),
    ("outcome", pa.string()),
    ("prompt", pa.string()),
    ("prompt_simpler", pa.string()),
    ("seed", pa.int64()),
    ("options", pa.list_(pa.string())),
    ("correct", pa.int64()),
    ("gates", pa.list_(pa.string())),
    ("noise_sigma", pa.list_(pa.float32(), 4)),
    (LOOK_COLUMN, pa.string()),
    (FLIGHT_COLUMN, pa.string()),
    (IMAGE_STATS_COLUMNS[0], pa.list_(pa.float64(), 3)),
    (IMAGE_STATS_COLUMNS[1], pa.list_(pa.float64(), 3)),
    (IMAGE_STATS_COLUMNS[2], pa.list_(pa.float64(), 3)),
    (IMAGE_STATS_COLUMNS[3], pa.list_(pa.float64(), 3)),
    (IMAGE_STATS_COLUMNS[4], pa.list_(pa.int64(), 1)),
])


def chunk_file(shard: int, chunks_size: int = CHUNKS_SIZE) -> tuple[int, int]:
    return shard // chunks_size, shard % chunks_size


def data_path(root: Path, shard: int, chunks_size: int = CHUNKS_SIZE) -> Path:
    c, f = chunk_file(shard, chunks_size)
    return Path(root) / DATA_PATH.format(chunk_index=c, file_index=f)


def episodes_path(root: Path, shard: int, chunks_size: int = CHUNKS_SIZE) -> Path:
    c, f = chunk_file(shard, chunks_size)
    return Path(root) / EPISODES_PATH.format(chunk_index=c, file_index=f)


# -- images ----------------------------------------------------------------------------------------

def encode_image(image: np.ndarray) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(image, dtype=np.uint8)).save(buf, format="PNG", compress_level=PNG_COMPRESS_LEVEL)
    return buf.getvalue()


def decode_image(cell, where: str = "image cell") -> np.ndarray:
    """An image cell (dict {bytes, path}, a pyarrow struct scalar, or raw bytes) -> uint8 HxWx3;
    bytes that do not decode are a DatasetError starting with `where`."""
    if isinstance(cell, pa.Scalar):
        cell = cell.as_py()
    if isinstance(cell, dict):
        data = cell.get("bytes")
        if data is None and cell.get("path"):
            return np.asarray(Image.open(cell["path"], formats=IMAGE_FORMATS).convert("RGB"))
        cell = data
    if not isinstance(cell, (bytes, bytearray, memoryview)):
        raise DatasetError(f"{where}: not an image cell: {type(cell).__name__}")
    try:
        with Image.open(io.BytesIO(bytes(cell)), formats=IMAGE_FORMATS) as im:
            return np.asarray(im.convert("RGB"))
    except Exception as e:  # noqa: BLE001 - Pillow raises OSError, SyntaxError, zlib.error, ...
        raise DatasetError(f"{where}: image does not decode ({e})") from None


def image_stats(frames: list[np.ndarray]) -> dict:
    """Per-channel mean, std, min, max of one episode's frames, in [0, 1] (lerobot's scale);
    exact, from a 256-bin histogram per channel (~10x cheaper than float arithmetic)."""
    u8 = np.stack(frames).reshape(-1, 3)
    hist = np.stack([np.bincount(u8[:, c], minlength=256) for c in range(3)]).astype(np.float64)
    v = np.arange(256, dtype=np.float64) / 255.0
    n = hist.sum(1)
    mean = hist @ v / n
    var = hist @ (v * v) / n - mean ** 2
    nz = hist > 0
    lo = np.argmax(nz, axis=1)
    hi = 255 - np.argmax(nz[:, ::-1], axis=1)
    return {"mean": mean.tolist(), "std": np.sqrt(np.maximum(var, 0.0)).tolist(), "min": (lo / 255.0).tolist(),
            "max": (hi / 255.0).tolist(), "count": [len(frames)]}


# -- writing ---------------------------------------------------------------------------------------

def write_parquet_atomic(table: pa.Table, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + TMP_SUFFIX)
    pq.write_table(table, tmp, row_group_size=1024)
    os.replace(tmp, path)


def write_json_atomic(obj, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + TMP_SUFFIX)
    tmp.write_text(json.dumps(obj, indent=2) + "\n")
    os.replace(tmp, path)


@dataclass
class EpisodeRecord:
    """One flown episode, ready to be written: per-step arrays plus the episode's metadata."""

    episode_index: int
    images: list  # encoded image bytes, one per step (the frame seen before the action)
    states: np.ndarray  # (T, 12) float32
    actions: np.ndarray  # (T, 4) float32, the expert's label
    executed: np.ndarray  # (T, 4) float32, what was flown
    task_index: int
    meta: dict  # episode_id, category, family, success, outcome, prompt, prompt_simpler, seed, options, correct, gates, noise_sigma
    image_stats: dict = field(default_factory=dict)

    @property
    def length(self) -> int:
        return len(self.images)


def write_shard(root: Path, shard: int, records: list[EpisodeRecord], fps: float,
                chunks_size: int = CHUNKS_SIZE) -> int:
    """Write one shard (data file, then its episodes file LAST). Frame indices (``index``,
    ``dataset_from_index``/``dataset_to_index``) are relative to the shard until
    ``fix_shard_offset`` makes them global. Returns the number of frames."""
    cols: dict[str, list] = {c: [] for c in DATA_COLUMNS}
    ep_rows = []
    n = 0
    chunk, file = chunk_file(shard, chunks_size)
    for r in records:
        T, m = r.length, r.meta
        cols[IMAGE_KEY].extend({"bytes": b, "path": None} for b in r.images)
        cols["observation.state"].append(np.asarray(r.states, np.float32).reshape(T, 12))
        cols["action"].append(np.asarray(r.actions, np.float32).reshape(T, 4))
        cols["action.executed"].append(np.asarray(r.executed, np.float32).reshape(T, 4))
        cols["timestamp"].append((np.arange(T) / fps).astype(np.float32))
        cols["frame_index"].append(np.arange(T, dtype=np.int64))
        cols["episode_index"].append(np.full(T, r.episode_index, np.int64))
        cols["index"].append(np.arange(n, n + T, dtype=np.int64))
        cols["task_index"].append(np.full(T, r.task_index, np.int64))
        for c, v in (("instruction", m["prompt"]), ("instruction_simple", m["prompt_simpler"]),
                     ("category", m["category"]), ("family", m["family"]), ("success", bool(m["success"]))):
            cols[c].extend([v] * T)
        done = np.zeros(T, bool)
        done[-1] = True
        cols["next.done"].append(done)
        row = {
            "episode_index": r.episode_index, "tasks": [m["prompt"], m["prompt_simpler"]], "length": T,
            "data/chunk_index": chunk, "data/file_index": file, "dataset_from_index": n, "dataset_to_index": n + T,
            "meta/episodes/chunk_index": chunk, "meta/episodes/file_index": file,
        }
        row.update({k: m[k] for k in EPISODE_COLUMNS if k not in row})
        for col in OPTIONAL_EPISODE_COLUMNS:
            row[col] = json.dumps(m[col], sort_keys=True) if m.get(col) else ""
        for key, col in zip(("mean", "std", "min", "max", "count"), IMAGE_STATS_COLUMNS):
            row[col] = r.image_stats[key]
        ep_rows.append(row)
        n += T
    arrays = []
    for name in DATA_COLUMNS:
        typ = DATA_SCHEMA.field(name).type
        v = cols[name]
        if pa.types.is_fixed_size_list(typ):
            flat = np.concatenate(v).reshape(-1)
            arrays.append(pa.FixedSizeListArray.from_arrays(pa.array(flat, pa.float32()), typ.list_size))
        elif isinstance(v, list) and v and isinstance(v[0], np.ndarray):
            arrays.append(pa.array(np.concatenate(v), typ))
        else:
            arrays.append(pa.array(v, typ))
    data = pa.Table.from_arrays(arrays, schema=DATA_SCHEMA)
    episodes = pa.Table.from_pylist(ep_rows, schema=EPISODES_SCHEMA)
    write_parquet_atomic(data, data_path(root, shard, chunks_size))
    write_parquet_atomic(episodes, episodes_path(root, shard, chunks_size))  # last: marks the shard done
    return n


def read_shard_episodes(root: Path, shard: int, chunks_size: int = CHUNKS_SIZE) -> pa.Table | None:
    """The shard's episodes table, or None when the shard is not done."""
    path = episodes_path(root, shard, chunks_size)
    if not path.is_file():
        return None
    return pq.read_table(path)


def fix_shard_offset(root: Path, shard: int, offset: int, chunks_size: int = CHUNKS_SIZE) -> bool:
    """Make a done shard's frame indices global (first frame = ``offset``). Idempotent: rewrites
    the data file and/or the episodes file only where they are off (data first, episodes last,
    both atomically). Returns True when something was rewritten."""
    ep_path, d_path = episodes_path(root, shard, chunks_size), data_path(root, shard, chunks_size)
    eps = pq.read_table(ep_path)
    lengths = eps.column("length").to_numpy()
    n = int(lengths.sum())
    changed = False
    index = pq.read_table(d_path, columns=["index"]).column("index").to_numpy()
    want = np.arange(offset, offset + n, dtype=np.int64)
    if len(index) != n:
        raise DatasetError(f"{d_path}: {len(index)} frames, but {ep_path} lists {n}")
    if not np.array_equal(index, want):
        data = pq.read_table(d_path)
        data = data.set_column(data.schema.get_field_index("index"), pa.field("index", pa.int64()), pa.array(want))
        write_parquet_atomic(data, d_path)
        changed = True
    starts = offset + np.concatenate([[0], np.cumsum(lengths)[:-1]]).astype(np.int64)
    if not np.array_equal(eps.column("dataset_from_index").to_numpy(), starts):
        eps = eps.set_column(eps.schema.get_field_index("dataset_from_index"), EPISODES_SCHEMA.field("dataset_from_index"), pa.array(starts))
        eps = eps.set_column(eps.schema.get_field_index("dataset_to_index"), EPISODES_SCHEMA.field("dataset_to_index"), pa.array(starts + lengths))
        write_parquet_atomic(eps, ep_path)
        changed = True
    return changed


def write_tasks(root: Path, tasks: list[str]) -> None:
    """meta/tasks.parquet: columns task_index (int64) and task (string), with the pandas
    metadata lerobot's ``pd.read_parquet`` needs to make ``task`` the index."""
    table = pa.table({"task_index": pa.array(range(len(tasks)), pa.int64()), "task": pa.array(tasks, pa.string())})
    pandas_meta = {
        "index_columns": ["task"],
        "column_indexes": [{"name": None, "field_name": None, "pandas_type": "unicode", "numpy_type": "object",
                            "metadata": {"encoding": "UTF-8"}}],
        "columns": [
            {"name": "task_index", "field_name": "task_index", "pandas_type": "int64", "numpy_type": "int64", "metadata": None},
            {"name": "task", "field_name": "task", "pandas_type": "unicode", "numpy_type": "object", "metadata": None},
        ],
        "creator": {"library": "pyarrow", "version": pa.__version__},
        "pandas_version": "2.2.3",
    }
    table = table.replace_schema_metadata({b"pandas": json.dumps(pandas_meta).encode()})
    write_parquet_atomic(table, Path(root) / TASKS_PATH)


def read_tasks(root: Path) -> list[str]:
    t = pq.read_table(Path(root) / TASKS_PATH)
    order = np.argsort(t.column("task_index").to_numpy())
    tasks = t.column("task").to_pylist()
    return [tasks[i] for i in order]


# -- stats -----------------------------------------------------------------------------------------

def _column_matrix(table: pa.Table, name: str) -> np.ndarray:
    col = table.column(name).combine_chunks()
    if pa.types.is_fixed_size_list(col.type) or pa.types.is_list(col.type):
        width = col.type.list_size if pa.types.is_fixed_size_list(col.type) else None
        flat = col.flatten().to_numpy(zero_copy_only=False)
        return flat.reshape(len(col), width if width else -1).astype(np.float64)
    return col.to_numpy(zero_copy_only=False).astype(np.float64).reshape(-1, 1)


def numeric_stats(tables: list[pa.Table]) -> dict:
    """Stats of the numeric frame features over the given data tables (image column not needed)."""
    out = {}
    for name in STATS_FEATURES:
        mats = [_column_matrix(t, name) for t in tables if t.num_rows]
        if not mats:
            continue
        a = np.concatenate(mats)
        s = {"mean": a.mean(0).tolist(), "std": a.std(0).tolist(), "min": a.min(0).tolist(),
             "max": a.max(0).tolist(), "count": [int(len(a))]}
        if name in QUANTILE_FEATURES:
            q01, q99 = np.quantile(a, [0.01, 0.99], axis=0)
            s["q01"], s["q99"] = q01.tolist(), q99.tolist()
        out[name] = s
    return out


def aggregate_image_stats(episodes: list[pa.Table]) -> dict | None:
    """Pool the episodes' per-channel image stats; shapes (3, 1, 1) as lerobot's image stats."""
    rows = [t.select(list(IMAGE_STATS_COLUMNS)) for t in episodes if t.num_rows]
    if not rows:
        return None
    t = pa.concat_tables(rows)
    mean = np.array(t.column(IMAGE_STATS_COLUMNS[0]).to_pylist())
    std = np.array(t.column(IMAGE_STATS_COLUMNS[1]).to_pylist())
    mn = np.array(t.column(IMAGE_STATS_COLUMNS[2]).to_pylist())
    mx = np.array(t.column(IMAGE_STATS_COLUMNS[3]).to_pylist())
    n = np.array(t.column(IMAGE_STATS_COLUMNS[4]).to_pylist(), dtype=np.float64).reshape(-1, 1)
    total = n.sum()
    m = (n * mean).sum(0) / total
    var = (n * (std ** 2 + mean ** 2)).sum(0) / total - m ** 2
    as311 = lambda v: [[[float(x)]] for x in v]  # noqa: E731
    return {"mean": as311(m), "std": as311(np.sqrt(np.maximum(var, 0.0))), "min": as311(mn.min(0)),
            "max": as311(mx.max(0)), "count": [int(total)]}


# -- the writer's bookkeeping ------------------------------------------------------------------------

class DatasetWriter:
    """Finalizes a dataset folder from the shards on disk: makes frame indices global over the
    run of done shards from shard 0, and writes meta/info.json, meta/stats.json and
    meta/tasks.parquet. Keeps the numeric columns of shards it has read (keyed by file
    state), so calling ``finalize`` after every shard stays cheap."""

    def __init__(self, root: str | Path, n_shards: int, tasks: list[str], fps: float, robot_type: str,
                 image_size: int, extra: dict, chunks_size: int = CHUNKS_SIZE):
        self.root = Path(root)
        self.n_shards = n_shards
        self.tasks = list(tasks)
        self.fps = fps
        self.robot_type = robot_type
        self.image_size = image_size
        self.extra = extra
        self.chunks_size = chunks_size
        self._cache: dict[int, tuple[tuple, pa.Table, pa.Table]] = {}
        self._fixed: dict[int, tuple[int, tuple]] = {}  # shard -> (offset, file state) known good

    def done_shards(self) -> list[int]:
        return [k for k in range(self.n_shards) if episodes_path(self.root, k, self.chunks_size).is_file()]

    def _key(self, k: int) -> tuple:
        ep, d = episodes_path(self.root, k, self.chunks_size), data_path(self.root, k, self.chunks_size)
        return tuple((s.st_mtime_ns, s.st_size, s.st_ino) for s in (ep.stat(), d.stat()))

    def _load(self, k: int) -> tuple[pa.Table, pa.Table]:
        ep, d = episodes_path(self.root, k, self.chunks_size), data_path(self.root, k, self.chunks_size)
        key = self._key(k)
        hit = self._cache.get(k)
        if hit is None or hit[0] != key:
            data = pq.read_table(d, columns=[c for c in STATS_FEATURES])
            eps = pq.read_table(ep)
            self._cache[k] = (key, eps, data)
        return self._cache[k][1], self._cache[k][2]

    def finalize(self) -> dict:
        """Returns info.json's content (also written)."""
        done = self.done_shards()
        offset, prefix = 0, True
        for k in range(self.n_shards):
            if k not in done:
                prefix = False
                continue
            if prefix and self._fixed.get(k) != (offset, self._key(k)):
                fix_shard_offset(self.root, k, offset, self.chunks_size)
                self._fixed[k] = (offset, self._key(k))
            eps, _ = self._load(k)
            offset += int(pc_sum(eps.column("length")))
        episodes, datas = [], []
        for k in done:
            eps, data = self._load(k)
            episodes.append(eps)
            datas.append(data)
        total_episodes = sum(t.num_rows for t in episodes)
        total_frames = sum(t.num_rows for t in datas)
        successes = sum(int(np.sum(t.column("success").to_numpy(zero_copy_only=False))) for t in episodes)
        self.extra = dict(self.extra, complete=len(done) == self.n_shards, shards_done=len(done),
                          shards_total=self.n_shards, successes=successes, image_format=IMAGE_FORMAT)
        fps = int(self.fps) if float(self.fps).is_integer() else self.fps
        info = {
            "codebase_version": CODEBASE_VERSION,
            "robot_type": self.robot_type,
            "total_episodes": total_episodes,
            "total_frames": total_frames,
            "total_tasks": len(self.tasks),
            "chunks_size": self.chunks_size,
            "data_files_size_in_mb": 100,
            "video_files_size_in_mb": 500,
            "fps": fps,
            "splits": {"train": f"0:{total_episodes}"},
            "data_path": DATA_PATH,
            "video_path": None,
            "features": features(self.image_size),
            "cognitivedrone": self.extra,
        }
        stats = numeric_stats(datas)
        img = aggregate_image_stats(episodes)
        if img is not None:
            stats = {IMAGE_KEY: img, **stats}
        write_tasks(self.root, self.tasks)
        write_json_atomic(stats, self.root / STATS_PATH)
        write_json_atomic(info, self.root / INFO_PATH)
        return info


def pc_sum(col) -> int:
    return int(np.sum(col.to_numpy(zero_copy_only=False))) if len(col) else 0


def read_info(root: str | Path) -> dict:
    path = Path(root) / INFO_PATH
    if not path.is_file():
        raise DatasetError(f"{path}: missing (not a LeRobotDataset v3 folder)")
    info = _read_json(path)
    if not isinstance(info, dict):
        raise DatasetError(f"{path}: expected a JSON object")
    return info


def _read_json(path: Path):
    """A dataset's JSON file, bounded (size, depth, no NaN): every problem is one DatasetError."""
    try:
        return load_file(path)
    except JsonInputError as e:
        raise DatasetError(str(e)) from None  # names the file already
    except OSError as e:
        raise DatasetError(f"{path}: unreadable ({e.strerror or e})") from None


def _check_action_stats(path: Path, stats: dict) -> None:
    """stats.json's action q01/q99 are a normalisation: equal-length number lists, within
    +-MAX_ABS_ACTION, q01 <= q99."""
    s = stats.get("action")
    if not isinstance(s, dict) or not {"q01", "q99"} <= set(s):
        raise DatasetError(f"{path}: 'action' needs q01 and q99")
    q = {}
    for k in ("q01", "q99"):
        v = s[k]
        if not (isinstance(v, list) and len(v) == len(ACTION_NAMES)
                and all(isinstance(x, (int, float)) and not isinstance(x, bool) for x in v)):
            raise DatasetError(f"{path}: 'action' {k} must be a list of {len(ACTION_NAMES)} numbers, got {repr(v)[:80]}")
        q[k] = np.asarray(v, dtype=np.float64)
        if np.abs(q[k]).max() > MAX_ABS_ACTION:
            raise DatasetError(f"{path}: 'action' {k} {v} is beyond +-{MAX_ABS_ACTION:.0e}, no velocity command reaches that")
    if np.any(q["q99"] < q["q01"]):
        raise DatasetError(f"{path}: 'action' q99 must be >= q01 in every dimension, got q01={s['q01']} q99={s['q99']}")


def _check_data_path(info_path: Path, template) -> str:
    """info.json's data_path, checked before it is formatted: a relative path without '..',
    using only {chunk_index} and {file_index} with simple integer specs."""
    def bad(why: str) -> DatasetError:
        return DatasetError(f"{info_path}: data_path {str(template)[:80]!r} {why}")

    if not isinstance(template, str) or not template or not template.isprintable():  # no NUL, no newline
        raise bad("must be a non-empty path string of printable characters")
    if len(template) > MAX_DATA_PATH:
        raise bad(f"is {len(template)} characters long, over {MAX_DATA_PATH}")
    if PurePosixPath(template).is_absolute() or ".." in PurePosixPath(template).parts:
        raise bad("must be a path inside the dataset folder (relative, no '..')")
    try:
        fields = [(name, spec, conv) for _, name, spec, conv in string.Formatter().parse(template) if name is not None]
    except ValueError as e:  # a lone '{' or '}'
        raise bad(f"is not a path template ({e})") from None
    for name, spec, conv in fields:
        if name not in DATA_PATH_FIELDS or conv or not DATA_PATH_SPEC.fullmatch(spec):
            raise bad("may only use {chunk_index} and {file_index}, with an integer spec such as ':03d'")
    return template


def remove_tmp_files(root: str | Path) -> list[Path]:
    """Remove leftovers of interrupted atomic writes (``*.tmp`` under meta/ and data/)."""
    root = Path(root)
    gone = []
    for sub in ("meta", DATA_DIR):
        d = root / sub
        if d.is_dir():
            for p in sorted(d.rglob("*" + TMP_SUFFIX)):
                if p.is_file():
                    p.unlink()
                    gone.append(p)
    return gone


# -- reading ---------------------------------------------------------------------------------------

class DemoDataset:
    """A demonstrations folder, validated on open.

    ``episodes``: the episode rows (dicts; per-episode stats columns left out);
    ``len(ds)``: frames; ``frames(columns)``: all data rows as one pyarrow Table, in global
    frame order; ``decode_image(cell)``: uint8 HxWx3; ``stats``: meta/stats.json with
    numpy arrays; ``tasks``: task strings by task_index; ``info``: meta/info.json.
    """

    def __init__(self, root: str | Path):
        self.root = Path(root)
        self.info = read_info(self.root)
        info_path = self.root / INFO_PATH
        version = self.info.get("codebase_version")
        if version != CODEBASE_VERSION:
            raise DatasetError(f"{info_path}: codebase_version is {version!r}, expected {CODEBASE_VERSION!r}")
        for key in ("total_episodes", "total_frames", "data_path", "features"):
            if key not in self.info:
                raise DatasetError(f"{info_path}: field {key!r} is missing")
        if not isinstance(self.info["features"], dict):
            raise DatasetError(f"{info_path}: 'features' must be an object")
        missing = [c for c in DATA_COLUMNS if c not in self.info["features"]]
        if missing:
            raise DatasetError(f"{info_path}: features lack {', '.join(missing)}")
        image = self.info["features"][IMAGE_KEY]
        shape = image.get("shape") if isinstance(image, dict) else None
        if not (isinstance(shape, list) and len(shape) == 3 and shape[2] == 3
                and all(isinstance(v, int) and not isinstance(v, bool) and 0 < v <= 4096 for v in shape)):
            raise DatasetError(f"{info_path}: features[{IMAGE_KEY!r}] shape must be [height, width, 3], got {repr(shape)[:80]}")
        self.image_shape = tuple(shape)
        template = _check_data_path(info_path, self.info["data_path"])
        extra = self.info.get("cognitivedrone", {})
        if not isinstance(extra, dict) or not isinstance(extra.get("complete", True), bool):
            raise DatasetError(f"{info_path}: 'cognitivedrone' must be an object whose 'complete' is true or false, "
                               f"got {repr(extra)[:80]}")
        ep_files = sorted((self.root / EPISODES_DIR).glob("*/*.parquet"))
        if not ep_files:
            raise DatasetError(f"{self.root / EPISODES_DIR}: no episodes files")
        tables = []
        for p in ep_files:
            try:
                t = pq.read_table(p)
            except Exception as e:  # noqa: BLE001 - any unreadable file is a dataset problem
                raise DatasetError(f"{p}: unreadable parquet ({e})") from None
            lack = [c for c in EPISODE_COLUMNS if c not in t.column_names]
            if lack:
                raise DatasetError(f"{p}: missing column {lack[0]!r}" + (f" (and {len(lack) - 1} more)" if len(lack) > 1 else ""))
            for c in EPISODE_INDEX_COLUMNS:  # counted and formatted into paths below
                if not pa.types.is_integer(t.schema.field(c).type) or t.column(c).null_count:
                    raise DatasetError(f"{p}: column {c!r} is {t.schema.field(c).type} with {t.column(c).null_count} nulls, "
                                       "expected integers")
            for col in OPTIONAL_EPISODE_COLUMNS:
                if col not in t.column_names:
                    t = t.append_column(col, pa.array([""] * t.num_rows, pa.string()))
            tables.append(t.select([*EPISODE_COLUMNS, *OPTIONAL_EPISODE_COLUMNS]))
        eps = pa.concat_tables(tables)
        self.episodes: list[dict] = eps.to_pylist()
        idx = [e["episode_index"] for e in self.episodes]
        if idx != list(range(len(idx))):
            gap = next(i for i, v in enumerate(idx) if v != i)
            raise DatasetError(f"{self.root / EPISODES_DIR}: episode indices are not contiguous from 0 (episode {gap} "
                               "missing or out of order); an interrupted datagen run is finished by rerunning it with the same arguments")
        if len(idx) != self.info["total_episodes"]:
            raise DatasetError(f"{info_path}: total_episodes is {self.info['total_episodes']!r}, but the episodes files list {len(idx)}")
        pos = 0
        for e in self.episodes:
            if e["dataset_from_index"] != pos or e["dataset_to_index"] != pos + e["length"]:
                raise DatasetError(f"episode {e['episode_index']}: frames [{e['dataset_from_index']}, {e['dataset_to_index']}) "
                                   f"do not follow on (expected from {pos}); the dataset was not finalized")
            pos += e["length"]
        if pos != self.info["total_frames"]:
            raise DatasetError(f"{info_path}: total_frames is {self.info['total_frames']!r}, but the episodes hold {pos}")
        self._n = pos
        # Data files, in order, with the frame range each must hold.
        files: dict[tuple[int, int], list[int]] = {}
        for e in self.episodes:
            key = (e["data/chunk_index"], e["data/file_index"])
            rng = files.setdefault(key, [e["dataset_from_index"], e["dataset_to_index"]])
            rng[1] = e["dataset_to_index"]
        self._files: list[Path] = []
        real_root = self.root.resolve()
        for (c, f), (lo, hi) in sorted(files.items(), key=lambda kv: kv[1][0]):
            p = self.root / template.format(chunk_index=c, file_index=f)
            try:
                # resolved: a symlink on the way may not lead out of the dataset folder either
                inside = p.resolve().is_relative_to(real_root)
                is_file = p.is_file()
            except OSError as e:  # a file name too long, ...
                raise DatasetError(f"{info_path}: data_path gives {str(p)[:120]!r}, which cannot be opened ({e.strerror or e})") from None
            if not inside:
                raise DatasetError(f"{info_path}: data_path gives {str(p)[:120]!r}, outside the dataset folder")
            if not is_file:
                raise DatasetError(f"{p}: data file missing")
            try:
                schema = pq.read_schema(p)
            except Exception as e:  # noqa: BLE001
                raise DatasetError(f"{p}: unreadable parquet ({e})") from None
            lack = [c for c in DATA_COLUMNS if c not in schema.names]
            if lack:
                raise DatasetError(f"{p}: missing column {lack[0]!r}" + (f" (and {len(lack) - 1} more)" if len(lack) > 1 else ""))
            twice = [c for c in DATA_COLUMNS if schema.names.count(c) > 1]
            if twice:  # pyarrow cannot pick a column by name then
                raise DatasetError(f"{p}: column {twice[0]!r} appears more than once")
            index = pq.read_table(p, columns=["index"]).column("index").to_numpy()
            if len(index) != hi - lo or (len(index) and (index[0] != lo or index[-1] != hi - 1)):
                raise DatasetError(f"{p}: frame index holds {len(index)} rows starting at "
                                   f"{index[0] if len(index) else '-'}, episodes expect [{lo}, {hi}); the dataset was not finalized")
            self._files.append(p)
        stats_path = self.root / STATS_PATH
        if not stats_path.is_file():
            raise DatasetError(f"{stats_path}: missing")
        raw = _read_json(stats_path)
        if not isinstance(raw, dict) or not all(isinstance(d, dict) for d in raw.values()):
            raise DatasetError(f"{stats_path}: expected an object of per-feature objects")
        _check_action_stats(stats_path, raw)
        self.stats = {}
        for k, d in raw.items():
            self.stats[k] = {}
            for s, v in d.items():
                try:
                    a = np.asarray(v)
                except ValueError:  # lists of uneven lengths
                    a = None
                if a is None or a.dtype.kind not in "iuf":
                    raise DatasetError(f"{stats_path}: {k!r} {s!r} must be a number or equal-length lists of numbers, got {repr(v)[:80]}")
                self.stats[k][s] = a
        tasks_path = self.root / TASKS_PATH
        if not tasks_path.is_file():
            raise DatasetError(f"{tasks_path}: missing")
        try:
            self.tasks = read_tasks(self.root)
        except Exception as e:  # noqa: BLE001 - any unreadable file is a dataset problem
            raise DatasetError(f"{tasks_path}: unreadable ({e})") from None

    def __len__(self) -> int:
        return self._n

    @property
    def complete(self) -> bool:
        """Whether every planned shard was generated (False: a run still to be finished)."""
        return self.info.get("cognitivedrone", {}).get("complete", True)  # checked on open

    def frames(self, columns: list[str] | None = None) -> pa.Table:
        if columns is not None:
            bad = [c for c in columns if c not in DATA_COLUMNS]
            if bad:
                raise DatasetError(f"unknown column(s) {', '.join(bad)}; columns are {', '.join(DATA_COLUMNS)}")
        tables = []
        for p in self._files:
            try:
                # DATA_COLUMNS, not None: the same columns in the same order from every file
                t = pq.read_table(p, columns=list(columns if columns is not None else DATA_COLUMNS))
            except Exception as e:  # noqa: BLE001 - a page broken past the header checked on open
                raise DatasetError(f"{p}: unreadable parquet ({e})") from None
            self._check_rows(p, t)
            # Vector columns pass as any list of numbers; one type for all files, or they do not concatenate.
            # Not `safe`: values are checked to fit a float32 above, an int's last bits may go.
            for name in VECTOR_WIDTHS:
                if name in t.column_names:
                    t = t.set_column(t.column_names.index(name), name, t.column(name).cast(DATA_SCHEMA.field(name).type, safe=False))
            first = tables[0].schema if tables else t.schema
            if t.schema != first:
                try:  # e.g. int32 here, int64 there
                    t = t.cast(first)
                except (pa.ArrowException, ValueError, TypeError, NotImplementedError):
                    diff = next((n for n in t.column_names if t.schema.field(n).type != first.field(n).type), None)
                    what = (f"column {diff!r} is {t.schema.field(diff).type}, {self._files[0]} has {first.field(diff).type}"
                            if diff else f"its columns differ from {self._files[0]}'s")
                    raise DatasetError(f"{p}: {what}, and one does not convert to the other") from None
            tables.append(t)
        return pa.concat_tables(tables) if tables else DATA_SCHEMA.empty_table()

    def _check_rows(self, path: Path, t: pa.Table) -> None:
        """Vectors of the right width, finite, and images that open as PNG/JPEG of the size
        info.json declares, so a bad row is named here and not by a traceback mid-training.
        Images are checked by header and chunk CRCs (Pillow's verify: ~50 us a frame, a sixth
        of a decode); pixels that still do not decode are named when a batch draws them."""

        def where(row: int) -> str:
            ids = pq.read_table(path, columns=["episode_index", "frame_index"]).slice(row, 1).to_pylist()[0]
            return f"{path}: row {row} (episode {ids['episode_index']}, frame {ids['frame_index']})"

        for name, width in VECTOR_WIDTHS.items():
            if name not in t.column_names:
                continue
            col = t.column(name).combine_chunks()
            typ = col.type
            if not ((pa.types.is_list(typ) or pa.types.is_fixed_size_list(typ))
                    and (pa.types.is_floating(typ.value_type) or pa.types.is_integer(typ.value_type))):
                raise DatasetError(f"{path}: {name!r} is {typ}, expected a list of {width} numbers")
            if col.null_count:
                raise DatasetError(f"{where(int(np.flatnonzero(col.is_null().to_numpy(zero_copy_only=False))[0]))}: {name!r} is null")
            lengths = pc.list_value_length(col).to_numpy(zero_copy_only=False)
            if np.any(lengths != width):
                row = int(np.flatnonzero(lengths != width)[0])
                raise DatasetError(f"{where(row)}: {name!r} has {lengths[row]} values, expected {width}")
            values = col.flatten().to_numpy(zero_copy_only=False).astype(np.float64).reshape(len(col), width)
            bad = ~np.isfinite(values).all(axis=1)  # a null element reads as NaN
            if bad.any():
                raise DatasetError(f"{where(int(np.flatnonzero(bad)[0]))}: {name!r} holds NaN or infinite values")
            big = (np.abs(values) > np.finfo(np.float32).max).any(axis=1)  # would turn infinite as float32 (frames)
            if big.any():
                raise DatasetError(f"{where(int(np.flatnonzero(big)[0]))}: {name!r} holds values beyond float32's range")
        if IMAGE_KEY in t.column_names:
            col = t.column(IMAGE_KEY).combine_chunks()
            if not (pa.types.is_struct(col.type) and col.type.get_field_index("bytes") >= 0
                    and pa.types.is_binary(col.type.field("bytes").type)):
                raise DatasetError(f"{path}: {IMAGE_KEY!r} is {col.type}, expected struct<bytes: binary, path: string>")
            h, w, _ = self.image_shape
            data = col.field("bytes")
            empty = np.flatnonzero(pc.or_(col.is_null(), data.is_null()).to_numpy(zero_copy_only=False))
            if len(empty):
                raise DatasetError(f"{where(int(empty[0]))}: image has no bytes")
            for start in range(0, len(data), 4096):  # a slice at a time: no copy of the whole column
                for i, b in enumerate(data.slice(start, 4096).to_pylist(), start):
                    try:
                        with Image.open(io.BytesIO(b), formats=IMAGE_FORMATS) as im:
                            size = im.size
                            im.verify()
                    except Exception as e:  # noqa: BLE001 - Pillow raises OSError, SyntaxError, ...
                        raise DatasetError(f"{where(i)}: image does not decode ({e})") from None
                    if size != (w, h):
                        raise DatasetError(f"{where(i)}: image is {size[0]}x{size[1]} px, {INFO_PATH} says {w}x{h}")

    @staticmethod
    def decode_image(cell, where: str = "image cell") -> np.ndarray:
        return decode_image(cell, where)


class DatasetUnion:
    """Several dataset folders read as one (`train --data A,B`): simulated demonstrations beside
    recorded flights, say. Episode indices are renumbered so that they do not collide (the second
    folder's follow the first's); frames come in folder order. Frames must share one image size."""

    def __init__(self, roots: list[str | Path]):
        self.parts = [DemoDataset(r) for r in roots]
        shapes = {p.image_shape for p in self.parts}
        if len(shapes) > 1:
            raise DatasetError("datasets of different image sizes do not train together: "
                               + ", ".join(f"{p.root} {p.image_shape}" for p in self.parts))
        self.root = " + ".join(str(p.root) for p in self.parts)
        self.image_shape = self.parts[0].image_shape
        self.offsets, self.episodes, offset = [], [], 0
        for p in self.parts:
            self.offsets.append(offset)
            self.episodes += [{**e, "episode_index": int(e["episode_index"]) + offset} for e in p.episodes]
            offset += max((int(e["episode_index"]) for e in p.episodes), default=-1) + 1

    decode_image = staticmethod(decode_image)

    def __len__(self) -> int:
        return sum(len(p) for p in self.parts)

    def frames(self, columns: list[str] | None = None) -> pa.Table:
        import pyarrow.compute as pc

        tables = []
        for p, offset in zip(self.parts, self.offsets):
            t = p.frames(columns)
            if "episode_index" in t.column_names and offset:
                i = t.column_names.index("episode_index")
                t = t.set_column(i, "episode_index", pc.add(t.column(i), pa.scalar(offset, t.column(i).type)))
            if tables and t.schema != tables[0].schema:
                t = t.cast(tables[0].schema)
            tables.append(t)
        return pa.concat_tables(tables)


def open_datasets(spec: str | Path) -> DemoDataset | DatasetUnion:
    """One dataset folder, or several joined by commas."""
    roots = [r.strip() for r in str(spec).split(",") if r.strip()]
    return DemoDataset(roots[0]) if len(roots) == 1 else DatasetUnion(roots)
