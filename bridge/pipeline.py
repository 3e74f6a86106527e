"""From a request to WAV files: the render orchestration.

    request ─> bridge.engine.conditioning.prepare (text, chroma, prompt codes)
            ─> bridge.engine.windows.generate_codes (30 s windows of Engine.generate) ─> EnCodec decode
            ─> resample to the output rate ─> bridge.audio.grid.fit (beats, downbeat, warp onto the grid)
            ─> the file's channels (bridge.audio.channels: the model's, a downmix or a duplicate)
            ─> fold the tail into the head (per channel) ─> DC, loudness (BS.1770 over all channels)
            ─> WAV with its acid chunk

Audio is (channels, samples) throughout: a stereo checkpoint decodes (takes, 2, samples), a mono one
(takes, 1, samples); the request's `channels` (0 = the model's) decides what is written and streamed.

Every length here comes from `bridge.audio.tempo` exact arithmetic. The model generates more than the
loop: margin bars around it (the grid fit chooses the best N-bar span inside), the crossfade tail and a
little slack; the fit returns exactly N bars plus the tail, so the file is exactly N bars long.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import torch

from bridge import __version__
from bridge.audio.acid import AcidInfo, loop_acid
from bridge.audio.channels import match_channels, output_channels
from bridge.audio.grid import GridError, GridFit, closest_take, fit
from bridge.audio.io import format_bpm, output_stem, resample, write_wav_unique
from bridge.audio.loops import fade_samples, finish_loop, level_report
from bridge.audio.tempo import loop_samples
from bridge.engine.conditioning import Conditioning, prepare
from bridge.engine.engine import Engine
from bridge.engine.final_decode import decode_in_pieces, from_chunks
from bridge.engine.streaming import Chunk, StreamingDecoder
from bridge.engine.types import FRAME_RATE, HOP, SAMPLE_RATE, Cancelled, Sampling
from bridge.engine.windows import generate_codes
from bridge.limits import GRID_MAX_ATTEMPTS, MAX_SEED
from bridge.names import format_bars
from bridge.request import GenerationRequest

log = logging.getLogger(__name__)

TAIL_MARGIN_SECONDS = 0.1  # generated past loop end + fade: resampler and codec edge effects stay outside
ProgressCallback = Callable[[float], None]  # fraction 0..1
RETRY_SEED_STEP = 7919  # strict mode: seed step between attempts (a prime, so retries never repeat a seed)


@dataclass(frozen=True)
class RenderResult:
    paths: tuple[Path, ...]
    seed: int
    loop_seconds: float
    timings: dict[str, float] = field(default_factory=dict)
    grid: tuple[dict, ...] = ()  # per take: GridFit.report() (status, played_bpm, ratio, downbeat, confidence)


@dataclass(frozen=True)
class LoopPlan:
    """Lengths of one take: the loop and its fade at the output rate, and what the model must generate."""

    loop_len: int  # samples at the output rate: exactly N bars
    fade_len: int  # samples folded from past the loop end into its head
    lead_bars: int  # bars generated before the loop (the model's intro; 0 when the take starts on the grid)
    trail_bars: int  # bars generated after it (room for a take played slower than asked)
    frames: int  # 50 Hz frames to generate after the prompt

    def lead_samples(self, bars: int) -> int:
        return self.lead_bars * self.loop_len // bars


# ------------------------------------------------------------------------------------ rendering


def loop_plan(request: GenerationRequest) -> LoopPlan:
    """The loop, its fade, and the margin bars the grid fit needs around it.

    Text-only takes get `grid_margin_bars` before and after (the model's first downbeat lands anywhere);
    a continuation starts on the song's grid, where the prompt ends, so it needs the bars after only."""
    sr = request.sample_rate
    loop_len = loop_samples(request.bars, request.bpm, request.signature, sr)
    fade_len = fade_samples(loop_len, sr)
    margin = 0 if request.grid == "off" else request.grid_margin_bars
    lead = 0 if request.continue_from is not None else margin
    bar_seconds = loop_len / sr / request.bars
    needed = (loop_len + fade_len) / sr + (lead + margin) * bar_seconds + TAIL_MARGIN_SECONDS
    return LoopPlan(loop_len, fade_len, lead, margin, math.ceil(needed * FRAME_RATE))


def fit_take(x: np.ndarray, request: GenerationRequest, plan: LoopPlan) -> GridFit:
    """(channels, samples) at the output rate => (channels, loop_len + fade_len) on the grid, and the
    report (beats are found on the channels' mean; every channel is warped by the same time map).

    A take the analysis cannot read (too short, silent) keeps the generated timing: a loop is always
    written; the report says why."""
    ts = request.signature
    meter = (ts.numerator, 4 / ts.denominator)  # beats per bar, quarter notes per beat
    args = (x, request.sample_rate, request.bpm, request.bars, *meter)
    known = 0.0 if plan.lead_bars == 0 else None  # continuation: the bar line is where the prompt ended
    kw = dict(tail_samples=plan.fade_len, margin_samples=plan.lead_samples(request.bars))
    try:
        return fit(*args, mode=request.grid, shift_beats=request.grid_shift, known_downbeat=known,
                   strict_tolerance_pct=request.grid_tolerance_pct, **kw)
    except GridError as exc:
        cut = fit(*args, mode="off", **kw)
        return replace(cut, status="beatless", message=f"kept the generated timing: {exc}")


def finish_take(
    fitted: np.ndarray,
    request: GenerationRequest,
    plan: LoopPlan,
    prefix: np.ndarray | None = None,
    channels: int = 1,
) -> np.ndarray:
    """(C, loop_len + fade_len) on the grid at the output rate => (channels, loop_len [+ prefix]),
    seamless (each channel's tail folded into its own head), DC-free, normalised: loudness measured on
    all channels together, one gain and one peak ceiling for all. `prefix` is (C, n) at 32 kHz."""
    x, loop_len = match_channels(fitted, channels), plan.loop_len
    if prefix is not None:  # keep_prompt: prompt audio, then the new bars; the wrap folds into the prompt
        pre = match_channels(resample(prefix, SAMPLE_RATE, request.sample_rate), channels)
        x = np.concatenate([pre, x], axis=-1)
        loop_len += pre.shape[-1]
    y = finish_loop(x, loop_len, plan.fade_len, request.sample_rate, request.loudness_lufs,
                    request.peak_dbfs)
    return y.astype(np.float32)


def metadata(
    request: GenerationRequest, model_name: str, take: int | None, fit: GridFit, prefix_samples: int = 0
) -> dict[str, str]:
    """INFO fields: the prompt as title; tempo, length in beats, seed, model and the grid fit in the comment.
    The length is what the file holds: a kept prompt's beats count (and are named)."""
    prompt_quarters = _prompt_quarters(request, prefix_samples)
    beats = request.bars * request.signature.bar_quarters + prompt_quarters
    comment = (
        f"bpm={format_bpm(request.bpm)} bars={format_bars(held_bars(request, prefix_samples))} "
        f"time_signature={request.time_signature} beats={format_bpm(float(beats))} seed={request.seed} "
        f"model={model_name}"
    )
    if prompt_quarters:
        comment += f" kept_prompt_beats={prompt_quarters}"
    if take is not None:
        comment += f" take={take}"
    comment += f" grid={fit.status}"
    if fit.played_bpm is not None:
        comment += f" played_bpm={fit.played_bpm:.2f}"
    return {"title": request.prompt[:200], "comment": comment, "software": f"musicgen-bridge {__version__}"}


def acid_info(request: GenerationRequest, prefix_samples: int = 0) -> AcidInfo:
    """The acid chunk of a take: N bars at the song tempo, plus the kept prompt's beats (keep_prompt)."""
    ts = request.signature
    prompt_quarters = _prompt_quarters(request, prefix_samples)
    return loop_acid(request.bpm, request.bars, ts.numerator, 4 / ts.denominator, prompt_quarters)


def held_bars(request: GenerationRequest, prefix_samples: int = 0) -> float:
    """Bars the file holds: the loop's, plus a kept prompt's whole beats (6 beats before 2 bars of 4/4:
    3.5), for its name and its tags."""
    return request.bars + _prompt_quarters(request, prefix_samples) / float(request.signature.bar_quarters)


def _prompt_quarters(request: GenerationRequest, prefix_samples: int) -> int:
    """Quarter notes of a kept prompt of `prefix_samples` at the output rate (whole beats, so exact)."""
    return round(prefix_samples / request.sample_rate * request.bpm / 60.0)


@dataclass
class _Takes:
    """Strict mode's bookkeeping: the fitted takes so far, per take index, and which are final."""

    tries: list[list[tuple[GridFit, np.ndarray | None]]]
    final: dict[int, int] = field(default_factory=dict)  # take index -> index into its tries

    def pending(self) -> list[int]:
        return [i for i in range(len(self.tries)) if i not in self.final]


def _attempt_seed(seed: int, attempt: int) -> int:
    """Attempt 1 is the request's seed; strict retries step it, so the same request gives the same files."""
    return (seed + (attempt - 1) * RETRY_SEED_STEP) % (MAX_SEED + 1)


def render(
    engine: Engine,
    request: GenerationRequest,
    out_dir: Path,
    *,
    backend: str = "ours",
    on_progress: ProgressCallback | None = None,
    on_chunk: Callable[[Chunk], None] | None = None,
    cancel: threading.Event | None = None,
    on_file: Callable[[Path], None] | None = None,
) -> RenderResult:
    """Generate `request.variations` loops, fit each onto the grid and write them into `out_dir`.

    `on_chunk` receives the raw 32 kHz audio of every take (Chunk.audio is (takes, channels, samples), in
    the file's channels) in ~0.5 s pieces while the model is still generating: a preview, before grid
    fitting, tail folding and loudness.
    In strict mode a take played too far off the tempo is generated again (GRID_MAX_ATTEMPTS in all; the
    retries report no progress of their own and stream nothing); at the limit the closest take is kept.
    `cancel` is honoured at every decoder step, between the pieces of the final decode and between the
    takes' writes (Cancelled); `on_file` gets each take's path as soon as it is published."""
    t0 = time.perf_counter()
    plan = loop_plan(request)
    channels = output_channels(request.channels, engine.channels)
    if on_chunk is not None:
        on_chunk = _in_channels(on_chunk, channels)
    cond = prepare(engine, request)
    t1 = time.perf_counter()
    takes = _Takes([[] for _ in range(request.variations)])
    attempts = GRID_MAX_ATTEMPTS if request.grid == "strict" else 1
    timings = {"prepare_s": t1 - t0, "generate_s": 0.0, "decode_s": 0.0, "grid_s": 0.0}
    for attempt in range(1, attempts + 1):
        pending = takes.pending()
        first = attempt == 1
        audio = _generate(engine, request, cond, plan, len(pending), _attempt_seed(request.seed, attempt),
                          backend, on_progress if first else None, on_chunk if first else None, cancel,
                          timings)
        t = time.perf_counter()
        p = cond.prompt_frames
        if channels < audio.shape[1]:  # a downmix is asked: one channel to resample and warp, not two
            audio = match_channels(audio, channels)
        for row, i in enumerate(pending):
            x = resample(audio[row, :, p * HOP :], SAMPLE_RATE, request.sample_rate)  # (C, n)
            fitted = fit_take(x, request, plan)
            prefix = audio[row, :, : p * HOP] if request.keep_prompt and p else None
            takes.tries[i].append((fitted, prefix))
            if fitted.status != "too_far":  # too_far takes stay pending: again, or the closest at the end
                takes.final[i] = len(takes.tries[i]) - 1
        timings["grid_s"] += time.perf_counter() - t
        if not takes.pending():
            break
    for i in takes.pending():  # strict, out of attempts: the closest take, still reported too_far
        best = closest_take([f for f, _ in takes.tries[i]], request.bpm)
        takes.final[i] = next(k for k, (f, _) in enumerate(takes.tries[i]) if f is best)
    t3 = time.perf_counter()
    paths, reports = _write_takes(engine, request, plan, takes, Path(out_dir), channels, cancel, on_file)
    if on_progress is not None:
        on_progress(1.0)
    timings["write_s"] = time.perf_counter() - t3
    log.info(
        "rendered %d take(s) in %.2f s (%s)",
        len(paths),
        time.perf_counter() - t0,
        ", ".join(f"{k}={v:.2f}" for k, v in timings.items()),
    )
    return RenderResult(tuple(paths), request.seed, plan.loop_len / request.sample_rate, timings, reports)


def _generate(
    engine: Engine,
    request: GenerationRequest,
    cond: Conditioning,
    plan: LoopPlan,
    batch: int,
    seed: int,
    backend: str,
    on_progress: ProgressCallback | None,
    on_chunk: Callable[[Chunk], None] | None,
    cancel: threading.Event | None,
    timings: dict[str, float],
) -> np.ndarray:
    """(batch, C, (P + frames) * 640) decoded 32 kHz audio of `batch` takes (C: the model's channels);
    streams chunks when asked."""
    t1 = time.perf_counter()

    def on_step(done: int, total: int) -> None:
        if on_progress is not None:
            on_progress(0.95 * done / total)

    p = cond.prompt_frames
    sampling = Sampling(request.temperature, request.top_k, request.top_p, request.cfg)
    stream, streamed = None, []  # streamed: the raw chunks, which become the take (no second decode)
    if on_chunk is not None:  # the prompt frames are context for the first chunk, never emitted
        stream = StreamingDecoder(
            engine.model.audio_encoder, on_chunk=on_chunk, skip_frames=p, channels=engine.channels
        )
        if p:
            stream.push(cond.prompt_codes.expand(batch, -1, -1))
    codes = generate_codes(
        engine,
        cond,
        plan.frames,
        batch,
        sampling,
        seed,
        backend,
        on_step,
        cancel,
        on_frames=None if stream is None else lambda _i, c: streamed.extend(stream.push(c)),
    )
    if stream is not None:
        streamed.extend(stream.flush())
    t2 = time.perf_counter()
    audio = _final_audio(engine, codes, cancel, streamed, p, request.keep_prompt)  # (B, C, (P + n) * 640)
    timings["generate_s"] += t2 - t1
    timings["decode_s"] += time.perf_counter() - t2
    return audio


def _final_audio(
    engine: Engine,
    codes: torch.Tensor,
    cancel: threading.Event | None,
    streamed: list[Chunk],
    prompt_frames: int,
    keep_prompt: bool,
) -> np.ndarray:
    """(B, C, T * 640): the streamed chunks when they hold the whole take (the prompt's audio is only
    needed with keep_prompt), else a decode in pieces that a cancel stops (bridge.engine.final_decode)."""
    if not (keep_prompt and prompt_frames):
        audio = from_chunks(streamed, prompt_frames * HOP, codes.shape[-1] * HOP)
        if audio is not None:
            return audio
    return decode_in_pieces(engine.streaming_decoder(), codes, cancel)


def _in_channels(on_chunk: Callable[[Chunk], None], channels: int) -> Callable[[Chunk], None]:
    """Streamed chunks in the file's channels: a mono model's preview duplicated for `channels` 2, a
    stereo one's downmixed for 1 (Chunk.audio (takes, C, n) => (takes, channels, n))."""

    def send(chunk: Chunk) -> None:
        on_chunk(replace(chunk, audio=match_channels(chunk.audio, channels)))

    return send


def _write_takes(
    engine: Engine,
    request: GenerationRequest,
    plan: LoopPlan,
    takes: _Takes,
    out_dir: Path,
    channels: int,
    cancel: threading.Event | None = None,
    on_file: Callable[[Path], None] | None = None,
) -> tuple[list[Path], tuple[dict, ...]]:
    """Fold, normalise and write each take's final try; its grid report, with the take number. A cancel
    stops before the next take (the ones written stay, and `on_file` has reported each at once)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    paths, reports = [], []
    for i, tries in enumerate(takes.tries):
        if cancel is not None and cancel.is_set():
            raise Cancelled()
        fitted, prefix = tries[takes.final[i]]
        take = i + 1 if request.variations > 1 else None
        y = finish_take(fitted.audio, request, plan, prefix, channels)
        prefix_len = y.shape[-1] - plan.loop_len  # a kept prompt, at the output rate
        bars = held_bars(request, prefix_len)
        stem = output_stem(request.prompt or "loop", request.bpm, bars, request.seed, take)
        meta = metadata(request, engine.name, take, fitted, prefix_len)
        paths.append(
            write_wav_unique(out_dir, stem, y, request.sample_rate, request.subtype, meta,
                             acid=acid_info(request, prefix_len))
        )
        if on_file is not None:
            on_file(paths[-1])
        level = level_report(y, request.sample_rate, request.loudness_lufs)
        reports.append({"take": i + 1, "attempts": len(tries), **fitted.report(), **level})
    return paths, tuple(reports)
