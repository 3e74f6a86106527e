"""`--model auto`: the first checkpoint of `AUTO_PREFERENCE` found on disk, else the random-weight debug model.

When several releases are cached, `auto` takes the default (facebook/musicgen-melody) first, then the
other melody checkpoints, then the text-only ones: a melody model serves every request a client can send
(a text-only one refuses `melody`). Within that, the smaller before the larger (faster steps, less
memory on a live machine) and mono before stereo of the same size (the default is mono; a stereo
checkpoint is asked for by name). So: melody, stereo-melody, melody-large, stereo-melody-large, small,
stereo-small, medium, stereo-medium, large, stereo-large.
"""

from __future__ import annotations

import sys

from bridge.engine.archs import ARCHS, DEFAULT_MODEL

try:  # the hub library comes with transformers; without it no checkpoint can be cached either
    from huggingface_hub import try_to_load_from_cache
except ImportError:  # pragma: no cover - a broken install; 'auto' then means debug
    try_to_load_from_cache = None

_RELEASES = sorted(
    (a for a in ARCHS.values() if a.hub_id is not None),
    key=lambda a: (a.hub_id != DEFAULT_MODEL, not a.melody, a.hidden_size, a.audio_channels),
)
AUTO_PREFERENCE: tuple[str, ...] = tuple(a.hub_id for a in _RELEASES)  # the hub ids `auto` tries, in order


def _cached(hub_id: str) -> bool:
    try:
        return try_to_load_from_cache is not None and isinstance(try_to_load_from_cache(hub_id, "config.json"), str)
    except Exception:  # unreadable cache: like a missing model
        return False


def resolve_model_name(name: str) -> str:
    """'auto' => the first of AUTO_PREFERENCE in the Hugging Face cache, else the debug model."""
    if name != "auto":
        return name
    for hub_id in AUTO_PREFERENCE:
        if _cached(hub_id):
            if hub_id != DEFAULT_MODEL:
                print(f"note: --model auto: {DEFAULT_MODEL} is not downloaded; using {hub_id}", file=sys.stderr)
            return hub_id
    print(
        f"warning: {DEFAULT_MODEL} is not downloaded; using the random-weight debug model "
        "(its output is noise, not music)",
        file=sys.stderr,
    )
    return "debug"
