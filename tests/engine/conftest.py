"""Fixtures shared by the engine tests."""

from __future__ import annotations

import pytest
import torch


@pytest.fixture(scope="module")
def one_thread():
    """Tiny models (GEMV-sized ops): one torch thread is fastest, and immune to a busy machine. Module-wide once
    asked for: a module's cached builds and reference codes then come from the same thread count."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)
