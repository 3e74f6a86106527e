"""Tests for bridge.engine.chroma."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from transformers.audio_utils import chroma_filter_bank

from bridge.engine.chroma import (
    CHROMA_FRAME_RATE,
    CHROMA_HOP,
    CHROMA_LENGTH,
    CHROMA_SAMPLE_RATE,
    N_FFT,
    NULL_CHROMA_BIN,
    NUM_CHROMA,
    PITCH_CLASS_TO_BIN,
    PITCH_CLASSES,
    ChromaError,
    _normalized_chroma,
    _stft_constants,
    align_melody,
    chroma_frames,
    chroma_onehot,
    null_chroma,
    pitch_class_name,
)

SR = CHROMA_SAMPLE_RATE
MIN_CORRECT_FRACTION = 0.9  # frames near the edges may be smeared by padding


def _tone(freq_hz: float, seconds: float, sr: int) -> np.ndarray:
    t = np.arange(int(round(seconds * sr))) / sr
    return (0.5 * np.sin(2 * np.pi * freq_hz * t)).astype(np.float32)


def _assert_onehot(c: torch.Tensor) -> None:
    assert c.dtype == torch.float32
    assert c.ndim == 2 and c.shape[1] == NUM_CHROMA
    assert torch.all((c == 0) | (c == 1))
    assert torch.all(c.sum(dim=1) == 1)


# ---- independent reference, written from the extractor's definition (numpy, float64) ----------------


def _reference_chroma(wav_32k: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(samples,) at 32 kHz → (normalised chroma (frames, 12), argmax (frames,)) per the definition.

    Short input: centred zero pad to n_fft (extra sample right). torchaudio Spectrogram(center=True,
    reflect, periodic hann, normalized=True → divide by ||window||_2, power=2). Then filter bank,
    inf-norm (eps 1e-6), argmax.
    """
    x = wav_32k.astype(np.float64)
    if x.size < N_FFT:
        pad = N_FFT - x.size
        x = np.pad(x, (pad // 2, pad // 2 + pad % 2))
    x = np.pad(x, (N_FFT // 2, N_FFT // 2), mode="reflect")
    n_frames = 1 + (x.size - N_FFT) // CHROMA_HOP
    window = 0.5 - 0.5 * np.cos(2 * np.pi * np.arange(N_FFT) / N_FFT)  # periodic Hann
    frames = np.stack(
        [x[i * CHROMA_HOP : i * CHROMA_HOP + N_FFT] for i in range(n_frames)]
    )  # (frames, N_FFT)
    spec = np.fft.rfft(frames * window, axis=-1) / np.sqrt(np.sum(window**2))  # (frames, F)
    power = np.abs(spec) ** 2
    fb = chroma_filter_bank(sampling_rate=SR, num_frequency_bins=N_FFT, tuning=0, num_chroma=NUM_CHROMA)
    raw = power @ fb.T  # (frames, 12)
    norm = raw / np.maximum(np.abs(raw).max(axis=1, keepdims=True), 1e-6)
    return norm, norm.argmax(axis=1)


def _music_like(seed: int, seconds: float) -> np.ndarray:
    """Chord sequence (harmonic tones, random roots/durations/levels) + noise, at 32 kHz."""
    rng = np.random.default_rng(seed)
    n = int(seconds * SR)
    out = np.zeros(n)
    t = np.arange(n) / SR
    start = 0
    while start < n:
        dur = int(rng.uniform(0.3, 1.2) * SR)
        seg = slice(start, min(n, start + dur))
        root_midi = rng.integers(45, 72)
        for k, interval in enumerate((0, rng.choice([3, 4]), 7)):
            f0 = 440.0 * 2 ** ((root_midi + interval - 69) / 12)
            level = (1.0 if k == 0 else rng.uniform(0.2, 0.6)) * rng.uniform(0.5, 1.0)
            for h in range(1, 5):  # a few decaying harmonics
                out[seg] += level / h * np.sin(2 * np.pi * f0 * h * t[seg] + rng.uniform(0, 2 * np.pi))
        start += dur
    out += 0.05 * rng.standard_normal(n)
    return (out / np.abs(out).max()).astype(np.float32)


# ---- pitch classes -------------------------------------------------------------------------------------


def test_pitch_class_layout_bin0_is_c() -> None:
    assert len(PITCH_CLASSES) == NUM_CHROMA
    assert PITCH_CLASSES[0] == "C" and PITCH_CLASSES[9] == "A"
    assert pitch_class_name(NULL_CHROMA_BIN) == "C"
    assert PITCH_CLASS_TO_BIN["G"] == 7
    # The filter bank itself peaks at the bin we name: C4 (261.63 Hz) → 0, A4 → 9.
    fb = chroma_filter_bank(sampling_rate=SR, num_frequency_bins=N_FFT, tuning=0, num_chroma=NUM_CHROMA)
    for hz, name in ((261.63, "C"), (440.0, "A"), (329.63, "E"), (392.0, "G"), (277.18, "C#")):
        assert PITCH_CLASSES[int(fb[:, round(hz * N_FFT / SR)].argmax())] == name


@pytest.mark.parametrize("sr", [32000, 44100, 48000, 22050])
@pytest.mark.parametrize(("freq", "name"), [(440.0, "A"), (523.25, "C"), (329.63, "E"), (392.0, "G")])
def test_pure_tone_lands_in_its_pitch_class(sr: int, freq: float, name: str) -> None:
    c = chroma_onehot(_tone(freq, 2.0, sr), sr)
    _assert_onehot(c)
    frac = (c.argmax(dim=1) == PITCH_CLASS_TO_BIN[name]).float().mean().item()
    assert frac >= MIN_CORRECT_FRACTION, (sr, name, frac)


def test_torch_tensor_input_matches_numpy() -> None:
    x = _tone(440.0, 1.5, 48000)
    assert torch.equal(chroma_onehot(torch.from_numpy(x), 48000), chroma_onehot(x, 48000))


# ---- shapes / frame counts -----------------------------------------------------------------------------


@pytest.mark.parametrize("n", [N_FFT, N_FFT + 1, 20479, 20480, 3 * SR + 123])
def test_frame_count_formula(n: int) -> None:
    x = np.random.default_rng(n).standard_normal(n).astype(np.float32)
    c = chroma_onehot(x, SR)
    assert c.shape == (1 + n // CHROMA_HOP, NUM_CHROMA) == (chroma_frames(n), NUM_CHROMA)
    _assert_onehot(c)


def test_thirty_seconds_is_235_frames() -> None:
    assert chroma_frames(30 * SR) == CHROMA_LENGTH == 235
    c = chroma_onehot(_tone(440.0, 30.0, SR), SR)
    assert c.shape == (CHROMA_LENGTH, NUM_CHROMA)
    c44 = chroma_onehot(_tone(440.0, 30.0, 44100), 44100)  # soxr keeps 30 s ⇒ 960000 samples
    assert c44.shape == (CHROMA_LENGTH, NUM_CHROMA)


@pytest.mark.parametrize("n", [1, 1000, 4095, N_FFT - 1])
def test_input_shorter_than_n_fft(n: int) -> None:
    x = _tone(440.0, 1.0, SR)[:n]
    c = chroma_onehot(x, SR)
    assert c.shape == (chroma_frames(n), NUM_CHROMA) == (1 + N_FFT // CHROMA_HOP, NUM_CHROMA)
    _assert_onehot(c)
    assert np.array_equal(c.argmax(1).numpy(), _reference_chroma(x)[1])


def test_silence_gives_null_bin() -> None:
    c = chroma_onehot(np.zeros(SR, dtype=np.float32), SR)
    assert torch.all(c.argmax(1) == NULL_CHROMA_BIN)
    assert torch.equal(c, null_chroma(c.shape[0]))


def test_null_chroma() -> None:
    z = null_chroma()
    assert z.shape == (CHROMA_LENGTH, NUM_CHROMA)
    _assert_onehot(z)
    assert torch.all(z[:, NULL_CHROMA_BIN] == 1)


# ---- equivalence with the extractor's definition -------------------------------------------------------


@pytest.mark.parametrize(("seed", "seconds"), [(0, 6.0), (1, 4.37), (2, 10.0), (3, 2.2)])
def test_matches_independent_reference(seed: int, seconds: float) -> None:
    x = _music_like(seed, seconds)
    ref_norm, ref_idx = _reference_chroma(x)
    c = chroma_onehot(x, SR)
    _assert_onehot(c)
    assert c.shape[0] == ref_idx.shape[0]
    assert np.array_equal(c.argmax(1).numpy(), ref_idx)
    # The energies themselves agree too (float32 vs float64).
    norm = _normalized_chroma(torch.from_numpy(x)).numpy()
    np.testing.assert_allclose(norm, ref_norm, rtol=1e-3, atol=1e-4)
    # Music-like: several pitch classes are used.
    assert len(set(ref_idx.tolist())) >= 3


def test_constants_are_cached() -> None:
    a = _stft_constants("cpu", torch.float32)
    b = _stft_constants("cpu", torch.float32)
    assert a[0] is b[0] and a[1] is b[1]
    assert a[1].shape == (NUM_CHROMA, N_FFT // 2 + 1)


# ---- stereo / errors -----------------------------------------------------------------------------------


def test_stereo_is_averaged() -> None:
    left, right = _music_like(5, 3.0), _tone(440.0, 3.0, SR)
    stereo = np.stack([left, right])  # (2, samples)
    assert torch.equal(chroma_onehot(stereo, SR), chroma_onehot((left + right) / 2, SR))
    # Antiphase channels cancel to silence (averaged, not summed per channel).
    anti = np.stack([right, -right])
    assert torch.all(chroma_onehot(anti, SR).argmax(1) == NULL_CHROMA_BIN)


def test_channels_last_is_rejected() -> None:
    with pytest.raises(ChromaError, match="transpose"):
        chroma_onehot(np.zeros((SR, 2), dtype=np.float32), SR)


@pytest.mark.parametrize(
    "bad",
    [
        np.zeros(0, dtype=np.float32),
        np.zeros((2, 0), dtype=np.float32),
        np.array([0.0, np.nan, 0.0] * 10000, dtype=np.float32),
        np.array([0.0, np.inf] * 10000),
        np.zeros((1, 2, 1000), dtype=np.float32),
    ],
)
def test_bad_audio_raises(bad: np.ndarray) -> None:
    with pytest.raises(ChromaError):
        chroma_onehot(bad, SR)
    assert issubclass(ChromaError, ValueError)


@pytest.mark.parametrize("sr", [0, -44100, float("nan")])
def test_bad_sample_rate_raises(sr: float) -> None:
    with pytest.raises(ChromaError):
        chroma_onehot(_tone(440.0, 1.0, SR), sr)


# ---- melody alignment (tempo, loop, offset) ----------------------------------------------------------------------------------------


def _random_onehot(frames: int, seed: int = 0) -> torch.Tensor:
    idx = torch.randint(0, NUM_CHROMA, (frames,), generator=torch.Generator().manual_seed(seed))
    return torch.nn.functional.one_hot(idx, NUM_CHROMA).float()


def test_align_melody_loops_the_clip_on_the_prefix() -> None:
    c = _random_onehot(16)  # 16 frames = 2.048 s
    out = align_melody(c, clip_seconds=16 / CHROMA_FRAME_RATE)
    assert out.shape == (CHROMA_LENGTH, NUM_CHROMA)
    _assert_onehot(out)
    assert torch.equal(out[:16], c) and torch.equal(out[16:32], c)  # loops with the clip's period


def test_align_melody_retimes_to_the_song_tempo() -> None:
    """A 100 bpm clip in a 125 bpm song plays 0.8x as long: 20 frames of clip in 16 frames of prefix."""
    c = _random_onehot(20)
    out = align_melody(c, clip_seconds=20 / CHROMA_FRAME_RATE, stretch=100 / 125)
    assert torch.equal(out[16:32], out[:16])  # the period is now 16 frames
    expected = torch.floor(torch.arange(16) / 0.8 + 1e-9).long()  # prefix frame j shows clip frame j / 0.8
    assert torch.equal(out[:16], c[expected])
    slower = align_melody(c, clip_seconds=20 / CHROMA_FRAME_RATE, stretch=125 / 100)  # 25-frame period
    assert torch.equal(slower[25:50], slower[:25]) and torch.equal(slower[:25:5], c[0:20:4])


def test_align_melody_offset_starts_the_clip_later() -> None:
    """With a continuation prompt, melody frame 0 lines up with the first new frame, not the prompt's."""
    c = _random_onehot(16)
    offset_frames = 5
    out = align_melody(
        c, clip_seconds=16 / CHROMA_FRAME_RATE, offset_seconds=offset_frames / CHROMA_FRAME_RATE
    )
    assert torch.equal(out[offset_frames : offset_frames + 16], c)
    assert torch.equal(out[:offset_frames], c[16 - offset_frames :])  # the loop wraps before the offset


@pytest.mark.parametrize(("seconds", "stretch"), [(0.0, 1.0), (1.0, 0.0), (float("nan"), 1.0), (1.0, -2.0)])
def test_align_melody_rejects_bad_arguments(seconds: float, stretch: float) -> None:
    with pytest.raises(ChromaError):
        align_melody(_random_onehot(4), seconds, stretch=stretch)
