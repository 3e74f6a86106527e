"""Audio I/O: probing/reading refuses bad input clearly; writing is atomic and never overwrites."""

from __future__ import annotations

import errno
import os
import threading
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from bridge.audio import io as audio_io
from bridge.audio.io import (
    AudioError,
    AudioInfo,
    format_bpm,
    output_stem,
    probe,
    read_audio,
    resample,
    to_mono,
    unique_output_path,
    write_wav_atomic,
    write_wav_unique,
)
from bridge.names import slugify


def _tone(seconds: float, sr: int, channels: int = 2, freq: float = 440.0) -> np.ndarray:
    t = np.arange(int(round(seconds * sr))) / sr
    return np.stack([0.5 * np.sin(2 * np.pi * freq * (c + 1) * t) for c in range(channels)]).astype(
        np.float32
    )


def _write(path: Path, audio: np.ndarray, sr: int, **kwargs: object) -> Path:
    sf.write(str(path), np.asarray(audio).T, sr, **kwargs)
    return path


def _within(seconds: float, fn: Callable[[], object]) -> object:
    """Run fn in a daemon thread so a blocking open (e.g. of a FIFO) fails the test instead of hanging it."""
    result: dict[str, object] = {}

    def target() -> None:
        try:
            result["value"] = fn()
        except BaseException as exc:  # handed back to the test
            result["error"] = exc

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    thread.join(seconds)
    assert not thread.is_alive(), f"call blocked for more than {seconds} s"
    if "error" in result:
        raise result["error"]  # type: ignore[misc]
    return result["value"]


def _leftovers(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir() if p.name.endswith(audio_io.TEMP_SUFFIX))


# ----------------------------------------------------------------------------------- probe / read errors


def test_probe_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "nope.wav"
    with pytest.raises(AudioError, match="does not exist") as info:
        probe(path)
    assert str(path) in str(info.value)
    with pytest.raises(AudioError, match="does not exist"):
        read_audio(tmp_path / "missing-dir" / "x.wav")


def test_probe_directory(tmp_path: Path) -> None:
    with pytest.raises(AudioError, match="is a directory"):
        probe(tmp_path)


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs POSIX FIFOs")
def test_probe_fifo_does_not_block(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe.wav"
    os.mkfifo(fifo)
    with pytest.raises(AudioError, match="not a regular file"):
        _within(5.0, lambda: probe(fifo))
    with pytest.raises(AudioError, match="not a regular file"):
        _within(5.0, lambda: read_audio(fifo))


@pytest.mark.skipif(not os.path.exists("/dev/zero"), reason="needs /dev/zero")
def test_probe_device() -> None:
    with pytest.raises(AudioError, match="not a regular file"):
        _within(5.0, lambda: read_audio("/dev/zero"))


def test_probe_text_file_named_wav(tmp_path: Path) -> None:
    path = tmp_path / "notes.wav"
    path.write_text("this is not audio\n" * 20)
    with pytest.raises(AudioError, match="not a readable audio file") as info:
        probe(path)
    assert str(path) in str(info.value)


def test_probe_zero_byte_and_zero_frame_files(tmp_path: Path) -> None:
    empty = tmp_path / "empty.wav"
    empty.touch()
    with pytest.raises(AudioError, match="empty"):
        probe(empty)
    no_frames = _write(tmp_path / "noframes.wav", np.zeros((2, 0), np.float32), 44100)
    assert no_frames.stat().st_size > 0
    with pytest.raises(AudioError, match="no audio"):
        read_audio(no_frames)


def test_probe_size_limit(tmp_path: Path) -> None:
    path = _write(tmp_path / "big.wav", _tone(0.1, 8000), 8000)
    with pytest.raises(AudioError, match="too large"):
        probe(path, max_bytes=100)
    with pytest.raises(AudioError, match="too large"):
        read_audio(path, max_bytes=100)
    assert probe(path, max_bytes=path.stat().st_size).frames == 800


def test_read_rejects_nan_and_inf(tmp_path: Path) -> None:
    audio = _tone(0.5, 16000)
    audio[0, 100] = np.nan
    path = _write(tmp_path / "nan.wav", audio, 16000, subtype="FLOAT")
    with pytest.raises(AudioError, match="contains NaN or infinite samples"):
        read_audio(path)
    audio[0, 100] = np.inf
    path = _write(tmp_path / "inf.wav", audio, 16000, subtype="FLOAT")
    with pytest.raises(AudioError, match="contains NaN or infinite samples"):
        read_audio(path)


def test_read_rejects_silence_unless_allowed(tmp_path: Path) -> None:
    path = _write(tmp_path / "silent.wav", np.zeros((1, 16000), np.float32), 16000)
    with pytest.raises(AudioError, match="is silent"):
        read_audio(path)
    audio, sr = read_audio(path, require_signal=False)
    assert audio.shape == (1, 16000) and sr == 16000


@pytest.mark.parametrize(
    "region",
    [(0.0, 1.5), (-0.1, 0.5), (0.5, 0.5), (0.6, 0.4), (1.0, 1.2), (float("nan"), 0.5), (0.0, float("inf"))],
)
def test_read_region_errors(tmp_path: Path, region: tuple[float, float]) -> None:
    path = _write(tmp_path / "clip.wav", _tone(1.0, 8000), 8000)
    with pytest.raises(AudioError, match="region") as info:
        read_audio(path, region=region)
    assert str(path) in str(info.value)


def test_read_region_reads_only_those_frames(tmp_path: Path) -> None:
    sr = 8000
    ramp = np.linspace(-0.5, 0.5, sr, dtype=np.float32)[np.newaxis, :]
    path = _write(tmp_path / "ramp.wav", ramp, sr, subtype="FLOAT")
    audio, got_sr = read_audio(path, region=(0.25, 0.5))
    assert got_sr == sr and audio.shape == (1, 2000)
    np.testing.assert_array_equal(audio, ramp[:, 2000:4000])
    # The end may overshoot the clip by (less than) one sample of rounding.
    tail, _ = read_audio(path, region=(0.5, 1.0 + 0.5 / sr))
    np.testing.assert_array_equal(tail, ramp[:, 4000:])


# ----------------------------------------------------------------------------------- formats


@pytest.mark.parametrize(
    ("name", "sr", "channels", "kwargs", "atol"),
    [
        ("stereo.flac", 48000, 2, {}, 1e-4),
        ("mono.ogg", 44100, 1, {}, None),
        ("clip.aiff", 44100, 2, {"subtype": "PCM_16"}, 1e-4),
        ("clip.wav", 32000, 1, {"subtype": "PCM_24"}, 1e-6),
    ],
)
def test_read_formats(
    tmp_path: Path, name: str, sr: int, channels: int, kwargs: dict, atol: float | None
) -> None:
    source = _tone(1.0, sr, channels)
    path = _write(tmp_path / name, source, sr, **kwargs)
    info = probe(path)
    assert isinstance(info, AudioInfo)
    assert (info.sample_rate, info.channels, info.frames) == (sr, channels, sr)
    assert info.duration == pytest.approx(1.0)
    audio, got_sr = read_audio(path)
    assert got_sr == sr
    assert audio.dtype == np.float32 and audio.shape == (channels, sr)
    assert audio.flags["C_CONTIGUOUS"]
    if atol is not None:
        np.testing.assert_allclose(audio, source, atol=atol)
    else:  # lossy: just the same signal level
        assert np.sqrt(np.mean(audio**2)) == pytest.approx(np.sqrt(np.mean(source**2)), rel=0.1)


def test_read_mp3_if_supported(tmp_path: Path) -> None:
    if "MP3" not in sf.available_formats():
        pytest.skip("libsndfile built without MP3")
    path = _write(tmp_path / "clip.mp3", _tone(1.0, 44100), 44100, format="MP3", subtype="MPEG_LAYER_III")
    audio, sr = read_audio(path)
    assert sr == 44100 and audio.shape[0] == 2 and abs(audio.shape[1] - 44100) < 4096


# ----------------------------------------------------------------------------------- transforms


@pytest.mark.parametrize(
    ("sr_in", "sr_out"), [(44100, 32000), (48000, 32000), (32000, 44100), (22050, 48000)]
)
def test_resample_lengths(sr_in: int, sr_out: int) -> None:
    stereo = _tone(1.0, sr_in)
    out = resample(stereo, sr_in, sr_out)
    assert out.dtype == np.float32 and out.shape[0] == 2
    assert abs(out.shape[1] - sr_out) <= 1
    mono = resample(stereo[0], sr_in, sr_out)
    assert mono.ndim == 1 and abs(mono.shape[0] - sr_out) <= 1
    np.testing.assert_allclose(mono, out[0], atol=1e-6)
    # A 440 Hz tone keeps its level (well inside both passbands).
    assert np.sqrt(np.mean(out[0, 1000:-1000] ** 2)) == pytest.approx(0.5 / np.sqrt(2), rel=0.01)


def test_resample_identity_and_errors() -> None:
    audio = _tone(0.1, 32000)
    out = resample(audio, 32000, 32000)
    np.testing.assert_array_equal(out, audio)
    assert out is not audio
    with pytest.raises(AudioError):
        resample(audio, 0, 32000)
    with pytest.raises(AudioError):
        resample(np.zeros((1, 2, 3)), 44100, 32000)


def test_to_mono() -> None:
    stereo = np.array([[1.0, 0.0, 0.5], [0.0, 1.0, 0.5]])
    mono = to_mono(stereo)
    assert mono.dtype == np.float32
    np.testing.assert_allclose(mono, [0.5, 0.5, 0.5])
    np.testing.assert_array_equal(to_mono(mono), mono)


# ----------------------------------------------------------------------------------- naming


@pytest.mark.parametrize(
    ("text", "slug"),
    [
        ("Deep House Groove", "deep-house-groove"),
        ("  lo-fi // hip hop!!  ", "lo-fi-hip-hop"),
        ("Café Señor Ünïcödé", "cafe-senor-unicode"),
        ("../../etc/passwd", "etc-passwd"),
        ("", "loop"),
        ("!!!", "loop"),
        ("日本語", "loop"),
        ("a" * 100, "a" * 40),
        ("word " * 20, ("word-" * 8).rstrip("-")),
    ],
)
def test_slugify(text: str, slug: str) -> None:
    assert slugify(text) == slug


def test_format_bpm() -> None:
    assert format_bpm(120) == "120"
    assert format_bpm(120.0) == "120"
    assert format_bpm(123.45) == "123.45"
    assert format_bpm(99.5) == "99.5"
    with pytest.raises(AudioError):
        format_bpm(float("nan"))


def test_output_names(tmp_path: Path) -> None:
    assert output_stem("Deep House Groove", 124, 8, 1234) == "deep-house-groove_124bpm_8bars_s1234"
    assert output_stem("x", 123.45, 2, 7, take=2) == "x_123.45bpm_2bars_s7_v2"
    first = unique_output_path(tmp_path, "Deep House Groove", 124.0, 8, 1234)
    assert first == tmp_path / "deep-house-groove_124bpm_8bars_s1234.wav"
    first.touch()
    second = unique_output_path(tmp_path, "Deep House Groove", 124.0, 8, 1234)
    assert second == tmp_path / "deep-house-groove_124bpm_8bars_s1234-2.wav"
    evil = unique_output_path(tmp_path, "../../../tmp/evil", 120, 1, 0)
    assert evil.parent == tmp_path


# ----------------------------------------------------------------------------------- writing


def test_an_empty_metadata_field_is_left_out(tmp_path: Path) -> None:
    # a melody-only request has no prompt, and the prompt is the title: libsndfile refuses ""
    path = write_wav_atomic(tmp_path / "loop.wav", _tone(0.5, 32000), 32000, metadata={"title": "", "comment": "x"})
    with sf.SoundFile(str(path)) as handle:
        assert (handle.title, handle.comment) == ("", "x")


def test_write_round_trip_with_metadata(tmp_path: Path) -> None:
    audio = _tone(0.5, 32000)
    metadata = {
        "title": "deep house groove, café",
        "comment": "bpm=120 bars=2 seed=7 model=debug",
        "software": "musicgen-bridge",
        "artist": "MusicGen Bridge",
        "date": "2025-01-01",
    }
    path = write_wav_atomic(tmp_path / "loop.wav", audio, 32000, metadata=metadata)
    assert path == tmp_path / "loop.wav"
    info = probe(path)
    assert (info.format, info.subtype, info.sample_rate, info.channels) == ("WAV", "PCM_24", 32000, 2)
    back, sr = read_audio(path)
    np.testing.assert_allclose(back, audio, atol=1e-6)
    with sf.SoundFile(str(path)) as handle:
        assert handle.title == metadata["title"]
        assert handle.comment == metadata["comment"]
        assert handle.artist == metadata["artist"]
        assert handle.date == metadata["date"]
        assert handle.software.startswith("musicgen-bridge")  # libsndfile appends its own version
    assert _leftovers(tmp_path) == []


def test_written_file_has_normal_permissions(tmp_path: Path) -> None:
    umask = os.umask(0)
    os.umask(umask)
    path = write_wav_atomic(tmp_path / "perm.wav", _tone(0.1, 8000), 8000)
    assert path.stat().st_mode & 0o777 == 0o666 & ~umask


def test_write_clips_pcm_and_rejects_bad_input(tmp_path: Path) -> None:
    loud = np.array([[1.5, -2.0, 0.5, 0.25]], dtype=np.float32)
    path = write_wav_atomic(tmp_path / "clip.wav", loud, 8000, subtype="PCM_16")
    back, _ = read_audio(path)
    assert np.max(np.abs(back)) <= 1.0
    np.testing.assert_allclose(back[0, 2:], [0.5, 0.25], atol=1e-4)
    floaty = write_wav_atomic(tmp_path / "float.wav", loud, 8000, subtype="FLOAT")
    np.testing.assert_array_equal(read_audio(floaty)[0], loud)  # float WAVs keep overs

    nan = np.array([0.0, np.nan, 0.1], dtype=np.float32)
    cases = [
        (nan, {}, "NaN"),
        (np.zeros((2, 0)), {}, "non-empty"),
        (np.zeros((100, 2)), {}, "channels"),  # (samples, channels) by mistake
        (loud, {"subtype": "VORBIS"}, "not a WAV sample format"),
        (loud, {"metadata": {"license": "MIT"}}, "not stored in WAV"),
        (loud, {"metadata": {"title": 3}}, "must be a string"),
    ]
    for audio, kwargs, message in cases:
        with pytest.raises(AudioError, match=message):
            write_wav_atomic(tmp_path / "bad.wav", audio, 8000, **kwargs)
    with pytest.raises(AudioError, match="does not exist"):
        write_wav_atomic(tmp_path / "no-such-dir" / "x.wav", loud, 8000)
    assert not (tmp_path / "bad.wav").exists()
    assert _leftovers(tmp_path) == []


def test_write_never_overwrites_unless_asked(tmp_path: Path) -> None:
    path = tmp_path / "keep.wav"
    path.write_bytes(b"precious")
    with pytest.raises(AudioError, match="already exists"):
        write_wav_atomic(path, _tone(0.1, 8000), 8000)
    assert path.read_bytes() == b"precious"
    write_wav_atomic(path, _tone(0.1, 8000), 8000, overwrite=True)
    assert probe(path).frames == 800
    assert _leftovers(tmp_path) == []


def test_write_loses_race_without_clobbering(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Another writer publishes the name between our existence check and our link: we must not clobber."""
    path = tmp_path / "race.wav"
    real_link = os.link

    def link_after_rival(src: str, dst: str) -> None:
        Path(dst).write_bytes(b"rival")
        real_link(src, dst)

    monkeypatch.setattr(audio_io.os, "link", link_after_rival)
    with pytest.raises(AudioError, match="already exists"):
        write_wav_atomic(path, _tone(0.1, 8000), 8000)
    assert path.read_bytes() == b"rival"
    assert _leftovers(tmp_path) == []


def test_write_wav_unique_picks_next_free_name(tmp_path: Path) -> None:
    out_dir = tmp_path / "renders"  # created on demand
    stem = output_stem("Deep House Groove", 124, 8, 1234)
    first = write_wav_unique(out_dir, stem, _tone(0.1, 8000), 8000)
    second = write_wav_unique(out_dir, stem, _tone(0.1, 8000, freq=220), 8000)
    third = write_wav_unique(out_dir, stem, _tone(0.1, 8000), 8000, metadata={"title": "third"})
    assert first.name == f"{stem}.wav"
    assert second.name == f"{stem}-2.wav"
    assert third.name == f"{stem}-3.wav"
    assert {p.parent for p in (first, second, third)} == {out_dir}
    assert not np.allclose(read_audio(first)[0], read_audio(second)[0])  # the first was not overwritten
    assert _leftovers(out_dir) == []


@pytest.mark.parametrize("stem", ["", ".", "..", "../evil", "a/b", "a\\b", ".hidden", "nul\0byte"])
def test_write_wav_unique_rejects_path_like_stems(tmp_path: Path, stem: str) -> None:
    with pytest.raises(AudioError, match="stem"):
        write_wav_unique(tmp_path, stem, _tone(0.1, 8000), 8000)
    assert list(tmp_path.iterdir()) == []


def test_concurrent_unique_writers_never_collide(tmp_path: Path) -> None:
    results: list[Path] = []
    lock = threading.Lock()

    def worker(index: int) -> None:
        path = write_wav_unique(tmp_path, "same", _tone(0.05, 8000, freq=100 + 10 * index), 8000)
        with lock:
            results.append(path)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(set(results)) == 8
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(p.name for p in results)
    for path in results:
        assert probe(path).frames == 400


def test_failure_midway_leaves_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    opened: list[str] = []

    def failing_write(self: sf.SoundFile, data: np.ndarray) -> None:
        opened.append(self.name)
        raise RuntimeError("disk full (simulated)")

    monkeypatch.setattr(sf.SoundFile, "write", failing_write)
    final = tmp_path / "loop.wav"
    with pytest.raises(AudioError, match="disk full") as info:
        write_wav_atomic(final, _tone(0.1, 8000), 8000, metadata={"title": "x"})
    assert str(final) in str(info.value)
    assert opened, "the temp file was opened before the failure"
    with pytest.raises(AudioError, match="disk full"):
        write_wav_unique(tmp_path, "loop2", _tone(0.1, 8000), 8000)
    assert list(tmp_path.iterdir()) == []


def test_interrupt_midway_leaves_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def interrupted(self: sf.SoundFile, data: np.ndarray) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(sf.SoundFile, "write", interrupted)
    with pytest.raises(KeyboardInterrupt):
        write_wav_atomic(tmp_path / "loop.wav", _tone(0.1, 8000), 8000)
    assert list(tmp_path.iterdir()) == []


def test_fsync_failure_leaves_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def failing_fsync(fd: int) -> None:
        raise OSError(errno.EIO, "I/O error (simulated)")

    monkeypatch.setattr(audio_io.os, "fsync", failing_fsync)
    with pytest.raises(AudioError, match="I/O error"):
        write_wav_atomic(tmp_path / "loop.wav", _tone(0.1, 8000), 8000)
    assert list(tmp_path.iterdir()) == []


def test_fallback_when_hard_links_unsupported(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def no_links(src: str, dst: str) -> None:
        raise OSError(errno.EPERM, "Operation not permitted")

    monkeypatch.setattr(audio_io.os, "link", no_links)
    first = write_wav_unique(tmp_path, "fat", _tone(0.1, 8000), 8000)
    second = write_wav_unique(tmp_path, "fat", _tone(0.1, 8000), 8000)
    assert (first.name, second.name) == ("fat.wav", "fat-2.wav")
    assert probe(first).frames == probe(second).frames == 800
    keep = tmp_path / "keep.wav"
    keep.write_bytes(b"precious")
    with pytest.raises(AudioError, match="already exists"):
        write_wav_atomic(keep, _tone(0.1, 8000), 8000)
    assert keep.read_bytes() == b"precious"
    assert _leftovers(tmp_path) == []


def test_a_full_disk_is_named_not_libsndfile_s_system_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """libsndfile reports a header it cannot write as "Error opening 8: System error."."""

    def no_room(*args: object, **kwargs: object) -> None:
        raise sf.LibsndfileError(2, "Error opening 8: ")  # what libsndfile says on ENOSPC

    usage = audio_io.shutil.disk_usage(tmp_path)
    monkeypatch.setattr(audio_io.sf, "SoundFile", no_room)
    monkeypatch.setattr(audio_io.shutil, "disk_usage", lambda p: usage._replace(free=4096))
    with pytest.raises(AudioError, match="cannot write audio: no space left on device") as err:
        write_wav_unique(tmp_path, "full", _tone(1.0, 8000), 8000)
    assert "4096 bytes free" in str(err.value) and "System error" not in str(err.value)
    assert _leftovers(tmp_path) == [] and list(tmp_path.iterdir()) == []
