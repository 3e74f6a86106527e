"""Tests for bridge.engine.hf_generate: transformers' own generate, reported like our decode loop."""

from __future__ import annotations

import torch

from bridge.engine.streaming import StreamingDecoder
from bridge.engine.types import delay_steps


def test_transformers_path_reports_the_last_step_and_frames_before_its_own_decode(debug_engine, monkeypatch):
    """generate() ends by decoding all codes to audio; the last step and the last frames are reported before
    that decode, so both paths' step timings exclude it, and streaming decodes from callbacks are not taken
    for generate's own."""
    codec = debug_engine.model.audio_encoder
    events: list[tuple[str, int]] = []
    decode = type(codec).decode

    def logged_decode(self, audio_codes, *args, **kw):
        events.append(("decode", audio_codes.shape[-1]))
        return decode(self, audio_codes, *args, **kw)

    monkeypatch.setattr(type(codec), "decode", logged_decode)
    stream = StreamingDecoder(codec, chunk_frames=5, context_frames=5)  # windows <= 14 frames
    frames: list[torch.Tensor] = []

    def on_frames(_first: int, new: torch.Tensor) -> None:
        frames.append(new)
        stream.push(new)

    codes = debug_engine.generate(
        "x",
        n_frames=30,
        seed=2,
        backend="transformers",
        on_step=lambda done, total: events.append(("step", done)),
        on_frames=on_frames,
    )
    steps = delay_steps(30, 4)
    assert events[-1] == ("decode", 30)  # generate's own, last of all
    assert events.index(("step", steps)) < len(events) - 1
    assert sum(e == ("decode", 30) for e in events) == 1
    assert torch.equal(torch.cat(frames, dim=-1), codes)
