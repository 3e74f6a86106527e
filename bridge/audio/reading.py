"""Opening and decoding input clips: probe a file's header, decode the region a request needs.

No torch here. Arrays are float32 shaped (channels, samples) (see `bridge.audio.loops`).
"""

from __future__ import annotations

import contextlib
import math
import os
import stat
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile as sf

from bridge.limits import MAX_CLIP_SAMPLES, MAX_DECODE_SAMPLES

DEFAULT_MAX_BYTES = 1 << 30  # bytes: refuse to open input files larger than 1 GiB
SILENCE_PEAK_DBFS = -80.0  # dBFS: a clip whose sample peak is below this is treated as silent
SOUNDFILE_ERRORS = (sf.SoundFileError, RuntimeError, OSError)
# One open per read: never blocks on a FIFO, never leaks into a child process, never becomes our tty.
_OPEN_FLAGS = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0) | getattr(
    os, "O_NOCTTY", 0
) | getattr(os, "O_BINARY", 0)


class AudioError(ValueError):
    """An audio file can't be read or written; the message names the path."""


@dataclass(frozen=True)
class AudioInfo:
    """What `probe` learned about a file without decoding it."""

    path: Path
    sample_rate: int  # Hz
    channels: int
    frames: int  # samples per channel
    duration: float  # seconds
    format: str  # libsndfile major format, e.g. "WAV", "FLAC"
    subtype: str = ""  # e.g. "PCM_24", "VORBIS"


# --------------------------------------------------------------------------------------------- reading


def _refuse_kind(path: Path, st: os.stat_result, max_bytes: int) -> None:
    """Only a non-empty regular file under the size limit is read (a FIFO or a device could block)."""
    if stat.S_ISDIR(st.st_mode):
        raise AudioError(f"{path} is a directory, not an audio file")
    if not stat.S_ISREG(st.st_mode):
        raise AudioError(f"{path} is not a regular file (pipe, socket or device)")
    if st.st_size == 0:
        raise AudioError(f"{path} is empty (0 bytes)")
    if st.st_size > max_bytes:
        raise AudioError(f"{path} is too large ({st.st_size} bytes; the limit is {max_bytes} bytes)")


def _os_error(path: Path, exc: OSError) -> AudioError:
    if isinstance(exc, FileNotFoundError | NotADirectoryError):
        return AudioError(f"{path}: file does not exist")
    if isinstance(exc, PermissionError):
        return AudioError(f"{path}: permission denied")
    return AudioError(f"{path}: cannot access file ({exc.strerror or exc})")


@contextlib.contextmanager
def open_clip(path: Path, max_bytes: int = DEFAULT_MAX_BYTES) -> Iterator[int]:
    """A descriptor of `path`, checked to be a regular file *after* opening: the one open the file gets.

    stat by name first, so a FIFO or a device is refused without being opened at all; then open with
    O_NONBLOCK (a FIFO swapped in after that stat opens at once instead of waiting for a writer) and
    fstat the descriptor, so what is decoded is what was checked. Everything reads through this fd."""
    try:
        _refuse_kind(path, os.stat(path), max_bytes)
        fd = os.open(path, _OPEN_FLAGS)
    except OSError as exc:
        raise _os_error(path, exc) from None
    try:
        _refuse_kind(path, os.fstat(fd), max_bytes)
        yield fd
    finally:
        os.close(fd)


def _info(path: Path, handle: sf.SoundFile, limited: bool = True) -> AudioInfo:
    """The header's facts, refusing empty audio and (if `limited`) a header that declares more than
    MAX_CLIP_SAMPLES."""
    frames, channels, rate = int(handle.frames), int(handle.channels), int(handle.samplerate)
    if frames <= 0 or rate <= 0 or channels <= 0:
        raise AudioError(f"{path} contains no audio (0 frames)")
    if limited and frames * channels > MAX_CLIP_SAMPLES:  # checked before decoding: a tiny FLAC can declare hours
        raise AudioError(
            f"{path} declares {frames} frames x {channels} channels; clips are limited to "
            f"{MAX_CLIP_SAMPLES} samples in all (about {MAX_CLIP_SAMPLES // (48000 * 2 * 60)} min of "
            f"48 kHz stereo)"
        )
    return AudioInfo(path, rate, channels, frames, frames / rate, str(handle.format), str(handle.subtype))


def probe(path: str | os.PathLike[str], max_bytes: int = DEFAULT_MAX_BYTES) -> AudioInfo:
    """Header facts about an audio file, refusing anything that is not a readable, non-empty audio file."""
    path = Path(path).expanduser()
    with open_clip(path, max_bytes) as fd:
        try:
            with sf.SoundFile(fd, closefd=False) as handle:
                return _info(path, handle)
        except SOUNDFILE_ERRORS as exc:
            raise AudioError(f"{path} is not a readable audio file: {exc}") from None


def _region_frames(info: AudioInfo, region: tuple[float, float]) -> tuple[int, int]:
    """Seconds -> [start, stop) frames; the end may overshoot the clip by one sample of rounding."""
    try:
        start_s, end_s = (float(x) for x in region)
    except (TypeError, ValueError):
        raise AudioError(
            f"{info.path}: region must be (start_seconds, end_seconds), got {region!r}"
        ) from None
    one_sample = 1.0 / info.sample_rate
    if not (math.isfinite(start_s) and math.isfinite(end_s)):
        raise AudioError(f"{info.path}: region must be finite seconds, got {region!r}")
    if not 0.0 <= start_s < end_s <= info.duration + one_sample:
        raise AudioError(
            f"{info.path}: region {start_s:.3f}-{end_s:.3f} s must satisfy 0 <= start < end <= "
            f"{info.duration:.3f} s (the clip's length)"
        )
    start = math.floor(start_s * info.sample_rate + 0.5)
    stop = min(math.floor(end_s * info.sample_rate + 0.5), info.frames)
    if stop <= start:
        raise AudioError(f"{info.path}: region {start_s:.6f}-{end_s:.6f} s is shorter than one sample")
    return start, stop


def _span(
    info: AudioInfo, region: tuple[float, float] | None, max_seconds: float | None, from_end: bool
) -> tuple[int, int]:
    """[start, stop) frames to decode: the region, cut to `max_seconds` (its last ones if `from_end`)."""
    start, stop = (0, info.frames) if region is None else _region_frames(info, region)
    if max_seconds is not None:
        most = max(1, math.ceil(max_seconds * info.sample_rate))
        if stop - start > most:
            start, stop = (stop - most, stop) if from_end else (start, start + most)
    if max_seconds is not None and (stop - start) * info.channels > MAX_DECODE_SAMPLES:
        raise AudioError(
            f"{info.path}: {(stop - start) / info.sample_rate:.1f} s of {info.channels} channels is more "
            f"than one clip may decode ({MAX_DECODE_SAMPLES} samples); choose a shorter region"
        )
    return start, stop


def read_audio(
    path: str | os.PathLike[str],
    region: tuple[float, float] | None = None,
    max_bytes: int = DEFAULT_MAX_BYTES,
    require_signal: bool = True,
    *,
    max_seconds: float | None = None,
    from_end: bool = False,
) -> tuple[np.ndarray, int]:
    """Decode a file (or only the `region`, in seconds) to float32 (channels, samples) and its rate.

    Only what is needed is decoded: at most `max_seconds` of the region, its first ones, or its last
    ones with `from_end` (a continuation needs the region's tail). With `max_seconds` (a request's clip)
    the header is checked against MAX_CLIP_SAMPLES before anything is decoded, and the span against
    MAX_DECODE_SAMPLES; without it (`musicgen-bridge grid` on the user's own recording) only the file
    size limit applies. Rejects NaN/inf samples and, unless `require_signal` is False, silence:
    conditioning a model on either gives garbage, so the user hears about it up front.
    """
    path = Path(path).expanduser()
    with open_clip(path, max_bytes) as fd:
        try:
            with sf.SoundFile(fd, closefd=False) as handle:
                info = _info(path, handle, limited=max_seconds is not None)
                start, stop = _span(info, region, max_seconds, from_end)
                if start:
                    handle.seek(start)
                data = handle.read(stop - start, dtype="float32", always_2d=True)
        except SOUNDFILE_ERRORS as exc:
            raise AudioError(f"{path}: cannot decode audio: {exc}") from None
    sr = info.sample_rate
    audio = np.ascontiguousarray(data.T)  # (samples, channels) -> (channels, samples)
    if audio.shape[-1] == 0:
        raise AudioError(f"{info.path} contains no audio in the requested range")
    if not np.all(np.isfinite(audio)):
        raise AudioError(f"{info.path} contains NaN or infinite samples")
    if require_signal and float(np.max(np.abs(audio))) < 10.0 ** (SILENCE_PEAK_DBFS / 20.0):
        raise AudioError(f"{info.path} is silent (peak below {SILENCE_PEAK_DBFS:g} dBFS)")
    return audio, int(sr)
