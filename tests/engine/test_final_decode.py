"""The decode after generation: in pieces that a cancel stops, or taken from the streamed chunks; the
same audio as one full decode either way, and a cancel in the decode or write phase writes nothing."""

from __future__ import annotations

import threading

import numpy as np
import pytest
import torch

from bridge import pipeline
from bridge.engine.final_decode import PIECE_FRAMES, decode_in_pieces, from_chunks
from bridge.engine.streaming import StreamingDecoder, snr_db
from bridge.engine.types import Cancelled
from bridge.request import GenerationRequest

MIN_SNR_DB = 60.0  # random weights match to ~1e-7 (bridge.engine.streaming); 60 dB is far below that


def _codes(engine, frames: int, batch: int = 1, seed: int = 0) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return torch.randint(0, 2048, (batch, engine.num_codebooks, frames), generator=g)


def test_pieces_match_one_full_decode(debug_engine):
    codes = _codes(debug_engine, 2 * PIECE_FRAMES + 37, batch=2)
    full = debug_engine.decode_codes(codes)
    pieces = decode_in_pieces(debug_engine.streaming_decoder(), codes, threading.Event())
    assert pieces.shape == full.shape
    assert snr_db(full, pieces) > MIN_SNR_DB


def test_a_cancel_stops_the_decode_between_pieces(debug_engine):
    codes = _codes(debug_engine, 4 * PIECE_FRAMES)
    decoder = debug_engine.streaming_decoder()
    cancel = threading.Event()
    calls = []
    decode = decoder._decode

    def decode_then_cancel(c):
        calls.append(c.shape[-1])
        cancel.set()  # e.g. SIGTERM arrives while this piece decodes
        return decode(c)

    decoder._decode = decode_then_cancel
    with pytest.raises(Cancelled):
        decode_in_pieces(decoder, codes, cancel)
    assert len(calls) == 1 and sum(calls) < codes.shape[-1] // 2  # one bounded piece, not the whole take


def test_streamed_chunks_are_the_take(debug_engine):
    codes = _codes(debug_engine, 180)
    skip = 30  # a continuation's prompt frames: context, never streamed
    dec = debug_engine.streaming_decoder(skip_frames=skip)
    chunks = []
    for start in range(0, codes.shape[-1], 7):
        chunks += dec.push(codes[..., start : start + 7])
    chunks += dec.flush()
    audio = from_chunks(chunks, skip * 640, codes.shape[-1] * 640)
    full = debug_engine.decode_codes(codes)
    assert audio.shape == full.shape and not audio[..., : skip * 640].any()
    assert snr_db(full[..., skip * 640 :], audio[..., skip * 640 :]) > MIN_SNR_DB
    assert from_chunks(chunks[:-1], skip * 640, codes.shape[-1] * 640) is None  # a gap: not the take
    assert from_chunks([], 0, 640) is None


def _req(**kw) -> GenerationRequest:
    return GenerationRequest(prompt="test loop", bpm=240.0, bars=1, seed=1, sample_rate=32000, **kw)


def test_a_cancel_during_the_final_decode_writes_nothing(debug_engine, tmp_path, monkeypatch):
    cancel = threading.Event()
    decode = StreamingDecoder._decode

    def decode_then_cancel(self, codes):
        cancel.set()
        return decode(self, codes)

    monkeypatch.setattr(StreamingDecoder, "_decode", decode_then_cancel)
    with pytest.raises(Cancelled):
        pipeline.render(debug_engine, _req(), tmp_path, cancel=cancel)
    assert list(tmp_path.iterdir()) == []


def test_a_cancel_while_fitting_stops_before_the_first_write(debug_engine, tmp_path, monkeypatch):
    cancel = threading.Event()
    fit_take = pipeline.fit_take

    def fit_then_cancel(*args, **kwargs):
        cancel.set()
        return fit_take(*args, **kwargs)

    monkeypatch.setattr(pipeline, "fit_take", fit_then_cancel)
    with pytest.raises(Cancelled):
        pipeline.render(debug_engine, _req(), tmp_path, cancel=cancel)
    assert list(tmp_path.iterdir()) == []


def test_a_cancel_between_takes_keeps_and_reports_the_written_ones(debug_engine, tmp_path):
    cancel = threading.Event()
    written = []

    def on_file(path):
        written.append(path)
        cancel.set()

    with pytest.raises(Cancelled):
        pipeline.render(debug_engine, _req(variations=3), tmp_path, cancel=cancel, on_file=on_file)
    assert [p.name for p in written] == [p.name for p in tmp_path.glob("*.wav")] and len(written) == 1


def test_a_streamed_render_decodes_nothing_after_generating(debug_engine, tmp_path, monkeypatch):
    """The previews already are the take: no second decode of the whole thing."""
    monkeypatch.setattr(type(debug_engine), "decode_codes", lambda *a: pytest.fail("full decode"))
    chunks = []
    result = pipeline.render(debug_engine, _req(), tmp_path, on_chunk=chunks.append, cancel=threading.Event())
    assert len(result.paths) == 1 and len(chunks) >= 3
    audio = np.concatenate([c.audio for c in chunks], axis=-1)
    assert audio.shape[-1] == pipeline.loop_plan(_req()).frames * 640
