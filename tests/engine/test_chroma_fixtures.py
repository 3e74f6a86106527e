"""bridge.engine.chroma against transformers' MusicgenMelodyFeatureExtractor, through stored outputs.

tests/engine/fixtures/chroma_reference.npz holds the extractor's chroma just before its argmax and the
argmax bins for the inputs of `signals.chroma_cases()`, made by scripts/make_chroma_fixtures.py in an
environment with torchaudio (versions in chroma_reference.json). No torchaudio is needed here.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import pytest
import torch
from signals import chroma_cases

from bridge.engine.chroma import CHROMA_HOP, CHROMA_SAMPLE_RATE, N_FFT, _normalized_chroma, chroma_onehot

SAMPLE_RATE = CHROMA_SAMPLE_RATE

FIXTURES = Path(__file__).parent / "fixtures"
REFERENCE = np.load(FIXTURES / "chroma_reference.npz")
META = json.loads((FIXTURES / "chroma_reference.json").read_text())
CASES = chroma_cases()
WINDOW_SAMPLES = 30 * SAMPLE_RATE  # the extractor cuts its input to 30 s


def ours(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(chroma before the argmax (frames, 12), the one-hot's bins (frames,)) of bridge.engine.chroma."""
    mono = x.astype(np.float64).mean(axis=0).astype(np.float32) if x.ndim == 2 else x
    norm = _normalized_chroma(torch.from_numpy(mono)).numpy()
    bins = chroma_onehot(x, SAMPLE_RATE).argmax(-1).numpy()
    return norm, bins


def test_every_case_has_a_fixture_of_the_same_input():
    assert set(META["cases"]) == set(CASES)
    for name, x in CASES.items():
        digest = hashlib.sha256(np.ascontiguousarray(x, dtype=np.float32).tobytes()).hexdigest()
        assert digest == META["cases"][name]["sha256"], f"{name}: the test input drifted from the fixture's"


@pytest.mark.parametrize("name", [n for n in CASES if CASES[n].shape[-1] <= WINDOW_SAMPLES])
def test_chroma_matches_the_extractor(name):
    norm, bins = ours(CASES[name])
    ref_norm, ref_bins = REFERENCE[f"{name}__norm"], REFERENCE[f"{name}__bins"]
    assert norm.shape == ref_norm.shape
    np.testing.assert_allclose(norm, ref_norm, rtol=0, atol=1e-5)
    assert np.array_equal(bins, ref_bins)


def test_a_clip_over_30_s():
    """The extractor cuts to 30 s (235 frames); ours reads the whole clip (the pipeline loops it along the
    prefix). Cut alike, the two agree everywhere; uncut, on every frame whose window ends inside 30 s."""
    x = CASES["long_31s"]
    assert x.shape[-1] > WINDOW_SAMPLES
    ref_norm, ref_bins = REFERENCE["long_31s__norm"], REFERENCE["long_31s__bins"]
    assert ref_bins.shape == (235,) and len(set(ref_bins.tolist())) >= 4
    norm, bins = ours(x[:WINDOW_SAMPLES])
    np.testing.assert_allclose(norm, ref_norm, rtol=0, atol=1e-5)
    assert np.array_equal(bins, ref_bins)
    full_norm, full_bins = ours(x)
    inside = (WINDOW_SAMPLES - N_FFT // 2) // CHROMA_HOP + 1  # frames 0..232 never see the cut
    assert full_bins.shape[0] > 235
    np.testing.assert_allclose(full_norm[:inside], ref_norm[:inside], rtol=0, atol=1e-5)
    assert np.array_equal(full_bins[:inside], ref_bins[:inside])
