"""From a request to WAV files: the render orchestration.

    request ─> bridge.engine.conditioning.prepare (text, chroma, prompt codes)
            ─> bridge.engine.windows.generate_codes (30 s windows of Engine.generate) ─> EnCodec decode
            ─> resample to the output rate ─> bridge.audio.grid.fit (beats, downbeat, warp onto the grid)
            ─> fold the tail into the head ─> DC, loudness ─> WAV with its acid chunk

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

from bridge import __version__
from bridge.audio.acid import AcidInfo, loop_acid
from bridge.audio.grid import GridError, GridFit, closest_take, fit
from bridge.audio.io import format_bpm, output_stem, resample, write_wav_unique
from bridge.audio.loops import fade_samples, finish_loop
from bridge.audio.tempo import loop_samples
from bridge.engine.conditioning import Conditioning, prepare
from bridge.engine.engine import Engine
from bridge.engine.streaming import Chunk, StreamingDecoder
from bridge.engine.types import FRAME_RATE, HOP, SAMPLE_RATE, Sampling
from bridge.engine.windows import generate_codes
from bridge.limits import GRID_MAX_ATTEMPTS, MAX_SEED
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
    """(samples,) at the output rate => exactly loop_len + fade_len samples on the grid, and the report.

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
) -> np.ndarray:
    """(loop_len + fade_len,) on the grid at the output rate => (1, loop_len [+ prefix]), seamless, DC-free,
    normalised."""
    x, loop_len = fitted, plan.loop_len
    if prefix is not None:  # keep_prompt: prompt audio, then the new bars; the wrap folds into the prompt
        pre = resample(prefix, SAMPLE_RATE, request.sample_rate)
        x = np.concatenate([pre, x])
        loop_len += len(pre)
    y = finish_loop(x[None, :], loop_len, plan.fade_len, request.sample_rate, request.loudness_lufs,
                    request.peak_dbfs)
    return y.astype(np.float32)


def metadata(request: GenerationRequest, model_name: str, take: int | None, fit: GridFit) -> dict[str, str]:
    """INFO fields: the prompt as title; tempo, length in beats, seed, model and the grid fit in the comment."""
    beats = request.bars * request.signature.bar_quarters
    comment = (
        f"bpm={format_bpm(request.bpm)} bars={request.bars} time_signature={request.time_signature} "
        f"beats={format_bpm(float(beats))} seed={request.seed} model={model_name}"
    )
    if take is not None:
        comment += f" take={take}"
    comment += f" grid={fit.status}"
    if fit.played_bpm is not None:
        comment += f" played_bpm={fit.played_bpm:.2f}"
    return {"title": request.prompt[:200], "comment": comment, "software": f"musicgen-bridge {__version__}"}


def acid_info(request: GenerationRequest, prefix_samples: int = 0) -> AcidInfo:
    """The acid chunk of a take: N bars at the song tempo, plus the kept prompt's beats (keep_prompt)."""
    ts = request.signature
    prompt_quarters = round(prefix_samples / request.sample_rate * request.bpm / 60.0)
    return loop_acid(request.bpm, request.bars, ts.numerator, 4 / ts.denominator, prompt_quarters)


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
) -> RenderResult:
    """Generate `request.variations` loops, fit each onto the grid and write them into `out_dir`.

    `on_chunk` receives the raw 32 kHz audio of every take (Chunk.audio is (takes, samples)) in ~0.5 s
    pieces while the model is still generating: a preview, before grid fitting, tail folding and loudness.
    In strict mode a take played too far off the tempo is generated again (GRID_MAX_ATTEMPTS in all; the
    retries report no progress of their own and stream nothing); at the limit the closest take is kept."""
    t0 = time.perf_counter()
    plan = loop_plan(request)
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
        for row, i in enumerate(pending):
            x = resample(audio[row, p * HOP :], SAMPLE_RATE, request.sample_rate)
            fitted = fit_take(x, request, plan)
            prefix = audio[row, : p * HOP] if request.keep_prompt and p else None
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
    paths, reports = _write_takes(engine, request, plan, takes, Path(out_dir))
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
    """(batch, (P + frames) * 640) decoded 32 kHz audio of `batch` takes; streams chunks when asked."""
    t1 = time.perf_counter()

    def on_step(done: int, total: int) -> None:
        if on_progress is not None:
            on_progress(0.95 * done / total)

    p = cond.prompt_frames
    sampling = Sampling(request.temperature, request.top_k, request.top_p, request.cfg)
    stream = None
    if on_chunk is not None:  # the prompt frames are context for the first chunk, never emitted
        stream = StreamingDecoder(engine.model.audio_encoder, on_chunk=on_chunk, skip_frames=p)
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
        on_frames=None if stream is None else lambda _i, c: stream.push(c),
    )
    if stream is not None:
        stream.flush()
    t2 = time.perf_counter()
    audio = engine.decode_codes(codes)  # (B, (P + n) * 640)
    timings["generate_s"] += t2 - t1
    timings["decode_s"] += time.perf_counter() - t2
    return audio


def _write_takes(
    engine: Engine, request: GenerationRequest, plan: LoopPlan, takes: _Takes, out_dir: Path
) -> tuple[list[Path], tuple[dict, ...]]:
    """Fold, normalise and write each take's final try; its grid report, with the take number."""
    out_dir.mkdir(parents=True, exist_ok=True)
    paths, reports = [], []
    for i, tries in enumerate(takes.tries):
        fitted, prefix = tries[takes.final[i]]
        take = i + 1 if request.variations > 1 else None
        y = finish_take(fitted.audio, request, plan, prefix)
        stem = output_stem(request.prompt or "loop", request.bpm, request.bars, request.seed, take)
        meta = metadata(request, engine.name, take, fitted)
        paths.append(
            write_wav_unique(out_dir, stem, y, request.sample_rate, request.subtype, meta,
                             acid=acid_info(request, y.shape[-1] - plan.loop_len))
        )
        reports.append({"take": i + 1, "attempts": len(tries), **fitted.report()})
    return paths, tuple(reports)
