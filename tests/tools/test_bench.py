"""The benchmark command runs end to end on the debug model and writes the documented JSON."""

from __future__ import annotations

import json
import math

import torch

from bridge.cli import build_parser, main
from bridge.engine.archs import ARCHS, DEBUG
from bridge.engine.loading import load_engine
from bridge.engine.types import Sampling
from bridge.tools import bench
from bridge.tools.bench import step_weight_bytes


def test_bench_debug_prints_the_table_and_writes_json(tmp_path, capsys):
    out = tmp_path / "bench.json"
    argv = ["bench", "--arch", "debug", "--device", "cpu", "--seconds", "0.3", "--repeats", "1"]
    assert main([*argv, "--stream-seconds", "1", "--json", str(out)]) == 0
    table = capsys.readouterr().out
    assert "steps/s" in table and "ours/transformers" in table and "SNR" in table
    result = json.loads(out.read_text())
    assert result["arch"] == "debug" and result["device"] == "cpu"
    for side in ("ours", "transformers"):
        assert set(result[side]) >= {"steps_per_s", "step_ms", "rtf", "first_chunk_s", "peak_mem_mb"}
        assert result[side]["steps_per_s"] > 0 and result[side]["first_chunk_s"] > 0
        assert result[side]["step_ms"] > 0
    assert math.isclose(
        result["speedup"], result["ours"]["steps_per_s"] / result["transformers"]["steps_per_s"]
    )
    assert result["streaming"]["snr_db"] >= 60
    floor = result["floor"]
    assert floor["weight_bytes"] > 0 and floor["read_bandwidth_gbs"] > 0
    assert math.isclose(floor["step_ms"], floor["weight_bytes"] / floor["read_bandwidth_gbs"] / 1e6)
    assert result["ours"]["floor_fraction"] > 0 and "memory-bandwidth floor" in table
    grid = result["grid"]
    assert grid["frames_on"] > grid["frames_off"] and grid["margin_seconds"] == 4.0  # a 2 s bar on each side
    assert grid["generate_on_s"] > 0 and grid["fit_s"] > 0 and "beat analysis + fit" in table
    assert grid["fit_status"] == "on_grid" and abs(grid["fit_played_bpm"] - 0.97 * 120) < 0.5


def test_step_weight_bytes_counts_what_a_decode_step_reads():
    """Everything the decoder holds except the gathered token embeddings (and, for plain MusicGen, the
    cross-attention keys/values computed once per request); bf16 halves it."""
    engine = load_engine("debug", device="cpu")
    decoder = engine.model.decoder
    everything = sum(p.numel() for p in decoder.parameters())
    embeddings = DEBUG.num_codebooks * (DEBUG.vocab_size + 1) * DEBUG.hidden_size  # + 1: the pad/BOS row
    assert step_weight_bytes(engine) == 4 * (everything - embeddings)
    engine.model.decoder.to(torch.bfloat16)
    assert step_weight_bytes(engine) == 2 * (everything - embeddings)


def test_bench_rejects_bad_numbers(capsys):
    assert main(["bench", "--arch", "debug", "--seconds", "0"]) == 2
    assert capsys.readouterr().err.startswith("error: ")


def test_cpu_memory_rows_say_what_they_measured():
    """On a CPU the peak is RSS-based: growth under 1 MB (the warm-up already allocated) reads "<1" with no
    ratio, not "0 ... 0.00x"; the absolute peak RSS is its own row; unmeasurable reads n/a."""
    side = {"steps_per_s": 10.0, "step_ms": 5.0, "rtf": 1.0, "first_chunk_s": 0.1, "total_s": 1.0}
    result = {
        "arch": "debug",
        "channels": 1,
        "device": "cpu",
        "device_name": "x86_64",
        "dtype": "float32",
        "seconds": 1.0,
        "ours": {**side, "peak_mem_mb": 0.004, "peak_rss_mb": 812.0, "floor_fraction": 0.5},
        "transformers": {**side, "peak_mem_mb": 6.6, "peak_rss_mb": math.nan, "floor_fraction": 0.25},
        "streaming": {
            "seconds": 1,
            "snr_db": 120.0,
            "stream_decode_s": 1.0,
            "full_decode_s": 1.0,
            "stream_over_full": 1.0,
        },
        "floor": {"weight_bytes": 1e6, "read_bandwidth_gbs": 10.0, "step_ms": 0.1},
        "grid": None,
        "speedup": 1.0,
    }
    rows = {line[:20].strip(): line[20:].split() for line in bench.format_table(result).splitlines()}
    assert rows["peak RSS growth (MB)"] == ["<1", "7", "n/a"]
    assert rows["peak RSS (MB)"] == ["812", "n/a", "n/a"]
    result["device"] = "cuda"
    result["ours"]["peak_mem_mb"], result["transformers"]["peak_mem_mb"] = 300.0, 600.0
    rows = {line[:20].strip(): line[20:].split() for line in bench.format_table(result).splitlines()}
    assert rows["peak memory (MB)"] == ["300", "600", "0.50x"] and "peak RSS (MB)" not in rows


def test_stereo_architectures_run_through_the_bench():
    """debug-stereo (8 interleaved codebooks) through one streamed run of each path and the streaming
    figures; every stereo release is a --arch choice."""
    engine = load_engine("debug-stereo", device="cpu")
    assert engine.channels == 2 and engine.num_codebooks == 8
    for backend in ("ours", "transformers"):
        stats = bench.run_once(engine, backend, 12, None, Sampling())
        assert stats.steps_per_s > 0 and stats.first_chunk_s > 0 and stats.peak_rss_mb > 0
    codes = torch.randint(0, 2048, (1, 8, 60), generator=torch.Generator().manual_seed(0))
    assert bench.streaming_figures(engine, codes)["snr_db"] >= 60
    for name in ("debug-stereo", "stereo-small", "stereo-melody", "stereo-melody-large"):
        assert name in ARCHS and ARCHS[name].audio_channels == 2
    assert build_parser().parse_args(["bench", "--arch", "stereo-melody"]).arch == "stereo-melody"
