"""`musicgen-bridge bench`: our decode loop against transformers' `generate`, side by side, in one run.

Both run on the same random-weight model built from a real architecture (no download: speed does not
depend on weight values), with the same conditioning and sampling settings, after one warm-up each, in
alternating order. Each run streams its frames through the same `StreamingDecoder`, so "first chunk" is
the time from the request to the first audio a musician could hear. The grid's costs (the margin bars'
extra generation, beat analysis + fitting per loop) come from `bridge.tools.bench_grid`.
"""

from __future__ import annotations

import json
import math
import os
import platform
import statistics
import threading
import time
from dataclasses import asdict, dataclass
from datetime import date
from pathlib import Path

import torch

from bridge.engine.engine import Engine
from bridge.engine.loading import load_engine
from bridge.engine.streaming import snr_db, stream_decode
from bridge.engine.types import FRAME_RATE, Sampling, delay_steps
from bridge.tools.bench_grid import format_grid, grid_figures

PROMPT = "driving techno loop with a rolling bassline, 128 bpm"


@dataclass
class RunStats:
    steps_per_s: float  # all steps: prefill and inline streaming included, the final full decode not
    step_ms: float  # steady state: one decode step, prefill, first/last step and streaming decode excluded
    rtf: float  # seconds of audio generated per second of wall time (same span)
    first_chunk_s: float  # request start => first streamed audio chunk
    peak_mem_mb: float  # CUDA: max allocated above the start; CPU: peak RSS growth during the run
    total_s: float  # wall time of the whole call
    peak_rss_mb: float = math.nan  # the process's peak resident memory during the run (model included)
    floor_fraction: float = math.nan  # bandwidth-floor step time / step_ms: 1 = each weight byte read once


class _PeakRss:
    """Samples this process's resident memory in a thread; CPU peak memory for one run (MB above start)."""

    def __init__(self, interval: float = 0.005):
        self.interval, self.peak, self._stop = interval, 0, threading.Event()

    @staticmethod
    def _rss() -> int:
        try:  # Linux; elsewhere the CPU figure is reported as unavailable (NaN)
            with open("/proc/self/statm") as f:
                return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
        except (OSError, ValueError, AttributeError):
            return -1

    def __enter__(self):
        self.base = self.peak = self._rss()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self.peak = max(self.peak, self._rss())

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, self._rss())

    @property
    def mb(self) -> float:
        return float("nan") if self.base < 0 else (self.peak - self.base) / 2**20

    @property
    def peak_mb(self) -> float:
        return float("nan") if self.base < 0 else self.peak / 2**20


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def run_once(
    engine: Engine,
    backend: str,
    n_frames: int,
    chroma: torch.Tensor | None,
    sampling: Sampling,
    seed: int = 0,
) -> RunStats:
    """One streamed generation; timings from the caller's clock."""
    dev = engine.device
    stream = engine.streaming_decoder()
    marks: dict[str, float] = {}
    steps = delay_steps(n_frames, engine.num_codebooks, engine.channels)
    streaming = [0.0]  # seconds spent in streaming decode so far

    def on_step(done: int, total: int) -> None:
        now = time.perf_counter()
        if done in (1, total - 1):  # steps 2 .. total-1: the steady state, same span for both paths
            marks[f"step{done}"], marks[f"streaming{done}"] = now, streaming[0]
        if done == total:
            marks["last_step"] = now

    def on_frames(_first: int, codes: torch.Tensor) -> None:
        t = time.perf_counter()
        if stream.push(codes) and "first_chunk" not in marks:
            marks["first_chunk"] = time.perf_counter()
        streaming[0] += time.perf_counter() - t

    if dev.type == "cuda":
        torch.cuda.reset_peak_memory_stats(dev)
        base = torch.cuda.memory_allocated(dev)
    _sync(dev)
    with _PeakRss() as rss:
        t0 = time.perf_counter()
        engine.generate(
            PROMPT,
            n_frames=n_frames,
            chroma=chroma,
            sampling=sampling,
            seed=seed,
            backend=backend,
            on_step=on_step,
            on_frames=on_frames,
        )
        stream.flush()
        _sync(dev)
        t1 = time.perf_counter()
    gen_s = marks["last_step"] - t0
    a, b = 1, steps - 1
    steady = marks[f"step{b}"] - marks[f"step{a}"] - (marks[f"streaming{b}"] - marks[f"streaming{a}"])
    peak = (torch.cuda.max_memory_allocated(dev) - base) / 2**20 if dev.type == "cuda" else rss.mb
    return RunStats(
        steps_per_s=steps / gen_s,
        step_ms=1e3 * steady / (b - a),
        rtf=n_frames / FRAME_RATE / gen_s,
        first_chunk_s=marks.get("first_chunk", t1) - t0,
        peak_mem_mb=peak,
        total_s=t1 - t0,
        peak_rss_mb=rss.peak_mb,
    )


def _median(runs: list[RunStats]) -> RunStats:
    return RunStats(
        **{k: statistics.median(getattr(r, k) for r in runs) for k in RunStats.__dataclass_fields__}
    )


def streaming_figures(engine: Engine, codes: torch.Tensor) -> dict[str, float]:
    """Streaming decode of `codes` vs one full decode: SNR and total decode cost."""
    codec = engine.model.audio_encoder
    _sync(engine.device)
    t0 = time.perf_counter()
    full = engine.decode_codes(codes)
    _sync(engine.device)
    t1 = time.perf_counter()
    streamed = stream_decode(codec, codes, channels=engine.channels)
    _sync(engine.device)
    t2 = time.perf_counter()
    return {
        "snr_db": snr_db(full, streamed),
        "full_decode_s": t1 - t0,
        "stream_decode_s": t2 - t1,
        "stream_over_full": (t2 - t1) / (t1 - t0),
    }


def step_weight_bytes(engine: Engine) -> int:
    """Bytes of decoder weights one decode step must read: every decoder parameter except the token
    embeddings (K rows gathered) and plain MusicGen's cross-attention key/value projections (applied to the
    text once per request). The KV cache is left out: it is small next to the weights at these lengths."""
    skip = ("embed_tokens", "encoder_attn.k_proj", "encoder_attn.v_proj")
    return sum(
        p.numel() * p.element_size()
        for name, p in engine.model.decoder.named_parameters()
        if not any(s in name for s in skip)
    )


def read_bandwidth(device: torch.device, mib: int = 1024, repeats: int = 5) -> float:
    """Measured memory read bandwidth in bytes/s: the median time to sum a `mib` MiB fp32 tensor."""
    x = torch.ones(mib * 2**20 // 4, device=device)
    times = []
    for _ in range(repeats + 1):  # the first run warms up (page faults, kernels)
        _sync(device)
        t0 = time.perf_counter()
        x.sum()
        _sync(device)
        times.append(time.perf_counter() - t0)
    return x.numel() * 4 / statistics.median(times[1:])


def bench(
    arch: str,
    device: str = "auto",
    dtype: str = "auto",
    seconds: float = 5.0,
    repeats: int = 3,
    stream_seconds: float = 30.0,
    log=print,
    grid: bool = True,
) -> dict:
    """Run the comparison and return the JSON-ready result (`grid=False` skips the grid's figures)."""
    engine = load_engine(arch, device=device, dtype=dtype, random_weights=True)
    n_frames = max(1, int(round(seconds * FRAME_RATE)))
    sampling = Sampling()  # audiocraft defaults: temperature 1, top-k 250, CFG 3
    chroma = None
    if engine.melody:
        g = torch.Generator().manual_seed(0)
        chroma = torch.nn.functional.one_hot(torch.randint(0, 12, (235,), generator=g), 12).float()
    log(
        f"bench: {engine} — {n_frames} frames ({seconds:g} s), CFG {sampling.cfg}, top-k {sampling.top_k}, "
        f"{repeats} alternating runs after a warm-up"
    )
    results: dict[str, list[RunStats]] = {"ours": [], "transformers": []}
    for backend in results:  # warm-up: allocations, caches, CUDA graphs, kernels
        run_once(engine, backend, n_frames, chroma, sampling)
    for r in range(repeats):
        order = ("ours", "transformers") if r % 2 == 0 else ("transformers", "ours")
        for backend in order:
            results[backend].append(run_once(engine, backend, n_frames, chroma, sampling, seed=r))
    ours, theirs = _median(results["ours"]), _median(results["transformers"])

    g = torch.Generator().manual_seed(1)
    codes = torch.randint(0, 2048, (1, engine.num_codebooks, int(stream_seconds * FRAME_RATE)), generator=g)
    stream = streaming_figures(engine, codes.to(engine.device))
    grid_result = grid_figures(engine, sampling, chroma) if grid else None
    weights, bandwidth = step_weight_bytes(engine), read_bandwidth(engine.device)
    floor_ms = 1e3 * weights / bandwidth  # a decode step cannot beat reading its weights once
    for stats in (ours, theirs):
        stats.floor_fraction = floor_ms / stats.step_ms
    return {
        "arch": arch,
        "channels": engine.channels,  # 2: a stereo release (8 interleaved codebooks)
        "device": str(engine.device),
        "device_name": _device_name(engine.device),
        "dtype": str(engine.dtype).replace("torch.", ""),
        "seconds": seconds,
        "repeats": repeats,
        "date": date.today().isoformat(),
        "machine": f"{platform.node()} ({platform.machine()}, {torch.get_num_threads()} threads)",
        "torch": torch.__version__,
        "ours": asdict(ours),
        "transformers": asdict(theirs),
        "speedup": ours.steps_per_s / theirs.steps_per_s,
        "streaming": {"seconds": stream_seconds, **stream},
        "grid": grid_result,
        "floor": {"weight_bytes": weights, "read_bandwidth_gbs": bandwidth / 1e9, "step_ms": floor_ms},
    }


def _device_name(device: torch.device) -> str:
    if device.type == "cuda":
        return torch.cuda.get_device_name(device)
    return platform.processor() or platform.machine()


def format_table(result: dict) -> str:
    o, t = result["ours"], result["transformers"]
    cuda = result["device"].startswith("cuda")
    rows = [
        ("steps/s", "steps_per_s", "{:.1f}"),
        ("decode step (ms)", "step_ms", "{:.3g}"),
        ("real-time factor", "rtf", "{:.2f}x"),
        ("first chunk (s)", "first_chunk_s", "{:.3f}"),
        ("peak memory (MB)" if cuda else "peak RSS growth (MB)", "peak_mem_mb", "{:.0f}"),
        *([] if cuda else [("peak RSS (MB)", "peak_rss_mb", "{:.0f}")]),
        ("total (s)", "total_s", "{:.2f}"),
    ]
    lines = [
        f"arch={result['arch']} channels={result.get('channels', 1)} device={result['device']} "
        f"({result['device_name']}) dtype={result['dtype']} seconds={result['seconds']:g}",
        f"{'':20} {'ours':>10} {'transformers':>14} {'ours/transformers':>18}",
    ]
    for label, key, fmt in rows:
        a, b = o.get(key, math.nan), t.get(key, math.nan)
        if key.startswith("peak_"):  # under 1 MB is below what RSS sampling resolves (the warm-up allocated)
            cells = [_mb(a), _mb(b)]
            ratio = f"{a / b:.2f}x" if a >= 1 and b >= 1 else "n/a"  # NaN compares False
        else:
            cells = [fmt.format(a), fmt.format(b)]
            ratio = f"{a / b:.2f}x" if b else "n/a"
        lines.append(f"{label:20} {cells[0]:>10} {cells[1]:>14} {ratio:>18}")
    s = result["streaming"]
    lines.append(
        f"streaming decode of {s['seconds']:g} s: SNR {s['snr_db']:.1f} dB vs one full decode; "
        f"cost {s['stream_decode_s']:.2f} s vs {s['full_decode_s']:.2f} s "
        f"({s['stream_over_full']:.2f}x)"
    )
    f = result["floor"]
    lines.append(
        f"memory-bandwidth floor: {f['weight_bytes'] / 1e9:.3g} GB of weights per step at "
        f"{f['read_bandwidth_gbs']:.3g} GB/s measured read = {f['step_ms']:.3g} ms/step; reached: ours "
        f"{o['floor_fraction']:.0%}, transformers {t['floor_fraction']:.0%}"
    )
    if result.get("grid"):
        lines.append(format_grid(result["grid"]))
    lines.append(f"speedup (steps/s, ours over transformers' generate): {result['speedup']:.2f}x")
    return "\n".join(lines)


def _mb(value: float) -> str:
    """Memory in MB for the table: n/a when not measurable here, <1 below what sampling resolves."""
    if math.isnan(value):
        return "n/a"
    return "<1" if value < 1 else f"{value:.0f}"


def main(args) -> int:
    result = bench(args.arch, args.device, args.dtype, args.seconds, args.repeats, args.stream_seconds)
    print(format_table(result))
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=2) + "\n")
    return 0
