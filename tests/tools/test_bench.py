"""The benchmark command runs end to end on the debug model and writes the documented JSON."""

from __future__ import annotations

import json
import math

import torch

from bridge.cli import main
from bridge.engine.archs import DEBUG
from bridge.engine.loading import load_engine
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
