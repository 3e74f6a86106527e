"""Loops longer than the model's 30 s window: audiocraft's sliding windows, each prompted with the tail of
the one before, stitched into one code sequence with one progress count and one frame stream.

    Conditioning ─> plan_windows (start, prompt, new per window) ─> Engine.generate per window
                 ─> codes (batch, K, P + n_frames), on_step over all windows, on_frames in order
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

import torch

from bridge.engine.conditioning import Conditioning
from bridge.engine.engine import Engine
from bridge.engine.types import (
    FRAME_RATE,
    MAX_WINDOW_FRAMES,
    FramesCallback,
    ModelError,
    Sampling,
    StepCallback,
    delay_steps,
)

EXTEND_STRIDE_FRAMES = 18 * FRAME_RATE  # audiocraft's extend_stride: 18 s new per window, 12 s of context


@dataclass(frozen=True)
class Window:
    """One model window of a long loop, in decoder frames."""

    start: int  # first decoder frame of the window, counted from frame 0 of the request
    prompt: int  # frames of the window that are given (user prompt, or the previous window's tail)
    new: int  # frames the window generates


def plan_windows(
    prompt_frames: int, new_frames: int, window: int = MAX_WINDOW_FRAMES, stride: int = EXTEND_STRIDE_FRAMES
) -> list[Window]:
    """Sliding windows (audiocraft's extend_stride): the first window holds the user prompt and generates
    up to the window size; each later one is prompted with the last `window - stride` frames so far and
    generates up to `stride` more."""
    if not 0 < stride < window:
        raise ValueError("need 0 < stride < window")
    if prompt_frames >= window:
        raise ModelError(f"a {prompt_frames / FRAME_RATE:.1f} s prompt leaves no room in the 30 s window")
    first = min(new_frames, window - prompt_frames)
    plan = [Window(0, prompt_frames, first)]
    done = prompt_frames + first
    context = window - stride
    while done < prompt_frames + new_frames:
        new = min(stride, prompt_frames + new_frames - done)
        plan.append(Window(done - context, context, new))
        done += new
    return plan


def generate_codes(
    engine: Engine,
    cond: Conditioning,
    n_frames: int,
    batch: int,
    sampling: Sampling,
    seed: int,
    backend: str,
    on_step: StepCallback | None,
    cancel: threading.Event | None,
    on_frames: FramesCallback | None = None,
) -> torch.Tensor:
    """(batch, K, P + n_frames) codes, through as many 30 s windows as the length needs.

    `on_frames(first, codes)` sees every new frame once, in order, across windows (for streaming)."""
    plan = plan_windows(cond.prompt_frames, n_frames)
    k, channels = engine.num_codebooks, engine.channels
    total = sum(delay_steps(w.new, k, channels) for w in plan)  # decoder steps over all windows: the progress total
    done_before = done_frames = 0
    codes = None
    for i, w in enumerate(plan):
        # window 0: the user's prompt (K, P); later: each take's own tail (B, K, context)
        prompt = cond.prompt_codes if i == 0 else codes[:, :, -w.prompt :]
        chroma = None if cond.melody is None else cond.melody.window(w.start / FRAME_RATE)

        def step(done: int, _total: int, base: int = done_before) -> None:
            if on_step is not None:
                on_step(base + done, total)

        def frames(first: int, new: torch.Tensor, base: int = done_frames) -> None:
            if on_frames is not None:
                on_frames(base + first, new)

        out = engine.generate(
            cond.text,
            n_frames=w.new,
            batch=batch,
            chroma=chroma,
            prompt_codes=prompt,
            sampling=sampling,
            seed=seed + i,
            backend=backend,
            on_step=step,
            on_frames=frames,
            cancel=cancel,
        )
        codes = out if codes is None else torch.cat([codes, out[:, :, -w.new :]], dim=2)
        done_before += delay_steps(w.new, k, channels)
        done_frames += w.new
    assert codes is not None
    return codes
