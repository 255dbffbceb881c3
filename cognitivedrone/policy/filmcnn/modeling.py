"""The "filmcnn" network: text head (once per instruction) + FiLM CNN and action head (every frame).

Per frame only `forward`/`predict` run: image [B, 3, H, W] in [0, 1] plus the instruction
embedding [B, embed_dim]. Everything in that path is static-shaped tensor code (no
data-dependent Python branches), so it exports to ONNX as is.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from cognitivedrone.policy.filmcnn.configuration import FilmCnnConfig
from cognitivedrone.tasks.gates import GATE_COLORS, GATE_SHAPES, GATE_SIZES

ATTENTION_HEADS = 4


def _norm(kind: str, channels: int) -> nn.Module:
    # BatchNorm folds into the preceding conv at export, so it costs nothing per frame.
    return nn.BatchNorm2d(channels) if kind == "batch" else nn.GroupNorm(8, channels)


class ConvStage(nn.Module):
    """conv3x3 stride 2 -> norm -> ReLU -> conv3x3 -> norm -> [FiLM] -> ReLU."""

    def __init__(self, cin: int, cout: int, norm: str):
        super().__init__()
        self.down = nn.Conv2d(cin, cout, 3, stride=2, padding=1, bias=False)
        self.norm1 = _norm(norm, cout)
        self.conv = nn.Conv2d(cout, cout, 3, padding=1, bias=False)
        self.norm2 = _norm(norm, cout)

    def forward(self, x: torch.Tensor, film: tuple[torch.Tensor, torch.Tensor] | None = None) -> torch.Tensor:
        x = F.relu(self.norm1(self.down(x)))
        x = self.norm2(self.conv(x))
        if film is not None:
            # FiLM after the norm (as RT-1 / FiLM-EfficientNet): the instruction rescales and
            # shifts normalised features. (1 + gamma) so that zero-initialised FiLM is identity.
            gamma, beta = film
            x = x * (1.0 + gamma[:, :, None, None]) + beta[:, :, None, None]
        return F.relu(x)


class TextHead(nn.Module):
    """Frozen token states -> instruction embedding. Runs once per instruction, not per frame.

    Mean-pooled MiniLM vectors of instructions that differ in one word are nearly parallel
    (cosine ~0.91 for "digit 7" vs "digit 1"), so the head also attends over the token
    states with a few learned queries, which can pick out the word that matters.
    """

    def __init__(self, cfg: FilmCnnConfig):
        super().__init__()
        h = cfg.text_hidden
        self.token_norm = nn.LayerNorm(cfg.text_dim)
        self.token_proj = nn.Linear(cfg.text_dim, h)
        self.queries = nn.Parameter(torch.randn(cfg.text_queries, h) * 0.02)
        self.attn = nn.MultiheadAttention(h, ATTENTION_HEADS, batch_first=True)
        # The pooled vector is L2-normalised (entries ~0.05): LayerNorm brings it to the scale
        # of the attention outputs.
        self.pooled_norm = nn.LayerNorm(cfg.text_dim)
        self.pooled_proj = nn.Linear(cfg.text_dim, h)
        self.mlp = nn.Sequential(
            nn.Linear((cfg.text_queries + 1) * h, cfg.embed_dim),
            nn.GELU(),
            nn.Dropout(cfg.dropout),
            nn.Linear(cfg.embed_dim, cfg.embed_dim),
        )
        # MiniLM states of any two instructions share a large common component (cosine ~0.97
        # between "big round red gate ... digit 7" and "small square blue gate ... zebra"); left
        # in, it dominated the head's output and every instruction got the same embedding.
        # The trainer sets these to the mean over its instructions; they travel in the checkpoint.
        self.register_buffer("token_mean", torch.zeros(cfg.text_dim))
        self.register_buffer("pooled_mean", torch.zeros(cfg.text_dim))

    @torch.no_grad()
    def set_centering(self, token_mean: torch.Tensor, pooled_mean: torch.Tensor) -> None:
        self.token_mean.copy_(token_mean)
        self.pooled_mean.copy_(pooled_mean)

    def forward(self, tokens: torch.Tensor, mask: torch.Tensor, pooled: torch.Tensor) -> torch.Tensor:
        b = tokens.shape[0]
        mask = mask.bool()
        # A row with no valid token would make attention NaN: let it attend to position 0.
        empty = ~mask.any(dim=1)
        mask = mask.clone()
        mask[:, 0] |= empty
        kv = self.token_proj(self.token_norm(tokens - self.token_mean))
        q = self.queries.unsqueeze(0).expand(b, -1, -1)
        attended, _ = self.attn(q, kv, kv, key_padding_mask=~mask, need_weights=False)  # [B, K, h]
        sentence = self.pooled_proj(self.pooled_norm(pooled - self.pooled_mean))  # [B, h]
        x = torch.cat([attended.flatten(1), sentence], dim=1)
        return self.mlp(x)


class Pointer(nn.Module):
    """Where in the image is what the instruction names: text query x per-cell keys.

    Returns the logits over the map's cells plus a last "not in view" slot, and a summary for
    the action head: expected (x, y) of the softmax in [-1, 1] image coordinates, the
    attention-weighted cell features, and the "not in view" probability.
    """

    def __init__(self, cfg: FilmCnnConfig):
        super().__init__()
        c, s, d = cfg.channels[-2], cfg.pointer_map_size, cfg.pointer_dim
        self.scale = d ** -0.5
        self.key = nn.Conv2d(c, d, 1)
        self.value = nn.Conv2d(c, cfg.pointer_value_dim, 1)
        self.query = nn.Linear(cfg.embed_dim, d)
        self.position = nn.Parameter(torch.zeros(1, d, s, s))
        self.absent = nn.Linear(cfg.channels[-1] + cfg.embed_dim, 1)
        # Cell centres in grid_sample's normalised coordinates (align_corners=False).
        centres = (torch.arange(s, dtype=torch.float32) + 0.5) / s * 2 - 1
        yy, xx = torch.meshgrid(centres, centres, indexing="ij")
        self.register_buffer("grid", torch.stack([xx.flatten(), yy.flatten()], 1), persistent=False)  # [S*S, 2]
        self.out_dim = 2 + cfg.pointer_value_dim + 1

    def forward(self, fmap: torch.Tensor, last_pooled: torch.Tensor, embedding: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        keys = (self.key(fmap) + self.position).flatten(2)  # [B, d, S*S]
        q = self.query(embedding).unsqueeze(1)  # [B, 1, d]
        cells = (q @ keys).squeeze(1) * self.scale  # [B, S*S]
        absent = self.absent(torch.cat([last_pooled, embedding], dim=1))  # [B, 1]
        logits = torch.cat([cells, absent], dim=1)
        attn = torch.softmax(logits, dim=1)
        where = attn[:, :-1]
        xy = where @ self.grid  # [B, 2]; pulled towards 0 when "not in view" is likely
        seen = (where.unsqueeze(1) @ self.value(fmap).flatten(2).transpose(1, 2)).squeeze(1)  # [B, dv]
        return logits, torch.cat([xy, seen, attn[:, -1:]], dim=1)


def build_view_head(inputs: int, hidden: int) -> nn.Module:
    """features -> logit that no gate is in view (configuration.view_hidden)."""
    return nn.Sequential(nn.Linear(inputs, hidden), nn.ReLU(), nn.Linear(hidden, 1))


class FilmCnnPolicy(nn.Module):
    def __init__(self, config: FilmCnnConfig | None = None):
        super().__init__()
        cfg = self.config = config or FilmCnnConfig()
        cfg.validate()
        self.text = TextHead(cfg)

        chans = (3, *cfg.channels)
        self.stages = nn.ModuleList(ConvStage(chans[i], chans[i + 1], cfg.norm) for i in range(len(cfg.channels)))
        self._film_sizes = [cfg.channels[s] if s in cfg.film_stages else 0 for s in range(len(cfg.channels))]
        # One linear layer makes every (gamma, beta) at once: one matmul per frame.
        self.film = nn.Linear(cfg.embed_dim, 2 * sum(self._film_sizes)) if cfg.film_stages else None
        if self.film is not None:
            nn.init.zeros_(self.film.weight)
            nn.init.zeros_(self.film.bias)

        c_last, s = cfg.channels[-1], cfg.feature_map_size
        self.spatial = nn.Conv2d(c_last, cfg.spatial_channels, 1)
        self.pointer = Pointer(cfg)
        feat = c_last + cfg.spatial_channels * s * s + cfg.embed_dim + self.pointer.out_dim
        self.head = nn.Sequential(
            nn.Linear(feat, cfg.head_hidden),
            nn.ReLU(),
            nn.Dropout(cfg.dropout),
            nn.Linear(cfg.head_hidden, cfg.head_hidden),
            nn.ReLU(),
            nn.Dropout(cfg.dropout),
            nn.Linear(cfg.head_hidden, cfg.head_outputs),
        )
        # Is a gate in view at all (configuration.view_hidden): fitted after training.
        view_in = c_last + cfg.embed_dim + self.pointer.out_dim
        self.view = build_view_head(view_in, cfg.view_hidden) if cfg.view_hidden else None
        # Training-only read-out of the pointer's map: billboard picture, gate colour/shape/size.
        self.perception = nn.Linear(cfg.channels[-2], cfg.n_assets + len(GATE_COLORS) + len(GATE_SHAPES) + len(GATE_SIZES))
        # Bins over [-1, 1] for the tokens256 head; derived from the config, not saved.
        edges = torch.linspace(-1.0, 1.0, cfg.n_bins + 1)
        self.register_buffer("bin_centers", (edges[:-1] + edges[1:]) / 2, persistent=False)

    # -- once per instruction ---------------------------------------------------------------

    def text_head(self, tokens: torch.Tensor, mask: torch.Tensor, pooled: torch.Tensor) -> torch.Tensor:
        """tokens [B, L, text_dim], mask [B, L] bool, pooled [B, text_dim] -> embedding [B, embed_dim]."""
        return self.text(tokens, mask, pooled)

    # -- every frame --------------------------------------------------------------------------

    def forward(self, images: torch.Tensor, embedding: torch.Tensor) -> torch.Tensor:
        """images float [B, 3, H, W] in [0, 1], embedding [B, embed_dim] ->
        chunk_l1: normalised actions [B, chunk_size, action_dim];
        tokens256: logits [B, action_dim, n_bins]."""
        return self._run(images, embedding)[0]

    def _run(self, images: torch.Tensor, embedding: torch.Tensor) -> tuple[torch.Tensor, ...]:
        """-> (action head output, pointer logits [B, S*S + 1], pointer map [B, C, S, S],
        the view head's input [B, c_last + embed_dim + pointer summary])."""
        cfg = self.config
        fmap, x = self._features(images, embedding)
        pooled = x.mean(dim=(2, 3))
        logits, pointed = self.pointer(fmap, pooled, embedding)
        spatial = F.relu(self.spatial(x)).flatten(1)
        out = self.head(torch.cat([pooled, spatial, embedding, pointed], dim=1))
        view_in = torch.cat([pooled, embedding, pointed], dim=1)
        if cfg.head == "chunk_l1":
            return out.view(-1, cfg.chunk_size, cfg.action_dim), logits, fmap, view_in
        return out.view(-1, cfg.action_dim, cfg.n_bins), logits, fmap, view_in

    def view_features(self, images: torch.Tensor, embedding: torch.Tensor) -> torch.Tensor:
        """The view head's input for a batch (to fit the head on frozen features)."""
        return self._run(images, embedding)[3]

    def _features(self, images: torch.Tensor, embedding: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """-> (second-to-last feature map, last feature map)."""
        films = () if self.film is None else torch.split(self.film(embedding), [2 * n for n in self._film_sizes if n], dim=1)
        x, k = images, 0
        for i, stage in enumerate(self.stages):
            prev = x
            if self._film_sizes[i]:
                gamma, beta = films[k].chunk(2, dim=1)
                x, k = stage(x, (gamma, beta)), k + 1
            else:
                x = stage(x)
        return prev, x

    def point(self, images: torch.Tensor, embedding: torch.Tensor) -> torch.Tensor:
        """Pointer probabilities [B, S*S + 1] (cells row-major, then "not in view"): where the
        policy thinks the instructed gate is. For visualisation and analysis."""
        return torch.softmax(self._run(images, embedding)[1], dim=1)

    def predict(self, images: torch.Tensor, embedding: torch.Tensor) -> torch.Tensor:
        """Normalised action to execute now, [B, action_dim] in [-1, 1]."""
        return self.predict_with_view(images, embedding)[0]

    def predict_with_view(self, images: torch.Tensor, embedding: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(normalised action [B, action_dim], probability [B, 1] that the gate is not in view:
        the view head's, or without one the pointer's last slot), from one pass."""
        out, logits, _, view_in = self._run(images, embedding)
        if self.view is not None:
            not_in_view = torch.sigmoid(self.view(view_in))
        else:
            not_in_view = torch.softmax(logits, dim=1)[:, -1:]
        if self.config.head == "chunk_l1":
            return out[:, 0].clamp(-1.0, 1.0), not_in_view
        return self.bin_centers[out.argmax(dim=-1)], not_in_view

    # -- training -----------------------------------------------------------------------------

    def action_to_bins(self, actions: torch.Tensor) -> torch.Tensor:
        """Normalised actions in [-1, 1] -> bin indices (uniform bins, edges at -1 and 1)."""
        n = self.config.n_bins
        return ((actions.clamp(-1.0, 1.0) + 1.0) * (n / 2.0)).floor().long().clamp(0, n - 1)

    def loss(self, batch: dict[str, torch.Tensor]) -> tuple[torch.Tensor, dict[str, float]]:
        """Batch keys:
        images        float [B, 3, H, W] in [0, 1]
        text_tokens   float [U, L, text_dim], text_mask bool [U, L], text_pooled float [U, text_dim]
        text_index    long [B] (optional): row of the text tensors for each sample. With it, U is
                      the number of distinct instructions in the batch and the text head runs
                      once per instruction; without it U == B.
        actions       float [B, T, action_dim] normalised to [-1, 1] (T >= chunk_size for
                      chunk_l1; [B, action_dim] is read as T = 1)
        action_mask   bool [B, T] (optional, default all valid): False for steps past the
                      episode end.
        tokens256 trains on the first action only.
        """
        cfg = self.config
        emb = self.text_head(batch["text_tokens"], batch["text_mask"], batch["text_pooled"])
        if "text_index" in batch:
            emb = emb[batch["text_index"]]
        out, logits, fmap, _ = self._run(batch["images"], emb)
        aux, aux_metrics = self._aux_losses(batch, logits, fmap)

        actions = batch["actions"]
        if actions.ndim == 2:
            actions = actions.unsqueeze(1)
        valid = batch.get("action_mask")
        valid = torch.ones(actions.shape[:2], dtype=torch.bool, device=actions.device) if valid is None else valid.bool()
        if valid.ndim == 1:
            valid = valid.unsqueeze(1)

        if cfg.head == "chunk_l1":
            if actions.shape[1] < cfg.chunk_size:
                raise ValueError(f"chunk_l1 needs {cfg.chunk_size} actions per sample, got {actions.shape[1]}")
            target = actions[:, : cfg.chunk_size]
            w = valid[:, : cfg.chunk_size].to(out.dtype).unsqueeze(-1)  # [B, chunk, 1]
            err = (out - target).abs() * w
            loss = err.sum() / (w.sum() * cfg.action_dim).clamp_min(1.0)
            w0 = w[:, 0]
            l1_first = (err[:, 0].sum() / (w0.sum() * cfg.action_dim).clamp_min(1.0)).detach()
            return loss + aux, {"loss": float(loss.detach()), "l1_first": float(l1_first), **aux_metrics}

        target = actions[:, 0]  # [B, action_dim]
        bins = self.action_to_bins(target)
        ce = F.cross_entropy(out.reshape(-1, cfg.n_bins), bins.reshape(-1), reduction="none").view_as(bins)
        w = valid[:, 0].to(out.dtype)  # [B]
        denom = w.sum().clamp_min(1.0)
        loss = (ce.mean(dim=1) * w).sum() / denom
        with torch.no_grad():
            pred_bins = out.argmax(dim=-1)
            acc = ((pred_bins == bins).float().mean(dim=1) * w).sum() / denom
            l1 = ((self.bin_centers[pred_bins] - target).abs().mean(dim=1) * w).sum() / denom
        return loss + aux, {"loss": float(loss.detach()), "l1_first": float(l1), "bin_accuracy": float(acc), **aux_metrics}

    def _aux_losses(self, batch: dict[str, torch.Tensor], logits: torch.Tensor, fmap: torch.Tensor) -> tuple[torch.Tensor, dict[str, float]]:
        """Pointer and perception losses, from optional batch keys:
        target_cell   long [B]: cell of the instructed gate (row-major), S*S if not in view, -1 for no target
        gate_uv       float [B, G, 2] gate centres, board_uv [B, G, 2] billboard centres in
                      grid_sample coordinates; gate_seen / board_seen bool [B, G]
        gate_look     long [B, G, 3] (size, shape, colour indices); board_asset long [B, G]
        """
        cfg = self.config
        aux = torch.zeros((), device=logits.device)
        metrics: dict[str, float] = {}
        if "target_cell" in batch and cfg.pointer_loss_weight > 0:
            target = batch["target_cell"]  # -1: no gate was asked for (a recorded flight): no target
            valid = (target >= 0).to(logits.dtype)
            n = valid.sum().clamp_min(1.0)
            ce = (F.cross_entropy(logits, target.clamp_min(0), reduction="none") * valid).sum() / n
            aux = aux + cfg.pointer_loss_weight * ce
            metrics["pointer_loss"] = float(ce.detach())
            metrics["pointer_accuracy"] = float(((logits.argmax(dim=1) == target).to(logits.dtype) * valid).sum() / n)
        if "gate_uv" in batch and cfg.perception_loss_weight > 0:
            split = [cfg.n_assets, len(GATE_COLORS), len(GATE_SHAPES), len(GATE_SIZES)]
            asset, _, _, _ = self.perception(_sample(fmap, batch["board_uv"])).split(split, dim=-1)  # [B, G, n]
            _, colour, shape, size = self.perception(_sample(fmap, batch["gate_uv"])).split(split, dim=-1)
            seen_g, look = batch["gate_seen"], batch["gate_look"]  # look: (size, shape, colour)
            losses = [
                _masked_ce(asset, batch["board_asset"], batch["board_seen"]),
                _masked_ce(size, look[..., 0], seen_g),
                _masked_ce(shape, look[..., 1], seen_g),
                _masked_ce(colour, look[..., 2], seen_g),
            ]
            perception = sum(losses)
            aux = aux + cfg.perception_loss_weight * perception
            metrics["perception_loss"] = float(perception.detach())
        return aux, metrics

    def num_parameters(self) -> int:
        return sum(p.numel() for p in self.parameters())


def _sample(fmap: torch.Tensor, uv: torch.Tensor) -> torch.Tensor:
    """Features at points: fmap [B, C, S, S], uv [B, K, 2] in [-1, 1] -> [B, K, C] (bilinear)."""
    return F.grid_sample(fmap, uv.unsqueeze(1), align_corners=False).squeeze(2).transpose(1, 2)


def _masked_ce(logits: torch.Tensor, target: torch.Tensor, valid: torch.Tensor) -> torch.Tensor:
    """Mean cross-entropy over the valid entries ([B, K, n] logits, [B, K] targets and mask)."""
    ce = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), target.reshape(-1).clamp_min(0), reduction="none")
    w = (valid.reshape(-1) & (target.reshape(-1) >= 0)).to(ce.dtype)
    return (ce * w).sum() / w.sum().clamp_min(1.0)
