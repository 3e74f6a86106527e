"""`--model auto`: the default checkpoint when it is on disk, else the random-weight debug model."""

from __future__ import annotations

import sys

from bridge.engine.archs import DEFAULT_MODEL

try:  # the hub library comes with transformers; without it no checkpoint can be cached either
    from huggingface_hub import try_to_load_from_cache
except ImportError:  # pragma: no cover - a broken install; 'auto' then means debug
    try_to_load_from_cache = None


def resolve_model_name(name: str) -> str:
    """'auto' => the default checkpoint when it is on disk (dir or HF cache), else the debug model."""
    if name != "auto":
        return name
    try:
        if try_to_load_from_cache is not None and isinstance(
            try_to_load_from_cache(DEFAULT_MODEL, "config.json"), str
        ):
            return DEFAULT_MODEL
    except Exception:  # unreadable cache: fall back like a missing model
        pass
    print(
        f"warning: {DEFAULT_MODEL} is not downloaded; using the random-weight debug model "
        "(its output is noise, not music)",
        file=sys.stderr,
    )
    return "debug"
