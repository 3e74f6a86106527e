"""Loading a model into an `Engine`: devices and dtypes, random-weight builds, local or hub checkpoints.

`load_engine(name)` accepts a hub id (default facebook/musicgen-melody), a local directory, the HF cache,
or an architecture name from `bridge.engine.archs` ("debug", or "small"/"melody"/... with
`random_weights`), which is built in-process from configs with random weights: no network, no download.
"""

from __future__ import annotations

import os
import socket
from pathlib import Path

import huggingface_hub
import torch
import transformers as tf
from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors
from transformers import PreTrainedTokenizerFast

from bridge.engine.archs import ARCHS, RANDOM_BUILDS, Arch
from bridge.engine.checkpoint import cached_config, check_config, download_command, download_hint, read_config
from bridge.engine.engine import Engine
from bridge.engine.hf_generate import quiet_transformers
from bridge.engine.hf_logging import silence_pad_bos_warnings
from bridge.engine.types import MAX_WINDOW_FRAMES, SAMPLE_RATE, ModelError, delay_steps
from bridge.limits import DEFAULT_CFG, DEFAULT_TOP_K

# --------------------------------------------------------------------------------------------- devices


def resolve_device(device: str | None = None) -> torch.device:
    if device in (None, "auto"):
        if torch.cuda.is_available():
            return torch.device("cuda")
        if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    try:
        dev = torch.device(device)
    except RuntimeError as e:
        raise ModelError(f"unknown device {device!r} (use cpu, cuda, cuda:N or mps)") from e
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise ModelError("device 'cuda' requested but no CUDA GPU is available")
    return dev


_DTYPES = {
    "float32": torch.float32,
    "fp32": torch.float32,
    "bfloat16": torch.bfloat16,
    "bf16": torch.bfloat16,
    "float16": torch.float16,
    "fp16": torch.float16,
}


def resolve_dtype(device: torch.device, dtype: str | None = None) -> torch.dtype:
    """cuda => bf16 where supported else fp16; mps => fp16; cpu => fp32 (half is slow on CPUs)."""
    if dtype not in (None, "auto"):
        if dtype not in _DTYPES:
            raise ModelError(f"unknown dtype {dtype!r} (use {', '.join(sorted(_DTYPES))})")
        return _DTYPES[dtype]
    if device.type == "cuda":
        return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
    if device.type == "mps":
        return torch.float16
    return torch.float32


# ------------------------------------------------------------------------------------ random-weight builds


def byte_tokenizer():
    """A T5-shaped tokenizer built in memory: one token per UTF-8 byte, then </s>. No files, no network."""
    vocab = {"<pad>": 0, "</s>": 1, "<unk>": 2}
    # alphabet() comes from a Rust hash set whose order changes per process: sorted, the ids (and so a
    # seeded debug take) are the same in every process
    vocab.update({ch: i + 3 for i, ch in enumerate(sorted(pre_tokenizers.ByteLevel.alphabet()))})
    tok = Tokenizer(models.BPE(vocab=vocab, merges=[], unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.post_processor = processors.TemplateProcessing(single="$A </s>", special_tokens=[("</s>", 1)])
    tok.decoder = decoders.ByteLevel()
    return PreTrainedTokenizerFast(
        tokenizer_object=tok, pad_token="<pad>", eos_token="</s>", unk_token="<unk>"
    )


def build_config(arch: Arch):
    """transformers config objects for an architecture in `bridge.engine.archs`."""
    t = arch.text
    text = tf.T5Config(
        vocab_size=t.vocab_size,
        d_model=t.d_model,
        d_kv=t.d_kv,
        d_ff=t.d_ff,
        num_layers=t.num_layers,
        num_heads=t.num_heads,
        decoder_start_token_id=0,
        pad_token_id=0,
        eos_token_id=1,
    )
    c = arch.codec
    codec = tf.EncodecConfig(
        sampling_rate=SAMPLE_RATE,
        audio_channels=1,
        target_bandwidths=[2.2],
        upsampling_ratios=list(c.upsampling_ratios),
        num_filters=c.num_filters,
        hidden_size=c.hidden_size,
        codebook_dim=c.codebook_dim,
        codebook_size=arch.vocab_size,
        num_lstm_layers=c.num_lstm_layers,
        use_causal_conv=False,
        use_conv_shortcut=False,  # the real 32 kHz codec's residual blocks add the input as is (no 1x1 conv)
        norm_type="weight_norm",
        normalize=False,
        pad_mode="reflect",
    )
    dec_kwargs = dict(
        vocab_size=arch.vocab_size,
        hidden_size=arch.hidden_size,
        num_hidden_layers=arch.num_layers,
        num_attention_heads=arch.num_heads,
        ffn_dim=arch.ffn_dim,
        num_codebooks=arch.num_codebooks,
        audio_channels=arch.audio_channels,
        max_position_embeddings=2048,
        pad_token_id=arch.vocab_size,
        bos_token_id=arch.vocab_size,
        dropout=0.1,
        activation_function="gelu",
    )
    if arch.melody:
        dec = tf.MusicgenMelodyDecoderConfig(**dec_kwargs)
        return tf.MusicgenMelodyConfig(text_encoder=text, audio_encoder=codec, decoder=dec)
    dec = tf.MusicgenDecoderConfig(**dec_kwargs)
    return tf.MusicgenConfig(text_encoder=text, audio_encoder=codec, decoder=dec)


def build_random_model(arch: Arch, seed: int = 0):
    """Instantiate the real transformers classes for `arch` with seeded random weights (fp32, CPU)."""
    cls = tf.MusicgenMelodyForConditionalGeneration if arch.melody else tf.MusicgenForConditionalGeneration
    with quiet_transformers():
        config = build_config(arch)
        fork = torch.random.fork_rng(devices=[])
        with fork:
            torch.manual_seed(seed)
            model = cls(config)
            randomize_codebooks(model.audio_encoder)
    gc = model.generation_config
    gc.decoder_start_token_id = gc.pad_token_id = gc.bos_token_id = arch.vocab_size
    gc.do_sample, gc.guidance_scale, gc.top_k = True, DEFAULT_CFG, DEFAULT_TOP_K
    # BOS + a full window's steps
    gc.max_length = 1 + delay_steps(MAX_WINDOW_FRAMES, arch.num_codebooks, arch.audio_channels)
    return model.eval()


@torch.no_grad()
def randomize_codebooks(codec) -> None:
    """EnCodec's random init leaves every codebook at zero, so all codes would decode to the same audio.

    Fill them with unit-variance vectors (uses the global RNG: seed it first) so a random-weight codec maps
    different codes to different audio, as a trained one does.
    """
    for layer in codec.quantizer.layers:
        layer.codebook.embed.normal_()
        layer.codebook.embed_avg.copy_(layer.codebook.embed)


# ----------------------------------------------------------------------------------------- loading


def _hub_reachable(host: str = "huggingface.co", timeout: float = 3.0) -> bool:
    """One quick TCP connect, so a machine without network fails in seconds, not after minutes of retries."""
    try:
        with socket.create_connection((host, 443), timeout=timeout):
            return True
    except OSError:
        return False


def _load_pretrained(name: str):
    """from_pretrained from a directory, the HF cache, or the hub; returns (model, tokenizer, is_melody).

    The config is read and checked first (`bridge.engine.checkpoint`): a checkpoint we cannot run is
    refused before a single weight is read."""
    local = Path(name).expanduser()
    if not local.is_dir() and (name.startswith((".", "/", "~")) or os.sep in name.replace("/", "", 1)):
        raise ModelError(f"model directory {local} does not exist (or use a hub id, or --model debug)")
    attempts = [True]  # the directory or the HF cache first
    if local.is_dir():
        source, config_path = str(local), local / "config.json"
        if not config_path.is_file():
            raise ModelError(
                f"model directory {local} has no config.json, so it is not a saved MusicGen checkpoint "
                f"(fetch one with e.g. `{download_command('facebook/musicgen-melody', str(local))}`)"
            )
    else:
        source, config_path = name, cached_config(name)
        if not os.environ.get("HF_HUB_OFFLINE") and "/" in name and _hub_reachable():
            attempts.append(False)
        if config_path is None:
            if len(attempts) == 1:
                raise ModelError(download_hint(name))
            try:  # the config alone (a few kB), to check it before the weights are fetched
                config_path = Path(huggingface_hub.hf_hub_download(name, "config.json"))
            except Exception as e:  # HTTP errors, unknown repo
                raise ModelError(download_hint(name) + f" ({type(e).__name__}: {_first_line(e)})") from e
    info = check_config(read_config(config_path, name), name)
    cls = tf.MusicgenMelodyForConditionalGeneration if info.melody else tf.MusicgenForConditionalGeneration
    last: Exception | None = None
    for local_only in attempts:
        try:
            model = cls.from_pretrained(source, local_files_only=local_only)
            tokenizer = tf.AutoTokenizer.from_pretrained(source, local_files_only=local_only)
            return model.eval(), tokenizer, info.melody
        except Exception as e:  # OSError, HTTP errors, missing files: all mean "not available here"
            last = e
    detail = f" ({type(last).__name__}: {_first_line(last)})"
    if local.is_dir():
        raise ModelError(
            f"could not load model from {local}: it needs config.json, the .safetensors weights and "
            f"tokenizer.json (e.g. `{download_command('facebook/musicgen-melody', str(local))}`){detail}"
        )
    raise ModelError(download_hint(name) + detail)


def _first_line(e: BaseException | None) -> str:
    return str(e).splitlines()[0][:200] if e is not None and str(e) else ""


def load_engine(
    name: str,
    device: str | None = None,
    dtype: str | None = None,
    random_weights: bool = False,
    seed: int = 0,
) -> Engine:
    """Load `name`: "debug", an arch name with random_weights=True, a local dir, or a hub id."""
    silence_pad_bos_warnings()
    dev = resolve_device(device)
    dt = resolve_dtype(dev, dtype)
    if name in RANDOM_BUILDS or (random_weights and name in ARCHS):
        arch = ARCHS[name]
        model = build_random_model(arch, seed=seed)
        tokenizer = byte_tokenizer()
        melody = arch.melody
        label = name if name in RANDOM_BUILDS else f"{name} (random weights)"
    elif random_weights:
        raise ModelError(f"unknown architecture {name!r}; choose one of {', '.join(ARCHS)}")
    else:
        if name in ARCHS and ARCHS[name].hub_id and not Path(name).is_dir():
            name = ARCHS[name].hub_id  # "melody" => facebook/musicgen-melody
        model, tokenizer, melody = _load_pretrained(name)
        label = name
    return Engine(model, tokenizer, melody=melody, device=dev, dtype=dt, name=label)
