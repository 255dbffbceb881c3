"""The two functions a deployed policy computes, as torch modules with plain tensor inputs.

`PolicyGraph` (every frame): camera image uint8 [1, H, W, 3] + instruction embedding float32
[1, D] -> command float32 [1, 4] in physical units (vx, vy, vz m/s, yaw_rate rad/s, body FLU),
and not_in_view float32 [1, 1]: the probability that no gate is in the image (the view head's,
or without one the pointer's "not in view" slot for the instructed gate). The Pilot searches,
then hovers, when it stays high (docs/design.md, "Doubt").
Pre-processing (HWC -> CHW, /255) and de-normalisation (q01/q99) are inside, so torch,
ONNX Runtime and TensorRT all run the same function and no engine re-implements them.

`InstructionGraph` (once per instruction): token ids of the frozen MiniLM tokenizer ->
embedding [1, D] (MiniLM + mean pooling + the policy's learned text head). Exported to ONNX,
it lets a drone embed new instructions with onnxruntime and `tokenizers` only, no torch.
"""

from __future__ import annotations

import torch
from torch import nn

from cognitivedrone.policy.filmcnn.modeling import FilmCnnPolicy
from cognitivedrone.policy.filmcnn.processing import ActionNormalizer, images_to_tensor

# sentence-transformers' max_seq_length for all-MiniLM-L6-v2: longer instructions are truncated.
MAX_INSTRUCTION_TOKENS = 256


class PolicyGraph(nn.Module):
    def __init__(self, model: FilmCnnPolicy, normalizer: ActionNormalizer):
        super().__init__()
        self.model = model
        # unnormalize(n) = n * half + mid; a constant dimension has half == 0, giving mid.
        self.register_buffer("action_scale", torch.tensor(normalizer.half, dtype=torch.float32))
        self.register_buffer("action_offset", torch.tensor(normalizer.mid, dtype=torch.float32))

    def forward(self, image: torch.Tensor, embedding: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        action, not_in_view = self.model.predict_with_view(images_to_tensor(image), embedding)
        return action * self.action_scale + self.action_offset, not_in_view


class InstructionGraph(nn.Module):
    """input_ids / attention_mask int64 [1, T] with T >= text_tokens (pad with id 0, mask 0)."""

    def __init__(self, encoder: nn.Module, model: FilmCnnPolicy):
        super().__init__()
        self.encoder = encoder
        self.text = model.text
        self.text_tokens = model.config.text_tokens

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        hidden = self.encoder(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
        mask = attention_mask.to(hidden.dtype).unsqueeze(-1)
        # The same recipe as TextEncoder: masked mean, L2-normalised; token states cut to
        # text_tokens with zeros past the end.
        pooled = (hidden * mask).sum(dim=1) / mask.sum(dim=1).clamp_min(1.0)
        pooled = pooled / pooled.norm(dim=-1, keepdim=True).clamp_min(1e-12)
        n = self.text_tokens
        tokens = hidden[:, :n] * mask[:, :n]
        return self.text(tokens, attention_mask[:, :n].bool(), pooled)
