"""Training samples from a demonstration dataset: image, instruction and the expert's next
`chunk_size` actions (normalised), drawn at random.

Images stay encoded in memory (PNG bytes) and are decoded per batch: a decoded 8,000-episode
dataset would not fit in RAM, and decoding a 128-px frame costs far less than the network.
Instructions are few (thousands), so their frozen MiniLM token states are computed once and
kept as one float16 table; every sample points into it.

Other wordings of the simple form (tasks/wordings.py) go into the same table: with
`paraphrases` > 0, every distinct simple-form text (each frame's simple instruction and every
counterfactual decision text) gets that many fixed, seeded paraphrases when the data is loaded,
and `batch(..., paraphrase_prob=p)` swaps a simple-form text for one of them with probability p.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from cognitivedrone.data.lerobot_format import open_datasets
from cognitivedrone.sim.projection import gate_points, project_points
from cognitivedrone.tasks.assets import list_assets
from cognitivedrone.tasks.families import object_prompt, simple_prompt
from cognitivedrone.tasks.gates import GATE_COLORS, GATE_SHAPES, GATE_SIZES
from cognitivedrone.tasks.wordings import paraphrase_set


@dataclass
class TextTable:
    texts: list[str]
    tokens: torch.Tensor  # float16 [U, L, 384]
    mask: torch.Tensor  # bool [U, L]
    pooled: torch.Tensor  # float32 [U, 384]


def build_text_table(texts: list[str], encoder) -> TextTable:
    tokens, mask, pooled = encoder.encode(texts)
    return TextTable(list(texts), torch.from_numpy(tokens).to(torch.float16), torch.from_numpy(mask),
                     torch.from_numpy(pooled))


def _keep_family(family: str, spec: str) -> bool:
    """`spec` is a comma list: names keep only those families, "-name" drops one."""
    items = [s.strip() for s in spec.split(",") if s.strip()]
    keep = [s for s in items if not s.startswith("-")]
    drop = [s[1:] for s in items if s.startswith("-")]
    if keep and family not in keep:
        return False
    return family not in drop


class TrainingData:
    def __init__(self, root: str, chunk_size: int, families: str = "", only_successful: bool = False,
                 early_frames: int = 20, early_boost: float = 2.0, decision_frac: float = 0.25,
                 pointer_grid: int = 8, paraphrases: int = 0, paraphrase_seed: int = 0,
                 hindsight_pointer: bool = True):
        self.dataset = open_datasets(root)  # one folder, or several joined by commas
        cols = ["observation.image", "observation.state", "action", "episode_index", "frame_index", "instruction",
                "instruction_simple", "family", "success"]
        table = self.dataset.frames(cols)
        episode = table.column("episode_index").to_numpy()
        family = np.asarray(table.column("family").to_pylist())
        success = table.column("success").to_numpy(zero_copy_only=False)
        self.actions = np.asarray(table.column("action").to_pylist(), dtype=np.float32)  # [N, 4] physical
        # Kept in the files' chunks: one array of all PNG bytes overflows Arrow's 2 GB binary offsets
        # (12,000 episodes in randomised looks are ~6 GB).
        self._image_chunks = [c.field("bytes") for c in table.column("observation.image").chunks]
        self._image_starts = np.cumsum([0] + [len(c) for c in self._image_chunks])
        # Chunk targets: action t..t+chunk-1 of the same episode; past the end the mask is False.
        n = len(episode)
        idx = np.arange(n)[:, None] + np.arange(chunk_size)[None, :]
        clipped = np.minimum(idx, n - 1)
        self.chunk_index = clipped
        self.chunk_valid = (idx < n) & (episode[clipped] == episode[:, None])
        keep = np.ones(n, dtype=bool)
        if families:
            fams = {f: _keep_family(f, families) for f in np.unique(family)}
            keep &= np.array([fams[f] for f in family])
        if only_successful:
            keep &= success.astype(bool)
        self.sample_ids = np.flatnonzero(keep)
        if len(self.sample_ids) == 0:
            raise ValueError(f"no training frames left in {root} after filtering (families={families!r}, only_successful={only_successful})")
        originals = table.column("instruction").to_pylist()
        simples = table.column("instruction_simple").to_pylist()
        # Counterfactual decisions: the first frame of an episode does not show which gate is
        # wanted, so the same image with an instruction naming gate k has target k. These teach
        # the text -> gate mapping on identical pictures. Half name the gate by its looks and
        # picture (the simple form), half by the picture alone: with the looks always there the
        # policy keyed on the colour word and did not learn the pictures (original prompts 48%).
        self.decision_frac = decision_frac
        first = np.flatnonzero(np.r_[True, episode[1:] != episode[:-1]])
        # Each episode's rows (contiguous in frame order), looked up instead of scanning all rows
        # once per episode: a dataset of thousands of flights would otherwise take minutes.
        ends = np.r_[first[1:], len(episode)]
        self._episode_rows = {int(episode[a]): np.arange(a, b) for a, b in zip(first, ends)}
        metas = {int(e["episode_index"]): e for e in self.dataset.episodes}
        # Episodes flown in the benchmark's scene (three gates, their pictures, which one was
        # asked for) carry the geometry the auxiliary targets need; recorded flights do not, and
        # train on their actions and, where they have a pose, hindsight pointer targets.
        scene = {i: has_scene(m) for i, m in metas.items()}
        first = first[np.isin(first, self.sample_ids)]
        self.ep_first = first[np.array([scene[int(episode[r])] for r in first], dtype=bool)]
        per_gate = []
        for row in self.ep_first:
            m = metas[int(episode[row])]
            per_gate.append([simple_prompt(*g.split(" "), asset) for g, asset in zip(m["gates"], m["options"])]
                            + [object_prompt(asset) for asset in m["options"]])
        # Other wordings of every simple-form text: `paraphrases` fixed ones each (seeded by
        # `paraphrase_seed` and the text, so the same dataset always gets the same ones).
        simple_texts = set(simples) | {t for ts in per_gate for t in ts}
        wordings = {t: self._paraphrases(t, paraphrases, paraphrase_seed) for t in sorted(simple_texts)} if paraphrases else {}
        self.texts = sorted(set(originals) | simple_texts | {w for ws in wordings.values() for w in ws})
        pos = {t: i for i, t in enumerate(self.texts)}
        # [text, k]: the row of the k-th paraphrase of each text (the text itself where it has none).
        k = max(int(paraphrases), 0)
        self.paraphrase_rows = np.repeat(np.arange(len(self.texts), dtype=np.int64)[:, None], k, axis=1)
        for t, ws in wordings.items():
            if ws:
                self.paraphrase_rows[pos[t]] = [pos[ws[j % len(ws)]] for j in range(k)]
        self.text_original = np.array([pos[t] for t in originals], dtype=np.int64)
        self.text_simple = np.array([pos[t] for t in simples], dtype=np.int64)
        # [episode, form (simple, picture only), gate]
        self.ep_gate_text = np.array([[pos[t] for t in ts] for ts in per_gate], dtype=np.int64).reshape(-1, 2, 3)
        self.episodes = int(len(np.unique(episode[self.sample_ids])))
        # Which gate the instruction names (0-based; the auxiliary target), per frame; -1 without a scene.
        correct = {int(e["episode_index"]): int(e["correct"]) - 1 if scene[int(e["episode_index"])] else -1
                   for e in self.dataset.episodes}
        self.target_gate = np.array([correct[int(i)] for i in episode], dtype=np.int64)
        # The first frames decide which gate to fly to; later ones mostly follow from the image.
        # Draw them more often: weight 1 + early_boost for frame_index < early_frames.
        frame = table.column("frame_index").to_numpy()
        states = np.asarray(table.column("observation.state").to_pylist(), np.float32)
        self._label_geometry(states, episode, pointer_grid)
        self._label_hindsight(states, hindsight_pointer)
        # A flight's first frame decides where it goes, as a scene's does: drawn among the
        # decision samples, with its own instruction and its hindsight target.
        self.flight_first = first[self.goal_ok[first]]
        w = 1.0 + early_boost * (frame[self.sample_ids] < early_frames)
        self.sample_p = w / w.sum()

    @staticmethod
    def _paraphrases(text: str, n: int, seed: int) -> list[str]:
        try:
            return paraphrase_set(text, n, seed)
        except ValueError:  # a simple instruction the parser refuses: kept as it is, never reworded
            return []

    def _label_geometry(self, states: np.ndarray, episode: np.ndarray, grid: int) -> None:
        """Where each gate and billboard is in every frame (projected from the recorded drone
        pose; the layout is fixed), and what each gate looks like and shows: the pointer's and
        the perception head's targets."""
        gates, boards = gate_points()
        self.gate_uv, self.gate_seen = project_points(states, gates)  # [N, 3, 2], [N, 3]
        self.board_uv, self.board_seen = project_points(states, boards)
        sceneless = np.flatnonzero(~np.isin(episode, [int(e["episode_index"]) for e in self.dataset.episodes
                                                      if has_scene(e)]))
        self.gate_seen[sceneless] = self.board_seen[sceneless] = False  # no gates there to see
        # Episodes flown in another look: their camera and billboards, not the classic ones.
        self.ep_looked = np.array([bool(e.get("look")) for e in self.dataset.episodes], dtype=bool)
        for e in self.dataset.episodes:
            if not e.get("look"):
                continue
            rows = self._episode_rows.get(int(e["episode_index"]), np.zeros(0, np.int64))
            camera, ep_boards = look_geometry(e["look"], e["gates"], f"{self.dataset.root}: episode {e['episode_index']}")
            self.gate_uv[rows], self.gate_seen[rows] = project_points(states[rows], gates, camera)
            self.board_uv[rows], self.board_seen[rows] = project_points(states[rows], ep_boards, camera)
        self.pointer_grid = grid
        asset_index = {a.id: i for i, a in enumerate(list_assets())}
        looks, assets = [], []
        for e in self.dataset.episodes:
            if not has_scene(e):
                looks.append([[-1, -1, -1]] * 3)  # -1: no target (modeling._masked_ce)
                assets.append([-1] * 3)
                continue
            parts = [g.split(" ") for g in e["gates"]]
            looks.append([[GATE_SIZES.index(z), GATE_SHAPES.index(sh), GATE_COLORS.index(c)] for z, sh, c in parts])
            assets.append([asset_index.get(a, -1) for a in e["options"]])  # -1: not in this vocabulary
        self.episode_index = episode
        self.ep_look = np.array(looks, dtype=np.int64).reshape(-1, 3, 3)
        self.ep_asset = np.array(assets, dtype=np.int64).reshape(-1, 3)

    # Within this of where a flight ended, that point is under or behind the lens: no target.
    HINDSIGHT_MIN_DISTANCE_M = 0.5

    def _label_hindsight(self, states: np.ndarray, enabled: bool) -> None:
        """Pointer targets for recorded flights with a pose, in hindsight: the instruction sent the
        drone where its flight ended (an episode ends at its goal: a gate flown through, the
        object reached), so that point, projected into each earlier frame through the flight's
        camera, is what the pointer should find there, as the instructed gate is in a datagen
        frame. Rows without one (simulated scenes, flights without a pose, the last half metre)
        have goal_ok False."""
        n = len(self.episode_index)
        self.goal_uv = np.zeros((n, 2), np.float32)
        self.goal_seen = np.zeros(n, bool)
        self.goal_ok = np.zeros(n, bool)
        if not enabled:
            return
        from cognitivedrone.sim.camera import CameraConfig

        for e in self.dataset.episodes:
            flight = flight_info(e, f"{self.dataset.root}: episode {e['episode_index']}")
            if has_scene(e) or not flight.get("pose"):
                continue
            rows = self._episode_rows.get(int(e["episode_index"]), np.zeros(0, np.int64))
            if not len(rows):
                continue
            goal = states[rows[-1], :3]
            camera = CameraConfig(**{k: float(flight[k]) for k in ("fov_deg", "pitch_deg") if k in flight})
            uv, seen = project_points(states[rows], goal[None, :], camera)
            self.goal_uv[rows], self.goal_seen[rows] = uv[:, 0], seen[:, 0]
            far = np.linalg.norm(states[rows, :3] - goal, axis=1) >= self.HINDSIGHT_MIN_DISTANCE_M
            self.goal_ok[rows] = far

    def flights_line(self) -> str:
        """What the recorded episodes (no scene) teach, for the training log; "" without any."""
        flights = [int(e["episode_index"]) for e in self.dataset.episodes if not has_scene(e)]
        if not flights:
            return ""
        taught = len(np.unique(self.episode_index[self.goal_ok]))
        return (f"{len(flights)} recorded episode(s) without a scene: {taught} with hindsight pointer targets"
                + ("" if taught == len(flights) else
                   f"; {len(flights) - taught} train their actions alone (no pose on every frame, a flight shorter "
                   "than half a metre, a dataset converted before from-bag wrote the flight column, or "
                   "--no-hindsight-pointer)"))

    def __len__(self) -> int:
        return len(self.sample_ids)

    def decode(self, i: int) -> np.ndarray:
        # Rows are the dataset's frames in order (frames() reads every file); the up-front check
        # opened each image, so this names the rare PNG whose pixels alone are broken.
        where = f"{self.dataset.root}: row {int(i)} (episode {int(self.episode_index[int(i)])})"
        k = int(np.searchsorted(self._image_starts, int(i), side="right")) - 1
        cell = self._image_chunks[k][int(i) - int(self._image_starts[k])].as_py()
        return self.dataset.decode_image({"bytes": cell}, where)

    def batch(self, rng: np.random.Generator, size: int, normalizer, simple_prob: float, augment: bool,
              paraphrase_prob: float = 0.0) -> dict:
        """`simple_prob`: share of frames named by their simple instruction (the rest by the
        original). `paraphrase_prob`: share of simple-form texts (those frames and every decision
        sample) swapped for one of their paraphrases; needs `paraphrases` > 0. At 0 the batch and
        the draws from `rng` are what they were before paraphrases existed."""
        if paraphrase_prob and not self.paraphrase_rows.shape[1]:
            raise ValueError("paraphrase_prob > 0 needs TrainingData(..., paraphrases=N) with N > 0")
        n_pool = len(self.ep_first) + len(self.flight_first)
        n_dec = int(round(size * self.decision_frac)) if n_pool else 0
        # Decision samples: counterfactual ones of scene episodes (last in the batch) and the first
        # frames of flights with a hindsight target, in proportion to their numbers. Without
        # flights the draws are what they were before flights had any.
        n_flight = int(rng.binomial(n_dec, len(self.flight_first) / n_pool)) if n_dec and len(self.flight_first) else 0
        n_cf = n_dec - n_flight
        ids = self.sample_ids[rng.choice(len(self.sample_ids), size=size - n_dec, p=self.sample_p)]
        flight_rows = self.flight_first[rng.integers(len(self.flight_first), size=n_flight)] if n_flight else ids[:0]
        dec = rng.integers(len(self.ep_first), size=n_cf) if n_cf else np.zeros(0, np.int64)
        dec_gate = rng.integers(3, size=n_cf)
        dec_rows = self.ep_first[dec]
        ids = np.concatenate([ids, flight_rows, dec_rows])
        images = np.stack([self.decode(i) for i in ids])
        gate_uv, board_uv, goal_uv = self.gate_uv[ids].copy(), self.board_uv[ids].copy(), self.goal_uv[ids].copy()
        looked = self.ep_looked[self.episode_index[ids]]
        if augment and looked.any():  # frames of a randomized look were stored before the lens
            from cognitivedrone.sim.look import camera_effects

            for j in np.flatnonzero(looked):
                images[j] = camera_effects(images[j], rng)
        if augment:
            images, shift = augment_images(images, rng)
            # The picture moved by `shift` pixels: so did every labelled point.
            moved = (2.0 * shift / images.shape[1])[:, None, :].astype(np.float32)
            gate_uv += moved
            board_uv += moved
            goal_uv += moved[:, 0]
        use_simple = rng.random(size) < simple_prob
        text_rows = np.where(use_simple, self.text_simple[ids], self.text_original[ids])
        target_gate = self.target_gate[ids].copy()
        action_mask = self.chunk_valid[ids].copy()
        if n_cf:
            text_rows[-n_cf:] = self.ep_gate_text[dec, rng.integers(2, size=n_cf), dec_gate]
            target_gate[-n_cf:] = dec_gate
            # The expert's actions are known only for the gate it flew to.
            action_mask[-n_cf:] &= (dec_gate == self.target_gate[dec_rows])[:, None]
        if paraphrase_prob:
            is_simple = use_simple.copy()
            is_simple[size - n_cf:] = True  # counterfactual decision texts are all simple forms
            swap = is_simple & (rng.random(size) < paraphrase_prob)
            k = rng.integers(self.paraphrase_rows.shape[1], size=size)
            text_rows = np.where(swap, self.paraphrase_rows[text_rows, k], text_rows)
        uniq, inverse = np.unique(text_rows, return_inverse=True)
        g = self.pointer_grid
        seen = lambda uv, base: base & (np.abs(uv) <= 1.0).all(-1)  # noqa: E731 - a shift can push a point out
        gate_seen, board_seen = seen(gate_uv, self.gate_seen[ids]), seen(board_uv, self.board_seen[ids])
        pick = np.arange(len(ids)), np.maximum(target_gate, 0)
        # Where no gate was asked for (a recorded flight): where the flight went, in hindsight, or
        # -1 (no target: the pointer loss skips it).
        goal_cell = np.where(self.goal_ok[ids], pointer_cells(goal_uv, seen(goal_uv, self.goal_seen[ids]), g), -1)
        target_cell = np.where(target_gate >= 0, pointer_cells(gate_uv[pick], gate_seen[pick], g), goal_cell)
        ep = self.episode_index[ids]
        actions = normalizer.normalize(self.actions[self.chunk_index[ids]])  # [B, T, 4]
        return {
            "images": torch.from_numpy(images).permute(0, 3, 1, 2).float().div_(255.0),
            "text_rows": torch.from_numpy(uniq),
            "text_index": torch.from_numpy(inverse.reshape(-1)),
            "actions": torch.from_numpy(np.ascontiguousarray(actions, dtype=np.float32)),
            "action_mask": torch.from_numpy(action_mask),
            "target_gate": torch.from_numpy(target_gate),
            "target_cell": torch.from_numpy(target_cell),
            "gate_uv": torch.from_numpy(gate_uv),
            "gate_seen": torch.from_numpy(gate_seen),
            "board_uv": torch.from_numpy(board_uv),
            "board_seen": torch.from_numpy(board_seen),
            "gate_look": torch.from_numpy(self.ep_look[ep]),
            "board_asset": torch.from_numpy(self.ep_asset[ep]),
        }


def has_scene(meta: dict) -> bool:
    """Whether an episode was flown in the benchmark's scene: three gates with their pictures and
    which one was asked for (datagen); a recorded flight has none (data/from_bag.py)."""
    gates, options, correct = meta.get("gates") or [], meta.get("options") or [], meta.get("correct")
    return len(gates) == 3 and len(options) == 3 and isinstance(correct, int) and 1 <= correct <= 3


def flight_info(meta: dict, where: str) -> dict:
    """A recorded episode's "flight" column ({"pose": bool, optional "fov_deg", "pitch_deg"}),
    {} for simulated ones and datasets written before the column existed."""
    import json

    from cognitivedrone.data.lerobot_format import DatasetError

    text = meta.get("flight") or ""
    try:
        info = json.loads(text) if text else {}
        if not isinstance(info, dict) or not all(isinstance(info.get(k, 0.0), (int, float)) for k in ("fov_deg", "pitch_deg")):
            raise ValueError("expected an object with numbers fov_deg, pitch_deg")
    except ValueError as e:
        raise DatasetError(f"{where}: unreadable flight column {text[:80]!r} ({e})") from None
    return info


def look_geometry(look_json: str, gates: list[str], where: str):
    """(camera, billboard centres [3, 3]) of an episode flown in a recorded look, on the reference
    layout; `gates` are its "size shape colour" strings."""
    import json

    from cognitivedrone.data.lerobot_format import DatasetError
    from cognitivedrone.sim.camera import CameraConfig
    from cognitivedrone.sim.look import Look
    from cognitivedrone.sim.world import GATE_CENTER_Z, billboard_bottom, reference_layout

    try:
        look = Look.from_dict(json.loads(look_json))
    except (ValueError, TypeError, KeyError) as e:
        raise DatasetError(f"{where}: unreadable look ({e})") from None
    camera = CameraConfig(fov_deg=look.camera.fov_deg, pitch_deg=look.camera.pitch_deg)
    b = look.billboard
    boards = []
    for pose, g in zip(reference_layout(), gates):
        size, shape, _ = g.split(" ")
        bottom = billboard_bottom(b, GATE_CENTER_Z, shape, size, look.gates)
        boards.append([pose.x, pose.y, bottom + b.size_m / 2])
    return camera, np.array(boards)


def pointer_cells(uv: np.ndarray, seen: np.ndarray, grid: int) -> np.ndarray:
    """Pointer targets: the row-major cell of a grid x grid map holding each point (uv [B, 2]
    in [-1, 1]), or grid**2 ("not in view") where `seen` is False."""
    cell = np.clip(np.floor((uv + 1.0) / 2.0 * grid), 0, grid - 1).astype(np.int64)
    return np.where(seen, cell[:, 1] * grid + cell[:, 0], grid * grid)


def augment_images(images: np.ndarray, rng: np.random.Generator, max_shift: int = 4) -> tuple[np.ndarray, np.ndarray]:
    """Photometric jitter (brightness, contrast) and a small random translation per image:
    cheap robustness to lighting and to the camera's exact mounting. Returns the images and
    each one's content shift in pixels [B, 2] (x right, y down)."""
    b = images.shape[0]
    x = images.astype(np.float32)
    gain = rng.uniform(0.8, 1.2, size=(b, 1, 1, 1)).astype(np.float32)
    bias = rng.uniform(-20, 20, size=(b, 1, 1, 1)).astype(np.float32)
    mean = x.mean(axis=(1, 2, 3), keepdims=True)
    x = (x - mean) * gain + mean + bias
    out = np.clip(x, 0, 255).astype(np.uint8)
    shift = np.zeros((b, 2), np.float32)
    if max_shift:
        h, w = images.shape[1:3]
        padded = np.pad(out, ((0, 0), (max_shift, max_shift), (max_shift, max_shift), (0, 0)), mode="edge")
        dy, dx = rng.integers(0, 2 * max_shift + 1, size=(2, b))
        out = np.stack([padded[k, dy[k]:dy[k] + h, dx[k]:dx[k] + w] for k in range(b)])
        # Cropping at offset d moves the content by max_shift - d.
        shift = np.stack([max_shift - dx, max_shift - dy], 1).astype(np.float32)
    return out, shift
