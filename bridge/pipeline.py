"""From a request to WAV files: conditioning, generation, bar-exact loop rendering, atomic writes.

    request ─> conditioning (text, chroma, prompt codes) ─> engine.generate ─> EnCodec decode
            ─> resample to the output rate ─> fold the tail into the head ─> DC, loudness ─> WAV

Every length here comes from `bridge.loops` exact arithmetic; the model generates a little more than
the loop (crossfade tail + margin) and the loop is cut from it, so the file is exactly N bars long.
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
import torch

from bridge import __version__
from bridge.audio.io import format_bpm, output_stem, read_audio, resample, to_mono, write_wav_unique
from bridge.audio.loops import (
    DEFAULT_FADE_SECONDS,
    apply_peak_ceiling,
    fold_tail,
    normalize_loudness,
    remove_dc,
)
from bridge.audio.stretch import time_stretch
from bridge.audio.tempo import loop_samples, whole_beats_seconds
from bridge.engine.chroma import CHROMA_LENGTH, align_melody, chroma_onehot
from bridge.engine.engine import (
    FRAME_RATE,
    HOP,
    MAX_WINDOW_FRAMES,
    SAMPLE_RATE,
    Engine,
    FramesCallback,
    ModelError,
    Sampling,
    StepCallback,
)
from bridge.engine.streaming import Chunk, StreamingDecoder
from bridge.request import GenerationRequest

log = logging.getLogger(__name__)

EXTEND_STRIDE_FRAMES = 18 * FRAME_RATE  # audiocraft's extend_stride: 18 s new per window, 12 s of context
TAIL_MARGIN_SECONDS = 0.1  # generated past loop end + fade: resampler and codec edge effects stay outside
ProgressCallback = Callable[[float], None]  # fraction 0..1


@dataclass(frozen=True)
class Melody:
    """A clip's chroma at its own tempo, and how it sits on the song's timeline."""

    chroma: torch.Tensor  # (F, 12) one-hot at CHROMA_FRAME_RATE, the clip's own tempo
    clip_seconds: float  # length of the clip region at its own tempo
    stretch: float  # clip_bpm / song_bpm: seconds on the song timeline per second of clip
    start_seconds: float  # where the melody starts, in seconds from decoder frame 0 of the request

    def window(self, window_start_seconds: float) -> torch.Tensor:
        """(CHROMA_LENGTH, 12) chroma prefix for a model window starting at that time (loops the clip)."""
        offset = self.start_seconds - window_start_seconds
        return align_melody(self.chroma, self.clip_seconds, CHROMA_LENGTH, self.stretch, offset)


@dataclass(frozen=True)
class Conditioning:
    text: str
    melody: Melody | None = None
    prompt_codes: torch.Tensor | None = None  # (K, P) EnCodec codes of the continuation prompt

    @property
    def prompt_frames(self) -> int:
        return 0 if self.prompt_codes is None else int(self.prompt_codes.shape[-1])


@dataclass(frozen=True)
class RenderResult:
    paths: tuple[Path, ...]
    seed: int
    loop_seconds: float
    timings: dict[str, float] = field(default_factory=dict)


# ------------------------------------------------------------------------------------ conditioning


def prompt_clip(request: GenerationRequest) -> np.ndarray:
    """The continuation prompt, mono 32 kHz at the song tempo: the last whole beats of the clip region, as
    many as fit in prompt_seconds of the song.

    A clip at its own tempo (melody_bpm) is time-stretched to the song tempo first: the model continues
    what it hears at the tempo it hears it. Leading samples are trimmed to a whole number of EnCodec
    frames, so the prompt still *ends* exactly at the region end and the continuation starts on the beat.
    """
    assert request.continue_from is not None
    audio, sr = read_audio(request.continue_from, request.region)
    mono = resample(to_mono(audio), sr, SAMPLE_RATE)
    ratio = request.clip_bpm / request.bpm  # song-tempo seconds per second of the clip
    available = len(mono) / SAMPLE_RATE * ratio  # the region's length once at the song tempo
    seconds = float(whole_beats_seconds(min(request.prompt_seconds, available), request.bpm))
    if ratio != 1.0:
        source = min(len(mono), int(round(seconds / ratio * SAMPLE_RATE)))  # the same beats in the clip
        if not 0.5 <= ratio <= 2.0:
            log.warning(
                "continuation clip stretched by %.2fx to the song tempo: transients will smear", ratio
            )
        mono = time_stretch(mono[len(mono) - source :], ratio)
    n = (min(int(round(seconds * SAMPLE_RATE)), len(mono)) // HOP) * HOP
    if n < HOP:
        raise ModelError("the clip to continue is shorter than one beat / one codec frame")
    return np.ascontiguousarray(mono[len(mono) - n :], dtype=np.float32)


def load_melody(request: GenerationRequest, start_seconds: float) -> Melody:
    """The melody clip's chroma, to be retimed to the song tempo and looped from `start_seconds`."""
    assert request.melody is not None
    audio, sr = read_audio(request.melody, request.region)
    return Melody(
        chroma_onehot(audio, sr), audio.shape[-1] / sr, request.clip_bpm / request.bpm, start_seconds
    )


def prepare(engine: Engine, request: GenerationRequest) -> Conditioning:
    """Read the clips and build the model conditioning (validated request => tensors)."""
    if request.melody is not None:
        engine.require_melody()  # fail before reading any clip
    prompt_codes = None
    if request.continue_from is not None:
        prompt_codes = engine.encode_audio(prompt_clip(request))
    offset = 0.0 if prompt_codes is None else prompt_codes.shape[-1] / FRAME_RATE  # the melody starts here
    melody = load_melody(request, offset) if request.melody is not None else None
    return Conditioning(request.text, melody, prompt_codes)


# ------------------------------------------------------------------------------------ long loops


@dataclass(frozen=True)
class Window:
    start: int  # first decoder frame of the window, counted from frame 0 of the request
    prompt: int  # frames of the window that are given (user prompt, or the previous window's tail)
    new: int  # frames the window generates


def plan_windows(
    prompt_frames: int, new_frames: int, window: int = MAX_WINDOW_FRAMES, stride: int = EXTEND_STRIDE_FRAMES
) -> list[Window]:
    """Sliding windows (audiocraft's extend_stride): the first window holds the user prompt and generates
    up to the window size; each later one is prompted with the last `window - stride` frames so far and
    generates up to `stride` more."""
    if not 0 < stride < window:
        raise ValueError("need 0 < stride < window")
    if prompt_frames >= window:
        raise ModelError(f"a {prompt_frames / FRAME_RATE:.1f} s prompt leaves no room in the 30 s window")
    first = min(new_frames, window - prompt_frames)
    plan = [Window(0, prompt_frames, first)]
    done = prompt_frames + first
    context = window - stride
    while done < prompt_frames + new_frames:
        new = min(stride, prompt_frames + new_frames - done)
        plan.append(Window(done - context, context, new))
        done += new
    return plan


def generate_codes(
    engine: Engine,
    cond: Conditioning,
    n_frames: int,
    batch: int,
    sampling: Sampling,
    seed: int,
    backend: str,
    on_step: StepCallback | None,
    cancel: threading.Event | None,
    on_frames: FramesCallback | None = None,
) -> torch.Tensor:
    """(batch, K, P + n_frames) codes, through as many 30 s windows as the length needs.

    `on_frames(first, codes)` sees every new frame once, in order, across windows (for streaming)."""
    plan = plan_windows(cond.prompt_frames, n_frames)
    k = engine.num_codebooks
    total = sum(w.new + k - 1 for w in plan)  # decoder steps over all windows: the progress total
    done_before = done_frames = 0
    codes = None
    for i, w in enumerate(plan):
        # window 0: the user's prompt (K, P); later: each take's own tail (B, K, context)
        prompt = cond.prompt_codes if i == 0 else codes[:, :, -w.prompt :]
        chroma = None if cond.melody is None else cond.melody.window(w.start / FRAME_RATE)

        def step(done: int, _total: int, base: int = done_before) -> None:
            if on_step is not None:
                on_step(base + done, total)

        def frames(first: int, new: torch.Tensor, base: int = done_frames) -> None:
            if on_frames is not None:
                on_frames(base + first, new)

        out = engine.generate(
            cond.text,
            n_frames=w.new,
            batch=batch,
            chroma=chroma,
            prompt_codes=prompt,
            sampling=sampling,
            seed=seed + i,
            backend=backend,
            on_step=step,
            on_frames=frames,
            cancel=cancel,
        )
        codes = out if codes is None else torch.cat([codes, out[:, :, -w.new :]], dim=2)
        done_before += w.new + k - 1
        done_frames += w.new
    assert codes is not None
    return codes


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
