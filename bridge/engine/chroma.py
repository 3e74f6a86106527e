"""Chroma conditioning for MusicGen-Melody.

Reproduces ``MusicgenMelodyFeatureExtractor._torch_extract_fbank_features`` (transformers 5.23) without
torchaudio: torchaudio's ``Spectrogram(n_fft=16384, win_length=16384, hop_length=4096, power=2,
center=True, pad=0, normalized=True)`` is ``torch.stft`` with a periodic Hann window, reflect padding
and ``normalized=False``, whose complex output is divided by the window's L2 norm before ``|.|**2``
(torchaudio's ``normalized=True`` means ``"window"`` normalisation). Then the librosa-style chroma
filter bank, an inf-norm per frame and an argmax give a one-hot sequence.
"""

from __future__ import annotations

import functools
import math

import numpy as np
import soxr
import torch
from transformers.audio_utils import chroma_filter_bank

from bridge.limits import MODEL_SAMPLE_RATE

CHROMA_SAMPLE_RATE = MODEL_SAMPLE_RATE  # Hz; MusicGen / EnCodec rate, chroma is computed at this rate
N_FFT = 16384  # samples; STFT size == window length (0.512 s at 32 kHz)
CHROMA_HOP = 4096  # samples; STFT hop (0.128 s at 32 kHz), not the codec's 640-sample frame
CHROMA_FRAME_RATE = CHROMA_SAMPLE_RATE / CHROMA_HOP  # frames/s = 7.8125
NUM_CHROMA = 12  # pitch classes per octave
CHROMA_LENGTH = 235  # frames the model sees (1 + 30 s * 32000 // 4096), ≈30 s
NORM_EPS = 1e-6  # eps of the per-frame inf-norm (as in the extractor)
MAX_CHANNELS = 8  # a (channels, samples) input with more rows than this is probably (samples, channels)

# Bin order of transformers' chroma_filter_bank(start_at_c_chroma=True): librosa's A-based layout
# rolled by -3, so bin 0 is C. MusicGen uses a one-hot at bin 0 (C) as the "null" melody.
PITCH_CLASSES: tuple[str, ...] = ("C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B")
PITCH_CLASS_TO_BIN: dict[str, int] = {name: i for i, name in enumerate(PITCH_CLASSES)}
NULL_CHROMA_BIN = 0  # text-only requests / CFG null condition


class ChromaError(ValueError):
    """Invalid audio for chroma extraction (empty, non-finite, bad shape or sample rate)."""


def pitch_class_name(bin_index: int) -> str:
    """Name of chroma bin ``bin_index`` (0 → "C", 9 → "A")."""
    return PITCH_CLASSES[bin_index]


def chroma_frames(num_samples_32k: int) -> int:
    """Number of chroma frames for ``num_samples_32k`` samples at 32 kHz.

    ``1 + floor(samples / CHROMA_HOP)``; inputs shorter than ``N_FFT`` are zero-padded to ``N_FFT`` first, so
    they always give ``1 + N_FFT // CHROMA_HOP`` (= 5) frames. 30 s (960000 samples) ⇒ 235.
    """
    if num_samples_32k <= 0:
        raise ChromaError(f"need at least one sample, got {num_samples_32k}")
    return 1 + max(num_samples_32k, N_FFT) // CHROMA_HOP


@functools.lru_cache(maxsize=8)
def _stft_constants(device: str, dtype: torch.dtype) -> tuple[torch.Tensor, torch.Tensor, float]:
    """Cached (window (N_FFT,), filter bank (12, N_FFT//2+1), 1/||window||_2) per device/dtype."""
    window = torch.hann_window(N_FFT, periodic=True, dtype=dtype, device=device)  # (N_FFT,)
    filters = torch.from_numpy(
        chroma_filter_bank(
            sampling_rate=CHROMA_SAMPLE_RATE, num_frequency_bins=N_FFT, tuning=0, num_chroma=NUM_CHROMA
        )
    ).to(device=device, dtype=dtype)  # (12, N_FFT // 2 + 1)
    inv_window_norm = 1.0 / math.sqrt(float(window.double().pow(2).sum()))
    return window, filters, inv_window_norm


def _to_mono_float(wav: np.ndarray | torch.Tensor) -> torch.Tensor:
    """(samples,) or (channels, samples) numeric audio → (samples,) float tensor on its device."""
    x = wav if isinstance(wav, torch.Tensor) else torch.from_numpy(np.array(wav))  # copy: may be read-only
    if x.is_complex() or x.dtype == torch.bool:
        raise ChromaError(f"audio must be real-valued, got dtype {x.dtype}")
    if x.ndim == 2:
        if x.shape[0] > MAX_CHANNELS:
            raise ChromaError(
                f"expected (channels, samples) audio, got shape {tuple(x.shape)}; "
                f"more than {MAX_CHANNELS} channels — transpose (samples, channels) input first"
            )
        x = x.to(torch.float64).mean(dim=0)  # (samples,)
    elif x.ndim != 1:
        raise ChromaError(f"expected 1-D or (channels, samples) audio, got shape {tuple(x.shape)}")
    if x.numel() == 0:
        raise ChromaError("audio is empty")
    if not x.is_floating_point():
        x = x.to(torch.float64)
    if not bool(torch.isfinite(x).all()):
        raise ChromaError("audio contains NaN or Inf samples")
    return x


def _resample_to_32k(x: torch.Tensor, sample_rate: float) -> torch.Tensor:
    """(samples,) at ``sample_rate`` → (samples_32k,) float32 at 32 kHz (soxr on the CPU)."""
    if sample_rate == CHROMA_SAMPLE_RATE:
        return x.to(torch.float32)
    y = soxr.resample(x.detach().cpu().numpy().astype(np.float32), sample_rate, CHROMA_SAMPLE_RATE)
    if y.size == 0:
        raise ChromaError(f"audio too short to resample from {sample_rate} Hz ({x.numel()} samples)")
    return torch.from_numpy(np.ascontiguousarray(y)).to(x.device)


def _normalized_chroma(wav_32k: torch.Tensor) -> torch.Tensor:
    """(samples,) float32 at 32 kHz → inf-normalised chroma energies (frames, 12) float32."""
    n = wav_32k.shape[-1]
    if n < N_FFT:  # centred zero pad with the extractor's odd/even rule (extra sample on the right)
        pad = N_FFT - n
        wav_32k = torch.nn.functional.pad(wav_32k, (pad // 2, pad // 2 + pad % 2))
    window, filters, inv_window_norm = _stft_constants(str(wav_32k.device), wav_32k.dtype)
    spec = torch.stft(
        wav_32k,
        n_fft=N_FFT,
        hop_length=CHROMA_HOP,
        win_length=N_FFT,
        window=window,
        center=True,
        pad_mode="reflect",
        normalized=False,
        onesided=True,
        return_complex=True,
    )  # (N_FFT // 2 + 1, frames) complex
    power = (spec * inv_window_norm).abs().pow(2)  # (F, frames); torchaudio normalized=True, power=2
    raw = filters @ power  # (12, frames)
    norm = torch.nn.functional.normalize(raw, p=float("inf"), dim=0, eps=NORM_EPS)  # (12, frames)
    return norm.T.contiguous()  # (frames, 12)


@torch.no_grad()
def chroma_onehot(wav: np.ndarray | torch.Tensor, sample_rate: float) -> torch.Tensor:
    """One-hot chroma of ``wav`` as MusicGen-Melody's feature extractor computes it.

    Args:
        wav: (samples,) or (channels, samples) real audio at ``sample_rate``; channels are averaged.
            Tensors stay on their device (resampling goes through the CPU).
        sample_rate: input rate in Hz; resampled to 32 kHz with soxr when different.

    Returns:
        (frames, 12) float32 one-hot, frames = ``chroma_frames(samples_at_32k)``. Silent frames give
        bin 0 (C), as in the extractor.
    """
    if not (
        isinstance(sample_rate, (int, float, np.number)) and math.isfinite(sample_rate) and sample_rate > 0
    ):
        raise ChromaError(f"sample_rate must be a positive number of Hz, got {sample_rate!r}")
    x = _to_mono_float(wav)  # (samples,)
    x32 = _resample_to_32k(x, sample_rate).to(torch.float32)  # (samples_32k,)
    norm = _normalized_chroma(x32)  # (frames, 12)
    idx = norm.argmax(dim=-1, keepdim=True)  # (frames, 1)
    return torch.zeros_like(norm).scatter_(-1, idx, 1.0)  # (frames, 12)


def null_chroma(frames: int = CHROMA_LENGTH, device: torch.device | str | None = None) -> torch.Tensor:
    """(frames, 12) float32 one-hot at ``NULL_CHROMA_BIN`` (text-only / CFG-unconditional melody)."""
    if frames < 1:
        raise ValueError(f"frames must be >= 1, got {frames}")
    out = torch.zeros(frames, NUM_CHROMA, dtype=torch.float32, device=device)
    out[:, NULL_CHROMA_BIN] = 1.0
    return out


__all__ = [
    "align_melody",
    "CHROMA_FRAME_RATE",
    "CHROMA_LENGTH",
    "CHROMA_SAMPLE_RATE",
    "CHROMA_HOP",
    "NULL_CHROMA_BIN",
    "NUM_CHROMA",
    "N_FFT",
    "PITCH_CLASSES",
    "PITCH_CLASS_TO_BIN",
    "ChromaError",
    "chroma_frames",
    "chroma_onehot",
    "null_chroma",
    "pitch_class_name",
]


def align_melody(
    chroma: torch.Tensor,
    clip_seconds: float,
    length: int = CHROMA_LENGTH,
    stretch: float = 1.0,
    offset_seconds: float = 0.0,
) -> torch.Tensor:
    """Lay a clip's chroma (F, 12) along the model's chroma prefix (length, 12) as a loop.

    Prefix frame j describes time j / CHROMA_FRAME_RATE of the generated sequence (frame 0 = decoder
    frame 0). The clip plays from `offset_seconds` on (e.g. after a continuation prompt), time-scaled by
    `stretch` = clip_bpm / song_bpm (so a 100 bpm clip in a 125 bpm song lasts 0.8x as long), and repeats
    with its own period: a loop's melody keeps looping on the bar grid. Nearest-frame lookup keeps one-hot.
    """
    if chroma.dim() != 2 or chroma.shape[0] == 0:
        raise ChromaError(f"chroma must be (frames, {NUM_CHROMA}), got {tuple(chroma.shape)}")
    if not (math.isfinite(clip_seconds) and clip_seconds > 0 and math.isfinite(stretch) and stretch > 0):
        raise ChromaError(f"clip_seconds and stretch must be positive, got {clip_seconds}, {stretch}")
    # in clip frames at the clip's own tempo: prefix frame j shows clip position (j - offset) / stretch
    pos = (torch.arange(length, dtype=torch.float64) - offset_seconds * CHROMA_FRAME_RATE) / stretch
    period = clip_seconds * CHROMA_FRAME_RATE  # the clip's length in (fractional) frames
    eps = 1e-6  # frames: a position that is a whole period up to rounding belongs to the next loop
    native = pos - torch.floor(pos / period + eps) * period
    index = torch.floor(native + eps).long().clamp_(0, chroma.shape[0] - 1)
    return chroma[index.to(chroma.device)]
