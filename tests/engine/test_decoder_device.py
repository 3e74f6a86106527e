"""Our decode loop on an accelerator: greedy codes equal transformers' `generate()` on the same device, in
fp32 and bf16, and the CUDA-graph step gives exactly the codes of the eager step.

The device comes from MUSICGEN_TEST_DEVICE (scripts/gpu_check.sh sets `cuda`, and `cpu` for its dry run),
else `cuda` when one is available; with neither, the module skips. MUSICGEN_TEST_ARCHS and
MUSICGEN_TEST_DTYPES (comma-separated) narrow the builds and dtypes.
"""

from __future__ import annotations

import os

import pytest
import torch

from bridge.engine.archs import ARCHS, DEBUG, Arch, stereo
from bridge.engine.decoder import Decoder
from bridge.engine.engine import Engine
from bridge.engine.loading import build_random_model, byte_tokenizer
from bridge.engine.types import Sampling

DEVICE = os.environ.get("MUSICGEN_TEST_DEVICE") or ("cuda" if torch.cuda.is_available() else "")
pytestmark = pytest.mark.skipif(not DEVICE, reason="no CUDA device (MUSICGEN_TEST_DEVICE=cpu runs it here)")

_MID_MELODY = Arch("mid-melody", 256, 4, 4, melody=True, text=DEBUG.text, codec=DEBUG.codec)
_MID_PLAIN = Arch("mid-plain", 256, 4, 4, melody=False, text=DEBUG.text, codec=DEBUG.codec)
BUILDS: dict[str, Arch] = {
    "debug": DEBUG,
    "debug-stereo": ARCHS["debug-stereo"],
    "mid-melody": _MID_MELODY,
    "mid-plain": _MID_PLAIN,
    "mid-stereo-melody": stereo(_MID_MELODY, "mid-stereo-melody"),
}
DTYPES = {"float32": torch.float32, "bfloat16": torch.bfloat16}
ARCH_NAMES = [a for a in os.environ.get("MUSICGEN_TEST_ARCHS", ",".join(BUILDS)).split(",") if a]
DTYPE_NAMES = [d for d in os.environ.get("MUSICGEN_TEST_DTYPES", ",".join(DTYPES)).split(",") if d]

GREEDY = Sampling(temperature=0.0, cfg=3.0)
GREEDY_NO_CFG = Sampling(temperature=0.0, cfg=1.0)
CASES = {
    "text": dict(),
    "text-no-cfg": dict(sampling=GREEDY_NO_CFG),
    "chroma": dict(chroma=40),
    "continuation": dict(prompt=6),
    "chroma+continuation-batch2": dict(chroma=40, prompt=6, batch=2),
    "chroma+continuation-batch2-no-cfg": dict(chroma=40, prompt=6, batch=2, sampling=GREEDY_NO_CFG),
}


@pytest.fixture(scope="module", params=[(a, d) for a in ARCH_NAMES for d in DTYPE_NAMES], ids="-".join)
def engine(request) -> Engine:
    arch_name, dtype_name = request.param
    arch = BUILDS[arch_name]
    model = build_random_model(arch, seed=0)
    device = torch.device(DEVICE)
    return Engine(
        model, byte_tokenizer(), melody=arch.melody, device=device, dtype=DTYPES[dtype_name], name=arch_name
    )


def chroma(frames: int, seed: int) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return torch.nn.functional.one_hot(torch.randint(0, 12, (frames,), generator=g), 12).float()


def generate_kwargs(engine: Engine, case: dict) -> dict:
    kwargs = dict(n_frames=12, batch=case.get("batch", 1), sampling=case.get("sampling", GREEDY))
    if case.get("chroma") and engine.melody:
        kwargs["chroma"] = chroma(case["chroma"], seed=5)
    if case.get("prompt"):
        g = torch.Generator().manual_seed(1)
        kwargs["prompt_codes"] = torch.randint(0, 2048, (engine.num_codebooks, case["prompt"]), generator=g)
    return kwargs


@pytest.mark.parametrize("case", list(CASES))
def test_greedy_equals_transformers_on_the_device(engine, case):
    kwargs = generate_kwargs(engine, CASES[case])
    ours = engine.generate("deep house groove", backend="ours", seed=0, **kwargs)
    ref = engine.generate("deep house groove", backend="transformers", seed=0, **kwargs)
    assert ours.device.type == engine.device.type
    assert ours.shape == ref.shape and torch.equal(ours.cpu(), ref.cpu())


def test_cuda_graph_step_equals_the_eager_step(engine):
    """The recorded step (CUDA graph over static buffers, generator state registered) replays the eager
    step's work exactly: the same greedy codes, and the same sampled codes for the same seed."""
    if engine.device.type != "cuda":
        pytest.skip("CUDA graphs exist on CUDA only")
    graphs, eager = Decoder(engine.model), Decoder(engine.model, cuda_graphs=False)
    text = engine.text_inputs("deep house groove", 2)
    features = engine.melody_features(chroma(40, 5), 2) if engine.melody else None
    for sampling in (GREEDY, Sampling()):  # greedy, then audiocraft's sampling (top-k 250, CFG 3)
        codes = [
            d.generate(
                text, features, None, 30, sampling, generator=torch.Generator(engine.device).manual_seed(3)
            )
            for d in (graphs, eager)
        ]
        assert graphs.cuda_graphs and any(st.graph is not None for st in graphs._steps.values())
        assert torch.equal(codes[0], codes[1])
