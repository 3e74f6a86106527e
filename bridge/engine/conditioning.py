"""From a validated request to the model's conditioning: the text, the melody clip's chroma laid on the
song's timeline, and the EnCodec codes of the continuation prompt.

    request ─> prompt_clip (read, mono 32 kHz, stretched to the song tempo, whole beats) ─> encode_audio
            ─> load_melody (chroma at the clip's own tempo + how it sits on the song timeline)
            ─> Conditioning(text, melody, prompt_codes)
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
import torch

from bridge.audio.channels import match_channels
from bridge.audio.io import read_audio, resample
from bridge.audio.stretch import time_stretch
from bridge.audio.tempo import whole_beats_seconds
from bridge.engine.chroma import CHROMA_LENGTH, align_melody, chroma_onehot
from bridge.engine.engine import Engine
from bridge.engine.types import FRAME_RATE, HOP, SAMPLE_RATE, ModelError
from bridge.limits import MAX_MELODY_SECONDS, PROMPT_MARGIN_SECONDS
from bridge.request import GenerationRequest

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Melody:
    """A clip's chroma at its own tempo, and how it sits on the song's timeline."""

    chroma: torch.Tensor  # (F, 12) one-hot at CHROMA_FRAME_RATE, the clip's own tempo
    clip_seconds: float  # length of the clip region at its own tempo
    stretch: float  # clip_bpm / song_bpm: seconds on the song timeline per second of clip
    start_seconds: float  # where the melody starts, in seconds from decoder frame 0 of the request

    def window(self, window_start_seconds: float) -> torch.Tensor:
        """(CHROMA_LENGTH, 12) chroma prefix for a model window starting at that time (loops the clip)."""
        offset = self.start_seconds - window_start_seconds
        return align_melody(self.chroma, self.clip_seconds, CHROMA_LENGTH, self.stretch, offset)


@dataclass(frozen=True)
class Conditioning:
    """What one request conditions the model on, shared by every window and every take."""

    text: str
    melody: Melody | None = None
    prompt_codes: torch.Tensor | None = None  # (K, P) EnCodec codes of the continuation prompt

    @property
    def prompt_frames(self) -> int:
        return 0 if self.prompt_codes is None else int(self.prompt_codes.shape[-1])


def prompt_clip(request: GenerationRequest, channels: int = 1) -> np.ndarray:
    """The continuation prompt at 32 kHz and the song tempo, (samples,) for a mono model or (2, samples)
    for a stereo one (a stereo clip keeps its channels, a mono clip feeds both; a mono model hears the
    downmix): the last whole beats of the clip region, as many as fit in prompt_seconds of the song.

    A clip at its own tempo (melody_bpm) is time-stretched to the song tempo first: the model continues
    what it hears at the tempo it hears it. Leading samples are trimmed to a whole number of EnCodec
    frames, so the prompt still *ends* exactly at the region end and the continuation starts on the beat.
    """
    assert request.continue_from is not None
    # only the region's tail the prompt can use: prompt_seconds at the song tempo, in clip seconds
    needed = request.prompt_seconds * request.bpm / request.clip_bpm + PROMPT_MARGIN_SECONDS
    audio, sr = read_audio(request.continue_from, request.region, max_seconds=needed, from_end=True)
    clip = resample(match_channels(audio, channels), sr, SAMPLE_RATE)  # (channels, samples)
    ratio = request.clip_bpm / request.bpm  # song-tempo seconds per second of the clip
    available = clip.shape[-1] / SAMPLE_RATE * ratio  # the region's length once at the song tempo
    seconds = float(whole_beats_seconds(min(request.prompt_seconds, available), request.bpm))
    if ratio != 1.0:
        source = min(clip.shape[-1], int(round(seconds / ratio * SAMPLE_RATE)))  # the same beats in the clip
        if not 0.5 <= ratio <= 2.0:
            log.warning(
                "continuation clip stretched by %.2fx to the song tempo: transients will smear", ratio
            )
        clip = time_stretch(clip[:, clip.shape[-1] - source :], ratio)  # the same frames in every channel
    n = (min(int(round(seconds * SAMPLE_RATE)), clip.shape[-1]) // HOP) * HOP
    if n < HOP:
        raise ModelError("the clip to continue is shorter than one beat / one codec frame")
    prompt = clip[:, clip.shape[-1] - n :]
    return np.ascontiguousarray(prompt[0] if channels == 1 else prompt, dtype=np.float32)


def load_melody(request: GenerationRequest, start_seconds: float) -> Melody:
    """The melody clip's chroma, to be retimed to the song tempo and looped from `start_seconds`."""
    assert request.melody is not None
    audio, sr = read_audio(request.melody, request.region, max_seconds=MAX_MELODY_SECONDS)  # loops after
    return Melody(
        chroma_onehot(audio, sr), audio.shape[-1] / sr, request.clip_bpm / request.bpm, start_seconds
    )


def prepare(engine: Engine, request: GenerationRequest) -> Conditioning:
    """Read the clips and build the model conditioning (validated request => tensors)."""
    if request.melody is not None:
        engine.require_melody()  # fail before reading any clip
    prompt_codes = None
    if request.continue_from is not None:
        prompt_codes = engine.encode_audio(prompt_clip(request, engine.channels))
    offset = 0.0 if prompt_codes is None else prompt_codes.shape[-1] / FRAME_RATE  # the melody starts here
    melody = load_melody(request, offset) if request.melody is not None else None
    return Conditioning(request.text, melody, prompt_codes)
