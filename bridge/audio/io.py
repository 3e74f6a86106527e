"""Audio I/O as free functions: resample, name and write WAVs atomically (reading: `bridge.audio.reading`).

No torch here. Arrays are float32 shaped (channels, samples) (see `bridge.audio.loops`); 1-D is accepted
where noted.

Files are never half-written and never overwritten by accident (docs/ARCHITECTURE.md, "Files"): a WAV is written to a hidden `.NAME.XXXXXXXX.part` file in the
destination folder, fsynced, then published with `os.link`, which fails if the name is taken — so
two writers racing for the same name cannot clobber each other, and a crash leaves at most a
`.part` file, never a truncated WAV under the final name.
"""

from __future__ import annotations

import contextlib
import errno
import os
import secrets
import shutil
from collections.abc import Iterator, Mapping
from pathlib import Path

import numpy as np
import soundfile as sf
import soxr

from bridge import names
from bridge.audio.acid import AcidError, AcidInfo, add_acid
from bridge.audio.reading import (
    DEFAULT_MAX_BYTES,
    SILENCE_PEAK_DBFS,
    SOUNDFILE_ERRORS,
    AudioError,
    AudioInfo,
    probe,
    read_audio,
)
from bridge.names import WAV_EXT, numbered_name

RESAMPLE_QUALITY = "HQ"  # soxr quality recipe: "HQ" (20-bit) or "VHQ" (28-bit)
DEFAULT_SUBTYPE = "PCM_24"  # WAV sample format: 24-bit PCM, what DAWs record by default
MAX_CHANNELS = 32  # more "channels" than this almost surely means a (samples, channels) mix-up
MAX_UNIQUE_NAMES = 10_000  # stem.wav, stem-2.wav, ... stem-10000.wav before giving up
TEMP_SUFFIX = ".part"
_TEMP_NAME_ATTEMPTS = 100
_FLOAT_SUBTYPES = frozenset({"FLOAT", "DOUBLE"})
# String fields libsndfile stores in a WAV (LIST/INFO chunk); others (e.g. "license") would be dropped.
# Note: libsndfile appends " (libsndfile-x.y.z)" to "software".
WAV_METADATA_FIELDS = frozenset(
    {"title", "copyright", "software", "artist", "comment", "date", "album", "tracknumber", "genre"}
)

# Reading lives in bridge.audio.reading; these names stay importable from here.
__all__ = [
    "DEFAULT_MAX_BYTES",
    "SILENCE_PEAK_DBFS",
    "AudioError",
    "AudioInfo",
    "probe",
    "read_audio",
]


# -------------------------------------------------------------------------------------------- transforms


def to_mono(audio: np.ndarray) -> np.ndarray:
    """(channels, samples) or (samples,) -> float32 (samples,), averaging channels."""
    array = np.asarray(audio)
    if array.ndim == 1:
        return array.astype(np.float32, copy=True)
    if array.ndim != 2:
        raise AudioError(f"audio must be (samples,) or (channels, samples), got shape {array.shape}")
    return array.mean(axis=0, dtype=np.float64).astype(np.float32)


def _check_rate(rate: int, name: str) -> int:
    if isinstance(rate, bool) or not isinstance(rate, int | np.integer) or rate <= 0:
        raise AudioError(f"{name} must be a positive integer (Hz), got {rate!r}")
    return int(rate)


def resample(audio: np.ndarray, sr_in: int, sr_out: int, quality: str = RESAMPLE_QUALITY) -> np.ndarray:
    """Band-limited resampling with soxr; (channels, samples) or (samples,) in, same layout out."""
    sr_in, sr_out = _check_rate(sr_in, "sr_in"), _check_rate(sr_out, "sr_out")
    array = np.asarray(audio, dtype=np.float32)
    if array.ndim not in (1, 2):
        raise AudioError(f"audio must be (samples,) or (channels, samples), got shape {array.shape}")
    if sr_in == sr_out:
        return array.copy()
    if array.shape[-1] == 0:
        return np.zeros(array.shape[:-1] + (0,), dtype=np.float32)
    if array.ndim == 1:
        return soxr.resample(array, sr_in, sr_out, quality=quality).astype(np.float32, copy=False)
    out = soxr.resample(np.ascontiguousarray(array.T), sr_in, sr_out, quality=quality)  # soxr: (n, ch)
    return np.ascontiguousarray(out.T, dtype=np.float32)


# --------------------------------------------------------------------------------------------- naming
# The format itself (slug, stem, numbering, parsing back) is `bridge.names`; here it meets AudioError.


def format_bpm(bpm: float) -> str:
    """`bridge.names.format_bpm` for a file name or tag; AudioError unless bpm is a positive number."""
    try:
        return names.format_bpm(names.check_bpm(bpm))
    except names.InvalidName as e:
        raise AudioError(str(e)) from None


def output_stem(prompt: str, bpm: float, bars: float, seed: int, take: int | None = None) -> str:
    """`bridge.names.output_stem`, refusing a bad tempo with AudioError like the rest of this module."""
    try:
        return names.output_stem(prompt, bpm, bars, seed, take)
    except names.InvalidName as e:
        raise AudioError(str(e)) from None


def _check_stem(stem: str) -> None:
    """The stem becomes a file name inside out_dir: no separators, no hidden or special names."""
    bad = not isinstance(stem, str) or not stem or stem in (".", "..") or stem.startswith(".")
    if bad or "\0" in stem or "/" in stem or "\\" in stem or (os.altsep and os.altsep in stem):
        raise AudioError(f"invalid output file stem {stem!r}: must be a plain file name without folders")


def _candidates(out_dir: Path, stem: str, ext: str) -> Iterator[Path]:
    """stem.wav, stem-2.wav, stem-3.wav, ... all directly inside out_dir."""
    _check_stem(stem)
    for index in range(1, MAX_UNIQUE_NAMES + 1):
        candidate = out_dir / numbered_name(stem, index, ext)
        if candidate.parent != out_dir:  # defence in depth: never leave out_dir
            raise AudioError(f"output name {candidate.name!r} would leave {out_dir}")
        yield candidate


def unique_output_path(
    out_dir: Path,
    prompt: str,
    bpm: float,
    bars: int,
    seed: int,
    take: int | None = None,
    ext: str = WAV_EXT,
) -> Path:
    """The first name in out_dir not taken right now — advisory only; write with `write_wav_unique`."""
    out_dir = Path(out_dir)
    for candidate in _candidates(out_dir, output_stem(prompt, bpm, bars, seed, take), ext):
        if not os.path.lexists(candidate):
            return candidate
    raise AudioError(f"no free file name in {out_dir} after {MAX_UNIQUE_NAMES} tries")


# --------------------------------------------------------------------------------------------- writing


def _prepare_for_write(audio: np.ndarray, subtype: str, path: Path) -> np.ndarray:
    """Validate and convert to soundfile's (samples, channels) layout; clip for PCM."""
    array = np.asarray(audio)
    if array.ndim == 1:
        array = array[np.newaxis, :]
    if array.ndim != 2 or array.shape[0] == 0 or array.shape[1] == 0:
        raise AudioError(f"{path}: audio must be non-empty (channels, samples), got shape {np.shape(audio)}")
    if array.shape[0] > MAX_CHANNELS:
        raise AudioError(
            f"{path}: {array.shape[0]} channels (shape {array.shape}); expected (channels, samples)"
        )
    dtype = np.float64 if subtype == "DOUBLE" else np.float32
    array = array.astype(dtype, copy=False)
    if not np.all(np.isfinite(array)):
        raise AudioError(f"{path}: audio contains NaN or infinite samples")
    if subtype not in _FLOAT_SUBTYPES:
        array = np.clip(array, -1.0, 1.0)
    return np.ascontiguousarray(array.T)


def _check_metadata(metadata: Mapping[str, str] | None, path: Path) -> dict[str, str]:
    fields = dict(metadata or {})
    for key, value in fields.items():
        if key not in WAV_METADATA_FIELDS:
            allowed = ", ".join(sorted(WAV_METADATA_FIELDS))
            raise AudioError(f"{path}: metadata field {key!r} is not stored in WAV files (use {allowed})")
        if not isinstance(value, str):
            raise AudioError(f"{path}: metadata field {key!r} must be a string, got {type(value).__name__}")
    return {key: value for key, value in fields.items() if value}  # libsndfile refuses an empty string


def _unlink_quietly(path: Path) -> None:
    with contextlib.suppress(FileNotFoundError):
        os.unlink(path)


def _fsync_directory(directory: Path) -> None:
    """Make the new directory entry durable; best effort (not possible on every OS/filesystem)."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _write_failure(exc: BaseException, directory: Path, needed: int) -> str:
    """Why a write failed, in words: libsndfile reports a full disk as "Error opening 8: System error."."""
    code = getattr(exc, "errno", None)
    if code == errno.EDQUOT:
        return "disk quota exceeded"
    try:
        free = shutil.disk_usage(directory).free
    except OSError:
        free = None
    if code == errno.ENOSPC or (free is not None and free < needed + (1 << 16)):
        left = "" if free is None else f" ({free} bytes free, about {needed} needed)"
        return f"no space left on device{left}"
    return str(exc)


def _write_temp(
    directory: Path,
    final_name: str,
    data: np.ndarray,
    sr: int,
    subtype: str,
    fields: dict[str, str],
    acid: AcidInfo | None = None,
) -> Path:
    """Write and fsync `.final_name.XXXXXXXX.part` in `directory`; on any failure nothing is left behind."""
    for _ in range(_TEMP_NAME_ATTEMPTS):
        tmp = directory / f".{final_name}.{secrets.token_hex(4)}{TEMP_SUFFIX}"
        try:  # os.open with 0o666 (not mkstemp's 0o600) so the published file gets the usual umask mode
            fd = os.open(tmp, os.O_RDWR | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666)
            break
        except FileExistsError:
            continue
        except OSError as exc:
            raise AudioError(f"{directory / final_name}: cannot create a temporary file: {exc}") from None
    else:
        raise AudioError(f"{directory / final_name}: cannot find a free temporary file name")
    ok = False
    try:
        try:
            with sf.SoundFile(
                fd, "w", samplerate=sr, channels=data.shape[1], subtype=subtype, format="WAV", closefd=False
            ) as handle:
                for key, value in fields.items():  # set before the data so the INFO chunk is planned
                    setattr(handle, key, value)
                handle.write(data)
            if acid is not None:
                add_acid(fd, acid)
            os.fsync(fd)
        except (*SOUNDFILE_ERRORS, AcidError) as exc:
            reason = _write_failure(exc, directory, data.nbytes)
            raise AudioError(f"{directory / final_name}: cannot write audio: {reason}") from exc
        ok = True
    finally:
        os.close(fd)
        if not ok:
            _unlink_quietly(tmp)
    return tmp


def _publish_by_reservation(tmp: Path, final: Path) -> bool:
    """Fallback where hard links are unsupported (FAT, some shares): claim the name with O_EXCL, then move."""
    try:
        os.close(os.open(final, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666))
    except FileExistsError:
        return False
    try:
        os.replace(tmp, final)
    except BaseException:
        _unlink_quietly(final)  # the empty placeholder is ours
        raise
    return True


def _publish(tmp: Path, final: Path, overwrite: bool) -> bool:
    """Give the finished temp file its final name. False (tmp kept) if the name is taken and not overwriting."""
    if overwrite:
        os.replace(tmp, final)
        return True
    try:
        os.link(tmp, final)  # atomic, and fails if `final` exists: never clobbers anyone's file
    except FileExistsError:
        return False
    except OSError:
        return _publish_by_reservation(tmp, final)
    _unlink_quietly(tmp)
    return True


def _prepare(
    directory: Path, name: str, audio: np.ndarray, sr: int, subtype: str, metadata: Mapping[str, str] | None
) -> tuple[np.ndarray, int, dict[str, str]]:
    target = directory / name
    sr = _check_rate(sr, "sample rate")
    if not sf.check_format("WAV", subtype):
        raise AudioError(f"{target}: {subtype!r} is not a WAV sample format (e.g. PCM_16, PCM_24, FLOAT)")
    if not directory.is_dir():
        raise AudioError(f"{target}: folder {directory} does not exist")
    return _prepare_for_write(audio, subtype, target), sr, _check_metadata(metadata, target)


def write_wav_atomic(
    path: Path,
    audio: np.ndarray,
    sr: int,
    subtype: str = DEFAULT_SUBTYPE,
    metadata: Mapping[str, str] | None = None,
    overwrite: bool = False,
    acid: AcidInfo | None = None,
) -> Path:
    """Write a WAV so that `path` either doesn't exist or holds the complete file; never overwrites
    an existing file unless `overwrite`. `metadata` keys are WAV_METADATA_FIELDS (e.g. title, comment);
    `acid` adds the chunk where DAWs read a loop's tempo and length in beats.
    """
    path = Path(path)
    data, sr, fields = _prepare(path.parent, path.name, audio, sr, subtype, metadata)
    if not overwrite and os.path.lexists(path):
        raise AudioError(f"{path} already exists; not overwriting it")
    tmp = _write_temp(path.parent, path.name, data, sr, subtype, fields, acid)
    try:
        published = _publish(tmp, path, overwrite)
    except OSError as exc:
        raise AudioError(f"{path}: cannot publish the finished file: {exc}") from exc
    finally:
        _unlink_quietly(tmp)  # already gone after a successful publish
    if not published:
        raise AudioError(f"{path} already exists; not overwriting it")
    _fsync_directory(path.parent)
    return path


def write_wav_unique(
    out_dir: Path,
    stem: str,
    audio: np.ndarray,
    sr: int,
    subtype: str = DEFAULT_SUBTYPE,
    metadata: Mapping[str, str] | None = None,
    acid: AcidInfo | None = None,
) -> Path:
    """Write `out_dir/stem.wav`, or stem-2.wav, stem-3.wav, ... if taken; returns the path written.

    Encodes once, then tries names with no-overwrite links, so concurrent writers never clobber each
    other and existing files are never touched. Creates `out_dir` if needed.
    """
    out_dir = Path(out_dir)
    _check_stem(stem)
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise AudioError(f"{out_dir}: cannot create output folder: {exc}") from None
    name = f"{stem}{WAV_EXT}"
    data, sr, fields = _prepare(out_dir, name, audio, sr, subtype, metadata)
    tmp = _write_temp(out_dir, name, data, sr, subtype, fields, acid)
    try:
        for candidate in _candidates(out_dir, stem, WAV_EXT):
            if _publish(tmp, candidate, overwrite=False):
                _fsync_directory(out_dir)
                return candidate
    except OSError as exc:
        raise AudioError(f"{out_dir / name}: cannot publish the finished file: {exc}") from exc
    finally:
        _unlink_quietly(tmp)
    raise AudioError(f"no free file name for {stem!r} in {out_dir} after {MAX_UNIQUE_NAMES} tries")
