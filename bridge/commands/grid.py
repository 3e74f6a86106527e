"""`musicgen-bridge grid INPUT --bpm F --bars N`: any recording (a jam, a sample) fitted onto the grid.

    read_audio (any file libsndfile reads, mono or stereo) ─> resample to --sample-rate (default: kept)
    ─> bridge.audio.grid.fit: beats and downbeats, the most regular N-bar span, warped beat by beat
    ─> fold the tail into the head ─> DC ─> the recording's level (peak lowered only where it would clip;
       --loudness LUFS normalises) ─> WAV with its acid chunk and INFO ─> its path (or --json) on stdout

The same fitting as a generated take's (bridge.pipeline), with two differences a recording needs: it
starts anywhere, so nothing is assumed about its first bar (the span chooser finds the downbeats, and a
beatless recording is cut from its start), and its timing is the musician's, so the messages say
"the recording's timing". The one-line fit summary goes to stderr.

Exit status: 0 written; 1 strict mode and the recording plays more than --grid-tolerance off (nothing is
written); 2 bad input, one `error:` line.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np

from bridge import __version__
from bridge.audio.acid import loop_acid
from bridge.audio.beats import GridError
from bridge.audio.grid import GridFit, fit, summary_line
from bridge.audio.io import AudioError, read_audio, resample, write_wav_unique
from bridge.audio.loops import DEFAULT_FADE_SECONDS, fade_samples, finish_loop
from bridge.audio.tempo import LoopError, TimeSignature, loop_samples, loop_seconds
from bridge.commands import CliError
from bridge.limits import (
    BIT_DEPTHS,
    GRID_SHIFT_RANGE,
    GRID_TOLERANCE_RANGE,
    LOUDNESS_RANGE,
    MAX_BARS,
    MAX_BPM,
    MAX_LOOP_SECONDS,
    MIN_BPM,
)
from bridge.names import format_bpm, grid_stem

INPUT_ERRORS = (AudioError, LoopError, GridError)
EXIT_TOO_FAR = 1  # strict: the recording plays too far off the tempo; nothing written
GENERATED, RECORDED = "the generated timing", "the recording's timing"  # fit's words, and ours


def run(args: argparse.Namespace) -> int:
    ts = _check_args(args)
    audio, sr_in = read_audio(args.input)  # (channels, samples); missing, non-audio, silent, NaN: AudioError
    sr = args.sample_rate or sr_in
    audio = resample(audio, sr_in, sr)
    loop_len = loop_samples(args.bars, args.bpm, ts, sr)
    fade_len = fade_samples(loop_len, sr)
    _check_length(args, audio.shape[-1], loop_len + fade_len, sr)
    fitted = fit_recording(audio, sr, args, ts, fade_len)
    report = {**fitted.report(), "bars": args.bars, "bpm": args.bpm, "time_signature": str(ts)}
    if fitted.status == "too_far":
        if args.json:
            print(json.dumps({"path": None, **report}))
        print(f"error: {fitted.message} (tolerance {args.grid_tolerance:g} %); nothing written", file=sys.stderr)
        return EXIT_TOO_FAR
    path = write_wav_unique(
        args.out,
        grid_stem(args.input.name, args.bpm, args.bars),
        finish(fitted, sr, args.loudness),
        sr,
        BIT_DEPTHS[args.bit_depth],
        metadata(args, ts, fitted),
        acid=loop_acid(args.bpm, args.bars, ts.numerator, 4 / ts.denominator),
    )
    print(f"grid: {summary_line(report)}", file=sys.stderr)  # after the write: an error stays one line
    print(json.dumps({"path": str(path), **report}) if args.json else path)
    return 0


def _check_args(args: argparse.Namespace) -> TimeSignature:
    """The loop's tempo, length and meter, and the fit's options, in the ranges generate allows."""
    if not (math.isfinite(args.bpm) and MIN_BPM <= args.bpm <= MAX_BPM):
        raise CliError(f"--bpm must be a number from {MIN_BPM:g} to {MAX_BPM:g}, got {args.bpm:g}")
    if not 1 <= args.bars <= MAX_BARS:
        raise CliError(f"--bars must be a whole number from 1 to {MAX_BARS}, got {args.bars}")
    try:
        ts = TimeSignature.parse(args.time_signature)
    except LoopError as e:
        raise CliError(f"--time-signature: {e}") from e
    seconds = float(loop_seconds(args.bars, args.bpm, ts))
    if seconds > MAX_LOOP_SECONDS:
        raise CliError(f"the loop would be {seconds:.0f} s; at most {MAX_LOOP_SECONDS:g} s")
    for flag, value, (low, high) in (
        ("--shift", args.grid_shift, GRID_SHIFT_RANGE),
        ("--grid-tolerance", args.grid_tolerance, GRID_TOLERANCE_RANGE),
        ("--loudness", args.loudness, LOUDNESS_RANGE),
    ):
        if value is not None and not (math.isfinite(value) and low <= value <= high):
            raise CliError(f"{flag} must be a number from {low:g} to {high:g}, got {value:g}")
    return ts


def _check_length(args: argparse.Namespace, samples: int, need: int, sr: int) -> None:
    if samples < need:
        raise CliError(
            f"{args.input} is {samples / sr:.2f} s; {args.bars} bar(s) at {format_bpm(args.bpm)} bpm and the "
            f"{DEFAULT_FADE_SECONDS * 1000:g} ms loop fade need {need / sr:.2f} s"
        )


def fit_recording(audio: np.ndarray, sr: int, args: argparse.Namespace, ts: TimeSignature, fade_len: int) -> GridFit:
    """(channels, samples) => the fit of its most regular N-bar span, stereo kept.

    margin_samples=0: a recording has no generated intro bar to skip, so a beatless one is cut from its
    first sample; a rhythmic one starts wherever the span chooser finds its best downbeat."""
    fitted = fit(
        audio,
        sr,
        args.bpm,
        args.bars,
        ts.numerator,
        4 / ts.denominator,
        shift_beats=args.grid_shift,
        mode=args.grid,
        strict_tolerance_pct=args.grid_tolerance,
        tail_samples=fade_len,
        margin_samples=0,
    )
    return replace(fitted, message=fitted.message.replace(GENERATED, RECORDED))


def finish(fitted: GridFit, sr: int, loudness: float | None) -> np.ndarray:
    """The fitted loop plus tail => (channels, loop_samples): seamless, DC-free, at the recording's level."""
    return finish_loop(fitted.audio, fitted.loop_samples, fitted.tail_samples, sr, loudness)


def metadata(args: argparse.Namespace, ts: TimeSignature, fitted: GridFit) -> dict[str, str]:
    """INFO fields: the recording's file name as title; tempo, length in beats and the fit in the comment."""
    beats = args.bars * ts.bar_quarters
    comment = (
        f"bpm={format_bpm(args.bpm)} bars={args.bars} time_signature={ts} beats={format_bpm(float(beats))} "
        f"grid={fitted.status}"
    )
    if fitted.played_bpm is not None:
        comment += f" played_bpm={fitted.played_bpm:.2f}"
    if fitted.shift_beats:
        comment += f" shift_beats={fitted.shift_beats:g}"
    return {"title": Path(args.input).name[:200], "comment": comment, "software": f"musicgen-bridge {__version__}"}
