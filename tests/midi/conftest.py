"""MIDI test fixtures: the user's config folders point into tmp, and job queues with a fake renderer."""

from __future__ import annotations

import pytest
from osc_client import FakeRenderer

from bridge.daemon.jobs import JobQueue
from bridge.daemon.journal import Journal


@pytest.fixture(autouse=True)
def no_user_mapping(tmp_path, monkeypatch):
    """Tests never read or write the user's own MIDI-learn file: the config folders point into tmp."""
    for var in ("HOME", "XDG_CONFIG_HOME", "APPDATA"):
        monkeypatch.setenv(var, str(tmp_path / "home" / var.lower()))


@pytest.fixture
def queue(tmp_path):
    journal = Journal.open(tmp_path, synchronous="NORMAL")
    made = []

    def make(renderer=None):
        q = JobQueue(renderer or FakeRenderer(steps=2, step_seconds=0.001), tmp_path, journal).start()
        made.append(q)
        return q

    yield make
    for q in made:
        q.close(5)
    journal.close()
