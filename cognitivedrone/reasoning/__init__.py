"""R1, the reasoning module (DESIGN §1, §3): rewrites a hard instruction into the simple form.

`make_reasoner(spec)`: "none", "offline" (default, no downloaded weights), "offline:PERCEPTION_DIR",
"hf:PATH" (a local Hugging Face VLM), "openai:URL[#model]" (an OpenAI-compatible server), or
"package.module:Class" for a plug-in (a Reasoner subclass, built with no arguments).
"""

from __future__ import annotations

import importlib

from cognitivedrone.reasoning.base import NoReasoner, Reasoner, ReasonerError, Rewrite

SPECS = "none, offline, offline:PERCEPTION_DIR, hf:PATH, openai:URL[#model], or package.module:Class"


def make_reasoner(spec: str | None) -> Reasoner | None:
    """None for "none" (the policy gets the user's words); ValueError naming the choices otherwise."""
    if spec is None or spec == "none":
        return None
    kind, _, arg = spec.partition(":")
    if kind == "offline":
        from cognitivedrone.reasoning.offline.reasoner import OfflineReasoner

        return OfflineReasoner(arg or None)
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
        try:
            cls = getattr(importlib.import_module(kind), arg)
        except (ImportError, AttributeError) as exc:
            raise ValueError(f"reasoner plug-in {spec!r} not found ({exc})") from None
        if not (isinstance(cls, type) and issubclass(cls, Reasoner)):
            raise ValueError(f"reasoner plug-in {spec!r} is not a cognitivedrone.reasoning.Reasoner subclass")
        return cls()
    raise ValueError(f"unknown reasoner {spec!r}; choose {SPECS}")


__all__ = ["NoReasoner", "Reasoner", "ReasonerError", "Rewrite", "make_reasoner", "SPECS"]
