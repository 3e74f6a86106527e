"""Tests for bridge.engine.checkpoint: a checkpoint's config is checked before any weight is read."""

from __future__ import annotations

import json
import subprocess
import sys
import time

import huggingface_hub
import pytest
import transformers as tf

from bridge.engine.archs import ARCHS
from bridge.engine.checkpoint import (
    CODEC_DEFAULTS,
    DECODER_DEFAULTS,
    check_config,
    download_command,
    download_hint,
)
from bridge.engine.loading import build_config, load_engine
from bridge.engine.types import ModelError


def saved_config(tmp_path, arch: str = "debug", **edits) -> dict:
    """config.json of a random build, written alone (no weights, no tokenizer), with `edits` applied:
    keys "decoder.audio_channels" etc. address the sub-configs."""
    build_config(ARCHS[arch]).save_pretrained(tmp_path)
    path = tmp_path / "config.json"
    cfg = json.loads(path.read_text())
    for key, value in edits.items():
        *parents, leaf = key.split(".")
        node = cfg
        for p in parents:
            node = node[p]
        node[leaf] = value
    path.write_text(json.dumps(cfg))
    return cfg


@pytest.fixture
def no_weights(monkeypatch):
    """from_pretrained must not be reached: refusing means refusing before the weights load."""

    def forbidden(*args, **kwargs):
        raise AssertionError("weights were loaded before the config was checked")

    for cls in (tf.MusicgenForConditionalGeneration, tf.MusicgenMelodyForConditionalGeneration):
        monkeypatch.setattr(cls, "from_pretrained", forbidden)


@pytest.mark.parametrize(
    "edits,match",
    [
        ({"audio_encoder.sampling_rate": 48000}, "48000 Hz codec"),
        ({"decoder.audio_channels": 3}, "audio_channels 3"),
        ({"decoder.num_codebooks": 6}, "6 codebooks for 1 channel"),
        ({"audio_encoder.upsampling_ratios": [8, 5, 4, 2]}, "hop not 640"),
        ({"model_type": "bark"}, "'bark' model, not MusicGen"),
    ],
)
def test_unsupported_config_is_refused_before_weights(tmp_path, no_weights, edits, match):
    saved_config(tmp_path, **edits)
    start = time.monotonic()
    with pytest.raises(ModelError, match=match) as info:
        load_engine(str(tmp_path), device="cpu")
    message = str(info.value)
    assert "supported: MusicGen" in message and "musicgen-stereo-" in message and "\n" not in message
    assert time.monotonic() - start < 5  # the config alone: no weights exist in tmp_path at all


def test_stereo_config_passes_the_check(tmp_path):
    info = check_config(saved_config(tmp_path, "debug-stereo"), "x")
    assert (info.channels, info.num_codebooks, info.melody) == (2, 8, True)
    info = check_config(saved_config(tmp_path, "small"), "x")
    assert (info.channels, info.num_codebooks, info.melody, info.model_type) == (1, 4, False, "musicgen")


def test_missing_keys_take_transformers_defaults(tmp_path):
    cfg = saved_config(tmp_path)
    del cfg["audio_encoder"]["sampling_rate"]  # EncodecConfig's default is 24 kHz: not ours
    with pytest.raises(ModelError, match="24000 Hz"):
        check_config(cfg, "x")
    cfg = saved_config(tmp_path)
    del cfg["decoder"]["audio_channels"], cfg["decoder"]["num_codebooks"]  # defaults: mono, 4
    assert check_config(cfg, "x").channels == 1


def test_directory_without_config_is_one_clear_message(tmp_path, no_weights):
    (tmp_path / "model.safetensors").write_bytes(b"")
    with pytest.raises(ModelError, match="no config.json") as info:
        load_engine(str(tmp_path), device="cpu")
    assert "hf download" in str(info.value)


def test_directory_without_weights_names_the_files(tmp_path):
    saved_config(tmp_path)  # a valid config, nothing else
    with pytest.raises(ModelError, match="safetensors weights and tokenizer.json"):
        load_engine(str(tmp_path), device="cpu")


def test_download_hint_fetches_only_what_loading_reads():
    cmd = download_command("facebook/musicgen-melody")
    # huggingface_hub's CLI is `hf` now; --include takes one pattern per flag (a second bare pattern would
    # be read as a file name and --include ignored)
    assert cmd == 'hf download facebook/musicgen-melody --include "*.json" --include "*.safetensors"'
    hint = download_hint("facebook/musicgen-melody")
    assert cmd in hint and "huggingface-cli" not in hint and "--model debug" in hint


def test_cached_hub_id_is_checked_before_weights(tmp_path, monkeypatch, no_weights):
    """A hub id whose config sits in the HF cache (the layout `hf download` leaves) is refused offline."""
    snapshot = tmp_path / "models--someone--musicgen-48k" / "snapshots" / "0123abc"
    snapshot.mkdir(parents=True)
    (tmp_path / "models--someone--musicgen-48k" / "refs").mkdir()
    (tmp_path / "models--someone--musicgen-48k" / "refs" / "main").write_text("0123abc")
    saved_config(snapshot, **{"audio_encoder.sampling_rate": 48000})
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_CACHE", str(tmp_path))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(ModelError, match="48000 Hz codec"):
        load_engine("someone/musicgen-48k", device="cpu")


def test_written_out_defaults_are_transformers_own():
    for cls in (tf.MusicgenDecoderConfig, tf.MusicgenMelodyDecoderConfig):
        assert {k: getattr(cls(), k) for k in DECODER_DEFAULTS} == DECODER_DEFAULTS
    codec = tf.EncodecConfig()
    assert {k: getattr(codec, k) for k in CODEC_DEFAULTS} == CODEC_DEFAULTS


def test_the_cli_refuses_an_unsupported_checkpoint_before_importing_torch(tmp_path):
    saved_config(tmp_path / "ckpt", **{"audio_encoder.sampling_rate": 48000})
    code = (
        "import sys; from bridge.cli import main; rc = main(sys.argv[1:]); "
        "print(rc, sorted({'torch', 'transformers', 'numpy'} & set(sys.modules)))"
    )
    argv = ["generate", "x", "--bpm", "120", "--bars", "1", "--model", str(tmp_path / "ckpt"), "--out", str(tmp_path)]
    done = subprocess.run([sys.executable, "-c", code, *argv], capture_output=True, text=True, timeout=60)
    assert done.stdout.strip() == "2 []", done.stderr
    assert done.stderr.startswith("error: model ") and "48000 Hz codec" in done.stderr
