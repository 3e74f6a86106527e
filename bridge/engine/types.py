"""What every part of the engine shares: the codec's rates, the model window, the delay-pattern step
rule, the errors, sampling settings, the progress callbacks and the one description of a generation call.

No torch at run time (tensor types are annotations only), so the daemon and the CLI can name these
errors and settings without loading the model stack. `bridge.engine.decoder`, `bridge.engine.engine`,
`bridge.engine.hf_generate` and `bridge.engine.streaming` import from here, and nothing here imports them.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from bridge.limits import DEFAULT_CFG, DEFAULT_TEMPERATURE, DEFAULT_TOP_K, DEFAULT_TOP_P, MODEL_SAMPLE_RATE

if TYPE_CHECKING:
    import torch

SAMPLE_RATE = MODEL_SAMPLE_RATE  # Hz, EnCodec 32 kHz
FRAME_RATE = 50  # EnCodec frames (decoder steps) per second
HOP = SAMPLE_RATE // FRAME_RATE  # 640 samples per frame
MAX_WINDOW_FRAMES = 1500  # 30 s: the context MusicGen was trained on

StepCallback = Callable[[int, int], None]  # (steps done, steps total)
FramesCallback = Callable[[int, "torch.Tensor"], None]  # (index of the first new frame, codes (B, K, n))


# ------------------------------------------------------------------------------------ delay pattern
#
# MusicGen's delay pattern shifts codebook c by delay(c) steps: step s writes frame s - 1 - delay(c) of
# codebook c. Mono: K codebooks, delay(c) = c. Stereo (audio_channels = 2): 2 x K/2 codebooks interleaved
# [L0, R0, L1, R1, ...], the two channels' codebook q both delayed by q, so delay(c) = c // 2. The pattern
# is D = K / channels steps deep: frame t is complete after step t + D - 1, and N frames take N + D - 1 steps.


def delay_depth(num_codebooks: int, channels: int = 1) -> int:
    """Codebooks per channel: the number of distinct delays (D above)."""
    if channels not in (1, 2) or num_codebooks % channels:
        raise ValueError(f"{num_codebooks} codebooks do not split into {channels} channel(s)")
    return num_codebooks // channels


def codebook_delays(num_codebooks: int, channels: int = 1) -> list[int]:
    """delay(c) for c in 0..K-1: [0, 1, 2, 3] mono, [0, 0, 1, 1, 2, 2, 3, 3] stereo."""
    delay_depth(num_codebooks, channels)
    return [c // channels for c in range(num_codebooks)]


def delay_steps(n_frames: int, num_codebooks: int, channels: int = 1) -> int:
    """Decoder steps that generate `n_frames` new frames: the delay pattern needs D - 1 extra steps to
    finish the last frame."""
    return n_frames + delay_depth(num_codebooks, channels) - 1


def complete_frames(steps_done: int, num_codebooks: int, channels: int = 1) -> int:
    """New frames whose every codebook is written once `steps_done` steps are done (<= 0: none yet)."""
    return steps_done - (delay_depth(num_codebooks, channels) - 1)


# ------------------------------------------------------------------------------------------ errors


class ModelError(RuntimeError):
    """The model cannot be loaded or cannot do what was asked (e.g. melody on a text-only checkpoint)."""


class Cancelled(Exception):
    """Raised inside generation when the caller's cancel event is set."""


# ---------------------------------------------------------------------------------------- settings


@dataclass(frozen=True)
class Sampling:
    """Sampling settings; audiocraft's defaults. temperature 0 means greedy (argmax)."""

    temperature: float = DEFAULT_TEMPERATURE
    top_k: int = DEFAULT_TOP_K
    top_p: float = DEFAULT_TOP_P
    cfg: float = DEFAULT_CFG

    @property
    def greedy(self) -> bool:
        return self.temperature <= 0


@dataclass(frozen=True, eq=False)  # eq=False: identity equality; comparing tensors has no truth value
class GenerationCall:
    """One generation call as `Engine.generate` hands it to a backend (ours or transformers'): the
    conditioning already on the model's device, what to generate, and whom to tell."""

    text: dict[str, torch.Tensor]  # {"input_ids", "attention_mask"} (B, S)
    features: torch.Tensor | None  # (B, F, 12) chroma one-hot in the model's dtype; None: text only
    codes: torch.Tensor | None  # (B, K, P) un-delayed prompt codes (stereo: channels interleaved); None: no prompt
    n_frames: int  # new frames after the prompt
    sampling: Sampling
    seed: int
    on_step: StepCallback | None = None
    on_frames: FramesCallback | None = None
    cancel: threading.Event | None = None

    @property
    def prompt_frames(self) -> int:
        return 0 if self.codes is None else int(self.codes.shape[-1])
