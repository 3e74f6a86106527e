"""Tests for bridge.engine.types: the shared rates, the delay-pattern step rule, and no torch to import them."""

from __future__ import annotations

import subprocess
import sys

import pytest

from bridge.engine import chroma
from bridge.engine.types import (
    FRAME_RATE,
    HOP,
    MAX_WINDOW_FRAMES,
    SAMPLE_RATE,
    GenerationCall,
    Sampling,
    codebook_delays,
    complete_frames,
    delay_depth,
    delay_steps,
)
from bridge.limits import MODEL_SAMPLE_RATE


def test_rates_come_from_the_one_model_rate():
    assert SAMPLE_RATE == chroma.CHROMA_SAMPLE_RATE == MODEL_SAMPLE_RATE == 32000
    assert HOP == 640 and FRAME_RATE == 50 and MAX_WINDOW_FRAMES == 30 * FRAME_RATE
    assert chroma.CHROMA_HOP == 4096  # the chroma STFT hop, a different thing from the codec frame


def test_delay_pattern_step_rule():
    """N frames take N + K - 1 steps; frame t is complete after step t + K - 1."""
    assert delay_steps(1, 4) == 4 and delay_steps(30, 4) == 33 and delay_steps(9, 1) == 9
    assert [complete_frames(s, 4) for s in range(1, 7)] == [-2, -1, 0, 1, 2, 3]
    assert complete_frames(delay_steps(12, 4), 4) == 12


def test_stereo_delay_pattern_is_four_steps_deep():
    """Stereo: 8 codebooks [L0, R0, L1, R1, ...], both channels' codebook q delayed by q (transformers'
    build_delay_pattern_mask repeats each delay row for the two channels)."""
    assert codebook_delays(4) == [0, 1, 2, 3]
    assert codebook_delays(8, 2) == [0, 0, 1, 1, 2, 2, 3, 3]
    assert delay_depth(8, 2) == 4 and delay_steps(30, 8, 2) == 33 and delay_steps(30, 8) == 37
    assert complete_frames(delay_steps(12, 8, 2), 8, 2) == 12 and complete_frames(3, 8, 2) == 0
    with pytest.raises(ValueError):
        delay_depth(7, 2)
    with pytest.raises(ValueError):
        delay_depth(8, 3)


def test_generation_call_counts_its_prompt():
    call = GenerationCall(text={}, features=None, codes=None, n_frames=5, sampling=Sampling(), seed=0)
    assert call.prompt_frames == 0 and call.on_step is None and call.cancel is None


def test_importing_the_shared_types_loads_no_torch():
    code = "import sys, bridge.engine.types; assert 'torch' not in sys.modules, 'torch was imported'"
    subprocess.run([sys.executable, "-c", code], check=True)
