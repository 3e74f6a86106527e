"""Daemon test fixtures: in-process servers, and paths a hostile client might send (for the in-process
and the real daemon)."""

from __future__ import annotations

import os

import pytest
from osc_client import FakeRenderer, write_tone

from bridge.daemon.journal import Journal
from bridge.daemon.net import ServerOptions
from bridge.daemon.server import Server


@pytest.fixture
def hostile_paths(tmp_path):
    good = write_tone(tmp_path / "good.wav")
    (tmp_path / "sub").mkdir()
    text = tmp_path / "notes.wav"
    text.write_text("not audio")
    (tmp_path / "link-text.wav").symlink_to(text)
    (tmp_path / "link-zero.wav").symlink_to("/dev/zero")
    if hasattr(os, "mkfifo"):
        os.mkfifo(tmp_path / "fifo.wav")
    else:  # Windows: no FIFOs; a missing file stands in
        pass
    big = tmp_path / "huge.wav"
    with open(big, "wb") as f:  # sparse: 1 GiB + 1 byte, over the size limit, costs no disk
        f.truncate((1 << 30) + 1)
    return {
        "dotdot": f"{tmp_path}/sub/../{good.name}",
        "symlink_to_text": str(tmp_path / "link-text.wav"),
        "symlink_to_dev_zero": str(tmp_path / "link-zero.wav"),
        "dev_zero": "/dev/zero",
        "fifo": str(tmp_path / "fifo.wav"),
        "directory": str(tmp_path / "sub"),
        "oversize": str(big),
        "relative": "good.wav",
        "missing": str(tmp_path / "missing.wav"),
    }


@pytest.fixture
def make_server(tmp_path):
    """make(renderer=None, limits=None, out=None, synchronous="NORMAL", **ServerOptions) -> a Server on a
    free loopback port, serving in a thread (FakeRenderer by default); all are closed after the test."""
    made = []

    def make(renderer=None, limits=None, out=None, synchronous="NORMAL", **options):
        out = out or tmp_path
        journal = Journal.open(out, synchronous=synchronous)
        server = Server(
            renderer or FakeRenderer(), out, journal, ServerOptions(port=0, **options), model_name="fake", limits=limits
        )
        thread = server.serve_in_thread()
        made.append((server, thread, journal))
        return server

    yield make
    for server, thread, journal in made:
        server.close(timeout=5)
        thread.join(5)
        assert not thread.is_alive()
        journal.close()
