"""Helpers for the engine tests (imported as `from engine_helpers import ...`)."""

from __future__ import annotations

import torch

from bridge.engine.archs import Arch
from bridge.engine.engine import Engine
from bridge.engine.loading import build_random_model, byte_tokenizer


def random_engine(arch: Arch) -> Engine:
    """A random-weight Engine of any architecture (`load_engine` builds only the named ones), fp32 on CPU."""
    return Engine(
        build_random_model(arch),
        byte_tokenizer(),
        melody=arch.melody,
        device=torch.device("cpu"),
        dtype=torch.float32,
        name=arch.name,
    )
