"""What a checkpoint is, read from its config.json alone, before any weight is loaded.

`find_config(name)` reads the config of a local directory or of a hub id in the Hugging Face cache (or
downloads just that file); `check_config` refuses what our decoder cannot run (another model type, a
codec that is not the 32 kHz EnCodec, more than 2 channels, another codebook count) in well under a
second, naming what is supported, instead of after gigabytes of weights. `download_hint` is the one
command that fetches only the files loading reads.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path

import huggingface_hub

from bridge.engine.types import HOP, SAMPLE_RATE, ModelError

MODEL_TYPES = ("musicgen", "musicgen_melody")
CODEBOOKS_PER_CHANNEL = 4  # EnCodec 32 kHz at 2.2 kbps
SUPPORTED = (
    "supported: MusicGen checkpoints (model_type musicgen or musicgen_melody) with the 32 kHz EnCodec "
    f"(hop {HOP}), audio_channels 1 (mono) or 2 (stereo) and {CODEBOOKS_PER_CHANNEL} codebooks per "
    "channel, i.e. facebook/musicgen-{small,medium,large,melody,melody-large} and "
    "facebook/musicgen-stereo-{small,medium,large,melody,melody-large}"
)
# Only what loading reads: config.json, generation_config.json, model.safetensors (or its shards and
# model.safetensors.index.json), tokenizer.json, tokenizer_config.json, special_tokens_map.json and
# preprocessor_config.json. A full download also fetches several GB of legacy .bin weights.
INCLUDE = ('"*.json"', '"*.safetensors"')
# transformers' defaults for the keys a config.json may leave out (MusicgenDecoderConfig and
# MusicgenMelodyDecoderConfig alike; EncodecConfig). Written out because importing those classes costs
# about a second; tests/engine/test_checkpoint.py checks them against the installed transformers.
DECODER_DEFAULTS = {"audio_channels": 1, "num_codebooks": 4}
CODEC_DEFAULTS = {"sampling_rate": 24000, "upsampling_ratios": (8, 5, 4, 2), "audio_channels": 1}


@dataclass(frozen=True)
class CheckpointInfo:
    model_type: str
    melody: bool  # MusicGen-Melody: chroma conditioning
    channels: int  # 1 mono, 2 stereo (the two channels' codebooks interleaved)
    num_codebooks: int  # the decoder's codebooks, all channels together


def download_command(name: str, local_dir: str | None = None) -> str:
    """The `hf` command (huggingface_hub's CLI; it no longer ships `huggingface-cli`) for `name`."""
    cmd = f"hf download {name} " + " ".join(f"--include {p}" for p in INCLUDE)
    return cmd + (f" --local-dir {local_dir}" if local_dir else "")


def hub_cache() -> str:
    """The cache from_pretrained and the `hf` command use (HF_HUB_CACHE, HF_HOME/hub, ~/.cache/...)."""
    return huggingface_hub.constants.HF_HUB_CACHE


def download_hint(name: str) -> str:
    return (
        f"could not load model {name!r}: it is not a local directory and not in the Hugging Face cache "
        f"({hub_cache()}), and it could not be downloaded. On a machine with network run "
        f"`{download_command(name)}` (config, safetensors weights, tokenizer and processor files only), "
        f"or copy the folder and pass --model /path/to/it, "
        f"or try the pipeline without weights using --model debug"
    )


def cached_config(repo_id: str) -> Path | None:
    """config.json of `repo_id` in the HF cache, without touching the network; None if not cached."""
    try:
        found = huggingface_hub.try_to_load_from_cache(repo_id, "config.json")
    except ValueError:  # not a valid repo id
        return None
    return Path(found) if isinstance(found, str) else None


def read_config(path: Path, name: str) -> dict:
    try:
        with open(path, encoding="utf-8") as f:
            cfg = json.load(f)
    except (OSError, ValueError) as e:
        raise ModelError(f"model {name!r}: cannot read {path} ({type(e).__name__}: {e})") from e
    if not isinstance(cfg, dict):
        raise ModelError(f"model {name!r}: {path} is not a config object")
    return cfg


def _sub(cfg: dict, key: str, name: str) -> dict:
    sub = cfg.get(key)
    if not isinstance(sub, dict):
        raise ModelError(f"model {name!r}: config.json has no {key!r} section; {SUPPORTED}")
    return sub


def check_config(cfg: dict, name: str) -> CheckpointInfo:
    """Refuse a config our decoder cannot run; missing keys take transformers' defaults, as loading would."""
    model_type = cfg.get("model_type")
    if model_type not in MODEL_TYPES:
        raise ModelError(f"model {name!r} is a {model_type!r} model, not MusicGen; {SUPPORTED}")
    dec, codec = _sub(cfg, "decoder", name), _sub(cfg, "audio_encoder", name)
    dec, codec = {**DECODER_DEFAULTS, **dec}, {**CODEC_DEFAULTS, **codec}
    channels, k = dec["audio_channels"], dec["num_codebooks"]
    rate, ratios, codec_channels = codec["sampling_rate"], codec["upsampling_ratios"], codec["audio_channels"]
    problems = []
    if channels not in (1, 2):
        problems.append(f"audio_channels {channels!r}")
    if rate != SAMPLE_RATE:
        problems.append(f"a {rate!r} Hz codec (not {SAMPLE_RATE})")
    elif (
        not isinstance(ratios, (list, tuple))
        or not all(isinstance(r, int) for r in ratios)
        or math.prod(ratios) != HOP
    ):
        problems.append(f"codec upsampling_ratios {ratios!r} (hop not {HOP})")
    if codec_channels != 1:
        problems.append(f"a {codec_channels!r}-channel codec (stereo releases code each channel apart)")
    if channels in (1, 2) and k != CODEBOOKS_PER_CHANNEL * channels:
        problems.append(f"{k!r} codebooks for {channels} channel(s)")
    if problems:
        raise ModelError(f"model {name!r} cannot run here: it has {', '.join(problems)}; {SUPPORTED}")
    return CheckpointInfo(model_type, model_type == "musicgen_melody", channels, k)


def preflight(name: str) -> None:
    """Refuse a checkpoint we cannot run from its config alone, before torch or transformers are even
    imported (`bridge.cli` calls this; ModelError names what is supported): a local folder's config.json,
    or one already in the HF cache. Anything else (not downloaded yet, a typo) is left to loading, which
    says what to do."""
    local = Path(name).expanduser()
    if local.is_dir():
        path: Path | None = local / "config.json"
    else:
        path = cached_config(name) if "/" in name else None
    if path is not None and path.is_file():
        check_config(read_config(path, name), name)
