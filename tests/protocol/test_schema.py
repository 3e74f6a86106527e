"""The protocol tables: the package imports light, and the generate table's bounds are the request object's."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest
import soundfile as sf

from bridge import protocol
from bridge.request import SUBTYPES, GenerationRequest, RequestError


def test_import_stays_light():
    code = "import bridge.protocol, sys; bad = {'torch', 'numpy', 'soundfile'} & set(sys.modules); print(bad)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "set()"


def test_table_bounds_are_the_request_objects_bounds(tmp_path):
    """Every numeric generate key's upper bound in the table is exactly where GenerationRequest stops."""
    clip = tmp_path / "clip.wav"
    sf.write(clip, np.full(32000, 0.25, dtype=np.float32), 32000)
    generate = next(r for r in json.loads(protocol.to_json())["requests"] if r["verb"] == "generate")
    keys = {k["name"]: k for k in generate["keys"]}
    base = {
        "prompt": "x",
        "bpm": 400.0,
        "bars": 1,
        "time_signature": "1/4",
    }  # 512 short bars fit the length cap
    for field in (
        "bpm",
        "bars",
        "variations",
        "melody_bpm",
        "prompt_seconds",
        "temperature",
        "top_k",
        "top_p",
        "cfg",
    ):
        spec = keys[field]
        with_clip = {**base, "melody": clip} if field == "melody_bpm" else base  # it means nothing without one
        GenerationRequest(**{**with_clip, field: spec["max"]})
        with pytest.raises(RequestError):
            GenerationRequest(**{**with_clip, field: spec["max"] + (1 if spec["type"] == "int" else 1e-3)})
    assert set(protocol.BIT_DEPTHS.values()) == set(SUBTYPES)
