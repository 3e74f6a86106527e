"""The codebook layout across audio channels, and EnCodec run once per channel.

A mono MusicGen has K = 4 codebooks. A stereo release (`audio_channels = 2`) has K = 8: the left and
right channels' 4 codebooks interleaved, [L0, R0, L1, R1, L2, R2, L3, R3] (transformers'
`build_delay_pattern_mask` and the stereo branch of `generate`), and each channel goes through the same
mono 32 kHz EnCodec: the even codebooks decode to the left channel, the odd ones to the right.

    codes (B, K, F) <-> per-channel codes (B * C, K / C, F), take-major: row b * C + c is take b, channel c
"""

from __future__ import annotations

import torch

BANDWIDTH_KBPS = 2.2  # EnCodec 32 kHz: 4 codebooks of 2048 per channel


def split_channels(codes: torch.Tensor, channels: int) -> torch.Tensor:
    """(B, K, F) interleaved codes => (B * C, K / C, F) one mono code sequence per take and channel."""
    b, k, f = codes.shape
    if k % channels:
        raise ValueError(f"{k} codebooks do not split into {channels} channels")
    return codes.reshape(b, k // channels, channels, f).transpose(1, 2).reshape(b * channels, k // channels, f)


def join_channels(codes: torch.Tensor, channels: int) -> torch.Tensor:
    """(B * C, D, F) per-channel codes => (B, C * D, F) interleaved [ch0 q0, ch1 q0, ch0 q1, ...]."""
    bc, d, f = codes.shape
    if bc % channels:
        raise ValueError(f"{bc} rows are not whole takes of {channels} channels")
    return codes.reshape(bc // channels, channels, d, f).transpose(1, 2).reshape(bc // channels, channels * d, f)


def decode(codec, codes: torch.Tensor, channels: int) -> torch.Tensor:
    """codes (B, K, F) => audio (B, C, F * hop) on the codec's device: every channel of every take in one
    batched EnCodec decode (no grad: call inside inference mode)."""
    per_channel = split_channels(codes, channels)
    audio = codec.decode(per_channel[None], [None]).audio_values  # (B * C, 1, F * hop)
    return audio.reshape(codes.shape[0], channels, audio.shape[-1])


def encode(codec, wav: torch.Tensor) -> torch.Tensor:
    """wav (C, samples) float on the codec's device => codes (C * 4, frames), channels interleaved.

    Each channel is encoded on its own, as transformers encodes a stereo prompt (`input_values`)."""
    codes = [codec.encode(x[None, None], bandwidth=BANDWIDTH_KBPS).audio_codes[0, 0] for x in wav]  # C x (4, F)
    return join_channels(torch.stack(codes), len(codes))[0]
