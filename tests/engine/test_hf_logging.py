"""Tests for bridge.engine.hf_logging: exactly MusicGen's pad/bos warnings are dropped, all else passes."""

from __future__ import annotations

import logging
import subprocess
import sys
from pathlib import Path

from bridge.engine.archs import ARCHS
from bridge.engine.hf_logging import EMITTING_LOGGER, silence_pad_bos_warnings
from bridge.engine.loading import build_random_model, byte_tokenizer

REPO = Path(__file__).resolve().parents[2]


def pad_bos(name: str, top: int, got: int) -> str:  # the text of transformers 5's validate_token_ids
    return (
        f"Model config: {name} must be `None` or an integer within the vocabulary (between 0 "
        f"and {top}), got {got}. This may result in unexpected behavior."
    )


class Collect(logging.Handler):
    def __init__(self):
        super().__init__()
        self.messages: list[str] = []

    def emit(self, record):
        self.messages.append(record.getMessage())


def test_filter_drops_pad_bos_at_vocab_size_and_passes_the_rest():
    silence_pad_bos_warnings()
    silence_pad_bos_warnings()  # idempotent
    logger = logging.getLogger(EMITTING_LOGGER)
    assert len(logger.filters) == len(set(map(id, logger.filters)))
    seen = Collect()
    logger.addHandler(seen)
    try:
        logger.warning(pad_bos("pad_token_id", 2047, 2048))
        logger.warning(pad_bos("bos_token_id", 2047, 2048))
        kept = [
            pad_bos("pad_token_id", 2047, -1),  # a broken config: still reported
            pad_bos("pad_token_id", 2047, 4096),
            pad_bos("eos_token_id", 2047, 2048),
            "Some other config warning",
        ]
        for message in kept:
            logger.warning(message)
    finally:
        logger.removeHandler(seen)
    assert seen.messages == kept


def test_a_real_load_prints_no_pad_bos_warning(tmp_path):
    """A saved checkpoint loaded in a fresh process (transformers warns once per process): the pad/bos
    lines are gone, and another warning on the same logger still reaches stderr."""
    build_random_model(ARCHS["debug"], seed=0).save_pretrained(tmp_path)
    byte_tokenizer().save_pretrained(tmp_path)
    code = (
        "import logging, sys\n"
        "from bridge.engine.loading import load_engine\n"
        "load_engine(sys.argv[1], device='cpu')\n"
        f"logging.getLogger({EMITTING_LOGGER!r}).warning('still heard')\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, str(tmp_path)], cwd=REPO, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert "still heard" in done.stderr
    assert "pad_token_id" not in done.stderr and "bos_token_id" not in done.stderr
