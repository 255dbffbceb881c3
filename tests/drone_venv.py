"""A venv that holds what the drone's install would and nothing else: the packages of the named
extras of cognitivedrone (their whole dependency closure, read from the installed metadata),
linked from this environment instead of downloaded, and this repository's packages. torch is in
no drone-side extra, so code that imports it fails there as it would on the drone; and an extra
that forgets a package its code needs fails the same way."""

from __future__ import annotations

import importlib.metadata as md
import re
import subprocess
import sys
import sysconfig
from pathlib import Path

from packaging.requirements import Requirement

REPO = Path(__file__).resolve().parents[1]
ROS_PACKAGE = REPO / "ros_ws" / "src" / "cognitivedrone_ros" / "cognitivedrone_ros"


def _wanted(requirement: str, extras) -> Requirement | None:
    r = Requirement(requirement)
    if r.marker is None or any(r.marker.evaluate({"extra": e}) for e in extras):
        return r
    return None


def extras_closure(extras: tuple[str, ...]) -> dict[str, md.Distribution]:
    """Every installed distribution cognitivedrone[extras] needs, by normalised name."""
    todo = [r for s in md.distribution("cognitivedrone").requires or [] if (r := _wanted(s, extras or ("",)))]
    found: dict[str, md.Distribution] = {}
    while todo:
        req = todo.pop()
        key = re.sub(r"[-_.]+", "-", req.name).lower()
        if key in found:
            continue
        try:
            dist = found[key] = md.distribution(req.name)
        except md.PackageNotFoundError:  # a platform-only dependency not installed here
            continue
        todo += [r for s in dist.requires or [] if (r := _wanted(s, tuple(req.extras) or ("",)))]
    return found


def make_venv(root: Path, extras: tuple[str, ...], ros_package: bool = False) -> Path:
    """A real venv (no system site-packages) at `root`; returns its python."""
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(root)], check=True)
    py = root / "bin" / "python"
    site = Path(subprocess.run([str(py), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                               check=True, capture_output=True, text=True).stdout.strip())
    main_site = Path(sysconfig.get_paths()["purelib"])
    tops = set()
    for dist in extras_closure(extras).values():
        for f in dist.files or []:
            top = f.parts[0]
            if top not in ("..", "__pycache__") and not top.endswith((".dist-info", ".egg-info")):
                tops.add(top)
    for top in sorted(tops):
        if (main_site / top).exists() and not (site / top).exists():
            (site / top).symlink_to(main_site / top)  # into site itself: their .pth files run
    # This repository's packages, with their metadata: the version, and the entry point that adds
    # the ROS verbs (stack, record) to the command line.
    (site / "cognitivedrone").symlink_to(REPO / "cognitivedrone")
    names = ["cognitivedrone"]
    if ros_package:
        (site / "cognitivedrone_ros").symlink_to(ROS_PACKAGE)
        names.append("cognitivedrone_ros")
    for name in names:
        for info in main_site.glob(f"{name}-*.dist-info"):
            (site / info.name).symlink_to(info)
    return py


def clean_env(base: dict[str, str]) -> dict[str, str]:
    return {k: v for k, v in base.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
