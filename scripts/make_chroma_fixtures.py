"""Write the chroma reference fixtures: transformers' MusicgenMelodyFeatureExtractor on fixed inputs.

Run it in a separate environment that has torchaudio (the extractor needs it; the project does not):

    python -m venv /tmp/refenv
    /tmp/refenv/bin/pip install torch==2.9.1 'torchaudio==2.9.*' transformers==5.24.0 numpy soxr soundfile
    /tmp/refenv/bin/python scripts/make_chroma_fixtures.py

The inputs come from `chroma_cases()` in tests/signals.py (numpy only, seeded), so the test
tests/engine/test_chroma_fixtures.py regenerates the same samples and compares bridge.engine.chroma with
the stored outputs, without torchaudio. Stored per case: the inf-normalised chroma the extractor computes
just before its argmax (float32, (frames, 12)) and the argmax bins (int8, (frames,)), in one compressed
.npz; the JSON beside it records the versions and a SHA-256 of every input.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import sys
from pathlib import Path

import numpy as np
import torch
import torchaudio
import transformers
from transformers import MusicgenMelodyFeatureExtractor

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))
from signals import SR, chroma_cases  # noqa: E402  (the tests' own input generator)

OUT = REPO / "tests" / "engine" / "fixtures"


@contextlib.contextmanager
def capture_normalize(seen: list[torch.Tensor]):
    """Record what the extractor's inf-norm returns: its chroma before the argmax (the extractor then
    overwrites that tensor in place with the one-hot, hence the clone)."""
    original = torch.nn.functional.normalize

    def recording(*args, **kwargs):
        out = original(*args, **kwargs)
        seen.append(out.detach().clone())
        return out

    torch.nn.functional.normalize = recording
    try:
        yield
    finally:
        torch.nn.functional.normalize = original


def extract(fe: MusicgenMelodyFeatureExtractor, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(norm (frames, 12) float32, bins (frames,) int8) for mono (samples,) or stereo (2, samples)."""
    audio = [x] if x.ndim == 2 else x  # a list holding one (channels, samples) array = one stereo clip
    seen: list[torch.Tensor] = []
    with capture_normalize(seen):
        onehot = fe(audio, sampling_rate=SR, return_tensors="pt")["input_features"][0]  # (frames, 12)
    assert len(seen) == 1, len(seen)
    norm = seen[0][0].transpose(0, 1).float().numpy()  # (12, frames) => (frames, 12)
    bins = onehot.argmax(-1).numpy().astype(np.int8)
    assert np.array_equal(norm.argmax(-1), bins)
    return np.ascontiguousarray(norm), bins


def main() -> None:
    fe = MusicgenMelodyFeatureExtractor()  # the checkpoints' preprocessor_config: the defaults
    arrays: dict[str, np.ndarray] = {}
    meta: dict = {
        "extractor": "transformers.MusicgenMelodyFeatureExtractor()",
        "call": "fe(audio, sampling_rate=32000, return_tensors='pt'): inputs over 30 s are cut to 30 s",
        "versions": {
            "torch": torch.__version__,
            "torchaudio": torchaudio.__version__,
            "transformers": transformers.__version__,
            "numpy": np.__version__,
        },
        "cases": {},
    }
    for name, x in chroma_cases().items():
        norm, bins = extract(fe, x)
        arrays[f"{name}__norm"], arrays[f"{name}__bins"] = norm, bins
        meta["cases"][name] = {
            "shape": list(x.shape),
            "sha256": hashlib.sha256(np.ascontiguousarray(x, dtype=np.float32).tobytes()).hexdigest(),
            "frames": int(bins.shape[0]),
            "distinct_bins": int(len(set(bins.tolist()))),
        }
        print(f"{name:14s} {str(x.shape):14s} {bins.shape[0]:4d} frames, bins {sorted(set(bins.tolist()))}")
    OUT.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(OUT / "chroma_reference.npz", **arrays)
    (OUT / "chroma_reference.json").write_text(json.dumps(meta, indent=1) + "\n")
    print(f"wrote {OUT / 'chroma_reference.npz'} ({(OUT / 'chroma_reference.npz').stat().st_size} bytes)")


if __name__ == "__main__":
    main()
