"""Model loading and conditioning for MusicGen(-Melody) through Hugging Face transformers.

`load_engine(name)` accepts a hub id (default facebook/musicgen-melody), a local directory, the HF cache,
or an architecture name from `bridge.archs` ("debug", or "small"/"melody"/... with `random_weights`),
which is built in-process from configs with random weights: no network, no download.

An `Engine` owns one model and knows how to turn a prompt, a chroma sequence and audio-prompt codes into
new EnCodec codes (through `bridge.decoder` or transformers' own `generate`) and codes back into audio.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from bridge.engine.archs import ARCHS, Arch
from bridge.limits import DEFAULT_CFG, DEFAULT_TEMPERATURE, DEFAULT_TOP_K, DEFAULT_TOP_P, MODEL_SAMPLE_RATE

log = logging.getLogger(__name__)

SAMPLE_RATE = MODEL_SAMPLE_RATE  # Hz, EnCodec 32 kHz
FRAME_RATE = 50  # EnCodec frames (decoder steps) per second
HOP = SAMPLE_RATE // FRAME_RATE  # 640 samples per frame
MAX_WINDOW_FRAMES = 1500  # 30 s: the context MusicGen was trained on

StepCallback = Callable[[int, int], None]  # (steps done, steps total)
FramesCallback = Callable[[int, torch.Tensor], None]  # (index of the first new frame, codes (B, K, n))


class ModelError(RuntimeError):
    """The model cannot be loaded or cannot do what was asked (e.g. melody on a text-only checkpoint)."""


class Cancelled(Exception):
    """Raised inside generation when the caller's cancel event is set."""


@dataclass(frozen=True)
class Sampling:
    """Sampling settings; audiocraft's defaults. temperature 0 means greedy (argmax)."""

    temperature: float = DEFAULT_TEMPERATURE
    top_k: int = DEFAULT_TOP_K
    top_p: float = DEFAULT_TOP_P
    cfg: float = DEFAULT_CFG

    @property
    def greedy(self) -> bool:
        return self.temperature <= 0


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
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors
    from transformers import PreTrainedTokenizerFast

    vocab = {"<pad>": 0, "</s>": 1, "<unk>": 2}
    vocab.update({ch: i + 3 for i, ch in enumerate(pre_tokenizers.ByteLevel.alphabet())})
    tok = Tokenizer(models.BPE(vocab=vocab, merges=[], unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.post_processor = processors.TemplateProcessing(single="$A </s>", special_tokens=[("</s>", 1)])
    tok.decoder = decoders.ByteLevel()
    return PreTrainedTokenizerFast(
        tokenizer_object=tok, pad_token="<pad>", eos_token="</s>", unk_token="<unk>"
    )


def build_config(arch: Arch):
    """transformers config objects for an architecture in `bridge.archs`."""
    import transformers as tf

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
    import transformers as tf

    cls = tf.MusicgenMelodyForConditionalGeneration if arch.melody else tf.MusicgenForConditionalGeneration
    with _quiet_transformers():
        config = build_config(arch)
        fork = torch.random.fork_rng(devices=[])
        with fork:
            torch.manual_seed(seed)
            model = cls(config)
            randomize_codebooks(model.audio_encoder)
    gc = model.generation_config
    gc.decoder_start_token_id = gc.pad_token_id = gc.bos_token_id = arch.vocab_size
    gc.do_sample, gc.guidance_scale, gc.top_k = True, DEFAULT_CFG, DEFAULT_TOP_K
    gc.max_length = MAX_WINDOW_FRAMES + arch.num_codebooks
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


class _quiet_transformers:
    """transformers warns that pad/bos id 2048 lies outside the 2048-code vocabulary; it is by design."""

    def __enter__(self):
        import transformers

        self._level = transformers.logging.get_verbosity()
        transformers.logging.set_verbosity_error()

    def __exit__(self, *exc):
        import transformers

        transformers.logging.set_verbosity(self._level)


# ----------------------------------------------------------------------------------------- loading


def _hub_hint(name: str) -> str:
    cache = os.environ.get("HF_HUB_CACHE") or os.path.join(
        os.environ.get("HF_HOME", os.path.expanduser("~/.cache/huggingface")), "hub"
    )
    return (
        f"could not load model {name!r}: it is not a local directory and not in the Hugging Face cache "
        f"({cache}), and it could not be downloaded. On a machine with network run "
        f"`huggingface-cli download {name}` (or copy the folder and pass --model /path/to/it), "
        f"or try the pipeline without weights using --model debug"
    )


def _hub_reachable(host: str = "huggingface.co", timeout: float = 3.0) -> bool:
    """One quick TCP connect, so a machine without network fails in seconds, not after minutes of retries."""
    import socket

    try:
        with socket.create_connection((host, 443), timeout=timeout):
            return True
    except OSError:
        return False


def _load_pretrained(name: str):
    """from_pretrained from a directory, the HF cache, or the hub; returns (model, tokenizer, is_melody)."""
    import transformers as tf

    local = Path(name).expanduser()
    if not local.is_dir() and (name.startswith((".", "/", "~")) or os.sep in name.replace("/", "", 1)):
        raise ModelError(f"model directory {local} does not exist (or use a hub id, or --model debug)")
    source = str(local) if local.is_dir() else name
    attempts = [True]  # the directory or the HF cache first
    if not local.is_dir() and not os.environ.get("HF_HUB_OFFLINE") and "/" in name and _hub_reachable():
        attempts.append(False)
    last: Exception | None = None
    for local_only in attempts:
        try:
            config = tf.AutoConfig.from_pretrained(source, local_files_only=local_only)
            if config.model_type == "musicgen_melody":
                cls, melody = tf.MusicgenMelodyForConditionalGeneration, True
            elif config.model_type == "musicgen":
                cls, melody = tf.MusicgenForConditionalGeneration, False
            else:
                raise ModelError(f"model {name!r} is a {config.model_type!r} model, not MusicGen")
            model = cls.from_pretrained(source, local_files_only=local_only)
            tokenizer = tf.AutoTokenizer.from_pretrained(source, local_files_only=local_only)
            return model.eval(), tokenizer, melody
        except ModelError:
            raise
        except Exception as e:  # OSError, HTTP errors, missing files: all mean "not available here"
            last = e
    raise ModelError(_hub_hint(name) + f" ({type(last).__name__}: {str(last).splitlines()[0][:200]})")


def load_engine(
    name: str,
    device: str | None = None,
    dtype: str | None = None,
    random_weights: bool = False,
    seed: int = 0,
) -> Engine:
    """Load `name`: "debug", an arch name with random_weights=True, a local dir, or a hub id."""
    dev = resolve_device(device)
    dt = resolve_dtype(dev, dtype)
    if name == "debug" or (random_weights and name in ARCHS):
        arch = ARCHS[name]
        model = build_random_model(arch, seed=seed)
        tokenizer = byte_tokenizer()
        melody = arch.melody
        label = name if name == "debug" else f"{name} (random weights)"
    elif random_weights:
        raise ModelError(f"unknown architecture {name!r}; choose one of {', '.join(ARCHS)}")
    else:
        if name in ARCHS and ARCHS[name].hub_id and not Path(name).is_dir():
            name = ARCHS[name].hub_id  # "melody" => facebook/musicgen-melody
        model, tokenizer, melody = _load_pretrained(name)
        label = name
    return Engine(model, tokenizer, melody=melody, device=dev, dtype=dt, name=label)


# ------------------------------------------------------------------------------------------ engine


class Engine:
    """One loaded model. Thread-compatible: callers serialise generation (one GPU worker)."""

    def __init__(
        self, model, tokenizer, *, melody: bool, device: torch.device, dtype: torch.dtype, name: str
    ):
        model.to(device=device, dtype=dtype)
        model.audio_encoder.to(torch.float32)  # EnCodec's LSTM and convs stay fp32: cheap, and safer numerics
        self.model = model
        self.tokenizer = tokenizer
        self.melody = melody
        self.device = device
        self.dtype = dtype
        self.name = name
        self.num_codebooks: int = model.decoder.num_codebooks
        self.pad_id: int = model.generation_config.pad_token_id
        if (
            model.config.audio_encoder.sampling_rate != SAMPLE_RATE
            or model.decoder.config.audio_channels != 1
        ):
            raise ModelError(f"model {name!r}: only mono 32 kHz MusicGen checkpoints are supported")
        self._lock = threading.Lock()
        self._decoder = None  # bridge.decoder.Decoder, created lazily on first use

    def __repr__(self) -> str:
        return f"Engine({self.name!r}, melody={self.melody}, device={self.device}, dtype={self.dtype})"

    # ------------------------------------------------------------------ conditioning

    def text_inputs(self, prompt: str, batch: int) -> dict[str, torch.Tensor]:
        enc = self.tokenizer([prompt] * batch, return_tensors="pt", padding=True)
        return {k: v.to(self.device) for k, v in enc.items() if k in ("input_ids", "attention_mask")}

    def require_melody(self) -> None:
        if not self.melody:
            raise ModelError(
                f"model {self.name!r} is a text-only MusicGen: melody conditioning needs a "
                "MusicGen-Melody checkpoint such as facebook/musicgen-melody"
            )

    def melody_features(self, chroma: torch.Tensor | None, batch: int) -> torch.Tensor | None:
        """(frames, 12) one-hot => (batch, frames, 12) in the model's dtype; None for text-only."""
        if chroma is None:
            return None
        self.require_melody()
        return chroma.to(self.device, self.dtype).unsqueeze(0).expand(batch, -1, -1).contiguous()

    @torch.inference_mode()
    def encode_audio(self, wav: np.ndarray) -> torch.Tensor:
        """Mono 32 kHz float audio (samples,) => codes (num_codebooks, frames), frames = ceil(samples / 640)."""
        x = torch.as_tensor(np.ascontiguousarray(wav), dtype=torch.float32, device=self.device)[None, None]
        out = self.model.audio_encoder.encode(x, bandwidth=2.2)
        codes = out.audio_codes  # (chunks=1, batch=1, K, frames)
        return codes[0, 0]

    @torch.inference_mode()
    def decode_codes(self, codes: torch.Tensor) -> np.ndarray:
        """codes (batch, K, frames) => float32 audio (batch, frames * 640)."""
        audio = self.model.audio_encoder.decode(codes[None].to(self.device), [None]).audio_values
        return audio[:, 0].float().cpu().numpy()

    # ------------------------------------------------------------------ generation

    def generate(
        self,
        prompt: str,
        *,
        n_frames: int,
        batch: int = 1,
        chroma: torch.Tensor | None = None,
        prompt_codes: torch.Tensor | None = None,
        sampling: Sampling = Sampling(),
        seed: int = 0,
        backend: str = "ours",
        on_step: StepCallback | None = None,
        on_frames: FramesCallback | None = None,
        cancel: threading.Event | None = None,
    ) -> torch.Tensor:
        """New codes after an optional prompt: returns (batch, K, P + n_frames), prompt codes first.

        `on_frames(first, codes (B, K, n))` receives the new frames in order as they complete (the delay
        pattern completes frame t at step t + K - 1), for streamed decoding.

        `chroma` (frames, 12) steers the melody; `prompt_codes` (K, P) or (batch, K, P) are continued. Frame 0 of the chroma
        aligns with frame 0 of the prompt. `batch` takes share the conditioning and differ by sampling.
        """
        if n_frames < 1:
            raise ValueError("n_frames must be >= 1")
        p = 0 if prompt_codes is None else prompt_codes.shape[-1]
        if p + n_frames > MAX_WINDOW_FRAMES:
            raise ModelError(f"{(p + n_frames) / FRAME_RATE:.1f} s exceeds the model's 30 s window")
        text = self.text_inputs(prompt, batch)
        features = self.melody_features(chroma, batch)
        codes = None
        if prompt_codes is not None:  # (K, P) shared by every take, or (batch, K, P): one prompt per take
            codes = prompt_codes.to(self.device)
            codes = codes.expand(batch, -1, -1) if codes.dim() == 2 else codes
            if codes.shape[:2] != (batch, self.num_codebooks):
                raise ValueError(f"prompt codes {tuple(prompt_codes.shape)} do not fit batch {batch}")
        run = {"transformers": self._generate_transformers, "ours": self._generate_ours}.get(backend)
        if run is None:
            raise ValueError(f"unknown backend {backend!r} (ours or transformers)")
        with self._lock:
            return run(text, features, codes, n_frames, sampling, seed, on_step, on_frames, cancel)

    def _generate_ours(self, text, features, codes, n_frames, sampling, seed, on_step, on_frames, cancel):
        from bridge.engine.decoder import Decoder

        if self._decoder is None:
            self._decoder = Decoder(self.model)
        gen = torch.Generator(device=self.device).manual_seed(seed)
        return self._decoder.generate(
            text,
            features,
            codes,
            n_frames,
            sampling,
            generator=gen,
            on_step=on_step,
            on_frames=on_frames,
            cancel=cancel,
        )

    @torch.inference_mode()
    def _generate_transformers(
        self, text, features, codes, n_frames, sampling, seed, on_step, on_frames, cancel
    ):
        """The plain `model.generate()` path, kept for comparison (--engine transformers).

        A pass-through logits processor reports progress and new frames and cancels (plain MusicGen's
        generate ignores `streamer` in transformers 5.23); the final codes are recorded where generate
        hands them to EnCodec (generate always decodes them, as the baseline it is), and the last step and
        its frames are reported there, before that decode: step timings of both paths exclude it alike.
        """
        from transformers import LogitsProcessorList

        k = self.num_codebooks
        b = text["input_ids"].shape[0]
        kwargs = dict(text)
        if features is not None:
            kwargs["input_features"] = features
        if codes is not None:
            kwargs["decoder_input_ids"] = codes.reshape(b * k, -1)  # un-delayed; generate prepends BOS
        kwargs.update(sampling_kwargs(sampling))
        steps = n_frames + k - 1  # the delay pattern needs K-1 extra steps to finish the last frame
        p = 0 if codes is None else codes.shape[-1]
        if p + n_frames < k:  # transformers then skips the delay pattern and returns wrong codes
            raise ValueError(f"transformers' generate needs at least {k} frames")
        hook = _StepHook(steps, k, p, on_step, on_frames, cancel)
        codec = self.model.audio_encoder
        decode = codec.decode
        last: list[torch.Tensor] = []

        def recording_decode(audio_codes, *args, **kw):  # generate's final act is decode(codes (1, B, K, T))
            if not hook.busy:  # not a streaming decode run from the hook's own callback: the final one
                last[:] = [audio_codes[0]]
                hook.finish(audio_codes[0])  # the last step is done now, before generate's own decode
            return decode(audio_codes, *args, **kw)

        codec.decode = recording_decode  # instance attribute shadows the method for this call only
        torch.manual_seed(seed)
        try:
            with _quiet_transformers():
                self.model.generate(
                    **kwargs, max_new_tokens=steps, logits_processor=LogitsProcessorList([hook])
                )
        finally:
            del codec.decode
        return last[0]


class _StepHook:
    """A logits processor that only watches: `input_ids` (B*K, 1 + P + s) holds the delayed columns of the
    s steps done so far. Position q holds frame q-1-c of codebook c, so frame f is complete at q = f + K."""

    def __init__(
        self,
        steps: int,
        k: int,
        prompt_frames: int,
        on_step: StepCallback | None,
        on_frames: FramesCallback | None,
        cancel: threading.Event | None,
    ):
        self.steps, self.k, self.p = steps, k, prompt_frames
        self.on_step, self.on_frames, self.cancel = on_step, on_frames, cancel
        self.emitted = 0  # new frames handed to on_frames
        self.busy = False  # inside a callback (whose streaming decode must not count as generate's own)

    def __call__(self, input_ids: torch.Tensor, scores: torch.Tensor) -> torch.Tensor:
        if self.cancel is not None and self.cancel.is_set():
            raise Cancelled()
        with self._callback():
            self._report(input_ids)
        return scores

    @contextmanager
    def _callback(self):
        self.busy = True
        try:
            yield
        finally:
            self.busy = False

    def _report(self, input_ids: torch.Tensor) -> None:
        done = input_ids.shape[1] - 1 - self.p
        if done > 0 and self.on_step is not None:
            self.on_step(done, self.steps)
        if self.on_frames is not None:
            complete = done - (self.k - 1)
            if complete > self.emitted:
                b = input_ids.shape[0] // self.k
                delayed = input_ids.view(b, self.k, -1)
                frames = [
                    delayed[:, c, self.p + 1 + c + self.emitted : self.p + 1 + c + complete]
                    for c in range(self.k)
                ]
                self.on_frames(self.emitted, torch.stack(frames, dim=1))  # (B, K, n)
                self.emitted = complete

    def finish(self, codes: torch.Tensor) -> None:
        """After the last step: report it, and the frames it completed. codes: (B, K, P + n)."""
        with self._callback():
            if self.on_step is not None:
                self.on_step(self.steps, self.steps)
            if self.on_frames is not None and self.p + self.emitted < codes.shape[-1]:
                self.on_frames(self.emitted, codes[:, :, self.p + self.emitted :])


def sampling_kwargs(sampling: Sampling) -> dict:
    """transformers `generate` kwargs equivalent to our Sampling (shared with tests and the benchmark)."""
    kw: dict = {"guidance_scale": sampling.cfg if sampling.cfg > 1 else None}
    if sampling.greedy:
        kw.update(do_sample=False)
    else:
        kw.update(
            do_sample=True,
            temperature=sampling.temperature,
            top_k=sampling.top_k or None,
            top_p=sampling.top_p if 0 < sampling.top_p < 1 else None,
        )
    return kw
