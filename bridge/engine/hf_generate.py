"""The plain transformers `model.generate()` path, kept for comparison (--engine transformers, the bench).

`generate(model, call)` runs one `GenerationCall` through transformers' own sampling loop with the same
conditioning and the same `Sampling` (translated by `sampling_kwargs`), and reports progress, new frames
and cancellation through a pass-through logits processor (`_StepHook`), as our decode loop does.
"""

from __future__ import annotations

import threading
from contextlib import contextmanager

import torch
import transformers
from transformers import LogitsProcessorList

from bridge.engine.types import (
    Cancelled,
    FramesCallback,
    GenerationCall,
    Sampling,
    StepCallback,
    codebook_delays,
    delay_depth,
    delay_steps,
)


@torch.inference_mode()
def generate(model, call: GenerationCall) -> torch.Tensor:
    """The plain `model.generate()` path: returns (B, K, P + n_frames) codes, prompt first.

    A pass-through logits processor reports progress and new frames and cancels (plain MusicGen's
    generate ignores `streamer` in transformers 5.23); the final codes are recorded where generate
    hands them to EnCodec (generate always decodes them, as the baseline it is), and the last step and
    its frames are reported there, before that decode: step timings of both paths exclude it alike.
    A stereo model decodes its even (left) and odd (right) codebooks in two calls: the codes are whole,
    and the last step reported, at the second, so there the left channel's decode counts in the last step.
    """
    k = model.decoder.num_codebooks
    channels = model.decoder.config.audio_channels
    b = call.text["input_ids"].shape[0]
    kwargs = dict(call.text)
    if call.features is not None:
        kwargs["input_features"] = call.features
    if call.codes is not None:
        kwargs["decoder_input_ids"] = call.codes.reshape(b * k, -1)  # un-delayed; generate prepends BOS
    kwargs.update(sampling_kwargs(call.sampling))
    steps = delay_steps(call.n_frames, k, channels)
    depth = delay_depth(k, channels)
    p = call.prompt_frames
    if p + call.n_frames < depth:  # transformers then skips the delay pattern and returns wrong codes
        raise ValueError(f"transformers' generate needs at least {depth} frames")
    hook = _StepHook(steps, codebook_delays(k, channels), p, call.on_step, call.on_frames, call.cancel)
    codec = model.audio_encoder
    decode = codec.decode
    parts: list[torch.Tensor] = []  # generate's own decode calls: (B, K, T), or stereo's left then right
    last: list[torch.Tensor] = []

    def recording_decode(audio_codes, *args, **kw):  # generate's final act is decode(codes (1, B, K, T))
        if not hook.busy:  # not a streaming decode run from the hook's own callback: the final one
            parts.append(audio_codes[0])
            if len(parts) == channels:  # stereo: the left codebooks [::2] came first, now the right [1::2]
                codes = parts[0] if channels == 1 else torch.stack(parts, dim=2).flatten(1, 2)
                last[:] = [codes]
                hook.finish(codes)  # the last step is done now, before generate's own (last) decode
        return decode(audio_codes, *args, **kw)

    codec.decode = recording_decode  # instance attribute shadows the method for this call only
    torch.manual_seed(call.seed)
    try:
        with quiet_transformers():
            model.generate(**kwargs, max_new_tokens=steps, logits_processor=LogitsProcessorList([hook]))
    finally:
        del codec.decode
    return last[0]


class _StepHook:
    """A logits processor that only watches: `input_ids` (B*K, 1 + P + s) holds the delayed columns of the
    s steps done so far. Position q holds frame q-1-delay(c) of codebook c, so frame f is complete at
    q = f + D (D = K / channels, the delay depth)."""

    def __init__(
        self,
        steps: int,
        delays: list[int],
        prompt_frames: int,
        on_step: StepCallback | None,
        on_frames: FramesCallback | None,
        cancel: threading.Event | None,
    ):
        self.steps, self.delays, self.k, self.p = steps, delays, len(delays), prompt_frames
        self.depth = max(delays) + 1
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
            complete = done - (self.depth - 1)
            if complete > self.emitted:
                b = input_ids.shape[0] // self.k
                delayed = input_ids.view(b, self.k, -1)
                frames = [
                    delayed[:, c, self.p + 1 + d + self.emitted : self.p + 1 + d + complete]
                    for c, d in enumerate(self.delays)
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


class quiet_transformers:
    """transformers warns that pad/bos id 2048 lies outside the 2048-code vocabulary; it is by design."""

    def __enter__(self):
        self._level = transformers.logging.get_verbosity()
        transformers.logging.set_verbosity_error()

    def __exit__(self, *exc):
        transformers.logging.set_verbosity(self._level)
