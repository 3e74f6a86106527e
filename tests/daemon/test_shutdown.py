"""Stopping the real daemon (`serve --model debug` in a subprocess) mid-job: SIGTERM, SIGINT, a double
SIGTERM, and a SIGTERM once generation is over (the decode and write phase). Every time: exit status 0,
well before the shutdown timeout, never SIGABRT, and the journal says how the job really ended."""

from __future__ import annotations

import signal
import time
from pathlib import Path

import pytest
from osc_client import Daemon, OscTestClient

from bridge.daemon.journal import Journal
from bridge.daemon.server import SHUTDOWN_TIMEOUT

LONG_BARS = 8  # 16 s of audio at 120 bpm: long enough to be caught running


def _progress_at_least(client: OscTestClient, request_id: str, fraction: float, timeout: float = 60.0):
    reply = client.wait(
        lambda r: r.args[:1] == (request_id,)
        and (r.verb in ("done", "error") or (r.verb == "progress" and r.args[1] >= fraction)),
        timeout,
    )
    return reply


def _stop(daemon: Daemon, signals: list[signal.Signals]) -> tuple[int, float]:
    t0 = time.monotonic()
    for sig in signals:
        daemon.proc.send_signal(sig)
        time.sleep(0.05)
    rc = daemon.proc.wait(SHUTDOWN_TIMEOUT + 30)
    return rc, time.monotonic() - t0


def _row(out: Path, request_id: str):
    journal = Journal(out / ".musicgen-journal.sqlite3")
    try:
        return {r.request_id: r for r in journal.recent(20)}[request_id]
    finally:
        journal.close()


@pytest.mark.parametrize(
    "signals",
    [[signal.SIGTERM], [signal.SIGINT], [signal.SIGTERM, signal.SIGTERM]],
    ids=["sigterm", "sigint", "double-sigterm"],
)
def test_a_signal_mid_job_exits_0_soon_with_the_job_recorded(tmp_path, signals):
    out = tmp_path / "out"
    daemon = Daemon(out)
    try:
        with OscTestClient(daemon.address) as c:
            c.hello()
            c.send("generate", "victim", "prompt", "stopped", "bpm", 120, "bars", LONG_BARS)
            assert _progress_at_least(c, "victim", 0.01).verb == "progress"
            rc, seconds = _stop(daemon, signals)
        log = daemon.log()
        assert rc == 0, log[-3000:]
        assert "terminate called" not in log
        assert seconds < SHUTDOWN_TIMEOUT / 2, seconds  # stopped at a step, not after the timeout
        row = _row(out, "victim")
        assert row.state in ("cancelled", "interrupted") and row.finished is not None
        assert not [p for p in out.glob("*.wav") if not p.name.startswith(".")]
    finally:
        daemon.kill()


def test_a_signal_after_generating_ends_the_job_as_it_really_ended(tmp_path):
    """Once the steps are done (decode, grid fit, writes): the job ends cancelled with nothing written, or
    done with its file; the journal agrees with the disk either way."""
    out = tmp_path / "out"
    daemon = Daemon(out)
    try:
        with OscTestClient(daemon.address) as c:
            c.hello()
            c.send("generate", "late", "prompt", "late stop", "bpm", 120, "bars", LONG_BARS, "variations", 2)
            _progress_at_least(c, "late", 0.95)
            rc, _ = _stop(daemon, [signal.SIGTERM])
        assert rc == 0, daemon.log()[-3000:]
        row = _row(out, "late")
        on_disk = sorted(str(p) for p in out.glob("*.wav") if not p.name.startswith("."))
        assert row.state in ("cancelled", "done") and sorted(row.paths) == on_disk
        if row.state == "done":
            assert len(on_disk) == 2
    finally:
        daemon.kill()
