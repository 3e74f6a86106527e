"""Tests for bridge.engine.decoder: our static-cache decode loop must give exactly transformers' codes (greedy).

References: `engine.generate(..., backend="transformers")` for MusicGen-Melody. transformers 5.23's plain
MusicGen `generate` never hands its `streamer` to the sampling loop, so for plain models the reference codes
are caught where `generate` passes them to `audio_encoder.decode` (`transformers_codes`).
"""

from __future__ import annotations

import threading

import numpy as np
import pytest
import torch
from engine_helpers import random_engine

from bridge.engine.archs import ARCHS, DEBUG, Arch, stereo
from bridge.engine.decoder import Decoder
from bridge.engine.engine import Engine
from bridge.engine.hf_generate import quiet_transformers, sampling_kwargs
from bridge.engine.loading import load_engine
from bridge.engine.types import Cancelled, Sampling, delay_steps

K = 4
PAD = 2048
GREEDY = Sampling(temperature=0.0, cfg=3.0)
GREEDY_NO_CFG = Sampling(temperature=0.0, cfg=1.0)
MID_MELODY = Arch("mid-melody", 256, 4, 4, melody=True, text=DEBUG.text, codec=DEBUG.codec)
MID_PLAIN = Arch("mid-plain", 256, 4, 4, melody=False, text=DEBUG.text, codec=DEBUG.codec)
MID_STEREO_MELODY = stereo(MID_MELODY, "mid-stereo-melody")  # 8 codebooks, [L0, R0, L1, R1, ...]
MID_STEREO_PLAIN = stereo(MID_PLAIN, "mid-stereo-plain")


@pytest.fixture(scope="module", autouse=True)
def _one_thread(one_thread):
    """Every test here, and the module's engines, on one thread (conftest)."""


@pytest.fixture(scope="module")
def debug() -> Engine:
    return load_engine("debug", device="cpu")


@pytest.fixture(scope="module")
def mid_melody() -> Engine:
    return random_engine(MID_MELODY)


@pytest.fixture(scope="module")
def mid_plain() -> Engine:
    return random_engine(MID_PLAIN)


@pytest.fixture(scope="module")
def debug_stereo() -> Engine:
    return load_engine("debug-stereo", device="cpu")


@pytest.fixture(scope="module")
def mid_stereo_melody() -> Engine:
    return random_engine(MID_STEREO_MELODY)


@pytest.fixture(scope="module")
def mid_stereo_plain() -> Engine:
    return random_engine(MID_STEREO_PLAIN)


def chroma(frames: int, seed: int) -> torch.Tensor:
    """(frames, 12) random one-hot chroma."""
    g = torch.Generator().manual_seed(seed)
    return torch.nn.functional.one_hot(torch.randint(0, 12, (frames,), generator=g), 12).float()


def prompt(frames: int, seed: int = 1, k: int = K) -> torch.Tensor:
    """(k, frames) random prompt codes."""
    return torch.randint(0, PAD, (k, frames), generator=torch.Generator().manual_seed(seed))


@torch.inference_mode()
def transformers_codes(
    engine: Engine,
    text: dict,
    features: torch.Tensor | None,
    codes: torch.Tensor | None,
    n_frames: int,
    sampling: Sampling,
) -> torch.Tensor:
    """(B, K, P + n) codes of `model.generate`, caught on their way into `audio_encoder.decode`."""
    model, caught = engine.model, []
    decode = model.audio_encoder.decode
    model.audio_encoder.decode = lambda c, *a, **kw: caught.append(c) or decode(c, *a, **kw)
    try:
        kwargs = dict(text, **sampling_kwargs(sampling))
        if features is not None:
            kwargs["input_features"] = features
        if codes is not None:
            kwargs["decoder_input_ids"] = codes.reshape(-1, codes.shape[-1])
        model.generate(**kwargs, max_new_tokens=delay_steps(n_frames, K))
    finally:
        del model.audio_encoder.decode
    return caught[0][0]


# ------------------------------------------------------------------------- greedy == transformers

MELODY_CASES = {
    "text": dict(),
    "text-no-cfg": dict(sampling=GREEDY_NO_CFG),
    "chroma": dict(chroma=40),
    "chroma-longer-than-prefix": dict(chroma=300, sampling=GREEDY_NO_CFG),
    "continuation": dict(prompt=6),
    "chroma+continuation-batch2": dict(chroma=40, prompt=6, batch=2),
    "chroma+continuation-batch2-no-cfg": dict(chroma=40, prompt=6, batch=2, sampling=GREEDY_NO_CFG),
}


MID_CASES = ["text", "chroma+continuation-batch2", "chroma+continuation-batch2-no-cfg"]


@pytest.mark.parametrize(
    "engine_name,case", [("debug", c) for c in MELODY_CASES] + [("mid_melody", c) for c in MID_CASES]
)
def test_greedy_equals_transformers_melody(engine_name, case, request):
    engine = request.getfixturevalue(engine_name)
    c = MELODY_CASES[case]
    kwargs = dict(
        n_frames=12,
        batch=c.get("batch", 1),
        sampling=c.get("sampling", GREEDY),
        chroma=chroma(c["chroma"], 3) if "chroma" in c else None,
        prompt_codes=prompt(c["prompt"]) if "prompt" in c else None,
    )
    ref = engine.generate("warm analog synth", backend="transformers", **kwargs)
    ours = engine.generate("warm analog synth", backend="ours", **kwargs)
    assert ours.shape == ref.shape == (kwargs["batch"], K, c.get("prompt", 0) + 12)
    assert torch.equal(ours, ref)


@pytest.mark.parametrize("sampling", [GREEDY, GREEDY_NO_CFG], ids=["cfg", "no-cfg"])
@pytest.mark.parametrize("batch,prompt_frames", [(1, 0), (2, 5)])
def test_greedy_equals_transformers_plain(mid_plain, sampling, batch, prompt_frames):
    text = mid_plain.text_inputs("808 drums", batch)
    codes = torch.stack([prompt(prompt_frames, seed) for seed in range(batch)]) if prompt_frames else None
    ref = transformers_codes(mid_plain, text, None, codes, 12, sampling)
    ours = mid_plain.generate(
        "808 drums", n_frames=12, batch=batch, sampling=sampling, backend="ours", prompt_codes=codes
    )  # batch 2 continues a different prompt per take
    assert ours.shape == (batch, K, prompt_frames + 12)
    assert torch.equal(ours, ref)


@pytest.mark.parametrize("engine_name", ["debug", "mid_plain"])
def test_padded_text_batch(engine_name, request):
    """Different prompts in one batch: the text attention mask has zeros, the null branch a zero mask."""
    engine = request.getfixturevalue(engine_name)
    enc = engine.tokenizer(["hi", "a much longer prompt with padding"], return_tensors="pt", padding=True)
    text = {k: enc[k] for k in ("input_ids", "attention_mask")}
    assert not text["attention_mask"].all()
    features = torch.stack([chroma(30, 1), chroma(30, 2)]) if engine.melody else None
    ref = transformers_codes(engine, text, features, None, 10, GREEDY)
    ours = Decoder(engine.model).generate(text, features, None, 10, GREEDY, torch.Generator().manual_seed(0))
    assert torch.equal(ours, ref)


# Stereo: the two channels' codebooks interleaved, codebook c delayed by c // 2 (text-only cases for plain)
PLAIN_CASES = ["text", "text-no-cfg", "continuation", "continuation-batch2", "continuation-batch2-no-cfg"]
STEREO_CASES = {
    **MELODY_CASES,
    "continuation-batch2": dict(prompt=6, batch=2),
    "continuation-batch2-no-cfg": dict(prompt=6, batch=2, sampling=GREEDY_NO_CFG),
}


@pytest.mark.parametrize(
    "engine_name,case",
    [("debug_stereo", c) for c in MELODY_CASES]
    + [("mid_stereo_melody", c) for c in MID_CASES]
    + [("mid_stereo_plain", c) for c in PLAIN_CASES],
)
def test_greedy_equals_transformers_stereo(engine_name, case, request):
    engine = request.getfixturevalue(engine_name)
    c = STEREO_CASES[case]
    batch = c.get("batch", 1)
    codes = None  # batch 2 continues a different prompt per take
    if "prompt" in c:
        codes = torch.stack([prompt(c["prompt"], seed, k=8) for seed in range(batch)])
    kwargs = dict(
        n_frames=12,
        batch=batch,
        sampling=c.get("sampling", GREEDY),
        chroma=chroma(c["chroma"], 3) if "chroma" in c else None,
        prompt_codes=codes,
    )
    ref = engine.generate("warm analog synth", backend="transformers", **kwargs)
    ours = engine.generate("warm analog synth", backend="ours", **kwargs)
    assert ours.shape == ref.shape == (batch, 8, c.get("prompt", 0) + 12)
    assert torch.equal(ours, ref)
    assert not torch.equal(ours[:, 0::2], ours[:, 1::2])  # the channels are generated apart


@torch.inference_mode()
def test_stereo_audio_equals_transformers_generate(mid_stereo_plain):
    """transformers' generate returns (B, 2, samples): its own left/right decode of its own codes. Our
    codes through decode_codes give the same audio (this also checks the reference path's stereo codes)."""
    engine, n, batch = mid_stereo_plain, 12, 2
    codes = prompt(5, 4, k=8)[None].expand(batch, -1, -1)
    with quiet_transformers():
        audio = engine.model.generate(
            **engine.text_inputs("808 drums", batch),
            decoder_input_ids=codes.reshape(batch * 8, -1),
            max_new_tokens=delay_steps(n, 8, 2),
            **sampling_kwargs(GREEDY),
        )
    ours = engine.generate("808 drums", n_frames=n, batch=batch, prompt_codes=codes, sampling=GREEDY)
    assert audio.shape == (batch, 2, (5 + n) * 640)
    np.testing.assert_allclose(engine.decode_codes(ours), audio.numpy(), rtol=0, atol=1e-6)


def test_stereo_streams_frames_like_transformers(debug_stereo):
    """A stereo frame is complete 3 steps after it starts (delay depth 4, not 8): n frames take n + 3 steps."""
    kwargs = dict(n_frames=9, batch=2, prompt_codes=prompt(4, k=8), chroma=chroma(30, 2), sampling=GREEDY)
    calls = {}
    for backend in ("transformers", "ours"):
        seen, steps = [], []
        calls[backend] = seen
        out = debug_stereo.generate(
            "x",
            backend=backend,
            on_frames=lambda first, f, seen=seen: seen.append((first, f)),
            on_step=lambda done, total, steps=steps: steps.append((done, total)),
            **kwargs,
        )
        assert [first for first, _ in seen] == list(range(9))
        assert torch.equal(torch.cat([f for _, f in seen], dim=2), out[:, :, 4:].cpu())
        assert steps[-1] == (delay_steps(9, 8, 2), 12)
    for (_, ours), (_, ref) in zip(calls["ours"], calls["transformers"], strict=True):
        assert torch.equal(ours, ref)


@pytest.mark.slow
def test_real_size_stereo_greedy_equals_transformers():
    """The real stereo-small architecture (random weights: 24 layers of 1024, T5-base): greedy codes with
    CFG after a prompt equal transformers'."""
    engine = random_engine(ARCHS["stereo-small"])
    kwargs = dict(n_frames=6, batch=2, prompt_codes=prompt(3, k=8), sampling=GREEDY)
    ours = engine.generate("lofi hip hop", backend="ours", **kwargs)
    assert ours.shape == (2, 8, 9)
    assert torch.equal(ours, engine.generate("lofi hip hop", backend="transformers", **kwargs))


def test_bf16_greedy_equals_transformers():
    engine = load_engine("debug", device="cpu", dtype="bf16")
    kwargs = dict(n_frames=10, batch=2, chroma=chroma(20, 5), prompt_codes=prompt(4), sampling=GREEDY)
    assert torch.equal(
        engine.generate("x", backend="ours", **kwargs), engine.generate("x", backend="transformers", **kwargs)
    )


# ----------------------------------------------------------------------------- logits vs forward


def delayed(model, codes: torch.Tensor) -> torch.Tensor:
    """(B, K, F) frames => (B*K, 1 + F + K - 1) delayed columns (BOS first), by transformers' own pattern."""
    b, k, f = codes.shape
    bos = torch.full((b, k, 1), PAD, dtype=torch.long)
    undelayed = torch.cat([bos, codes], dim=-1).reshape(b * k, -1)
    return model.decoder.build_delay_pattern_mask(undelayed, pad_token_id=PAD, max_length=f + k)[1]


@pytest.mark.parametrize("engine_name", ["mid_melody", "mid_plain"])
def test_first_steps_logits_match_transformers_forward(engine_name, request, monkeypatch):
    """Raw logits of both CFG branches, steps 1-3, against a full (cache-free) transformers forward."""
    engine = request.getfixturevalue(engine_name)
    model, batch, p = engine.model, 2, 3
    text = engine.text_inputs("bossa nova guitar", batch)
    features = chroma(50, 9)[None].expand(batch, -1, -1) if engine.melody else None
    codes = prompt(p)[None].expand(batch, -1, -1)
    decoder, seen = Decoder(model), []
    sample = decoder._sample
    monkeypatch.setattr(
        decoder, "_sample", lambda st, logits: seen.append(logits.clone()) or sample(st, logits)
    )
    out = decoder.generate(text, features, codes, 6, GREEDY, torch.Generator().manual_seed(0))
    columns = delayed(model, out)  # (B*K, 1 + P + 6 + K - 1)

    null = {"attention_mask": torch.zeros_like(text["attention_mask"])}  # masked text => zero states and mask
    if engine.melody:
        null["input_features"] = torch.zeros(batch, 1, 12)
        null["input_features"][..., 0] = 1  # the null chroma: one-hot bin 0
    with torch.inference_mode():
        for step in range(3):
            ids = columns[:, : 1 + p + step]
            cond = (
                model(**text, input_features=features, decoder_input_ids=ids)
                if engine.melody
                else model(**text, decoder_input_ids=ids)
            )
            uncond = model(input_ids=text["input_ids"], **null, decoder_input_ids=ids)
            expected = torch.cat([cond.logits[:, -1], uncond.logits[:, -1]])  # (2*B*K, V)
            torch.testing.assert_close(seen[step], expected, rtol=1e-4, atol=1e-4)


def test_different_chroma_gives_different_logits(debug, monkeypatch):
    """Melody conditioning must reach the decoder (transformers issue 45647)."""
    decoder, seen = Decoder(debug.model), []
    sample = decoder._sample
    monkeypatch.setattr(
        decoder, "_sample", lambda st, logits: seen.append(logits.clone()) or sample(st, logits)
    )
    text = debug.text_inputs("piano", 1)
    for seed in (1, 2):
        decoder.generate(text, chroma(60, seed)[None], None, 1, GREEDY, torch.Generator())
    first_a, first_b = seen[0], seen[K]  # one request = K steps
    assert not torch.allclose(first_a, first_b)


# ------------------------------------------------------------------------------------- sampling


def test_sampling_reproducible_per_seed(debug):
    sampling = Sampling(temperature=1.0, top_k=250, top_p=0.9, cfg=3.0)
    a = debug.generate("lofi", n_frames=15, batch=2, sampling=sampling, seed=7)
    b = debug.generate("lofi", n_frames=15, batch=2, sampling=sampling, seed=7)
    c = debug.generate("lofi", n_frames=15, batch=2, sampling=sampling, seed=8)
    assert torch.equal(a, b)
    assert not torch.equal(a, c)
    assert not torch.equal(a[0], a[1])  # takes in a batch differ by sampling
    assert int(a.min()) >= 0 and int(a.max()) < PAD


@pytest.mark.parametrize(
    "sampling",
    [Sampling(temperature=1.0, top_k=1, cfg=3.0), Sampling(temperature=0.7, top_k=0, top_p=1e-6, cfg=3.0)],
    ids=["top_k=1", "tiny-top_p"],
)
def test_degenerate_sampling_is_greedy(debug, sampling):
    """top-k 1 and a tiny top-p keep only the best code: sampling must then reproduce greedy decoding."""
    kwargs = dict(n_frames=12, chroma=chroma(40, 4), prompt_codes=prompt(3))
    assert torch.equal(
        debug.generate("x", sampling=sampling, seed=3, **kwargs),
        debug.generate("x", sampling=GREEDY, **kwargs),
    )


# ---------------------------------------------------------------------- progress, cancel, cache


def test_on_step_reports_every_step(debug):
    calls = []
    debug.generate("x", n_frames=9, sampling=GREEDY, on_step=lambda done, total: calls.append((done, total)))
    assert calls == [(i, delay_steps(9, K)) for i in range(1, delay_steps(9, K) + 1)]


def test_on_frames_streams_the_new_frames_like_transformers(debug):
    """Frames arrive in order as the delay pattern completes them, call for call like the transformers path."""
    kwargs = dict(n_frames=9, batch=2, prompt_codes=prompt(4), chroma=chroma(30, 2), sampling=GREEDY)
    calls = {}
    for backend in ("transformers", "ours"):
        seen = calls[backend] = []
        out = debug.generate(
            "x", backend=backend, on_frames=lambda first, f, seen=seen: seen.append((first, f)), **kwargs
        )
        assert [first for first, _ in seen] == list(range(9))  # one new frame per step from step K on
        assert torch.equal(torch.cat([f for _, f in seen], dim=2), out[:, :, 4:].cpu())
    for (_, ours), (_, ref) in zip(calls["ours"], calls["transformers"], strict=True):
        assert ours.device.type == "cpu" and torch.equal(ours, ref)


def test_cancel_stops_and_the_cache_is_reused(debug):
    decoder = Decoder(debug.model)
    text = debug.text_inputs("x", 1)
    run = lambda **kw: decoder.generate(text, None, None, 30, GREEDY, torch.Generator().manual_seed(0), **kw)  # noqa: E731
    expected = run()
    storage = decoder._k.data_ptr(), decoder._v.data_ptr()

    cancel, calls = threading.Event(), []

    def on_step(done: int, total: int) -> None:
        calls.append(done)
        if done == 3:
            cancel.set()

    with pytest.raises(Cancelled):
        run(on_step=on_step, cancel=cancel)
    assert calls == [1, 2, 3]
    assert torch.equal(run(), expected)  # the decoder runs the next request right away, same result
    assert (decoder._k.data_ptr(), decoder._v.data_ptr()) == storage  # same shape: the cache was reused


def test_cancel_before_start(debug):
    cancel, calls = threading.Event(), []
    cancel.set()
    with pytest.raises(Cancelled):
        debug.generate("x", n_frames=5, on_step=lambda *a: calls.append(a), cancel=cancel)
    assert calls == []


def test_cache_grows_for_bigger_requests_only(debug):
    """Growing one dimension keeps the other's capacity, and every request still gets its exact codes."""
    decoder = Decoder(debug.model)
    requests = [(2, 10, GREEDY), (1, 300, GREEDY), (1, 10, GREEDY_NO_CFG), (2, 20, GREEDY)]  # batch, frames
    for batch, n_frames, sampling in requests:
        text = debug.text_inputs("x", batch)
        out = decoder.generate(text, None, None, n_frames, sampling, torch.Generator())
        fresh = Decoder(debug.model).generate(text, None, None, n_frames, sampling, torch.Generator())
        assert torch.equal(out, fresh)
        if n_frames == 300:
            grown = decoder._k.shape  # more positions, while keeping the 2 * 2 rows of the first request
            assert grown[1] == 4
    assert decoder._k.shape == grown  # the smaller requests after it reused the grown cache


def test_shapes_and_prompt_preserved(debug):
    codes = prompt(7)
    out = debug.generate("x", n_frames=5, batch=3, prompt_codes=codes, sampling=Sampling(), seed=1)
    assert out.shape == (3, K, 7 + 5) and out.dtype == torch.long
    assert torch.equal(out[:, :, :7], codes[None].expand(3, -1, -1))
    assert debug.generate("x", n_frames=1, sampling=GREEDY).shape == (1, K, 1)
