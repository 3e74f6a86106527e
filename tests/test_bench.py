"""The benchmark command runs end to end on the debug model and writes the documented JSON."""

from __future__ import annotations

import json
import math

from bridge.cli import main


def test_bench_debug_prints_the_table_and_writes_json(tmp_path, capsys):
    out = tmp_path / "bench.json"
    argv = ["bench", "--arch", "debug", "--device", "cpu", "--seconds", "0.3", "--repeats", "1"]
    assert main([*argv, "--stream-seconds", "1", "--json", str(out)]) == 0
    table = capsys.readouterr().out
    assert "steps/s" in table and "ours/transformers" in table and "SNR" in table
    result = json.loads(out.read_text())
    assert result["arch"] == "debug" and result["device"] == "cpu"
    for side in ("ours", "transformers"):
        assert set(result[side]) >= {"steps_per_s", "rtf", "first_chunk_s", "peak_mem_mb"}
        assert result[side]["steps_per_s"] > 0 and result[side]["first_chunk_s"] > 0
    assert math.isclose(
        result["speedup"], result["ours"]["steps_per_s"] / result["transformers"]["steps_per_s"]
    )
    assert result["streaming"]["snr_db"] >= 60


def test_bench_rejects_bad_numbers(capsys):
    assert main(["bench", "--arch", "debug", "--seconds", "0"]) == 2
    assert capsys.readouterr().err.startswith("error: ")
