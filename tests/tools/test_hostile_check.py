"""scripts/hostile_check.py works: its cheapest case against a real debug daemon, and a broken bound is a
failing exit status with the case's line saying which bound broke."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def hostile_check():
    spec = importlib.util.spec_from_file_location("hostile_check", REPO / "scripts" / "hostile_check.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules["hostile_check"] = module  # dataclasses look their module up while the class is built
    try:
        spec.loader.exec_module(module)
        yield module
    finally:
        sys.modules.pop("hostile_check", None)


def _lines(out: str) -> dict[str, str]:
    return {line.split()[0]: line for line in out.splitlines() if line and not line.startswith("#")}


def test_the_crosstalk_case_passes_against_a_real_daemon(hostile_check, capsys):
    assert hostile_check.main(["--cases", "crosstalk", "--hellos", "5"]) == 0
    line = _lines(capsys.readouterr().out)["crosstalk"]
    for part in ("crashed=no", "lost=0", "jobs=3", "welcomed=5", "misrouted=0", "b_cancelled=1"):
        assert part in line.split(), line
    assert line.endswith(" ok")


def test_a_broken_bound_fails_the_run_and_the_others_still_run(hostile_check, capsys, monkeypatch):
    def lossy(run):
        res = hostile_check.Result("burst", tried=3, answered=2)
        res.bound(res.lost == 0, "every request of the burst answered")
        return res

    def broken(run):
        raise RuntimeError("the daemon did not start")

    def fine(run):
        return hostile_check.Result("loop", tried=1, answered=1)

    monkeypatch.setattr(hostile_check, "CASES", {"burst": lossy, "fifo": broken, "loop": fine})
    assert hostile_check.main(["--cases", "burst", "fifo", "loop"]) == 1
    lines = _lines(capsys.readouterr().out)
    assert "lost=1" in lines["burst"].split() and lines["burst"].endswith("FAIL: every request of the burst answered")
    assert lines["fifo"].endswith("FAIL: RuntimeError: the daemon did not start")
    assert lines["loop"].endswith(" ok")
    assert hostile_check.main(["--cases", "loop"]) == 0
