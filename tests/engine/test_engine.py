"""Model loading and conditioning: debug build, local directories, clear errors, melody regression."""

from __future__ import annotations

import threading

import pytest
import torch

from bridge.engine.archs import ARCHS, Arch, TextEncoderArch
from bridge.engine.engine import (
    Cancelled,
    Engine,
    ModelError,
    build_random_model,
    byte_tokenizer,
    load_engine,
    resolve_dtype,
)

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
    """Regression for transformers 4.57-5.x silently dropping melody conditioning (issue 45647)."""
    a = first_step_logits(debug_engine, onehot([9] * 40))  # A
    b = first_step_logits(debug_engine, onehot([0, 4, 7] * 13))  # C E G
    none = first_step_logits(debug_engine, None)
    assert not torch.allclose(a, b, atol=1e-5)
    assert not torch.allclose(a, none, atol=1e-5)


def test_debug_model_is_seeded_and_offline():
    a, b = build_random_model(ARCHS["debug"], seed=0), build_random_model(ARCHS["debug"], seed=0)
    for (name, p), (_, q) in zip(a.state_dict().items(), b.state_dict().items(), strict=True):
        assert torch.equal(p, q), name
    codebook = a.audio_encoder.quantizer.layers[0].codebook.embed
    assert codebook.abs().sum() > 0  # random codebooks: different codes decode to different audio


def test_byte_tokenizer_handles_any_text():
    tok = byte_tokenizer()
    ids = tok(["lo-fi 🎹 beat"], return_tensors="pt").input_ids
    assert ids[0, -1].item() == 1 and ids.max() < 260
    assert tok.decode(ids[0], skip_special_tokens=True) == "lo-fi 🎹 beat"


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
    assert debug_engine.decode_codes(codes[None]).shape == (1, 640 * 25)


def test_cancel_raises(debug_engine):
    cancel = threading.Event()
    cancel.set()
    for backend in ("ours", "transformers"):
        with pytest.raises(Cancelled):
            debug_engine.generate("x", n_frames=20, seed=1, backend=backend, cancel=cancel)


def test_transformers_path_reports_the_last_step_and_frames_before_its_own_decode(debug_engine, monkeypatch):
    """generate() ends by decoding all codes to audio; the last step and the last frames are reported before
    that decode, so both paths' step timings exclude it, and streaming decodes from callbacks are not taken
    for generate's own."""
    from bridge.engine.streaming import StreamingDecoder

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
    steps = 30 + 4 - 1
    assert events[-1] == ("decode", 30)  # generate's own, last of all
    assert events.index(("step", steps)) < len(events) - 1
    assert sum(e == ("decode", 30) for e in events) == 1
    assert torch.equal(torch.cat(frames, dim=-1), codes)


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


def test_local_directory_loads_through_from_pretrained(tmp_path):
    model = build_random_model(ARCHS["debug"], seed=3)
    model.save_pretrained(tmp_path)
    byte_tokenizer().save_pretrained(tmp_path)
    engine = load_engine(str(tmp_path), device="cpu")
    assert engine.melody and engine.name == str(tmp_path)
    ref = model.state_dict()["decoder.lm_heads.0.weight"]
    assert torch.equal(engine.model.state_dict()["decoder.lm_heads.0.weight"], ref)


@pytest.mark.parametrize(
    "name,match",
    [
        ("/nonexistent/model/dir", "does not exist"),
        ("someone/not-a-model", "--model debug"),
    ],
)
def test_missing_model_is_one_clear_message(name, match):
    with pytest.raises(ModelError, match=match) as info:
        load_engine(name, device="cpu")
    assert "\n" not in str(info.value)


def test_non_musicgen_directory_is_refused(tmp_path):
    from transformers import T5Config

    T5Config().save_pretrained(tmp_path)
    with pytest.raises(ModelError, match="not MusicGen"):
        load_engine(str(tmp_path), device="cpu")


def test_dtype_choice():
    assert resolve_dtype(torch.device("cpu")) == torch.float32
    assert resolve_dtype(torch.device("cpu"), "bf16") == torch.bfloat16
    with pytest.raises(ModelError):
        resolve_dtype(torch.device("cpu"), "int3")


def test_unknown_architecture_for_random_weights():
    with pytest.raises(ModelError, match="unknown architecture"):
        load_engine("huge", random_weights=True)


def test_arch_table_matches_the_releases():
    assert (ARCHS["small"].hidden_size, ARCHS["small"].num_layers, ARCHS["small"].num_heads) == (1024, 24, 16)
    assert ARCHS["melody"].melody and ARCHS["melody"].ffn_dim == 4 * 1536
    assert (ARCHS["large"].hidden_size, ARCHS["large"].num_heads) == (2048, 32)
    assert ARCHS["melody"].text == TextEncoderArch()
