"""Embedding instructions without torch: the exported instruction encoder + `tokenizers`.

The tokenizer is all-MiniLM-L6-v2's own tokenizer.json (copied into the checkpoint at export),
run with the same truncation as the torch path (256 tokens) and padded to at least the policy's
`text_tokens`, which the exported graph expects.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from cognitivedrone.runtime.engine import EXPORT_HINT, INSTRUCTION_ONNX, TOKENIZER_JSON, EngineError
from cognitivedrone.runtime.onnx_session import check_io, check_source, open_session

MIN_TOKENS_KEY = "cognitivedrone.min_tokens"
MAX_TOKENS_KEY = "cognitivedrone.max_tokens"


class OnnxInstructionEncoder:
    def __init__(self, checkpoint: Path, embed_dim: int, threads: int = 1):
        checkpoint = Path(checkpoint)
        onnx_path, tok_path = checkpoint / INSTRUCTION_ONNX, checkpoint / TOKENIZER_JSON
        try:
            from tokenizers import Tokenizer
        except ImportError:
            raise EngineError("embedding instructions without torch needs `tokenizers`: pip install tokenizers "
                              "(or: pip install -e '.[drone]')") from None
        if not tok_path.is_file():
            raise EngineError(f"{tok_path}: missing; {EXPORT_HINT.format(ckpt=checkpoint)}")
        try:
            self.tokenizer = Tokenizer.from_file(str(tok_path))
        except Exception as exc:
            raise EngineError(f"{tok_path}: not a usable tokenizer file ({exc}); {EXPORT_HINT.format(ckpt=checkpoint)}") from None
        # CPU whatever the policy runs on: once per instruction, and the GPU stays free.
        self.session = open_session(onnx_path, threads, providers=["CPUExecutionProvider"])
        check_io(self.session, onnx_path, {"input_ids": ("tensor(int64)", (1, None)),
                                           "attention_mask": ("tensor(int64)", (1, None))},
                 {"instruction_embedding": (1, embed_dim)})
        check_source(self.session, onnx_path)
        meta = self.session.get_modelmeta().custom_metadata_map
        try:
            self.min_tokens = int(meta[MIN_TOKENS_KEY])
            max_tokens = int(meta[MAX_TOKENS_KEY])
        except (KeyError, ValueError):
            raise EngineError(f"{onnx_path}: lacks the token limits written by export; "
                              f"{EXPORT_HINT.format(ckpt=checkpoint)}") from None
        self.tokenizer.no_padding()
        self.tokenizer.enable_truncation(max_length=max_tokens)
        self._cache: dict[str, np.ndarray] = {}

    def embed(self, instruction: str) -> np.ndarray:
        if not isinstance(instruction, str):
            raise TypeError(f"an instruction is a str, got {type(instruction).__name__}")
        hit = self._cache.get(instruction)
        if hit is not None:
            return hit
        enc = self.tokenizer.encode(instruction)
        ids = np.asarray(enc.ids, dtype=np.int64)
        mask = np.asarray(enc.attention_mask, dtype=np.int64)
        n = max(len(ids), self.min_tokens)
        ids = np.pad(ids, (0, n - len(ids)))[None]
        mask = np.pad(mask, (0, n - len(mask)))[None]
        out = self.session.run(["instruction_embedding"], {"input_ids": ids, "attention_mask": mask})[0][0]
        out = np.ascontiguousarray(out, dtype=np.float32)
        out.setflags(write=False)
        self._cache[instruction] = out
        return out


def read_export_info(checkpoint: Path) -> dict:
    """config.json's fields the engines need, read as plain JSON (no torch)."""
    path = Path(checkpoint) / "config.json"
    try:
        cfg = json.loads(path.read_text())
        return {"image_size": int(cfg["image_size"]), "embed_dim": int(cfg["embed_dim"])}
    except FileNotFoundError:
        raise EngineError(f"{path}: missing (is {checkpoint} a checkpoint directory?)") from None
    except (ValueError, KeyError, TypeError) as exc:
        raise EngineError(f"{path}: unusable policy config ({exc})") from None
