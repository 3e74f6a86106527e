"""`Engine`: one loaded MusicGen(-Melody) model, and what the pipeline asks of it.

An `Engine` owns one model and knows how to turn a prompt, a chroma sequence and audio-prompt codes into
new EnCodec codes (through `bridge.engine.decoder` or transformers' own `generate`, see
`bridge.engine.hf_generate`) and codes back into audio. `bridge.engine.loading.load_engine` builds one.
"""

from __future__ import annotations

import threading

import numpy as np
import torch

from bridge.engine import codebooks, hf_generate
from bridge.engine.decoder import Decoder
from bridge.engine.streaming import StreamingDecoder
from bridge.engine.types import (
    FRAME_RATE,
    MAX_WINDOW_FRAMES,
    SAMPLE_RATE,
    FramesCallback,
    GenerationCall,
    ModelError,
    Sampling,
    StepCallback,
)

BACKENDS = ("ours", "transformers")  # our decode loop, or transformers' own generate (for comparison)
DEFAULT_SAMPLING = Sampling()  # frozen, so one shared default is safe


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
        self.channels: int = model.decoder.config.audio_channels  # 1, or 2: codebooks [L0, R0, L1, R1, ...]
        self.pad_id: int = model.generation_config.pad_token_id
        if (
            model.config.audio_encoder.sampling_rate != SAMPLE_RATE
            or self.channels not in (1, 2)
            or self.num_codebooks != 4 * self.channels
        ):
            raise ModelError(
                f"model {name!r}: only 32 kHz MusicGen checkpoints with 4 codebooks per channel, mono or "
                "stereo, are supported"
            )
        self._lock = threading.Lock()
        self._decoder: Decoder | None = None  # created on first use: the transformers path needs none

    def __repr__(self) -> str:
        return (
            f"Engine({self.name!r}, melody={self.melody}, channels={self.channels}, device={self.device}, "
            f"dtype={self.dtype})"
        )

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
        """32 kHz float audio (samples,) or (channels, samples) => prompt codes (K, frames) in the layout
        `generate(prompt_codes=...)` takes, frames = ceil(samples / 640).

        A stereo model encodes each channel of a stereo clip (codes interleaved [L0, R0, L1, R1, ...]) and
        feeds a mono clip to both channels; a mono model, and a stereo model given more than 2 channels,
        encode the downmix (the mean of the channels)."""
        x = np.asarray(wav, dtype=np.float32)
        if x.ndim == 1:
            x = x[None]
        if x.ndim != 2 or x.shape[0] < 1:
            raise ValueError(f"audio must be (samples,) or (channels, samples), got shape {x.shape}")
        if x.shape[0] != self.channels:
            x = x.mean(axis=0, keepdims=True, dtype=np.float64).astype(np.float32)  # (1, samples)
        t = torch.as_tensor(np.ascontiguousarray(x), device=self.device)
        codes = codebooks.encode(self.model.audio_encoder, t)  # (rows * 4, frames)
        if t.shape[0] < self.channels:  # a mono clip on a stereo model: the same codes in both channels
            codes = codes.repeat_interleave(self.channels, dim=0)
        return codes

    @torch.inference_mode()
    def decode_codes(self, codes: torch.Tensor) -> np.ndarray:
        """codes (batch, K, frames) => float32 audio (batch, channels, frames * 640); mono: channels = 1."""
        audio = codebooks.decode(self.model.audio_encoder, codes.to(self.device), self.channels)
        return audio.float().cpu().numpy()

    def streaming_decoder(self, **kwargs) -> StreamingDecoder:
        """A `StreamingDecoder` over this model's codec and channels (kwargs: its options, e.g. on_chunk)."""
        return StreamingDecoder(self.model.audio_encoder, channels=self.channels, **kwargs)

    # ------------------------------------------------------------------ generation

    def generate(
        self,
        prompt: str,
        *,
        n_frames: int,
        batch: int = 1,
        chroma: torch.Tensor | None = None,
        prompt_codes: torch.Tensor | None = None,
        sampling: Sampling = DEFAULT_SAMPLING,
        seed: int = 0,
        backend: str = "ours",
        on_step: StepCallback | None = None,
        on_frames: FramesCallback | None = None,
        cancel: threading.Event | None = None,
    ) -> torch.Tensor:
        """New codes after an optional prompt: returns (batch, K, P + n_frames), prompt codes first.

        `on_frames(first, codes (B, K, n))` receives the new frames in order as they complete (the delay
        pattern completes frame t at step t + D - 1, D = K / channels), for streamed decoding.

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
        if backend not in BACKENDS:
            raise ValueError(f"unknown backend {backend!r} (ours or transformers)")
        call = GenerationCall(
            text=text,
            features=features,
            codes=codes,
            n_frames=n_frames,
            sampling=sampling,
            seed=seed,
            on_step=on_step,
            on_frames=on_frames,
            cancel=cancel,
        )
        with self._lock:
            if backend == "transformers":
                return hf_generate.generate(self.model, call)
            return self._generate_ours(call)

    def _generate_ours(self, call: GenerationCall) -> torch.Tensor:
        if self._decoder is None:
            self._decoder = Decoder(self.model)
        gen = torch.Generator(device=self.device).manual_seed(call.seed)
        return self._decoder.generate(
            call.text,
            call.features,
            call.codes,
            call.n_frames,
            call.sampling,
            generator=gen,
            on_step=call.on_step,
            on_frames=call.on_frames,
            cancel=call.cancel,
        )
