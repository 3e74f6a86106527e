"""The pieces of one decode step of `bridge.engine.decoder`: the static buffers it reads and writes, the
linear layer it calls, on-device sampling of the next code column, and reporting finished steps in order.

Everything here runs once per decode step (or inside its CUDA graph): plain functions over tensors, no
host synchronisation in `sample`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from bridge.engine.types import FramesCallback, StepCallback

FEW_ROWS = 32  # CPU: up to this many rows a linear layer is computed as weight @ x.T (see few_rows_linear)
BIG_WEIGHT = 1 << 18  # elements: below this the plain call wins (the product is too small to matter)


@dataclass(eq=False)
class StepBuffers:
    """The static tensors one decode step reads and writes; a CUDA graph replays over exactly these."""

    batch: int  # B, takes in the request
    cfg: bool  # both CFG branches in one batch: rows = 2B, conditional rows first
    greedy: bool
    top_k: int  # 0: off
    top_p: bool  # nucleus filtering on
    k_cache: torch.Tensor  # (layers, rows, heads, L, head_dim): views of the decoder's static cache
    v_cache: torch.Tensor
    tokens: torch.Tensor  # (B*K,) long: the last code column, delay pattern applied
    pos: torch.Tensor  # (1,) long: absolute position of `tokens` (conditioning prefix included)
    forced: torch.Tensor  # (B*K, L) long: code forced at each position (pad, prompt), -1 where sampled
    seq: torch.Tensor  # (B*K, L) long: every code column of the request, delayed
    scalars: torch.Tensor  # (3,) float32: CFG scale, temperature, 1 - top_p
    cross_k: torch.Tensor | None  # (layers, rows, heads, S, head_dim): plain MusicGen's text keys/values
    cross_v: torch.Tensor | None
    cross_mask: torch.Tensor | None  # (rows, 1, 1, S) additive: 0 where attended, dtype min elsewhere
    graph: torch.cuda.CUDAGraph | None = None


def sample(st: StepBuffers, logits: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """(rows*K, V) float32 logits => (B*K,) codes. transformers' processors in its order: CFG, temperature,
    top-k, top-p; then one multinomial draw per row. With top-k the draw runs over the k best candidates
    only, the same distribution at a fraction of the cost, and top-p then sorts k values, not the
    vocabulary."""
    if st.cfg:
        cond, uncond = logits.chunk(2)
        logits = uncond + (cond - uncond) * st.scalars[0]
    if st.greedy:
        return logits.argmax(-1)
    scores = logits / st.scalars[1]
    index = None
    if st.top_k:  # sample among the k best only: k values instead of the whole vocabulary per row
        scores, index = torch.topk(scores, st.top_k, sorted=st.top_p)  # (rows, k); top-p needs them sorted
    if st.top_p:
        if index is None:  # no top-k: sort the whole vocabulary once
            scores, index = scores.sort(-1, descending=True)
        # transformers' rule on ascending order: drop tokens while the cumulative mass <= 1 - top_p
        drop = scores.flip(-1).softmax(-1).cumsum(-1) <= st.scalars[2]
        drop[:, -1] = False  # keep at least the most likely token
        scores = scores.masked_fill(drop.flip(-1), -math.inf)
    # one multinomial draw per row by inverse CDF: a single uniform per row (cheaper than one
    # exponential per candidate), no host-side check, reproducible from the generator
    cdf = scores.softmax(-1).cumsum(-1)  # (rows, n)
    u = torch.rand(cdf.shape[0], 1, generator=generator, device=cdf.device, dtype=cdf.dtype)
    choice = torch.searchsorted(cdf, u * cdf[:, -1:], right=True).squeeze(1).clamp_(max=cdf.shape[1] - 1)
    return choice if index is None else index.gather(1, choice[:, None]).squeeze(1)


class Progress:
    """Reports finished steps to on_step, and the frames they complete to on_frames, in order."""

    def __init__(
        self,
        total: int,
        batch: int,
        delays: list[int],
        on_step: StepCallback | None,
        on_frames: FramesCallback | None,
        pinned: bool,
    ) -> None:
        """delays[c]: codebook c's delay in steps (`types.codebook_delays`); K = len(delays)."""
        self.total, self.delays, self.on_step, self.on_frames = total, delays, on_step, on_frames
        self.k, self.depth = len(delays), max(delays) + 1
        # row i - 1: the (B*K,) code column written by step i
        self.columns = torch.zeros((total, batch * self.k), dtype=torch.long, pin_memory=pinned)
        self.reported = 0  # steps handed to on_step
        self.emitted = 0  # new frames handed to on_frames

    def finished(self, done: int) -> None:
        """Steps 1..done are finished and their columns are in self.columns."""
        for i in range(self.reported + 1, done + 1):
            if self.on_step is not None:
                self.on_step(i, self.total)
        self.reported = max(self.reported, done)
        complete = done - (self.depth - 1)  # frame f of codebook c is in step f + 1 + delays[c]'s column
        if self.on_frames is None or complete <= self.emitted:
            return
        steps = self.columns.view(self.total, -1, self.k)  # (total, B, K)
        frames = [steps[self.emitted + d : complete + d, :, c] for c, d in enumerate(self.delays)]  # K x (n, B)
        self.on_frames(self.emitted, torch.stack(frames).permute(2, 0, 1).contiguous())  # (B, K, n)
        self.emitted = complete


def module_linear(layer: torch.nn.Linear, x: torch.Tensor) -> torch.Tensor:
    return layer(x)


def few_rows_linear(layer: torch.nn.Linear, x: torch.Tensor) -> torch.Tensor:
    """x (..., in) => (..., out), the same product as layer(x). For the few rows of a decode step, CPU BLAS
    computes weight @ x.T (a tall GEMM) 1.3-3x faster than x @ weight.T (measured on this project's CPU
    machines for 2-16 rows at MusicGen's shapes); the prefill's many rows and tiny weights keep the usual
    call."""
    rows = x.numel() // x.shape[-1]
    if rows > FEW_ROWS or layer.weight.numel() < BIG_WEIGHT:
        return layer(x)
    # x must be row-major (rows, in) so that x.T is a transposed view: a row-major (in, rows) copy makes
    # BLAS take a path ~5x slower; and the result is made row-major again (a few rows: a tiny copy) so the
    # next op sees plain strides (SDPA's CPU flash kernel needs a unit-stride last dim, else it falls back
    # to its much slower math path)
    y = (layer.weight @ x.reshape(rows, -1).contiguous().T).T.contiguous()  # (rows, out)
    if layer.bias is not None:
        y = y + layer.bias
    return y.reshape(*x.shape[:-1], layer.out_features)
