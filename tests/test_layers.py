"""The package's layers (docs/design.md, Layers): no module imports a layer above its own, and no
modules import each other round in a cycle. Every import counts, also those inside functions
(made late for start-up time, they are still a dependency) and those under TYPE_CHECKING."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import cognitivedrone

PACKAGE = Path(cognitivedrone.__file__).resolve().parent

# Lowest first. A module may import its own layer and those below it.
LAYERS = (
    ("types", "bounded_json", "resources", "cli_types", "pool", "pool_ray"),  # the foundation: data, safe JSON, package data, workers
    ("tasks",),  # what an episode is: vocabulary, pictures, suites, prompts, gates
    ("sim",),  # the world and its looks, physics, camera
    ("expert", "safety", "frame_guard"),  # privileged pilot; what may reach the motors; frame checks
    ("policy",),  # the VLA: configuration, modeling, processing, checkpoints
    ("runtime",),  # engines (torch, onnxruntime, TensorRT) and export
    ("reasoning",),  # reasoners and the simple form's loop
    ("pilot", "ground_link"),  # policy + reasoner + safety, one frame at a time; the ground station's way in
    ("bench",),  # the harness: agents, episode loop, runner, report, video, perf
    ("data",),  # datagen and the LeRobot dataset format
    ("training",),  # train, fine-tune, view head
    ("cli",),
)
LAYER_OF = {name: i for i, names in enumerate(LAYERS) for name in names}


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path) -> set[str]:
    """cognitivedrone modules `path` imports ("from cognitivedrone.x import y" names x, or x.y
    where that is a module)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.split(".")[0] == "cognitivedrone")
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            if node.module.split(".")[0] != "cognitivedrone":
                continue
            for alias in node.names:
                sub = f"{node.module}.{alias.name}"
                found.add(sub if sub in MODULES else node.module)
    return found


MODULES = {_module_name(p): p for p in PACKAGE.rglob("*.py")}
GRAPH = {name: _imports(path) - {name} for name, path in MODULES.items()}


def _layer(module: str) -> int:
    top = module.split(".")[1] if "." in module else ""
    if top not in LAYER_OF:
        raise AssertionError(f"{module}: its top-level part {top!r} is in no layer; add it to LAYERS")
    return LAYER_OF[top]


def test_every_top_level_part_has_a_layer():
    for module in MODULES:
        if module != "cognitivedrone":
            _layer(module)


@pytest.mark.parametrize("module", sorted(m for m in MODULES if m != "cognitivedrone"))
def test_no_module_imports_a_layer_above_its_own(module):
    upward = sorted(dep for dep in GRAPH[module] if dep != "cognitivedrone" and _layer(dep) > _layer(module))
    assert not upward, f"{module} (layer {LAYERS[_layer(module)]}) imports upward: {upward}"


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index, low, stack, on_stack, out = {}, {}, [], set(), []

    def visit(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in graph.get(v, ()):
            if w not in graph:
                continue
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


def test_no_import_cycles():
    assert _cycles(GRAPH) == []


def test_the_checks_catch_an_upward_import_and_a_cycle():
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert _layer("cognitivedrone.tasks.suite") < _layer("cognitivedrone.bench.runner")
