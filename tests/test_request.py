"""GenerationRequest: validated once, immutable, clear errors naming the field."""

from __future__ import annotations

import dataclasses
import os

import numpy as np
import pytest
import soundfile as sf

from bridge.request import GenerationRequest, RequestError


def make(**kw) -> GenerationRequest:
    base = dict(prompt="loop", bpm=120.0, bars=4)
    base.update(kw)
    return GenerationRequest(**base)


def test_defaults_and_immutability():
    r = make()
    assert r.time_signature == "4/4" and r.sample_rate == 44100 and r.subtype == "PCM_24"
    assert isinstance(r.seed, int) and 0 <= r.seed < 2**31
    assert r.text == "loop, 120 bpm"
    assert make(bpm_in_prompt=False).text == "loop"
    with pytest.raises(dataclasses.FrozenInstanceError):
        r.bpm = 90.0  # type: ignore[misc]


def test_round_trip_through_dict(clip):
    path = clip()
    r = make(melody=path, region=(0.5, 2.0), seed=5)
    again = GenerationRequest.from_dict(r.to_dict())
    assert again == r


@pytest.mark.parametrize(
    "kw,field",
    [
        ({"bpm": 0}, "bpm"),
        ({"bpm": -5}, "bpm"),
        ({"bpm": 10000}, "bpm"),
        ({"bpm": float("nan")}, "bpm"),
        ({"bars": 0}, "bars"),
        ({"bars": 2.5}, "bars"),
        ({"bars": 100000}, "bars"),
        ({"bars": 512, "bpm": 20}, "bars"),  # 512 bars of 4/4 at 20 bpm: far beyond the length limit
        ({"time_signature": "4/3"}, "time_signature"),
        ({"time_signature": "waltz"}, "time_signature"),
        ({"prompt": ""}, "prompt"),
        ({"prompt": "x" * 600}, "prompt"),
        ({"variations": 0}, "variations"),
        ({"variations": 99}, "variations"),
        ({"seed": -1}, "seed"),
        ({"temperature": -1}, "temperature"),
        ({"top_k": 5000}, "top_k"),
        ({"top_p": 1.5}, "top_p"),
        ({"cfg": 100}, "cfg"),
        ({"sample_rate": 12345}, "sample_rate"),
        ({"prompt_seconds": 0}, "prompt_seconds"),
        ({"region": (1.0, 2.0)}, "region"),
        ({"subtype": "MP3"}, "subtype"),
        ({"melody_bpm": 0}, "melody_bpm"),
    ],
)
def test_bad_values_name_the_field(kw, field):
    with pytest.raises(RequestError) as info:
        make(**kw)
    assert info.value.field == field
    assert str(info.value).startswith(field)


def test_clip_errors(tmp_path, clip):
    with pytest.raises(RequestError, match="melody"):
        make(melody=tmp_path / "missing.wav")
    text = tmp_path / "notes.wav"
    text.write_text("not audio")
    with pytest.raises(RequestError, match="continue_from"):
        make(continue_from=text)
    with pytest.raises(RequestError, match="melody"):
        make(melody=tmp_path)  # a directory
    with pytest.raises(RequestError, match="region"):
        make(melody=clip(seconds=2.0), region=(1.0, 3.5))
    with pytest.raises(RequestError, match="region"):
        make(melody=clip(seconds=2.0), region=(1.5, 1.0))


def test_fifo_and_device_are_refused(tmp_path):
    fifo = tmp_path / "pipe.wav"
    os.mkfifo(fifo)
    with pytest.raises(RequestError):
        make(melody=fifo)
    with pytest.raises(RequestError):
        make(melody="/dev/zero")


def test_empty_audio_is_refused(tmp_path):
    empty = tmp_path / "empty.wav"
    sf.write(empty, np.zeros((0, 1), dtype=np.float32), 44100)
    with pytest.raises(RequestError, match="no audio|0 frames|not a readable"):
        make(melody=empty)


def test_channels_are_0_1_or_2_and_whole():
    base = dict(prompt="x", bpm=120.0, bars=1, seed=1)
    assert GenerationRequest(**base).channels == 0  # the model's
    assert [GenerationRequest(**base, channels=c).channels for c in (1, 2)] == [1, 2]
    for bad in (3, -1, 2.0, True, "2"):
        with pytest.raises(RequestError) as e:
            GenerationRequest(**base, channels=bad)
        assert e.value.field == "channels"
    assert GenerationRequest.from_dict(GenerationRequest(**base, channels=2).to_dict()).channels == 2
