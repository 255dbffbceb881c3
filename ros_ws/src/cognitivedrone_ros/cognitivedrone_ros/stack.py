"""Start a node set from the package's YAML without the ROS 2 launch system (which has no PyPI
wheels): each node in its own process, `python -m cognitivedrone_ros.<node> --ros-args
--params-file <yaml>`, the same executables and parameters `ros2 launch` would use.

Used by `cognitivedrone stack sim|drone` and by the tests. No rclpy import here.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

NODES = ("sim_node", "vla_node", "reasoner_node", "mavros_bridge", "recorder", "ground_link")
EVERY_NODE = "/**"
PACKAGE_DIR = Path(__file__).resolve().parents[1]  # the ament package: config/, launch/


def config_path(name: str) -> Path:
    """config/<name>.yaml of the installed package (ament share directory), else of the source tree."""
    if Path(name).suffix in (".yaml", ".yml"):
        return Path(name)
    candidates = []
    try:
        from ament_index_python.packages import get_package_share_directory

        candidates.append(Path(get_package_share_directory("cognitivedrone_ros")) / "config" / f"{name}.yaml")
    except Exception:  # not installed with an ament index: the source tree has it
        pass
    candidates.append(PACKAGE_DIR / "config" / f"{name}.yaml")
    for c in candidates:
        if c.is_file():
            return c
    raise FileNotFoundError(f"no stack config {name!r} (looked for {', '.join(map(str, candidates))}); "
                            f"known: sim, drone, teleop, or a path to a YAML file")


def node_params(node: str) -> set[str]:
    """The parameters `node` declares (its module's PARAMS), and ROS's own use_sim_time."""
    return set(declared_params(node)) | {"use_sim_time"}


def declared_params(node: str) -> dict:
    """name -> node_support.Param, as `node` declares them (its module's PARAMS)."""
    import importlib

    return {p.name: p for p in importlib.import_module(f"cognitivedrone_ros.{node}").PARAMS}


def unknown_name(kind: str, name: str, known, where: str) -> ValueError:
    """One line for a name that is not one of `known`, naming the nearest (a typo) or the list."""
    import difflib

    close = difflib.get_close_matches(name, sorted(known), n=1)
    hint = f"; did you mean {close[0]!r}?" if close else f" (known: {', '.join(sorted(known))})"
    return ValueError(f"{where}: unknown {kind} {name!r}{hint}")


def check_params(node: str, params: dict, where: str, values: bool = False) -> None:
    """A parameter a node does not declare would be ignored without a word: refused instead. With
    `values`, a value the node would refuse (a limit out of range, a misspelt engine) is refused
    here already, so a stack does not start half of its nodes."""
    known = node_params(node)
    declared = declared_params(node)
    for name, value in params.items():
        if name not in known:
            raise unknown_name(f"{node} parameter", name, known, where)
        if values and name in declared:
            try:
                declared[name].validate(value)
            except ValueError as exc:
                raise ValueError(f"{where}: {node} {exc}") from None


@dataclass(frozen=True)
class NodeLaunch:
    """One node as a stack starts it: its parameters and its topic remappings (from -> to)."""

    name: str
    params: dict
    remaps: dict[str, str]


def load_stack(path: str | Path) -> dict[str, NodeLaunch]:
    """node name -> its parameters and remappings, from a stack YAML: ROS 2's parameter-file format,
    and beside a node's ros__parameters an optional `remappings:` mapping (FROM: TO), which the
    nodes never see (the stack and the launch files pass it as remappings). Every node must be one
    of NODES and every parameter one it declares. A `/**` entry (ROS 2's every-node wildcard) holds
    parameters several nodes share, the vehicle's limits: each goes to the nodes of the file that
    declare it, under what a node's own entry sets."""
    import yaml

    path = Path(path)
    try:
        raw = yaml.safe_load(path.read_text())
    except yaml.YAMLError as exc:
        raise ValueError(f"{path}: not valid YAML ({exc})") from None
    if not isinstance(raw, dict) or not raw:
        raise ValueError(f"{path}: expected node names at the top level, each with ros__parameters")
    stack = {}
    shared = raw.pop(EVERY_NODE, None)
    for name, body in raw.items():
        if name not in NODES:
            raise unknown_name("node", name, NODES, str(path))
        body = body if isinstance(body, dict) else {}
        for key in body:
            if key not in ("ros__parameters", "remappings"):
                raise unknown_name(f"key of {name}", key, ("ros__parameters", "remappings"), str(path))
        params = body.get("ros__parameters", {})
        if not isinstance(params, dict):
            raise ValueError(f"{path}: {name} needs a ros__parameters mapping")
        check_params(name, params, str(path))
        stack[name] = NodeLaunch(name, params, check_remaps(body.get("remappings") or {}, f"{path}: {name} remappings"))
    if shared is not None:
        params = shared.get("ros__parameters") if isinstance(shared, dict) and set(shared) == {"ros__parameters"} else None
        if not isinstance(params, dict):
            raise ValueError(f"{path}: {EVERY_NODE} holds only a ros__parameters mapping")
        declared = {name: node_params(name) for name in stack}
        for key, value in params.items():
            takers = [name for name in stack if key in declared[name]]
            if not takers:
                raise unknown_name(f"parameter of {', '.join(stack)}", key, set().union(*declared.values()),
                                   f"{path}: {EVERY_NODE}")
            for name in takers:
                stack[name].params.setdefault(key, value)
    return stack


def check_remaps(remaps, where: str) -> dict[str, str]:
    if not isinstance(remaps, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in remaps.items()):
        raise ValueError(f"{where}: expected a mapping of topic names, e.g. camera/image_raw: /camera/color/image_raw")
    for src, dst in remaps.items():
        if not src or not dst or src.startswith("__") or ":=" in src + dst:
            raise ValueError(f"{where}: {src!r} -> {dst!r} is not a topic remapping")
    return dict(remaps)


def parse_remaps(items) -> dict[str, str]:
    """["FROM:=TO", ...] (--remap, ros2 run's -r) -> {FROM: TO}."""
    out = {}
    for item in items:
        src, sep, dst = item.partition(":=")
        if not sep:
            raise ValueError(f"--remap {item!r}: expected FROM:=TO, e.g. camera/image_raw:=/camera/color/image_raw")
        out[src] = dst
    return check_remaps(out, "--remap")


def yaml_value(text: str):
    """A parameter given as text (--set, a launch argument) typed as ROS types `-p name:=value`."""
    import yaml

    if text == "":
        return ""
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError:
        return text


def plan_stack(spec: dict[str, NodeLaunch], overrides: dict[str, dict], remaps: dict[str, str] | None = None,
               ) -> dict[str, NodeLaunch]:
    """The nodes a stack starts, each with its parameters (the YAML's, then `overrides`: text typed
    as ROS would) and remappings (the YAML's, then `remaps`, which apply to every node, as a
    process-wide -r does). `cognitivedrone stack` and the launch files both start what this says.

    No reasoner is a choice: `reasoner: none` (in the YAML, `--set reasoner_node.reasoner=none` or
    the launch argument `reasoner:=none`) leaves reasoner_node out, and vla_node then flies the
    user's words at once (wait_for_rewrite_s 0, unless set)."""
    typed = {}
    for node, params in overrides.items():
        if node not in spec:
            raise unknown_name("node", node, spec, "--set")
        typed[node] = {k: yaml_value(v) if isinstance(v, str) else v for k, v in params.items()}
        check_params(node, typed[node], "--set")  # names first: a misspelt one says so
    plan = {}
    for name, node in spec.items():
        plan[name] = NodeLaunch(name, {**node.params, **typed.get(name, {})}, {**node.remaps, **(remaps or {})})
    if "reasoner_node" in plan and str(plan["reasoner_node"].params.get("reasoner", "")).strip() == "none":
        del plan["reasoner_node"]
        if "vla_node" in plan and "wait_for_rewrite_s" not in overrides.get("vla_node", {}):
            plan["vla_node"].params["wait_for_rewrite_s"] = 0.0
    for name, node in plan.items():
        check_params(name, typed.get(name, {}), "--set", values=True)
        check_params(name, node.params, f"{name} (stack config)", values=True)
    return plan


def parse_overrides(items: list[str]) -> dict[str, dict[str, str]]:
    """["vla_node.engine=torch", ...] -> {"vla_node": {"engine": "torch"}} (values in YAML syntax)."""
    out: dict[str, dict[str, str]] = {}
    for item in items:
        key, sep, value = item.partition("=")
        node, dot, param = key.partition(".")
        if not sep or not dot or not param:
            raise ValueError(f"--set {item!r}: expected NODE.PARAM=VALUE, e.g. vla_node.engine=torch")
        out.setdefault(node, {})[param] = value
    return out


def ros_env(base: dict[str, str] | None = None, localhost: bool = True) -> dict[str, str]:
    """The environment the nodes need in a venv with the ROS 2 wheels (README, ROS 2). `localhost`:
    discovery stays on this machine unless the caller's environment says otherwise (the
    simulation; not the drone stack, which a ground station must reach). The variable is Iron's
    and later; on Humble set ROS_LOCALHOST_ONLY=1 yourself."""
    env = dict(os.environ if base is None else base)
    env.setdefault("AMENT_PREFIX_PATH", sys.prefix)  # the wheels' ament index lives in the venv
    if localhost:
        env.setdefault("ROS_AUTOMATIC_DISCOVERY_RANGE", "LOCALHOST")
    env.setdefault("PYTHONUNBUFFERED", "1")
    return env


@dataclass
class Stack:
    """The node processes of one stack. `with Stack(...) as s:` stops them all on the way out."""

    config: Path
    overrides: dict[str, dict[str, str]] = field(default_factory=dict)
    nodes: tuple[str, ...] | None = None  # a subset of the config's nodes (default: all)
    env: dict[str, str] | None = None
    log_dir: Path | None = None  # each node's output in <log_dir>/<node>.log (default: inherited)
    localhost: bool = True  # see ros_env
    remaps: tuple[str, ...] = ()  # "FROM:=TO" topic remappings for every node (e.g. the camera's topic)
    processes: dict[str, subprocess.Popen] = field(default_factory=dict)

    def __post_init__(self):
        self.config = Path(self.config)
        self.spec = load_stack(self.config)
        for node in self.nodes or ():
            if node not in self.spec:
                raise ValueError(f"{node!r} is not in {self.config} ({', '.join(self.spec)})")
        self.plan = plan_stack(self.spec, self.overrides, parse_remaps(self.remaps))
        self.nodes = tuple(n for n in (self.nodes or self.spec) if n in self.plan)
        self._params_dir = None

    def params_file(self) -> Path:
        """The plan's parameters as one ROS 2 parameter file (the YAML without its remappings, with
        the overrides), written once per Stack."""
        import tempfile

        import yaml

        if self._params_dir is None:
            self._params_dir = tempfile.TemporaryDirectory(prefix="cognitivedrone-stack-")
            body = {n.name: {"ros__parameters": n.params} for n in self.plan.values()}
            Path(self._params_dir.name, "params.yaml").write_text(yaml.safe_dump(body, sort_keys=False))
        return Path(self._params_dir.name, "params.yaml")

    def command(self, node: str) -> list[str]:
        cmd = [sys.executable, "-m", f"cognitivedrone_ros.{node}", "--ros-args", "-r", f"__node:={node}",
               "--params-file", str(self.params_file())]
        for src, dst in self.plan[node].remaps.items():
            cmd += ["-r", f"{src}:={dst}"]
        return cmd

    def start(self, node: str | None = None) -> None:
        env = ros_env(self.env, self.localhost)
        for name in ([node] if node else self.nodes):
            out = None
            if self.log_dir is not None:
                Path(self.log_dir).mkdir(parents=True, exist_ok=True)
                out = open(Path(self.log_dir) / f"{name}.log", "ab")
            self.processes[name] = subprocess.Popen(self.command(name), env=env, stdout=out,
                                                    stderr=subprocess.STDOUT if out else None,
                                                    preexec_fn=_die_with_parent)
            if out is not None:
                out.close()  # the child holds its own copy

    def kill(self, node: str, sig: int = signal.SIGKILL) -> None:
        proc = self.processes[node]
        proc.send_signal(sig)
        proc.wait(timeout=10)

    def exited(self) -> dict[str, int]:
        return {n: p.returncode for n, p in self.processes.items() if p.poll() is not None}

    def stop(self, timeout_s: float = 5.0) -> None:
        for p in self.processes.values():
            if p.poll() is None:
                p.send_signal(signal.SIGINT)  # rclpy shuts down cleanly on SIGINT
        deadline = time.monotonic() + timeout_s
        for p in self.processes.values():
            try:
                p.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()

    def __enter__(self) -> "Stack":
        self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop()
        if self._params_dir is not None:
            self._params_dir.cleanup()
            self._params_dir = None


def _find_prctl():
    # Looked up here, in the parent: loading a library in a child forked from a threaded process
    # can deadlock.
    try:
        import ctypes

        return ctypes.CDLL("libc.so.6", use_errno=True).prctl
    except (OSError, AttributeError):
        return None


_PRCTL = _find_prctl()


def _die_with_parent() -> None:
    """In the child, before exec: a node must not outlive the launcher (killed, crashed) and go
    on publishing (Linux; elsewhere stop() is the only cleanup)."""
    if _PRCTL is not None:
        _PRCTL(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


def log_tail(log_dir: Path, lines: int = 15) -> str:
    """The last lines of each node's log, for an error message."""
    parts = []
    for f in sorted(Path(log_dir).glob("*.log")):
        text = f.read_text(errors="replace").splitlines()[-lines:]
        parts.append(f"--- {f.name}\n" + "\n".join(text))
    return "\n".join(parts)

