"""The grid's share of `musicgen-bridge bench`: what fitting a loop onto the grid costs beside generating it.

Two figures for a 4-bar loop at 120 bpm (8 s):
- the margin's extra generation: the same request generated with the grid off (the loop, its crossfade
  tail and slack) and on (plus one margin bar before and after, as `bridge.pipeline.loop_plan` plans it),
  timed with our decode loop on the benchmark's model;
- beat analysis + fitting per loop (`bridge.audio.grid.fit`), on a drum take played 3 % slow at the output
  rate: random-weight models play noise, which the analysis rejects early, so their audio would time the
  cheap path only.
"""

from __future__ import annotations

import statistics
import time

import numpy as np
import torch

from bridge.audio.grid import fit
from bridge.engine.engine import Engine
from bridge.engine.types import FRAME_RATE, Sampling
from bridge.limits import DEFAULT_SAMPLE_RATE
from bridge.pipeline import loop_plan
from bridge.request import GenerationRequest

BPM, BARS = 120.0, 4  # the benchmark loop: 8 s of 4/4
PLAYED = 0.97  # the drum take's tempo, relative to BPM
FIT_REPEATS = 5
SR = DEFAULT_SAMPLE_RATE


def drum_take(bpm: float, beats: int, sr: int = SR, seed: int = 0) -> np.ndarray:
    """(samples,) float32: kick on 1 and 3, snare on 2 and 4, eighth-note hats, at `bpm`."""
    rng = np.random.default_rng(seed)
    period = 60.0 / bpm
    n = int((beats + 1) * period * sr)
    out = np.zeros(n, np.float32)
    t = np.arange(int(0.25 * sr)) / sr
    kick = (np.sin(2 * np.pi * 55 * t) * np.exp(-t / 0.08)).astype(np.float32)
    snare = (rng.standard_normal(len(t)) * np.exp(-t / 0.05) * 0.5).astype(np.float32)
    hat = (rng.standard_normal(len(t)) * np.exp(-t / 0.01) * 0.2).astype(np.float32)
    for half in range(2 * beats):
        start = int(half * period / 2 * sr)
        beat, on_beat = divmod(half, 2)
        hit = hat if on_beat else (kick if beat % 2 == 0 else snare)
        out[start : start + len(hit)] += hit[: n - start]
    return out


def _generate_s(engine: Engine, frames: int, sampling: Sampling, chroma: torch.Tensor | None) -> float:
    t0 = time.perf_counter()
    engine.generate("drum loop, 120 bpm", n_frames=frames, chroma=chroma, sampling=sampling, seed=0)
    return time.perf_counter() - t0


def grid_figures(engine: Engine, sampling: Sampling, chroma: torch.Tensor | None) -> dict[str, float]:
    """Generation without and with the margin bars, and the fit's time per loop (median of repeats)."""
    frames = {
        mode: loop_plan(GenerationRequest(prompt="x", bpm=BPM, bars=BARS, grid=mode, seed=0)).frames
        for mode in ("off", "on")
    }
    gen = {mode: _generate_s(engine, n, sampling, chroma) for mode, n in frames.items()}
    margin = frames["on"] - frames["off"]
    take = drum_take(BPM * PLAYED, (BARS + 2) * 4)
    fits = []
    for _ in range(FIT_REPEATS):
        t0 = time.perf_counter()
        result = fit(take, SR, BPM, BARS, 4, 1.0, tail_samples=int(0.05 * SR))
        fits.append(time.perf_counter() - t0)
    return {
        "loop_seconds": BARS * 4 * 60.0 / BPM,
        "frames_off": frames["off"],
        "frames_on": frames["on"],
        "margin_seconds": margin / FRAME_RATE,
        "generate_off_s": gen["off"],
        "generate_on_s": gen["on"],
        "margin_cost": gen["on"] / gen["off"] - 1.0,
        "fit_s": statistics.median(fits),
        "fit_status": result.status,
        "fit_played_bpm": result.played_bpm or 0.0,
    }


def format_grid(g: dict[str, float]) -> str:
    return (
        f"grid, {BARS} bars at {BPM:g} bpm ({g['loop_seconds']:g} s): generation {g['generate_off_s']:.2f} s "
        f"without the margin, {g['generate_on_s']:.2f} s with it (+{g['margin_seconds']:.1f} s of audio, "
        f"+{g['margin_cost']:.0%} time); beat analysis + fit {g['fit_s']:.3f} s per loop "
        f"({g['fit_status']}, played {g['fit_played_bpm']:.1f} bpm at {SR} Hz)"
    )
