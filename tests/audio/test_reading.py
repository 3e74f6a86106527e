"""Reading input clips under attack: a FIFO swapped in after the check, decompression bombs, and decoding
only the part of a clip a request needs."""

from __future__ import annotations

import os
import threading
import tracemalloc

import numpy as np
import pytest
import soundfile as sf

from bridge import limits
from bridge.audio import reading
from bridge.audio.reading import AudioError, probe, read_audio

needs_fifo = pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs on this OS")


def _tone(path, seconds=1.0, sr=8000, channels=1):
    t = np.arange(int(seconds * sr)) / sr
    x = (0.5 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)
    sf.write(path, np.repeat(x[:, None], channels, axis=1), sr)
    return path


def _swap_for_fifo_after_stat(monkeypatch, path):
    """The race: the path is a regular file when stat'ed by name, a FIFO from the next moment on."""
    real_stat = os.stat
    swapped = threading.Event()

    def stat_then_swap(p, *args, **kwargs):
        result = real_stat(p, *args, **kwargs)
        if os.fspath(p) == os.fspath(path) and not swapped.is_set():
            swapped.set()
            os.unlink(path)
            os.mkfifo(path)
        return result

    monkeypatch.setattr(reading.os, "stat", stat_then_swap)
    return swapped


def _unblock(path):
    """Let a reader stuck in open() of the FIFO go (the old code's hang), so the test run ends."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_NONBLOCK)
    except OSError:
        return
    os.close(fd)


@needs_fifo
@pytest.mark.parametrize("call", [probe, read_audio], ids=["probe", "read_audio"])
def test_a_fifo_swapped_in_after_the_check_is_refused_without_blocking(tmp_path, monkeypatch, call):
    path = _tone(tmp_path / "clip.wav")
    swapped = _swap_for_fifo_after_stat(monkeypatch, path)
    outcome: list[BaseException | object] = []

    def run():
        try:
            outcome.append(call(path))
        except BaseException as e:  # noqa: BLE001 (reported below)
            outcome.append(e)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(timeout=5.0)
    hung = thread.is_alive()
    if hung:
        _unblock(path)
        thread.join(5.0)
    assert swapped.is_set()
    assert not hung, "blocked opening a FIFO"
    (result,) = outcome
    assert isinstance(result, AudioError) and "not a regular file" in str(result)


@needs_fifo
def test_a_fifo_is_refused_before_it_is_opened(tmp_path, monkeypatch):
    fifo = tmp_path / "fifo.wav"
    os.mkfifo(fifo)
    opened = []
    real_open = os.open
    monkeypatch.setattr(reading.os, "open", lambda p, *a: opened.append(p) or real_open(p, *a))
    with pytest.raises(AudioError, match="not a regular file"):
        probe(fifo)
    assert opened == []


def _bomb(path, declared_frames: int):
    """A 99-byte FLAC whose header declares `declared_frames` (STREAMINFO's 36-bit total samples)."""
    sf.write(path, np.zeros((1000, 1), np.float32), 8000, format="FLAC")
    data = bytearray(path.read_bytes())
    assert data[:4] == b"fLaC" and data[4] & 0x7F == 0  # STREAMINFO first: sr, channels, bits, total
    word = int.from_bytes(data[18:26], "big")
    word = (word & ~((1 << 36) - 1)) | declared_frames
    data[18:26] = word.to_bytes(8, "big")
    path.write_bytes(bytes(data))
    return path


def test_a_flac_that_declares_hours_is_refused_before_decoding(tmp_path, monkeypatch):
    bomb = _bomb(tmp_path / "bomb.flac", 1 << 35)  # 34 billion frames: 128 GiB as float32
    assert bomb.stat().st_size < 200 and sf.info(bomb).frames == 1 << 35
    reads = []
    monkeypatch.setattr(sf.SoundFile, "read", lambda self, *a, **k: reads.append(a))
    tracemalloc.start()
    try:
        with pytest.raises(AudioError, match="declares 34359738368 frames x 1 channels"):
            probe(bomb)  # what a request checks when it is made
        with pytest.raises(AudioError, match="declares 34359738368 frames x 1 channels"):
            read_audio(bomb, max_seconds=30.0)  # and the worker when it reads the clip
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert reads == [] and peak < 1 << 20


def test_silence_that_decodes_to_more_than_the_limit_is_refused(tmp_path, monkeypatch):
    """A real (not crafted) long run of silence compresses to almost nothing; the header gives it away."""
    monkeypatch.setattr(reading, "MAX_CLIP_SAMPLES", 1 << 20)
    path = tmp_path / "silence.flac"
    with sf.SoundFile(path, "w", 8000, 2, format="FLAC") as f:
        for _ in range(9):
            f.write(np.zeros((1 << 16, 2), np.float32))  # 589,824 frames x 2 channels > 2**20
    assert path.stat().st_size < 20_000
    reads = []
    monkeypatch.setattr(sf.SoundFile, "read", lambda self, *a, **k: reads.append(a))
    with pytest.raises(AudioError, match="declares 589824 frames x 2 channels"):
        read_audio(path, require_signal=False, max_seconds=30.0)
    assert reads == []


def test_the_default_limits_admit_a_long_clip():
    assert limits.MAX_CLIP_SAMPLES >= 30 * 60 * 48000 * 2  # half an hour of 48 kHz stereo
    assert limits.MAX_DECODE_SAMPLES >= limits.MAX_PROMPT_SECONDS * 192000 * 8


def test_only_the_tail_a_continuation_needs_is_decoded(tmp_path):
    sr = 8000
    x = np.random.default_rng(1).uniform(-0.5, 0.5, 60 * sr).astype(np.float32)  # one minute of noise
    path = tmp_path / "long.flac"
    sf.write(path, x, sr, subtype="PCM_24")
    tail, got_sr = read_audio(path, max_seconds=2.0, from_end=True)
    assert got_sr == sr and tail.shape == (1, 2 * sr)
    np.testing.assert_allclose(tail[0], x[-2 * sr :], atol=1e-6)
    head, _ = read_audio(path, region=(10.0, 50.0), max_seconds=3.0)
    np.testing.assert_allclose(head[0], x[10 * sr : 13 * sr], atol=1e-6)
    end, _ = read_audio(path, region=(10.0, 50.0), max_seconds=3.0, from_end=True)
    np.testing.assert_allclose(end[0], x[47 * sr : 50 * sr], atol=1e-6)


def test_a_region_too_long_to_decode_is_refused_with_a_clear_error(tmp_path, monkeypatch):
    monkeypatch.setattr(reading, "MAX_DECODE_SAMPLES", 4000)
    path = _tone(tmp_path / "t.wav", seconds=1.0, sr=8000, channels=2)
    with pytest.raises(AudioError, match="more than one clip may decode"):
        read_audio(path, max_seconds=1.0)
    audio, _ = read_audio(path, max_seconds=0.25)  # 2000 frames x 2 channels fit
    assert audio.shape == (2, 2000)
    assert read_audio(path)[0].shape == (2, 8000)  # a whole file (the grid command): the file size limit only
