"""The RIFF `acid` chunk: where DAWs and sample libraries keep a WAV loop's tempo and length in beats.

Layout (24 bytes, little-endian, as ACID-ized sample libraries ship it and libsndfile and other readers
parse it):
    offset size  field
    0      4     flags (uint32): 0x01 one-shot, 0x02 root note set, 0x04 stretch, 0x08 disk-based,
                 0x10 high octave
    4      2     root note (uint16, MIDI note; meaningful only with flag 0x02; we leave 0 there otherwise)
    6      2     unknown, 0x8000 by convention
    8      4     unknown (float32), 0.0
    12     4     number of beats (uint32, beats of the tempo, i.e. quarter notes)
    16     2     meter denominator (uint16)
    18     2     meter numerator (uint16)
    20     4     tempo (float32, bpm in quarter notes per minute)
Our loops write: a loop (not one-shot), root note unset, stretch on, the meter, beats and tempo.
"""

from __future__ import annotations

import os
import struct
from dataclasses import dataclass

ACID_ID = b"acid"
ACID_FORMAT = "<IHHfIHHf"  # flags, root, unknown1, unknown2, beats, denominator, numerator, tempo
ACID_SIZE = struct.calcsize(ACID_FORMAT)  # 24 bytes
FLAG_ONE_SHOT = 0x01
FLAG_ROOT_SET = 0x02
FLAG_STRETCH = 0x04
UNSET_ROOT = 0  # root field when unset: 0, not the customary 60, so naive readers show no key "C"
UNKNOWN1 = 0x8000
RIFF_HEADER = 12  # "RIFF", size, "WAVE"
CHUNK_HEADER = 8  # id, size


class AcidError(ValueError):
    """Not a RIFF/WAVE file, a damaged chunk list, or values an acid chunk cannot hold."""


@dataclass(frozen=True)
class AcidInfo:
    tempo: float  # quarter notes per minute
    beats: int  # length in beats (quarter notes)
    numerator: int = 4
    denominator: int = 4
    root_note: int | None = None  # MIDI note, None when unset
    one_shot: bool = False
    stretch: bool = True


def acid_chunk(info: AcidInfo) -> bytes:
    """The whole chunk (header + 24-byte payload) for `info`."""
    if not (info.tempo > 0 and info.beats >= 0 and 0 < info.numerator < 65536 and 0 < info.denominator < 65536):
        raise AcidError(f"acid chunk cannot hold {info}")
    flags = (FLAG_ONE_SHOT if info.one_shot else 0) | (FLAG_STRETCH if info.stretch else 0)
    root = UNSET_ROOT
    if info.root_note is not None:
        if not 0 <= info.root_note < 128:
            raise AcidError(f"root note must be a MIDI note 0..127, got {info.root_note}")
        flags |= FLAG_ROOT_SET
        root = info.root_note
    payload = struct.pack(ACID_FORMAT, flags, root, UNKNOWN1, 0.0, int(info.beats), info.denominator,
                          info.numerator, float(info.tempo))
    return ACID_ID + struct.pack("<I", ACID_SIZE) + payload


def loop_acid(
    bpm: float, bars: int, beats_per_bar: int, beat_quarters: float, extra_quarters: float = 0.0
) -> AcidInfo:
    """AcidInfo for a loop of `bars` bars (plus `extra_quarters`, e.g. a kept continuation prompt): beats
    counted in quarter notes (rounded half-up when a bar count of an odd x/8 meter gives a half beat; DAWs
    take the tempo, which stays exact)."""
    quarters = bars * beats_per_bar * beat_quarters + extra_quarters
    denominator = int(round(4 / beat_quarters))
    return AcidInfo(tempo=float(bpm), beats=int(quarters + 0.5), numerator=beats_per_bar, denominator=denominator)


def _chunks(wav: bytes) -> list[tuple[bytes, int, int]]:
    """[(id, payload offset, payload size)] of a RIFF/WAVE file's top-level chunks."""
    if len(wav) < RIFF_HEADER or wav[:4] != b"RIFF" or wav[8:12] != b"WAVE":
        raise AcidError("not a RIFF/WAVE file")
    out, pos = [], RIFF_HEADER
    while pos + CHUNK_HEADER <= len(wav):
        cid, size = wav[pos : pos + 4], struct.unpack_from("<I", wav, pos + 4)[0]
        if pos + CHUNK_HEADER + size > len(wav):
            raise AcidError(f"chunk {cid!r} at byte {pos} runs past the end of the file")
        out.append((cid, pos + CHUNK_HEADER, size))
        pos += CHUNK_HEADER + size + (size & 1)  # chunks are padded to an even length
    return out


def with_acid(wav: bytes, info: AcidInfo) -> bytes:
    """A copy of the WAV file bytes with its acid chunk set to `info` (replacing any), placed before data."""
    parts, placed = [], False
    new = acid_chunk(info)
    for cid, offset, size in _chunks(wav):
        if cid == ACID_ID:
            continue
        if cid == b"data" and not placed:
            parts.append(new)
            placed = True
        parts.append(wav[offset - CHUNK_HEADER : offset + size + (size & 1)])
    if not placed:
        parts.append(new)
    body = b"WAVE" + b"".join(parts)
    return b"RIFF" + struct.pack("<I", len(body)) + body


def read_acid(wav: bytes) -> AcidInfo | None:
    """The acid chunk of WAV file bytes, or None if it has none."""
    for cid, offset, size in _chunks(wav):
        if cid == ACID_ID:
            if size < ACID_SIZE:
                raise AcidError(f"acid chunk is {size} bytes, expected {ACID_SIZE}")
            flags, root, _, _, beats, den, num, tempo = struct.unpack_from(ACID_FORMAT, wav, offset)
            return AcidInfo(tempo=tempo, beats=beats, numerator=num, denominator=den,
                            root_note=root if flags & FLAG_ROOT_SET else None,
                            one_shot=bool(flags & FLAG_ONE_SHOT), stretch=bool(flags & FLAG_STRETCH))
    return None


def add_acid(fd: int, info: AcidInfo) -> None:
    """Rewrite the open, readable and writable WAV file `fd` in place with its acid chunk set to `info`."""
    os.lseek(fd, 0, os.SEEK_SET)
    wav = b"".join(iter(lambda: os.read(fd, 1 << 20), b""))
    new = memoryview(with_acid(wav, info))
    os.lseek(fd, 0, os.SEEK_SET)
    os.ftruncate(fd, 0)
    while new:
        new = new[os.write(fd, new) :]
