"""Regression for transformers 4.57-5.x silently dropping melody conditioning in `generate()` (transformers
issue 45647): the chroma must change the generated codes, through our decoder and through generate().

The debug model barely reacts to chroma (its greedy codes for an A and a C major melody are identical),
so this build scales the chroma projection (12 -> hidden) up: the melody then moves the greedy codes.
"""

from __future__ import annotations

import pytest
import torch

from bridge.engine.archs import ARCHS
from bridge.engine.engine import Engine
from bridge.engine.loading import build_random_model, byte_tokenizer
from bridge.engine.types import Sampling

MELODY_GAIN = 30.0  # the chroma projection's weights times this: chroma then outweighs the text prefix
FRAMES = 24


def onehot(bins: list[int]) -> torch.Tensor:
    return torch.nn.functional.one_hot(torch.tensor(bins), 12).float()


@pytest.fixture(scope="module")
def melody_engine() -> Engine:
    model = build_random_model(ARCHS["debug"], seed=0)
    with torch.no_grad():
        model.audio_enc_to_dec_proj.weight.mul_(MELODY_GAIN)
    return Engine(
        model, byte_tokenizer(), melody=True, device=torch.device("cpu"), dtype=torch.float32, name="m"
    )


@pytest.mark.parametrize("cfg", [1.0, 3.0])
def test_melody_changes_the_generated_codes(melody_engine, cfg):
    greedy = Sampling(temperature=0, cfg=cfg)
    melodies = {"A": onehot([9] * 40), "C major": onehot([0, 4, 7] * 13), "none": None}
    codes = {
        (backend, name): melody_engine.generate(
            "deep house", n_frames=FRAMES, chroma=chroma, sampling=greedy, seed=1, backend=backend
        )
        for backend in ("ours", "transformers")
        for name, chroma in melodies.items()
    }
    for name in melodies:  # our decoder carries the melody exactly as transformers' generate() does
        assert torch.equal(codes["ours", name], codes["transformers", name]), name
    ours = {name: codes["ours", name] for name in melodies}
    assert not torch.equal(ours["A"], ours["C major"])  # a dropped melody would make these equal
    assert not torch.equal(ours["A"], ours["none"]) and not torch.equal(ours["C major"], ours["none"])


def test_the_plain_debug_model_barely_reacts(debug_engine):
    """Why the build above exists: the debug model's greedy codes ignore the melody's pitch, so a test on it
    could not see the melody dropped."""
    greedy = Sampling(temperature=0, cfg=1.0)
    a, c = (
        debug_engine.generate("deep house", n_frames=FRAMES, chroma=m, sampling=greedy, seed=1)
        for m in (onehot([9] * 40), onehot([0, 4, 7] * 13))
    )
    assert torch.equal(a, c)
