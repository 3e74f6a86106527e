"""Tests for bridge.engine.codebooks and the Engine's audio side for stereo checkpoints.

A stereo MusicGen interleaves its channels' codebooks [L0, R0, L1, R1, ...]; prompt audio is encoded per
channel (a mono clip feeds both), codes decode per channel to (batch, 2, samples), and a mono model
still gives (batch, 1, samples). References: transformers' own stereo `generate` (its `input_values`
prompt encoding and its left/right decode calls).
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from engine_helpers import random_engine

from bridge.engine import codebooks
from bridge.engine.archs import DEBUG, Arch, stereo
from bridge.engine.engine import Engine
from bridge.engine.hf_generate import quiet_transformers, sampling_kwargs
from bridge.engine.loading import load_engine
from bridge.engine.types import HOP, SAMPLE_RATE, Sampling, delay_steps

GREEDY = Sampling(temperature=0.0, cfg=3.0)
TINY_PLAIN = Arch("tiny-plain", 32, 2, 2, melody=False, text=DEBUG.text, codec=DEBUG.codec)


@pytest.fixture(scope="module", autouse=True)
def _one_thread(one_thread):
    """Every test here, and the module's engines, on one thread (conftest)."""


@pytest.fixture(scope="module")
def debug_stereo() -> Engine:
    return load_engine("debug-stereo", device="cpu")


@pytest.fixture(scope="module")
def tiny_stereo_plain() -> Engine:
    """Plain (text-only) MusicGen: transformers' generate encodes a stereo `input_values` prompt only there."""
    return random_engine(stereo(TINY_PLAIN, "tiny-stereo-plain"))


def stereo_clip(seconds: float = 0.3) -> np.ndarray:
    """(2, samples) at 32 kHz, a whole number of codec frames: a tone left, noise right (loud: the tiny
    random codec maps quiet audio to nearly constant codes)."""
    t = np.arange(int(seconds * SAMPLE_RATE) // HOP * HOP) / SAMPLE_RATE
    noise = np.random.default_rng(5).uniform(-0.9, 0.9, len(t))
    return np.stack([0.9 * np.sin(2 * np.pi * 220 * t), noise]).astype(np.float32)


# ----------------------------------------------------------------------------------------- layout


def test_split_and_join_follow_the_interleaved_layout():
    codes = torch.arange(8)[None, :, None].expand(2, 8, 3) + 100 * torch.arange(2)[:, None, None]  # (B, K, F)
    per_channel = codebooks.split_channels(codes, 2)  # (B * 2, 4, F)
    assert per_channel[:, :, 0].tolist() == [[0, 2, 4, 6], [1, 3, 5, 7], [100, 102, 104, 106], [101, 103, 105, 107]]
    assert torch.equal(codebooks.join_channels(per_channel, 2), codes)
    assert torch.equal(codebooks.split_channels(codes[:, :4], 1), codes[:, :4])  # mono: unchanged
    with pytest.raises(ValueError):
        codebooks.split_channels(codes[:, :7], 2)


def test_debug_stereo_is_the_tiny_model_in_stereo(debug_stereo):
    assert (debug_stereo.channels, debug_stereo.num_codebooks, debug_stereo.melody) == (2, 8, True)
    assert debug_stereo.model.decoder.config.audio_channels == 2
    assert debug_stereo.model.config.audio_encoder.audio_channels == 1  # one mono codec for each channel


# ----------------------------------------------------------------------------------------- encode


@torch.inference_mode()
def transformers_prompt(engine: Engine, input_values: np.ndarray) -> torch.Tensor:
    """transformers' own prompt encoding of (channels, samples): generate's `input_values` path => (K, F)."""
    kwargs = engine.model._prepare_audio_encoder_kwargs_for_generation(torch.from_numpy(input_values)[None], {})
    return kwargs["decoder_input_ids"].reshape(engine.num_codebooks, -1)


def test_stereo_clip_encodes_per_channel_like_transformers(tiny_stereo_plain):
    wav = stereo_clip()
    codes = tiny_stereo_plain.encode_audio(wav)
    assert codes.shape == (8, wav.shape[-1] // HOP)
    assert torch.equal(codes, transformers_prompt(tiny_stereo_plain, wav))
    assert not torch.equal(codes[0::2], codes[1::2])  # the channels differ, and stay apart


def test_mono_clip_feeds_both_channels_of_a_stereo_model(tiny_stereo_plain):
    mono = stereo_clip()[0]
    codes = tiny_stereo_plain.encode_audio(mono)
    assert torch.equal(codes, transformers_prompt(tiny_stereo_plain, np.stack([mono, mono])))
    assert torch.equal(codes[0::2], codes[1::2])
    assert torch.equal(tiny_stereo_plain.encode_audio(mono[None]), codes)  # (1, samples) is mono too


def test_mono_model_encodes_the_downmix(debug_engine):
    wav = stereo_clip()
    codes = debug_engine.encode_audio(wav)
    assert codes.shape == (4, wav.shape[-1] // HOP)
    assert torch.equal(codes, debug_engine.encode_audio(wav.mean(axis=0)))
    with pytest.raises(ValueError):
        debug_engine.encode_audio(wav[None])


# ----------------------------------------------------------------------------------------- decode


def test_decode_codes_is_batch_channels_samples(debug_engine, debug_stereo):
    g = torch.Generator().manual_seed(3)
    mono = torch.randint(0, 2048, (2, 4, 10), generator=g)
    assert debug_engine.decode_codes(mono).shape == (2, 1, 10 * HOP)
    codes = torch.randint(0, 2048, (2, 8, 10), generator=g)
    audio = debug_stereo.decode_codes(codes)
    assert audio.shape == (2, 2, 10 * HOP) and audio.dtype == np.float32
    codec = debug_stereo.model.audio_encoder
    with torch.inference_mode():  # transformers' stereo decode: even codebooks left, odd ones right
        left = codec.decode(codes[None, :, 0::2], [None]).audio_values[:, 0].numpy()
        right = codec.decode(codes[None, :, 1::2], [None]).audio_values[:, 0].numpy()
    np.testing.assert_allclose(audio[:, 0], left, rtol=0, atol=1e-6)
    np.testing.assert_allclose(audio[:, 1], right, rtol=0, atol=1e-6)
    assert np.abs(audio[:, 0] - audio[:, 1]).max() > 1e-3  # different codes, different channels


# ----------------------------------------------------------------------------------- continuation


@pytest.mark.parametrize("clip", ["stereo", "mono"])
@pytest.mark.parametrize("batch", [1, 2])
def test_continuation_from_a_clip_equals_transformers_input_values(tiny_stereo_plain, clip, batch):
    """Our prompt encoding + decode loop give transformers' generate(input_values=clip) codes and audio;
    a mono clip is what transformers hears as the same signal in both channels."""
    engine, n = tiny_stereo_plain, 10
    wav = stereo_clip() if clip == "stereo" else stereo_clip()[0]
    prompt = engine.encode_audio(wav)
    p = prompt.shape[-1]
    ours = engine.generate("tape loop", n_frames=n, batch=batch, prompt_codes=prompt, sampling=GREEDY)
    assert ours.shape == (batch, 8, p + n) and torch.equal(ours[:, :, :p], prompt.expand(batch, -1, -1))

    model, caught = engine.model, []
    decode = model.audio_encoder.decode
    model.audio_encoder.decode = lambda c, *a, **kw: caught.append(c[0]) or decode(c, *a, **kw)
    stereo_wav = wav if wav.ndim == 2 else np.stack([wav, wav])
    try:
        with torch.inference_mode(), quiet_transformers():
            audio = model.generate(
                **engine.text_inputs("tape loop", batch),
                input_values=torch.from_numpy(stereo_wav)[None].expand(batch, -1, -1),
                max_new_tokens=delay_steps(n, 8, 2),
                **sampling_kwargs(GREEDY),
            )
    finally:
        del model.audio_encoder.decode
    left, right = caught  # generate decodes the even codebooks, then the odd ones
    assert torch.equal(ours[:, 0::2], left) and torch.equal(ours[:, 1::2], right)
    ours_audio = engine.decode_codes(ours)
    assert ours_audio.shape == tuple(audio.shape) == (batch, 2, (p + n) * HOP)
    np.testing.assert_allclose(ours_audio, audio.numpy(), rtol=0, atol=1e-6)
