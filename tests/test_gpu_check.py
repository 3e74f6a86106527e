"""scripts/gpu_check.sh, the one prepared GPU check, runs end to end: its CPU dry run (debug arch, fp32,
tiny sizes) writes the log, the JUnit XML of the device decoder tests, the bench JSON and the summary."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

REPO = Path(__file__).resolve().parents[1]
SCRIPT = REPO / "scripts" / "gpu_check.sh"


def run_check(*args: str, timeout: float = 600) -> subprocess.CompletedProcess:
    env = {**os.environ, "GPU_CHECK_PYTHON": sys.executable}  # this interpreter: nothing is installed
    return subprocess.run(
        ["bash", str(SCRIPT), *args], cwd=REPO, env=env, capture_output=True, text=True, timeout=timeout
    )


def test_dry_run_on_the_cpu_writes_every_result(tmp_path):
    out = tmp_path / "gpu-check"
    done = run_check(str(out), "--dry-run")
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    names = {p.name for p in out.iterdir()}
    assert names == {"gpu_check.log", "env.json", "decoder_tests.xml", "bench-debug.json", "summary.json"}
    log = (out / "gpu_check.log").read_text()
    assert "decoder tests: exit 0" in log and "done: exit 0" in log and "steps/s" in log
    summary = json.loads((out / "summary.json").read_text())
    assert summary["status"] == 0 and summary["env"]["device"] == "cpu"
    tests = summary["tests"]
    assert tests["passed"] >= 6 and tests["failures"] == tests["errors"] == 0 and tests["failed"] == []
    bench = summary["bench"]["debug"]
    assert bench["ours"]["steps_per_s"] > 0 and bench["transformers"]["steps_per_s"] > 0
    assert bench["ours"]["first_chunk_s"] > 0 and bench["ours"]["floor_fraction"] > 0
    assert bench["streaming_snr_db"] >= 60
    raw = json.loads((out / "bench-debug.json").read_text())
    assert raw["arch"] == "debug" and raw["device"] == "cpu" and raw["grid"] is None  # dry run: no grid


@pytest.mark.skipif(torch.cuda.is_available(), reason="with CUDA this would run the whole check")
def test_without_cuda_the_real_check_stops_at_once(tmp_path):
    done = run_check(str(tmp_path / "out"), timeout=120)
    assert done.returncode == 3
    assert "no CUDA device" in (tmp_path / "out" / "gpu_check.log").read_text()


def test_usage():
    done = run_check(timeout=30)
    assert done.returncode == 2 and "usage: scripts/gpu_check.sh OUTDIR [--dry-run]" in done.stdout
