"""Tests for bridge.engine.loading: the debug build, random weights, local directories, clear errors."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import torch
from tokenizers import Tokenizer, models, pre_tokenizers, processors
from transformers import EncodecModel, T5Config

from bridge.engine.archs import ARCHS, TextEncoderArch
from bridge.engine.loading import build_config, build_random_model, byte_tokenizer, load_engine, resolve_dtype
from bridge.engine.types import ModelError

REPO = Path(__file__).resolve().parents[2]


def test_debug_model_is_seeded_and_offline():
    a, b = build_random_model(ARCHS["debug"], seed=0), build_random_model(ARCHS["debug"], seed=0)
    for (name, p), (_, q) in zip(a.state_dict().items(), b.state_dict().items(), strict=True):
        assert torch.equal(p, q), name
    codebook = a.audio_encoder.quantizer.layers[0].codebook.embed
    assert codebook.abs().sum() > 0  # random codebooks: different codes decode to different audio


def test_byte_tokenizer_handles_any_text():
    tok = byte_tokenizer()
    ids = tok(["lo-fi 🎹 beat"], return_tensors="pt").input_ids
    assert ids[0, -1].item() == 1 and ids.max() < 260
    assert tok.decode(ids[0], skip_special_tokens=True) == "lo-fi 🎹 beat"


def test_local_directory_loads_through_from_pretrained(tmp_path):
    model = build_random_model(ARCHS["debug"], seed=3)
    model.save_pretrained(tmp_path)
    byte_tokenizer().save_pretrained(tmp_path)
    engine = load_engine(str(tmp_path), device="cpu")
    assert engine.melody and engine.name == str(tmp_path)
    ref = model.state_dict()["decoder.lm_heads.0.weight"]
    assert torch.equal(engine.model.state_dict()["decoder.lm_heads.0.weight"], ref)


@pytest.mark.parametrize(
    "name,match",
    [
        ("/nonexistent/model/dir", "does not exist"),
        ("someone/not-a-model", "--model debug"),
    ],
)
def test_missing_model_is_one_clear_message(name, match):
    with pytest.raises(ModelError, match=match) as info:
        load_engine(name, device="cpu")
    assert "\n" not in str(info.value)


def test_non_musicgen_directory_is_refused(tmp_path):
    T5Config().save_pretrained(tmp_path)
    with pytest.raises(ModelError, match="not MusicGen"):
        load_engine(str(tmp_path), device="cpu")


def test_dtype_choice():
    assert resolve_dtype(torch.device("cpu")) == torch.float32
    assert resolve_dtype(torch.device("cpu"), "bf16") == torch.bfloat16
    with pytest.raises(ModelError):
        resolve_dtype(torch.device("cpu"), "int3")


def test_unknown_architecture_for_random_weights():
    with pytest.raises(ModelError, match="unknown architecture"):
        load_engine("huge", random_weights=True)


def test_arch_table_matches_the_releases():
    assert (ARCHS["small"].hidden_size, ARCHS["small"].num_layers, ARCHS["small"].num_heads) == (1024, 24, 16)
    assert ARCHS["melody"].melody and ARCHS["melody"].ffn_dim == 4 * 1536
    assert (ARCHS["large"].hidden_size, ARCHS["large"].num_heads) == (2048, 32)
    assert ARCHS["melody"].text == TextEncoderArch()


def test_random_codec_has_no_conv_shortcuts_like_the_real_32khz_codec():
    """The real EnCodec 32 kHz config sets use_conv_shortcut=False: its residual blocks add their input as
    is. With transformers' default (True) a build carries 8 extra 1x1 convolutions (melody size: 700,160
    parameters), which skews codec timings."""
    codec = build_random_model(ARCHS["debug"], seed=0).audio_encoder
    assert codec.config.use_conv_shortcut is False
    assert not [k for k in codec.state_dict() if "shortcut" in k]
    with_shortcuts = build_config(ARCHS["debug"]).audio_encoder
    with_shortcuts.use_conv_shortcut = True
    extra = EncodecModel(with_shortcuts)
    shortcut_params = sum(p.numel() for n, p in extra.named_parameters() if "shortcut" in n)
    assert (
        shortcut_params > 0
        and len({n.split(".shortcut")[0] for n, _ in extra.named_parameters() if "shortcut" in n}) == 8
    )
    count = sum(p.numel() for p in codec.parameters())
    assert count == sum(p.numel() for p in extra.parameters()) - shortcut_params


def test_byte_tokenizer_ids_do_not_depend_on_the_process():
    """tokenizers' ByteLevel.alphabet() is a Rust hash set, in a new order in every process: the ids follow
    the sorted alphabet instead ("!" is its smallest character, then the printable ASCII up to "~")."""
    vocab = byte_tokenizer().get_vocab()
    assert vocab["!"] == 3 and vocab["~"] == 3 + 93
    letters = sorted((ch for ch in vocab if len(ch) == 1), key=vocab.get)
    assert letters == sorted(letters)


def test_same_seed_same_audio_in_two_processes(tmp_path):
    """`generate --model debug --seed 7` in two processes (different hash seeds, run side by side) writes
    the same samples: the debug build, its tokenizer and the sampling are all seeded."""
    argv = ["generate", "dusty boom bap drums", "--model", "debug", "--seed", "7", "--bpm", "120"]
    argv += ["--bars", "1", "--sample-rate", "32000", "--grid", "off", "--quiet"]
    runs = []
    for i, hash_seed in enumerate(("1", "2")):
        env = {**os.environ, "PYTHONHASHSEED": hash_seed}
        out = tmp_path / str(i)
        cmd = [sys.executable, "-m", "bridge.cli", *argv, "--out", str(out)]
        runs.append(
            (out, subprocess.Popen(cmd, cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE))
        )
    takes = []
    for out, proc in runs:
        _, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, err.decode()[-2000:]
        (wav,) = out.glob("*.wav")
        samples, rate = sf.read(wav, dtype="float32")
        takes.append((wav.name, samples, rate))
    (name_a, a, rate_a), (name_b, b, rate_b) = takes
    assert name_a == name_b and rate_a == rate_b == 32000 and a.shape == b.shape and np.abs(a).max() > 0
    assert np.array_equal(a, b)


def t5_style_tokenizer_files(folder: Path) -> None:
    """What the releases ship for their T5 tokenizer: tokenizer.json (a Unigram model) plus a
    tokenizer_config.json naming T5Tokenizer; no spiece.model."""
    pieces = [("<pad>", 0.0), ("</s>", 0.0), ("<unk>", 0.0)] + [
        (c, -1.0) for c in "▁abcdefghijklmnopqrstuvwxyz"
    ]
    tok = Tokenizer(models.Unigram(pieces, unk_id=2))
    tok.pre_tokenizer = pre_tokenizers.Metaspace()
    tok.post_processor = processors.TemplateProcessing(single="$A </s>", special_tokens=[("</s>", 1)])
    tok.save(str(folder / "tokenizer.json"))
    special = {"pad_token": "<pad>", "eos_token": "</s>", "unk_token": "<unk>"}
    (folder / "tokenizer_config.json").write_text(json.dumps({"tokenizer_class": "T5Tokenizer", **special}))
    (folder / "special_tokens_map.json").write_text(json.dumps(special))


def test_a_checkpoint_loads_without_sentencepiece(tmp_path, monkeypatch):
    """sentencepiece is not a dependency: a checkpoint's T5 tokenizer loads from tokenizer.json."""
    build_random_model(ARCHS["debug"], seed=0).save_pretrained(tmp_path)
    t5_style_tokenizer_files(tmp_path)
    monkeypatch.setitem(sys.modules, "sentencepiece", None)  # any `import sentencepiece` now fails
    engine = load_engine(str(tmp_path), device="cpu")
    ids = engine.text_inputs("deep house", 1)["input_ids"][0].tolist()
    assert ids[-1] == 1 and 2 not in ids  # every letter known, </s> last


def test_saved_stereo_checkpoint_loads_by_path(tmp_path):
    """A stereo release saved with save_pretrained (audio_channels 2, 8 codebooks) passes the config check
    and loads as a stereo engine."""
    model = build_random_model(ARCHS["debug-stereo"], seed=4)
    model.save_pretrained(tmp_path)
    byte_tokenizer().save_pretrained(tmp_path)
    engine = load_engine(str(tmp_path), device="cpu")
    assert (engine.channels, engine.num_codebooks, engine.melody) == (2, 8, True)
    ref = model.state_dict()["decoder.lm_heads.7.weight"]
    assert torch.equal(engine.model.state_dict()["decoder.lm_heads.7.weight"], ref)
