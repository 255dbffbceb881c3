"""A bench run's journal: every finished episode appended to `episodes.jsonl` as it lands, so a
run killed halfway (a session ending, a laptop lid) carries on with `bench --resume` instead of
flying the whole suite again. A full suite in five looks is hours on two cores.

One line per episode: the EpisodeResult's fields plus `run` (which invocation flew it) and
`elapsed_s` (that invocation's wall seconds when it finished), so the report's wall time adds up
the invocations. A line torn by a kill mid-write is the last line and has no newline: it is
dropped and flown again. Any other line that does not read is a damaged journal: a clear error,
nothing flown.
"""

from __future__ import annotations

import json
import math
import os
from dataclasses import MISSING, dataclass, field, fields
from pathlib import Path

from cognitivedrone.bench.results import OUTCOMES, EpisodeResult, json_safe
from cognitivedrone.bounded_json import JsonInputError, loads_bounded

JOURNAL = "episodes.jsonl"
_RESULT_FIELDS = {f.name for f in fields(EpisodeResult)}
_REQUIRED = {f.name for f in fields(EpisodeResult) if f.default is MISSING and f.default_factory is MISSING}
_NAN_AS_NULL = ("time_s", "path_length_m", "latency_ms_mean", "latency_ms_p99")  # floats; json_safe writes NaN as null


def result_from_json(d: dict) -> EpisodeResult:
    """Inverse of EpisodeResult.to_json (which adds the derived `success` and `time_to_goal_s`,
    and writes a non-finite number as null)."""
    missing = _REQUIRED - set(d)
    if missing:
        raise ValueError(f"missing {', '.join(sorted(missing))}")
    kept = {k: v for k, v in d.items() if k in _RESULT_FIELDS}
    for name in _NAN_AS_NULL:
        kept[name] = math.nan if kept[name] is None else float(kept[name])
    result = EpisodeResult(**kept)
    if result.outcome not in OUTCOMES:
        raise ValueError(f"unknown outcome {result.outcome!r}")
    return result


@dataclass
class JournalState:
    """What earlier invocations of a run finished."""

    results: dict[tuple[str, str], EpisodeResult] = field(default_factory=dict)  # (look, episode id) -> result
    wall_s: float = 0.0  # their wall time, summed over invocations
    runs: int = 0  # how many invocations wrote to the journal

    def done_in(self, look: str) -> dict[str, EpisodeResult]:
        return {eid: r for (lk, eid), r in self.results.items() if lk == look}


def read_journal(out_dir: str | Path) -> JournalState:
    """Raises ValueError (one line, naming the file and line) for a damaged journal."""
    path = Path(out_dir) / JOURNAL
    state = JournalState()
    if not path.exists():
        return state
    raw = path.read_bytes()
    lines = raw.split(b"\n")
    if lines and lines[-1] != b"":  # no newline at the end: the last write was cut short
        lines = lines[:-1]
    last_elapsed: dict[int, float] = {}
    for n, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            d = loads_bounded(line)
            if not isinstance(d, dict):
                raise ValueError("not an object")
            run, elapsed = int(d["run"]), float(d["elapsed_s"])
            result = result_from_json(d)
        except (JsonInputError, ValueError, KeyError, TypeError) as e:
            raise ValueError(f"{path}, line {n}: not an episode record ({e}); fix or delete that line, "
                             f"or pass --overwrite to fly the run again") from None
        state.results[(result.look, result.episode_id)] = result
        last_elapsed[run] = max(last_elapsed.get(run, 0.0), elapsed)
    state.runs = max(last_elapsed, default=-1) + 1
    state.wall_s = sum(last_elapsed.values())
    return state


class JournalWriter:
    """Appends one line per finished episode and flushes it to disk before the next. A torn last
    line (see read_journal) is cut off first, so the next record starts on a line of its own."""

    def __init__(self, out_dir: str | Path, run: int):
        self.path = Path(out_dir) / JOURNAL
        self.run = run
        self._f = open(self.path, "ab")
        end = self._f.seek(0, os.SEEK_END)
        if end:
            with open(self.path, "rb") as r:
                whole = r.read()
            if not whole.endswith(b"\n"):
                self._f.truncate(whole.rfind(b"\n") + 1)

    def append(self, result: EpisodeResult, elapsed_s: float) -> None:
        line = json.dumps(json_safe({"run": self.run, "elapsed_s": round(elapsed_s, 3), **result.to_json()}),
                          ensure_ascii=False)
        self._f.write(line.encode("utf-8") + b"\n")
        self._f.flush()
        os.fsync(self._f.fileno())

    def close(self) -> None:
        self._f.close()

    def __enter__(self) -> JournalWriter:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
