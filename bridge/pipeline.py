"""From a request to WAV files: the render orchestration.

    request ─> bridge.engine.conditioning.prepare (text, chroma, prompt codes)
            ─> bridge.engine.windows.generate_codes (30 s windows of Engine.generate) ─> EnCodec decode
            ─> resample to the output rate ─> fold the tail into the head ─> DC, loudness ─> WAV

Every length here comes from `bridge.audio.tempo` exact arithmetic; the model generates a little more
than the loop (crossfade tail + margin) and the loop is cut from it, so the file is exactly N bars long.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from bridge import __version__
from bridge.audio.io import format_bpm, output_stem, resample, write_wav_unique
from bridge.audio.loops import (
    DEFAULT_FADE_SECONDS,
    apply_peak_ceiling,
    fold_tail,
    normalize_loudness,
    remove_dc,
)
from bridge.audio.tempo import loop_samples
from bridge.engine.conditioning import prepare
from bridge.engine.engine import Engine
from bridge.engine.streaming import Chunk, StreamingDecoder
from bridge.engine.types import FRAME_RATE, HOP, SAMPLE_RATE, Sampling
from bridge.engine.windows import generate_codes
from bridge.request import GenerationRequest

log = logging.getLogger(__name__)

TAIL_MARGIN_SECONDS = 0.1  # generated past loop end + fade: resampler and codec edge effects stay outside
ProgressCallback = Callable[[float], None]  # fraction 0..1


@dataclass(frozen=True)
class RenderResult:
    paths: tuple[Path, ...]
    seed: int
    loop_seconds: float
    timings: dict[str, float] = field(default_factory=dict)


# ------------------------------------------------------------------------------------ rendering


def loop_plan(request: GenerationRequest) -> tuple[int, int, int]:
    """(loop samples, fade samples) at the output rate, and frames to generate at 50 Hz."""
    sr = request.sample_rate
    loop_len = loop_samples(request.bars, request.bpm, request.signature, sr)
    fade_len = int(round(min(DEFAULT_FADE_SECONDS, loop_len / sr / 4) * sr))
    needed = (loop_len + fade_len) / sr + TAIL_MARGIN_SECONDS
    return loop_len, fade_len, math.ceil(needed * FRAME_RATE)


def finish_take(
    new_audio: np.ndarray,
    request: GenerationRequest,
    loop_len: int,
    fade_len: int,
    prefix: np.ndarray | None = None,
) -> np.ndarray:
    """32 kHz mono take => (1, loop_len [+ prefix]) at the output rate, seamless, DC-free, normalised."""
    x = resample(new_audio, SAMPLE_RATE, request.sample_rate)
    if prefix is not None:  # keep_prompt: prompt audio, then the new bars; the wrap folds into the prompt
        pre = resample(prefix, SAMPLE_RATE, request.sample_rate)
        x = np.concatenate([pre, x])
        loop_len += len(pre)
    y = fold_tail(x[None, :], loop_len, fade_len)
    y = remove_dc(y)
    if request.loudness_lufs is not None:
        y = normalize_loudness(y, request.sample_rate, request.loudness_lufs, request.peak_dbfs)
    else:
        y = apply_peak_ceiling(y, request.peak_dbfs) if np.abs(y).max() > 1.0 else y
    return y.astype(np.float32)


def metadata(request: GenerationRequest, model_name: str, take: int | None) -> dict[str, str]:
    comment = (
        f"bpm={format_bpm(request.bpm)} bars={request.bars} time_signature={request.time_signature} "
        f"seed={request.seed} model={model_name}"
    )
    if take is not None:
        comment += f" take={take}"
    return {"title": request.prompt[:200], "comment": comment, "software": f"musicgen-bridge {__version__}"}


def render(
    engine: Engine,
    request: GenerationRequest,
    out_dir: Path,
    *,
    backend: str = "ours",
    on_progress: ProgressCallback | None = None,
    on_chunk: Callable[[Chunk], None] | None = None,
    cancel: threading.Event | None = None,
) -> RenderResult:
    """Generate `request.variations` loops and write them into `out_dir`; returns the written paths.

    `on_chunk` receives the raw 32 kHz audio of every take (Chunk.audio is (takes, samples)) in ~0.5 s
    pieces while the model is still generating: a preview, before tail folding and loudness."""
    t0 = time.perf_counter()
    loop_len, fade_len, n_frames = loop_plan(request)
    cond = prepare(engine, request)
    p = cond.prompt_frames
    t1 = time.perf_counter()

    def on_step(done: int, total: int) -> None:
        if on_progress is not None:
            on_progress(0.95 * done / total)

    sampling = Sampling(request.temperature, request.top_k, request.top_p, request.cfg)
    stream = None
    if on_chunk is not None:  # the prompt frames are context for the first chunk, never emitted
        stream = StreamingDecoder(engine.model.audio_encoder, on_chunk=on_chunk, skip_frames=p)
        if p:
            stream.push(cond.prompt_codes.expand(request.variations, -1, -1))
    codes = generate_codes(
        engine,
        cond,
        n_frames,
        request.variations,
        sampling,
        request.seed,
        backend,
        on_step,
        cancel,
        on_frames=None if stream is None else lambda _i, c: stream.push(c),
    )
    if stream is not None:
        stream.flush()
    t2 = time.perf_counter()
    audio = engine.decode_codes(codes)  # (B, (P + n) * 640)
    t3 = time.perf_counter()

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = []
    for i in range(request.variations):
        take = i + 1 if request.variations > 1 else None
        prefix = audio[i, : p * HOP] if request.keep_prompt and p else None
        y = finish_take(audio[i, p * HOP :], request, loop_len, fade_len, prefix)
        stem = output_stem(request.prompt or "loop", request.bpm, request.bars, request.seed, take)
        paths.append(
            write_wav_unique(
                out_dir, stem, y, request.sample_rate, request.subtype, metadata(request, engine.name, take)
            )
        )
    if on_progress is not None:
        on_progress(1.0)
    t4 = time.perf_counter()
    timings = {"prepare_s": t1 - t0, "generate_s": t2 - t1, "decode_s": t3 - t2, "write_s": t4 - t3}
    log.info(
        "rendered %d take(s) in %.2f s (%s)",
        len(paths),
        t4 - t0,
        ", ".join(f"{k}={v:.2f}" for k, v in timings.items()),
    )
    return RenderResult(tuple(paths), request.seed, loop_len / request.sample_rate, timings)
