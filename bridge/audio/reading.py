"""Opening and decoding input clips: probe a file's header, decode the region a request needs.

No torch here. Arrays are float32 shaped (channels, samples) (see `bridge.audio.loops`).
"""

from __future__ import annotations

import math
import os
import stat
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile as sf

DEFAULT_MAX_BYTES = 1 << 30  # bytes: refuse to open input files larger than 1 GiB
SILENCE_PEAK_DBFS = -80.0  # dBFS: a clip whose sample peak is below this is treated as silent
SOUNDFILE_ERRORS = (sf.SoundFileError, RuntimeError, OSError)


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


def _check_regular_file(path: Path, max_bytes: int) -> os.stat_result:
    """stat before open: a FIFO or device (/dev/zero) must be refused, never opened (it could block)."""
    try:
        st = os.stat(path)
    except (FileNotFoundError, NotADirectoryError):
        raise AudioError(f"{path}: file does not exist") from None
    except PermissionError:
        raise AudioError(f"{path}: permission denied") from None
    except OSError as exc:
        raise AudioError(f"{path}: cannot access file ({exc.strerror})") from None
    if stat.S_ISDIR(st.st_mode):
        raise AudioError(f"{path} is a directory, not an audio file")
    if not stat.S_ISREG(st.st_mode):
        raise AudioError(f"{path} is not a regular file (pipe, socket or device)")
    if st.st_size == 0:
        raise AudioError(f"{path} is empty (0 bytes)")
    if st.st_size > max_bytes:
        raise AudioError(f"{path} is too large ({st.st_size} bytes; the limit is {max_bytes} bytes)")
    return st


def probe(path: str | os.PathLike[str], max_bytes: int = DEFAULT_MAX_BYTES) -> AudioInfo:
    """Header facts about an audio file, refusing anything that is not a readable, non-empty audio file."""
    path = Path(path).expanduser()
    _check_regular_file(path, max_bytes)
    try:
        info = sf.info(str(path))
    except SOUNDFILE_ERRORS as exc:
        raise AudioError(f"{path} is not a readable audio file: {exc}") from None
    if info.frames <= 0 or info.samplerate <= 0 or info.channels <= 0:
        raise AudioError(f"{path} contains no audio (0 frames)")
    return AudioInfo(
        path=path,
        sample_rate=int(info.samplerate),
        channels=int(info.channels),
        frames=int(info.frames),
        duration=info.frames / info.samplerate,
        format=str(info.format),
        subtype=str(info.subtype),
    )


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


def read_audio(
    path: str | os.PathLike[str],
    region: tuple[float, float] | None = None,
    max_bytes: int = DEFAULT_MAX_BYTES,
    require_signal: bool = True,
) -> tuple[np.ndarray, int]:
    """Decode a file (or only the `region`, in seconds) to float32 (channels, samples) and its rate.

    Rejects NaN/inf samples and, unless `require_signal` is False, silence: conditioning a model on
    either gives garbage, so the user hears about it up front.
    """
    info = probe(path, max_bytes=max_bytes)
    start, stop = (0, info.frames) if region is None else _region_frames(info, region)
    try:
        data, sr = sf.read(str(info.path), start=start, stop=stop, dtype="float32", always_2d=True)
    except SOUNDFILE_ERRORS as exc:
        raise AudioError(f"{info.path}: cannot decode audio: {exc}") from None
    audio = np.ascontiguousarray(data.T)  # (samples, channels) -> (channels, samples)
    if audio.shape[-1] == 0:
        raise AudioError(f"{info.path} contains no audio in the requested range")
    if not np.all(np.isfinite(audio)):
        raise AudioError(f"{info.path} contains NaN or infinite samples")
    if require_signal and float(np.max(np.abs(audio))) < 10.0 ** (SILENCE_PEAK_DBFS / 20.0):
        raise AudioError(f"{info.path} is silent (peak below {SILENCE_PEAK_DBFS:g} dBFS)")
    return audio, int(sr)
