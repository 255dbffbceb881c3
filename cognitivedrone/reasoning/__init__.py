"""R1, the reasoning module (docs/design.md, One instruction): rewrites a hard instruction into the simple form.

`make_reasoner(spec)`: "none", "offline" (default, no downloaded weights), "offline:PERCEPTION_DIR",
"hf:PATH" (a local Hugging Face VLM), "openai:URL[#model]" (an OpenAI-compatible server), or
"package.module:Class" for a plug-in (a Reasoner subclass, built with no arguments).
"""

from __future__ import annotations

import importlib
import traceback

from cognitivedrone.reasoning.base import NoReasoner, Reasoner, ReasonerError, Rewrite

SPECS = "none, offline, offline:PERCEPTION_DIR, hf:PATH, openai:URL[#model], or package.module:Class"


def make_reasoner(spec: str | None, engine: str = "auto") -> Reasoner | None:
    """None for "none" (the policy gets the user's words); ValueError naming the choices otherwise.
    `engine` runs the offline reasoner's networks: torch, onnxruntime, or auto (torch where it is
    installed); the other reasoners have their own."""
    if spec is None or spec == "none":
        return None
    kind, _, arg = spec.partition(":")
    if kind == "offline":
        from cognitivedrone.reasoning.offline.reasoner import OfflineReasoner

        return OfflineReasoner(arg or None, engine=engine)
    if kind == "hf":
        from cognitivedrone.reasoning.hf import HFReasoner

        if not arg:
            raise ValueError("hf needs a model directory: --reasoner hf:/path/to/Qwen2.5-VL-7B-Instruct")
        return HFReasoner(arg)
    if kind == "openai":
        from cognitivedrone.reasoning.openai_server import OpenAIReasoner

        url, _, model = arg.partition("#")
        if not url:
            raise ValueError("openai needs a server URL: --reasoner openai:http://localhost:8000#Qwen/Qwen2.5-VL-7B-Instruct")
        return OpenAIReasoner(url, model or None)
    if arg and "." in kind or (arg and kind.isidentifier()):
        return _load_plugin(spec, kind, arg)
    raise ValueError(f"unknown reasoner {spec!r}; choose {SPECS}")


def _load_plugin(spec: str, module_name: str, class_name: str) -> Reasoner:
    """A plug-in is the user's own code: whatever goes wrong importing or building it (a missing
    module, an exception or syntax error in it, a constructor that raises) is theirs to fix, so
    it becomes one ValueError naming the spec, the exception and where it was raised."""
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name and (module_name + ".").startswith(exc.name + "."):  # the plug-in itself, not an import inside it
            raise ValueError(f"reasoner plug-in {spec!r}: module {module_name!r} not found (is it on PYTHONPATH?)") from None
        raise ValueError(f"reasoner plug-in {spec!r}: importing {module_name} failed: {_what(exc)}") from None
    except Exception as exc:
        raise ValueError(f"reasoner plug-in {spec!r}: importing {module_name} failed: {_what(exc)}") from None
    cls = getattr(module, class_name, None)
    if cls is None:
        raise ValueError(f"reasoner plug-in {spec!r}: module {module_name} has no {class_name!r}")
    if not (isinstance(cls, type) and issubclass(cls, Reasoner)):
        raise ValueError(f"reasoner plug-in {spec!r} is not a cognitivedrone.reasoning.Reasoner subclass")
    try:
        return cls()
    except Exception as exc:
        raise ValueError(f"reasoner plug-in {spec!r}: {class_name}() failed: {_what(exc)}") from None


def _what(exc: BaseException) -> str:
    """`Type: message (file:line)`, the line being where the plug-in's code raised."""
    if isinstance(exc, SyntaxError):
        return f"SyntaxError: {exc.msg} ({exc.filename}:{exc.lineno})"
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if f.filename != __file__]
    where = f" ({frames[-1].filename}:{frames[-1].lineno})" if frames else ""
    text = str(exc).replace("\n", " ")
    return f"{type(exc).__name__}: {text}{where}" if text else f"{type(exc).__name__}{where}"


__all__ = ["NoReasoner", "Reasoner", "ReasonerError", "Rewrite", "make_reasoner", "SPECS"]
