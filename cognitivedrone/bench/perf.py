"""`cognitivedrone perf`: latency of the policy per engine at batch 1, and of the fast loop.

Two figures per engine:
- engine: `infer` on prepared arrays, the graph call alone (what the engine costs);
- fast_loop: camera frame in -> VelocityCommand out through `act` (frame checks, conversion,
  inference, the command object); Pilot's safety filter joins this path once Pilot exists.
Frames are real FPV frames of the expert's flights (smoke suite) when the simulator is
installed, else random frames (the CNN's cost does not depend on the pixels); the JSON says which.
"""

from __future__ import annotations

import os
import platform
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np

from cognitivedrone.runtime.engine import PolicyEngine


@dataclass
class LatencyStats:
    p50_ms: float
    p90_ms: float
    p99_ms: float
    mean_ms: float
    hz: float  # decisions per second at the mean latency, one after another
    n: int
    threads: int


def sample_calls(call: Callable[[int], object], iters: int, warmup: int) -> np.ndarray:
    """Milliseconds of `call(i)` for i in range(iters) after `warmup` untimed calls."""
    for i in range(warmup):
        call(i)
    t = np.empty(iters)
    clock = time.perf_counter
    for i in range(iters):
        t0 = clock()
        call(i)
        t[i] = clock() - t0
    return t * 1e3


def time_calls(call: Callable[[int], object], iters: int, warmup: int, threads: int) -> LatencyStats:
    """Time `call(i)` for i in range(iters) after `warmup` untimed calls."""
    return stats_of(sample_calls(call, iters, warmup), threads)


def stats_of(ms: np.ndarray, threads: int) -> LatencyStats:
    iters = len(ms)
    mean = float(ms.mean())
    return LatencyStats(round(float(np.percentile(ms, 50)), 4), round(float(np.percentile(ms, 90)), 4),
                        round(float(np.percentile(ms, 99)), 4), round(mean, 4), round(1e3 / mean, 1), iters, threads)


def measure(engine: PolicyEngine, frames: np.ndarray, instruction: str, iters: int, warmup: int) -> tuple[LatencyStats, LatencyStats]:
    emb = engine.embed(instruction)
    batch = [np.ascontiguousarray(f[None]) for f in frames]
    emb1 = np.array(emb[None], dtype=np.float32)  # writable: torch.from_numpy warns on read-only arrays
    k = len(frames)
    raw = time_calls(lambda i: engine.infer(batch[i % k], emb1), iters, warmup, engine.threads)
    loop = time_calls(lambda i: engine.act(frames[i % k], emb), iters, warmup, engine.threads)
    return raw, loop


def perf_frames(n: int, image_size: int) -> tuple[np.ndarray, str]:
    try:
        from cognitivedrone.bench.frames import expert_frames

        return expert_frames(n, image_size=image_size)[0], f"{n} FPV frames of the expert flying the smoke suite"
    except ImportError:
        rng = np.random.default_rng(0)
        return rng.integers(0, 256, (n, image_size, image_size, 3), dtype=np.uint8), f"{n} random frames (no simulator installed)"


# What the policy is told while it is timed (every host times the same thing).
PERF_INSTRUCTION = "fly through the gate with the number equal to 4+3"


def machine_line(info: dict) -> str:
    return f"machine: {info['cpu']} ({info['cores']} cores), {info['platform']}"


def machine_info() -> dict:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith(("model name", "Model")):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    info = {"cpu": cpu, "cores": os.cpu_count(), "platform": platform.platform(), "python": platform.python_version(),
            "numpy": np.__version__}
    for mod in ("torch", "onnxruntime", "tensorrt"):
        try:
            info[mod] = __import__(mod).__version__
        except ImportError:
            pass
    return info


def measure_pilot(engine: PolicyEngine, frames: np.ndarray, instruction: str, iters: int, warmup: int,
                  reasoner_delay_s: float, rounds: int = 4) -> tuple[LatencyStats, LatencyStats]:
    """The fast loop through Pilot (frame checks, policy, safety filter) on the wall clock: alone,
    and beside a reasoner taking `reasoner_delay_s` per call in Pilot's background loop. The two
    take turns in `rounds` rounds, each long enough to span reasoner calls ending, so that a
    shared machine's slow spells fall on both alike (back to back, p99 moved by ±10 % between
    runs of the same code)."""
    from cognitivedrone.pilot import Pilot, PilotConfig
    from cognitivedrone.reasoning.base import Reasoner, Rewrite

    class SlowReasoner(Reasoner):
        name = "slow"

        def rewrite(self, instruction, image):
            time.sleep(reasoner_delay_s)
            return Rewrite("Fly through the big round red gate with the digit 7", "perf stand-in", reasoner_delay_s)

    k = len(frames)
    per_round = max(1, iters // rounds)
    calm, busy = [], []
    for r in range(rounds):
        for reasoner, out in ((None, calm), (SlowReasoner(), busy)):
            # first_answer_wait_s=0: time the policy flying beside the busy reasoner, not the hover
            # before its first answer.
            pilot = Pilot(engine, reasoner, config=PilotConfig(mode="threaded", reasoner_hz=2.0, reasoner_timeout_s=10.0,
                                                               first_answer_wait_s=0.0))
            try:
                pilot.set_instruction(instruction)
                out.append(sample_calls(lambda i: pilot.on_frame(frames[i % k], time.monotonic()), per_round,
                                        warmup if r == 0 else warmup // 4))
            finally:
                pilot.close()
    return stats_of(np.concatenate(calm), engine.threads), stats_of(np.concatenate(busy), engine.threads)
