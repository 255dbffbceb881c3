"""What ships inside the package, and where the project writes what it derives from it.

Package data is found through `importlib.resources`, not through the checkout's layout, so the
same code runs from a clone (editable install) and from an installed wheel in any directory:

* ``sim_assets/``: the billboard mesh, the art sets and the fonts (sim/, tasks/assets.py);
* ``tasks/suites/``: the committed benchmark suites;
* ``checkpoints/default`` and ``checkpoints/perception``: the shipped policy and the offline
  reasoner's perception models (weights as safetensors + JSON).

Wheels install unzipped, so each resource is a real file that pybullet and onnxruntime can open
by path. Derived files (rendered textures, meshes) go to the cache: `cache_dir`.
docs/design.md, Layers and Package data.
"""

from __future__ import annotations

import os
import tempfile
from importlib.resources import files
from pathlib import Path

#: Checkpoints shipped inside the package; a user names them as ``checkpoints/NAME`` (the
#: path they had in the repository, kept so every command and committed result still reads).
SHIPPED_CHECKPOINTS = ("default", "perception")


def package_path(*parts: str) -> Path:
    """A file or folder shipped inside the cognitivedrone package, as a filesystem path."""
    return Path(str(files("cognitivedrone").joinpath(*parts)))


SIM_ASSETS = package_path("sim_assets")
SUITES_DIR = package_path("tasks", "suites")
CHECKPOINTS_DIR = package_path("checkpoints")
DEFAULT_CHECKPOINT = CHECKPOINTS_DIR / "default"
DEFAULT_PERCEPTION = CHECKPOINTS_DIR / "perception"


def resolve_checkpoint(value: str | os.PathLike) -> Path:
    """A checkpoint folder as given when it exists (absolute, or from the working directory);
    else a shipped one named ``checkpoints/NAME`` or ``NAME``; else the path as given, for the
    loader to say it is missing."""
    path = Path(value).expanduser()
    if path.exists() or path.is_absolute():
        return path
    parts = path.parts
    if len(parts) == 2 and parts[0] == "checkpoints" and parts[1] in SHIPPED_CHECKPOINTS:
        return CHECKPOINTS_DIR / parts[1]
    if len(parts) == 1 and parts[0] in SHIPPED_CHECKPOINTS:
        return CHECKPOINTS_DIR / parts[0]
    return path


def cache_dir() -> Path:
    env = os.environ.get("COGNITIVEDRONE_CACHE")
    return Path(env).expanduser() if env else Path.home() / ".cache" / "cognitivedrone"


def write_atomic(path: Path, write) -> None:
    """Write `path` with `write(file_object)` into a temporary file moved into place: readers
    (other workers) never see a partial file."""
    fd, tmp = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
