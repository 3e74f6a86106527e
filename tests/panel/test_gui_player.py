"""The preview player with a fake output device: chunks play in index order whatever order they arrive in,
lost chunks become silence of their length, volume, looping, resampling, and no-device fallbacks."""

from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf

from gui import output as output_module
from gui.output import (
    FakeOutputDevice,
    NullOutput,
    PreviewUnavailable,
    SoundDeviceOutput,
    list_output_devices,
    open_output_device,
)
from gui.player import CHUNK_SAMPLE_RATE, LinearResampler, PreviewPlayer

CHUNK = 1600  # 50 ms at 32 kHz


def chunk(index: int, n: int = CHUNK) -> np.ndarray:
    """A chunk whose samples say which chunk they belong to (and where inside it)."""
    return (index + np.arange(n) / (10 * n)).astype(np.float32) / 10


def drain(device: FakeOutputDevice, frames: int, block: int = 512) -> np.ndarray:
    for _ in range(int(np.ceil(frames / block))):
        device.pull(block)
    return device.output()


@pytest.fixture
def fake():
    return FakeOutputDevice()


@pytest.fixture
def player(fake):
    p = PreviewPlayer(fake)
    p.set_volume(1.0)
    return p


def test_chunks_play_in_index_order_even_when_they_arrive_out_of_order(fake, player):
    player.start_stream("r1")
    assert player.add_chunk("r1", 2, chunk(2), 0.1)
    assert player.add_chunk("r1", 1, chunk(1), 0.05)
    assert fake.opens == [(CHUNK_SAMPLE_RATE, 2)]  # opened at the chunks' own rate
    assert player.played_chunks() == []  # 1 and 2 wait for 0
    assert drain(fake, 512).max() == 0.0  # silence while waiting
    assert player.add_chunk("r1", 0, chunk(0), 0.0)
    assert player.played_chunks() == [0, 1, 2]
    assert not player.add_chunk("r1", 1, chunk(1))  # a duplicate (UDP retransmission) is ignored
    assert not player.add_chunk("other", 3, chunk(3))  # another job's chunk is ignored
    fake.played.clear()
    out = drain(fake, 3 * CHUNK)[:, 0]
    expected = np.concatenate([chunk(0), chunk(1), chunk(2)])
    np.testing.assert_allclose(out[: 3 * CHUNK], expected, atol=1e-7)
    assert player.state == "streaming"
    player.end_stream("r1")
    drain(fake, 512)
    player.poll()
    assert player.state == "idle" and not fake.is_open


def test_chunks_are_read_from_the_daemons_wav_files(fake, player, tmp_path):
    paths = []
    for i in range(3):
        path = tmp_path / f"chunk-{i:04d}.wav"
        sf.write(path, chunk(i), CHUNK_SAMPLE_RATE, subtype="PCM_16")
        paths.append(path)
    player.start_stream("r1")
    for i in (1, 2, 0):
        assert player.add_chunk_file("r1", i, str(paths[i]), i * CHUNK / CHUNK_SAMPLE_RATE)
    assert not player.add_chunk_file("r1", 3, str(tmp_path / "missing.wav"))
    out = drain(fake, 3 * CHUNK)[: 3 * CHUNK, 1]
    np.testing.assert_allclose(out, np.concatenate([chunk(i) for i in range(3)]), atol=1e-4)


def test_a_lost_chunk_becomes_silence_of_its_length_when_the_job_ends(fake, player):
    player.start_stream("r1")
    player.add_chunk("r1", 0, chunk(0), 0.0)
    player.add_chunk("r1", 2, chunk(2), 2 * CHUNK / CHUNK_SAMPLE_RATE)  # chunk 1 never comes
    assert player.played_chunks() == [0]
    player.end_stream("r1")
    assert player.played_chunks() == [0, 2]
    out = drain(fake, 3 * CHUNK + 512)[:, 0]
    np.testing.assert_allclose(out[:CHUNK], chunk(0), atol=1e-7)
    assert np.all(out[CHUNK : 2 * CHUNK] == 0.0)
    np.testing.assert_allclose(out[2 * CHUNK : 3 * CHUNK], chunk(2), atol=1e-7)
    player.poll()
    assert player.state == "idle"


def test_volume_scales_the_output(fake, player):
    player.set_volume(0.5)
    player.start_stream("r1")
    player.add_chunk("r1", 0, np.full(CHUNK, 0.8, np.float32))
    out = drain(fake, 256)
    assert out[:256] == pytest.approx(np.full((256, 2), 0.8 * 0.25))  # gain = volume ** 2


def test_finished_files_play_once_or_loop(fake, player, tmp_path):
    path = tmp_path / "loop.wav"
    audio = np.linspace(-0.5, 0.5, 1000, dtype=np.float32)
    sf.write(path, np.stack([audio, -audio], axis=1), 44100, subtype="FLOAT")
    finished = []
    player.on_finished = finished.append
    player.play_file(str(path), loop=True)
    assert fake.opens[-1] == (44100, 2) and player.state == "playing"
    out = drain(fake, 2500, block=500)
    np.testing.assert_allclose(out[:1000, 0], audio, atol=1e-7)
    np.testing.assert_allclose(out[1000:2000, 0], audio, atol=1e-7)  # the loop wraps seamlessly
    np.testing.assert_allclose(out[:1000, 1], -audio, atol=1e-7)
    player.poll()
    assert player.state == "playing" and finished == []
    player.play_file(str(path), loop=False)
    drain(fake, 1500, block=500)
    player.poll()
    assert player.state == "idle" and finished == [str(path)]


def test_output_is_resampled_when_the_device_cannot_take_the_rate():
    device = FakeOutputDevice(samplerates=(48000,))
    p = PreviewPlayer(device)
    p.set_volume(1.0)
    p.start_stream("r1")
    t = np.arange(4 * CHUNK) / CHUNK_SAMPLE_RATE
    sine = (0.5 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)
    for i in range(4):
        p.add_chunk("r1", i, sine[i * CHUNK : (i + 1) * CHUNK])
    assert device.opens == [(48000, 2)]
    out = drain(device, 9000, block=441)[:, 0]
    assert np.count_nonzero(out) > 9000 - 20  # 4 * 1600 * 1.5 = 9600 frames of material
    steps = np.abs(np.diff(out[:9000]))
    assert steps.max() < 2 * np.pi * 440 * 0.5 / 48000 * 1.1  # smooth: no seams between chunks


def test_streamed_resampling_matches_one_pass():
    x = np.random.default_rng(0).standard_normal((5000, 2)).astype(np.float32)
    whole = LinearResampler(32000, 44100, 2).process(x)
    r = LinearResampler(32000, 44100, 2)
    parts = np.concatenate([r.process(x[i : i + 777]) for i in range(0, 5000, 777)])
    n = min(len(whole), len(parts))
    assert abs(len(whole) - len(parts)) <= 1
    np.testing.assert_allclose(parts[:n], whole[:n], atol=1e-6)


def test_no_portaudio_or_no_device_means_preview_unavailable(monkeypatch):
    def missing():
        raise PreviewUnavailable("PortAudio is not available (libportaudio.so: not found)")

    monkeypatch.setattr(output_module, "_sounddevice", missing)
    device = open_output_device()
    assert isinstance(device, NullOutput) and not device.available
    assert "PortAudio" in device.reason
    p = PreviewPlayer(device)
    assert not p.available
    p.start_stream("r1")
    p.add_chunk("r1", 0, chunk(0))  # accepted, nothing is heard, nothing breaks
    p.stop()


def test_sounddevice_that_failed_to_import_means_preview_unavailable_with_the_reason(monkeypatch):
    monkeypatch.setattr(output_module, "sounddevice", None)
    monkeypatch.setattr(output_module, "SOUNDDEVICE_MISSING", "PortAudio is not available (not found)")
    with pytest.raises(PreviewUnavailable, match="PortAudio is not available"):
        list_output_devices()
    device = open_output_device("Speakers")
    assert isinstance(device, NullOutput) and "PortAudio" in device.reason


def _has_output_device() -> bool:
    try:
        return bool(list_output_devices())
    except PreviewUnavailable:
        return False


def test_this_machine_without_devices_gets_a_null_output():
    if _has_output_device():
        pytest.skip("this machine has an audio output")
    device = open_output_device()
    assert isinstance(device, NullOutput) and device.reason


@pytest.mark.skipif(not _has_output_device(), reason="no audio output device (PortAudio finds none here)")
def test_a_real_portaudio_stream_is_used_when_a_device_exists():
    device = open_output_device()
    assert isinstance(device, SoundDeviceOutput)
    p = PreviewPlayer(device)
    p.set_volume(0.0)  # silent
    p.start_stream("r1")
    p.add_chunk("r1", 0, chunk(0))
    assert device.is_open
    p.stop()
    assert not device.is_open
