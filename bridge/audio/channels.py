"""Channel counts of the audio we write: a request's `channels` against the model's, and the conversion.

A mono checkpoint writes mono and a stereo one stereo (`channels` 0); `channels` 2 on a mono result
duplicates it into both channels, `channels` 1 on a stereo result downmixes (the mean of the channels,
as `bridge.audio.io.to_mono`). Pure numpy on (channels, samples) arrays, the project's layout.
"""

from __future__ import annotations

import numpy as np

from bridge.limits import CHANNEL_CHOICES

SUPPORTED = (1, 2)  # channel counts of a written file (and of a model's output)


def output_channels(requested: int, model_channels: int) -> int:
    """The file's channel count: `requested` (1 or 2), or the model's when 0."""
    if requested not in CHANNEL_CHOICES:
        raise ValueError(f"channels must be one of {', '.join(map(str, CHANNEL_CHOICES))}, got {requested!r}")
    if model_channels not in SUPPORTED:
        raise ValueError(f"a model has 1 or 2 channels, got {model_channels!r}")
    return requested or model_channels


def match_channels(audio: np.ndarray, channels: int) -> np.ndarray:
    """(samples,) or (..., C, samples) => float32 (..., channels, samples), `channels` 1 or 2.

    To 1: the mean of all channels (a correlated pair keeps its level, an uncorrelated one loses 3 dB:
    loudness normalisation comes after this). Mono to 2: duplicated. More than 2 to 2 (a surround clip
    given as a prompt): its first two, front left and right in WAV's channel order. Same count: an
    unchanged float32 copy."""
    if channels not in SUPPORTED:
        raise ValueError(f"channels must be 1 or 2, got {channels!r}")
    x = np.asarray(audio, dtype=np.float32)
    if x.ndim == 1:
        x = x[None, :]
    if x.ndim < 2 or x.shape[-2] < 1:
        raise ValueError(f"audio must be (samples,) or (..., channels, samples), got shape {x.shape}")
    have = x.shape[-2]
    if have == channels:
        return x.copy()
    if channels == 1:
        return x.mean(axis=-2, keepdims=True, dtype=np.float64).astype(np.float32)
    if have == 1:
        return np.repeat(x, 2, axis=-2)
    return x[..., :2, :].copy()
