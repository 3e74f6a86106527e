"""The conditioning our decode loop (`bridge.engine.decoder`) feeds the transformer, built from the loaded
model's own modules, in transformers' order of operations so that greedy codes match its `generate`:

- MusicGen-Melody: a prefix [chroma projected, tiled/cut to chroma_length] + [text projected, masked]
  ahead of the code columns (`melody_prefix`);
- plain MusicGen: projected, masked text states that every layer cross-attends to (`text_states`).

With classifier-free guidance the rows are doubled, conditional first: the null branch has zero text
states with a zero mask, and (melody) the null chroma, a one-hot at bin 0.
"""

from __future__ import annotations

import math

import torch


def text_encoder(model, ids: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """T5 states (B, S, D_text)."""
    return model.text_encoder(input_ids=ids, attention_mask=mask).last_hidden_state


def melody_prefix(
    model, ids: torch.Tensor, mask: torch.Tensor, features: torch.Tensor | None, cfg: bool
) -> torch.Tensor:
    """[chroma projected, tiled/cut to chroma_length] + [text projected, masked]: (rows, chroma_length + S, H).

    The same operations in the same order as MusicgenMelodyForConditionalGeneration's
    `_prepare_encoder_hidden_states_kwargs_for_generation`: null text = zeros, null chroma = one-hot bin 0.
    """
    chroma_length, num_chroma = model.config.chroma_length, model.config.num_chroma
    states = text_encoder(model, ids, mask)
    proj = getattr(model, "enc_to_dec_proj", None)  # absent when T5 and decoder widths match
    if proj is not None:
        states = proj(states)
    if cfg:
        states = torch.cat([states, torch.zeros_like(states)])
        mask = torch.cat([mask, torch.zeros_like(mask)])
    states = states * mask[..., None]  # (rows, S, H)

    frames = 1 if features is None else features.shape[1]
    null = torch.zeros((ids.shape[0], frames, num_chroma), device=states.device, dtype=states.dtype)
    null[:, :, 0] = 1
    chroma = null if features is None else features
    if cfg:
        chroma = torch.cat([chroma, null])
    proj = getattr(model, "audio_enc_to_dec_proj", None)
    if proj is not None:
        chroma = proj(chroma)  # (rows, F, H)
    if frames < chroma_length:
        chroma = chroma.repeat(1, math.ceil(chroma_length / frames), 1)
    return torch.cat([chroma[:, :chroma_length], states], dim=1)


def text_states(model, ids: torch.Tensor, mask: torch.Tensor, cfg: bool) -> tuple[torch.Tensor, torch.Tensor]:
    """Plain MusicGen: (projected, masked text states (rows, S, H), mask (rows, S)), in the order of
    MusicgenForConditionalGeneration: null branch = zero T5 states with a zero mask, then project and mask."""
    states = text_encoder(model, ids, mask)
    if cfg:
        states = torch.cat([states, torch.zeros_like(states)])
        mask = torch.cat([mask, torch.zeros_like(mask)])
    proj = getattr(model, "enc_to_dec_proj", None)
    if proj is not None:
        states = proj(states)
    return states * mask[..., None], mask
