"""Tests for bridge.engine.engine: conditioning, generation through both backends, clear errors."""

from __future__ import annotations

import threading

import pytest
import torch

from bridge.engine.archs import ARCHS, Arch
from bridge.engine.engine import Engine
from bridge.engine.loading import build_random_model, byte_tokenizer
from bridge.engine.types import Cancelled, ModelError

TINY_PLAIN = Arch("tiny-plain", 32, 2, 2, melody=False, text=ARCHS["debug"].text, codec=ARCHS["debug"].codec)


def first_step_logits(engine: Engine, chroma: torch.Tensor | None) -> torch.Tensor:
    """Logits of the first decoder step through transformers' own forward (no code of ours in between)."""
    text = engine.text_inputs("deep house, 124 bpm", 1)
    bos = torch.full((engine.num_codebooks, 1), engine.pad_id)
    kwargs = {"input_features": chroma[None]} if chroma is not None else {}
    with torch.no_grad():
        return engine.model(**text, decoder_input_ids=bos, **kwargs).logits[:, -1]


def onehot(bins: list[int]) -> torch.Tensor:
    return torch.nn.functional.one_hot(torch.tensor(bins), 12).float()


def test_melody_changes_first_step_logits(debug_engine):
    """Melody reaches transformers' forward (the generate()-path regression: test_melody_regression.py)."""
    a = first_step_logits(debug_engine, onehot([9] * 40))  # A
    b = first_step_logits(debug_engine, onehot([0, 4, 7] * 13))  # C E G
    none = first_step_logits(debug_engine, None)
    assert not torch.allclose(a, b, atol=1e-5)
    assert not torch.allclose(a, none, atol=1e-5)


def test_continuation_keeps_prompt_codes_first(debug_engine):
    prompt = torch.randint(0, 2048, (4, 30))
    for backend in ("ours", "transformers"):
        codes = debug_engine.generate("x", n_frames=10, prompt_codes=prompt, seed=1, backend=backend)
        assert codes.shape == (1, 4, 40)
        assert torch.equal(codes[0, :, :30], prompt)


def test_encode_decode_shapes(debug_engine):
    wav = torch.randn(640 * 25).numpy() * 0.1
    codes = debug_engine.encode_audio(wav)
    assert codes.shape == (4, 25)
    assert debug_engine.decode_codes(codes[None]).shape == (1, 1, 640 * 25)  # (batch, channels, samples)


def test_cancel_raises(debug_engine):
    cancel = threading.Event()
    cancel.set()
    for backend in ("ours", "transformers"):
        with pytest.raises(Cancelled):
            debug_engine.generate("x", n_frames=20, seed=1, backend=backend, cancel=cancel)


def test_window_limit_is_a_clear_error(debug_engine):
    with pytest.raises(ModelError, match="30 s"):
        debug_engine.generate("x", n_frames=1501, seed=1)


def test_plain_musicgen_text_and_continuation_work_melody_is_refused():
    engine = Engine(
        build_random_model(TINY_PLAIN),
        byte_tokenizer(),
        melody=False,
        device=torch.device("cpu"),
        dtype=torch.float32,
        name="tiny-plain",
    )
    codes = engine.generate("x", n_frames=8, seed=1, prompt_codes=torch.zeros(4, 5, dtype=torch.long))
    assert codes.shape == (1, 4, 13)
    with pytest.raises(ModelError, match="text-only MusicGen"):
        engine.melody_features(onehot([1, 2]), 1)
    with pytest.raises(ModelError, match="text-only MusicGen"):
        engine.generate("x", n_frames=8, chroma=onehot([1, 2]))


def test_unknown_backend_is_refused(debug_engine):
    with pytest.raises(ValueError, match="unknown backend"):
        debug_engine.generate("x", n_frames=4, backend="nope")
