"""Tests for bridge.engine.conditioning: the continuation prompt is whole beats at the song tempo."""

from __future__ import annotations

import numpy as np
import soundfile as sf
from signals import clicks, onsets

from bridge.engine.conditioning import prompt_clip
from bridge.engine.types import HOP, SAMPLE_RATE
from bridge.request import GenerationRequest


def req(**kw) -> GenerationRequest:
    base = dict(prompt="test loop", bpm=120.0, bars=1, seed=1)
    base.update(kw)
    return GenerationRequest(**base)


def test_continuation_prompt_is_whole_beats_ending_at_region_end(clip):
    path = clip(220.0, 6.0, 44100)
    r = req(continue_from=path, prompt_seconds=3.3, region=(0.5, 5.5))
    wav = prompt_clip(r)
    beats = 3.0 * 120 / 60  # 3.3 s at 120 bpm => 6 whole beats = 3.0 s
    assert len(wav) % HOP == 0
    assert abs(len(wav) / SAMPLE_RATE - beats / 2) < HOP / SAMPLE_RATE


def test_continuation_prompt_is_stretched_to_the_song_tempo(tmp_path):
    """A clip at 100 bpm continued in a 120 bpm song: the prompt holds the clip's last 6 beats, now 0.5 s
    apart, ending at the region end (prompt_seconds counts at the song tempo)."""
    path = tmp_path / "clicks100.wav"
    sf.write(path, clicks(100, 10), SAMPLE_RATE)  # beats at 0, 0.6, ... 5.4 s; the file ends at 6.0 s
    wav = prompt_clip(req(continue_from=path, melody_bpm=100.0, prompt_seconds=3.3))
    assert len(wav) == 3 * SAMPLE_RATE  # 6 song beats, a whole number of codec frames
    found = onsets(wav)
    assert len(found) == 6 and np.abs(found - 0.5 * np.arange(6)).max() < 0.015
