"""Module-level jobs for the worker-pool tests (a worker imports them by name)."""

from __future__ import annotations

import os
from pathlib import Path

from cognitivedrone.pool import notify

_state: dict = {}


def init(tag: str) -> None:
    _state["tag"] = tag
    _state["pid"] = os.getpid()


def square(k: int) -> tuple[int, int, str, int]:
    notify(("started", k))
    return k, k * k, _state.get("tag", ""), _state.get("pid", 0)


def dies_once(k: int, marks: str) -> int:
    """Job 1 kills its worker the first time (a machine lost mid-job); job 2 always raises."""
    mark = Path(marks) / f"job-{k}"
    if k == 1 and not mark.exists():
        mark.write_text("died")
        os._exit(1)
    if k == 2:
        raise RuntimeError("a shard that cannot be made")
    return k
