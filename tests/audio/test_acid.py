"""bridge.audio.acid: the acid chunk round-trips, sits in a valid RIFF file, and other readers agree."""

from __future__ import annotations

import io
import struct

import numpy as np
import pytest
import soundfile as sf

from bridge.audio.acid import AcidError, AcidInfo, acid_chunk, loop_acid, read_acid, with_acid


def _wav(frames: int = 1000, channels: int = 2) -> bytes:
    buf = io.BytesIO()
    audio = np.random.default_rng(0).uniform(-0.5, 0.5, (frames, channels)).astype(np.float32)
    sf.write(buf, audio, 32000, format="WAV", subtype="PCM_16")
    return buf.getvalue()


def _chunk_ids(wav: bytes) -> list[bytes]:
    ids, pos = [], 12
    while pos + 8 <= len(wav):
        size = struct.unpack_from("<I", wav, pos + 4)[0]
        ids.append(wav[pos : pos + 4])
        pos += 8 + size + (size & 1)
    return ids


@pytest.mark.parametrize("bpm, bars, per_bar, beat, beats, num, den", [
    (121.7, 4, 4, 1.0, 16, 4, 4), (97.0, 2, 6, 0.5, 6, 6, 8), (140.0, 3, 7, 0.5, 11, 7, 8), (60.0, 1, 3, 1.0, 3, 3, 4),
])
def test_round_trip(bpm, bars, per_bar, beat, beats, num, den):
    info = loop_acid(bpm, bars, per_bar, beat)
    wav = with_acid(_wav(), info)
    back = read_acid(wav)
    assert back == AcidInfo(tempo=pytest.approx(bpm, abs=1e-4), beats=beats, numerator=num, denominator=den)
    assert back.root_note is None and not back.one_shot and back.stretch


def test_file_stays_valid_and_the_audio_unchanged():
    plain = _wav()
    wav = with_acid(plain, loop_acid(120.0, 4, 4, 1.0))
    assert struct.unpack_from("<I", wav, 4)[0] == len(wav) - 8  # RIFF size updated
    ids = _chunk_ids(wav)
    assert ids.index(b"acid") < ids.index(b"data") and ids.count(b"acid") == 1
    a, _ = sf.read(io.BytesIO(plain))
    b, sr = sf.read(io.BytesIO(wav))
    assert sr == 32000 and np.array_equal(a, b)
    again = with_acid(wav, loop_acid(90.0, 2, 4, 1.0))  # replaces, does not add
    assert _chunk_ids(again).count(b"acid") == 1 and read_acid(again).tempo == pytest.approx(90.0)
    assert read_acid(plain) is None


def test_bytes_by_hand():
    """An independent byte-level reading of the layout libsndfile and sample libraries use."""
    chunk = acid_chunk(AcidInfo(tempo=128.5, beats=32, numerator=4, denominator=4))
    assert chunk[:4] == b"acid" and struct.unpack("<I", chunk[4:8])[0] == 24 and len(chunk) == 32
    payload = chunk[8:]
    flags = int.from_bytes(payload[0:4], "little")
    assert flags & 0x01 == 0 and flags & 0x02 == 0 and flags & 0x04  # loop, root unset, stretch
    assert int.from_bytes(payload[4:6], "little") == 0  # root field left empty
    assert int.from_bytes(payload[12:16], "little") == 32
    assert int.from_bytes(payload[16:18], "little") == 4 and int.from_bytes(payload[18:20], "little") == 4
    assert struct.unpack("<f", payload[20:24])[0] == 128.5
    rooted = acid_chunk(AcidInfo(tempo=120.0, beats=8, root_note=57))
    assert int.from_bytes(rooted[8:12], "little") & 0x02 and int.from_bytes(rooted[12:14], "little") == 57


def test_a_third_party_reader_agrees(tmp_path):
    metadata = pytest.importorskip("acidcat.core.metadata")
    path = tmp_path / "loop.wav"
    path.write_bytes(with_acid(_wav(), loop_acid(121.7, 4, 4, 1.0)))
    meta = metadata.read_metadata(str(path))
    assert meta["bpm"] == pytest.approx(121.7, abs=0.01) and not meta.get("key")


def test_bad_input_is_refused():
    with pytest.raises(AcidError):
        with_acid(b"not a wav file at all", loop_acid(120.0, 1, 4, 1.0))
    with pytest.raises(AcidError):
        acid_chunk(AcidInfo(tempo=0.0, beats=4))
    with pytest.raises(AcidError):
        acid_chunk(AcidInfo(tempo=120.0, beats=4, root_note=200))
    truncated = _wav()[:60]
    with pytest.raises(AcidError):
        read_acid(truncated)
