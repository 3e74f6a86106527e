"""Our own MusicGen decode loop, gpt-fast style: prefill -> decode_one_step -> decode_n_steps.

It runs the loaded transformers model's own modules and weights (no copy) with
- a static KV cache (layers, rows, heads, length, head_dim), allocated once and reused across requests;
- both classifier-free-guidance branches in one batch: rows = 2B, conditional first;
- the delay pattern and prompt forcing as a precomputed (B*K, length) table applied with torch.where;
- CFG, temperature, top-k, top-p and sampling on device, with no host synchronisation inside a step;
- on CUDA, one decode step recorded as a CUDA graph over static buffers and replayed.

Greedy decoding gives exactly the codes of transformers' `generate` (same conditioning, BOS = pad id,
delay pattern, prompt forcing, CFG `uncond + scale * (cond - uncond)`); sampling applies transformers'
processors in its order (temperature, top-k, top-p) and is reproducible for a fixed generator seed.
MusicGen-Melody conditions through a prefix [chroma projected, tiled to chroma_length] + [text projected,
masked] ahead of the codes; plain MusicGen cross-attends to the projected text in every layer (both built
in `bridge.engine.prefix`). Stereo releases interleave the channels' codebooks [L0, R0, L1, R1, ...]
and delay codebook c by c // 2 (`bridge.engine.types.codebook_delays`); nothing else differs.
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from collections.abc import Callable
from functools import partial

import torch
import torch.nn.functional as F

from bridge.engine.prefix import melody_prefix, text_states
from bridge.engine.step import Progress, StepBuffers, few_rows_linear, module_linear, sample
from bridge.engine.types import (
    Cancelled,
    FramesCallback,
    Sampling,
    StepCallback,
    codebook_delays,
    delay_steps,
)

log = logging.getLogger(__name__)

LENGTH_BUCKET = 256  # cache / graph sequence length is rounded up to this, so similar requests share buffers
TEXT_BUCKET = 32  # cross-attention text length (plain MusicGen) is rounded up likewise
MAX_SHAPES = 8  # step buffers (and CUDA graphs) kept for this many recent request shapes
LOOKAHEAD = 4  # CUDA: decode steps the host may queue ahead of the GPU (bounds progress and cancel lag)


class Decoder:
    """Fast autoregressive decoding for a MusicgenMelodyForConditionalGeneration or
    MusicgenForConditionalGeneration that is already on its device and dtype. Not thread-safe."""

    def __init__(self, model, cuda_graphs: bool = True) -> None:
        self.model = model
        decoder = model.decoder.model.decoder  # MusicgenDecoder / MusicgenMelodyDecoder
        self.layers = decoder.layers
        self.embed_tokens = decoder.embed_tokens
        self.final_norm = decoder.layer_norm
        self.lm_heads = model.decoder.lm_heads
        self._embed_positions = decoder.embed_positions
        config = model.decoder.config
        self.melody = model.config.model_type == "musicgen_melody"
        self.chroma_length: int = model.config.chroma_length if self.melody else 0
        self.num_codebooks: int = config.num_codebooks
        self.channels: int = config.audio_channels  # stereo: codebooks interleaved [L0, R0, L1, R1, ...]
        self.pad_id: int = model.generation_config.decoder_start_token_id  # BOS = pad = 2048
        self.heads: int = config.num_attention_heads
        self.head_dim: int = config.hidden_size // config.num_attention_heads
        weight = self.lm_heads[0].weight
        self.device, self.dtype = weight.device, weight.dtype
        self.delay_list = codebook_delays(self.num_codebooks, self.channels)  # codebook c: delay_list[c]
        self.delays = torch.tensor(self.delay_list, dtype=torch.long, device=self.device)  # (K,)
        self.cuda_graphs = cuda_graphs and self.device.type == "cuda"
        self._linear = few_rows_linear if self.device.type == "cpu" else module_linear
        self._gen = torch.Generator(device=self.device)  # graphs capture this one; seeded from the caller's
        self._k: torch.Tensor | None = None  # static cache storage (layers, rows_cap, heads, L_cap, head_dim)
        self._v: torch.Tensor | None = None
        self._positions: torch.Tensor | None = None  # (L_cap, H) sinusoidal table
        self._arange: torch.Tensor | None = None  # (L_cap,) long
        self._steps: OrderedDict[tuple, StepBuffers] = OrderedDict()
        self._pool = None  # one CUDA graph memory pool shared by all our graphs (they never run concurrently)

    # ------------------------------------------------------------------------------------------ public

    @torch.inference_mode()
    def generate(
        self,
        text: dict[str, torch.Tensor],
        features: torch.Tensor | None,
        codes: torch.Tensor | None,
        n_frames: int,
        sampling: Sampling,
        generator: torch.Generator,
        on_step: StepCallback | None = None,
        on_frames: FramesCallback | None = None,
        cancel: threading.Event | None = None,
    ) -> torch.Tensor:
        """New codes after an optional prompt: (B, K, P + n_frames) long on the model's device, prompt first.

        text: {"input_ids", "attention_mask"} (B, S); features: (B, F, 12) chroma one-hot or None (text-only:
        one-hot bin 0); codes: (B, K, P) un-delayed prompt codes or None (stereo: channels interleaved).
        on_step(done, total) runs once per finished step, total = n_frames + D - 1 (D = K / channels, the
        delay depth); on_frames(first, codes) receives the new frames (B, K, n) on the CPU, in order, as the
        delay pattern completes them (frame t at step t + D - 1). Setting `cancel` raises Cancelled before
        the next step. On CUDA both callbacks trail the queued GPU work by at most LOOKAHEAD steps.
        """
        ids, mask = text["input_ids"], text["attention_mask"]
        batch, text_len = ids.shape
        k = self.num_codebooks
        p = 0 if codes is None else codes.shape[-1]
        if features is not None and not self.melody:
            raise ValueError("melody features need a MusicGen-Melody model")
        if codes is not None and codes.shape[:2] != (batch, k):
            raise ValueError(f"prompt codes must be (batch={batch}, K={k}, P), got {tuple(codes.shape)}")
        if n_frames < 1:
            raise ValueError("n_frames must be >= 1")
        total = delay_steps(n_frames, k, self.channels)
        _check(cancel)
        prefix_len = self.chroma_length + text_len if self.melody else 0
        st = self._buffers(batch, text_len, prefix_len + 1 + p + n_frames + k, sampling)
        self._schedule(st, codes, prefix_len, n_frames)
        self._gen.set_state(generator.get_state())
        if self.melody:
            prefix = melody_prefix(self.model, ids, mask, features, st.cfg)  # (rows, prefix_len, H)
        else:
            self._cross_kv(st, *text_states(self.model, ids, mask, st.cfg))
            prefix = None
        self._prefill(st, prefix, prefix_len, p)
        del prefix  # per-request activations go now; only the static buffers stay
        cuda = self.device.type == "cuda"
        progress = Progress(total, batch, self.delay_list, on_step, on_frames, pinned=cuda)
        self._decode_n_steps(st, total, progress, cancel)
        generator.set_state(self._gen.get_state())
        return self._undelay(st, prefix_len, p + n_frames)

    # ------------------------------------------------------------------------------------ conditioning

    def _cross_kv(self, st: StepBuffers, states: torch.Tensor, mask: torch.Tensor) -> None:
        """Precompute every layer's cross-attention keys/values for the request into st's static buffers."""
        s = states.shape[1]
        st.cross_k.zero_()  # padded slots hold zero values: a fully masked (null) row then averages zeros
        st.cross_v.zero_()
        for i, layer in enumerate(self.layers):
            st.cross_k[i, :, :, :s] = self._split_heads(layer.encoder_attn.k_proj(states))
            st.cross_v[i, :, :, :s] = self._split_heads(layer.encoder_attn.v_proj(states))
        st.cross_mask.fill_(torch.finfo(self.dtype).min)
        st.cross_mask[:, 0, 0, :s].masked_fill_(mask.bool(), 0.0)

    # ----------------------------------------------------------------------------------- buffers

    def _buffers(self, batch: int, text_len: int, need: int, sampling: Sampling) -> StepBuffers:
        """The step buffers for this request's shape (reused, or made and remembered) with its sampling scalars."""
        cfg = sampling.cfg > 1
        rows = 2 * batch if cfg else batch
        length = _round_up(need, LENGTH_BUCKET)
        text = 0 if self.melody else _round_up(text_len, TEXT_BUCKET)
        greedy = sampling.greedy
        top_k = 0 if greedy else min(max(sampling.top_k, 0), self.lm_heads[0].out_features)
        top_p = not greedy and 0 < sampling.top_p < 1
        key = (batch, cfg, length, text, greedy, top_k, top_p)
        k_cache, v_cache = self._cache(rows, length)
        st = self._steps.pop(key, None)
        if st is None:
            long = dict(dtype=torch.long, device=self.device)
            model = dict(dtype=self.dtype, device=self.device)
            cross = (len(self.layers), rows, self.heads, text, self.head_dim)
            st = StepBuffers(
                batch=batch,
                cfg=cfg,
                greedy=greedy,
                top_k=top_k,
                top_p=top_p,
                k_cache=k_cache,
                v_cache=v_cache,
                tokens=torch.zeros(batch * self.num_codebooks, **long),
                pos=torch.zeros(1, **long),
                forced=torch.zeros(batch * self.num_codebooks, length, **long),
                seq=torch.zeros(batch * self.num_codebooks, length, **long),
                scalars=torch.zeros(3, dtype=torch.float32, device=self.device),
                cross_k=None if self.melody else torch.zeros(cross, **model),
                cross_v=None if self.melody else torch.zeros(cross, **model),
                cross_mask=None if self.melody else torch.zeros((rows, 1, 1, text), **model),
            )
        self._steps[key] = st  # most recently used last
        while len(self._steps) > MAX_SHAPES:
            self._steps.popitem(last=False)
        st.scalars.copy_(torch.tensor([sampling.cfg, sampling.temperature, 1 - sampling.top_p]))
        return st

    def _cache(self, rows: int, length: int) -> tuple[torch.Tensor, torch.Tensor]:
        """Views (layers, rows, heads, length, head_dim) of the static K/V cache, grown (never shrunk) on demand."""
        if self._k is None or self._k.shape[1] < rows or self._k.shape[3] < length:
            rows_cap, length_cap = rows, length
            if self._k is not None:
                rows_cap, length_cap = max(rows, self._k.shape[1]), max(length, self._k.shape[3])
            self._steps.clear()  # their views and graphs point into the old storage
            self._k = self._v = None
            shape = (len(self.layers), rows_cap, self.heads, length_cap, self.head_dim)
            # zeros, not empty: masked positions get weight 0, and 0 * NaN garbage would still be NaN
            self._k = torch.zeros(shape, dtype=self.dtype, device=self.device)
            self._v = torch.zeros(shape, dtype=self.dtype, device=self.device)
            table = self._embed_positions.get_embedding(length_cap, self._embed_positions.embedding_dim)
            self._positions = table.to(self.device, self._embed_positions.weights.dtype)
            self._arange = torch.arange(length_cap, device=self.device)
        return self._k[:, :rows, :, :length], self._v[:, :rows, :, :length]

    def _schedule(self, st: StepBuffers, codes: torch.Tensor | None, prefix_len: int, n_frames: int) -> None:
        """Fill st.forced and st.seq: per absolute position, the delay pattern's BOS/EOS pads and the prompt.

        Code column c (c = 0 is BOS) sits at position prefix_len + c; codebook k holds frame c - delay(k) - 1,
        so frames before 0 or from P + n_frames on are pad, frames < P are the prompt, the rest is sampled.
        """
        b, k, length = st.batch, self.num_codebooks, st.forced.shape[1]
        p = 0 if codes is None else codes.shape[-1]
        column = torch.arange(length, device=self.device) - prefix_len
        frame = column[None] - self.delays[:, None] - 1  # (K, L)
        forced = torch.full((b, k, length), -1, dtype=torch.long, device=self.device)
        if codes is not None:
            prompt = codes.to(self.device).gather(2, frame.clamp(0, p - 1).expand(b, k, length))
            forced = torch.where((frame >= 0) & (frame < p), prompt, forced)
        forced.masked_fill_((frame < 0) | (frame >= p + n_frames), self.pad_id)
        st.forced.copy_(forced.view(b * k, length))
        st.seq.copy_(st.forced)  # the prompt columns are never written by a step

    def _undelay(self, st: StepBuffers, prefix_len: int, frames: int) -> torch.Tensor:
        """(B, K, frames): codebook k's frame f was written at position prefix_len + 1 + delay(k) + f."""
        b, k = st.batch, self.num_codebooks
        offsets = self.delays[:, None] + torch.arange(frames, device=self.device)
        index = prefix_len + 1 + offsets  # (K, frames)
        return st.seq.view(b, k, -1).gather(2, index.expand(b, k, frames))

    # ------------------------------------------------------------------------------------- the model

    def _embed(self, columns: torch.Tensor) -> torch.Tensor:
        """(B, K, T) codes => (B, T, H): the sum of the K codebook embeddings, summed in transformers' order."""
        x = self.embed_tokens[0](columns[:, 0])
        for k in range(1, self.num_codebooks):
            x = x + self.embed_tokens[k](columns[:, k])
        return x

    def _split_heads(self, x: torch.Tensor) -> torch.Tensor:
        """(rows, T, H) => (rows, heads, T, head_dim)."""
        return x.view(x.shape[0], x.shape[1], self.heads, self.head_dim).transpose(1, 2)

    def _self_attention(
        self,
        attn,
        h: torch.Tensor,
        k_cache: torch.Tensor,
        v_cache: torch.Tensor,
        pos: torch.Tensor,
        mask: torch.Tensor,
    ) -> torch.Tensor:
        """h (rows, T, H) at positions pos (T,): write its K/V into the cache, attend over the cache."""
        lin = self._linear
        q = self._split_heads(lin(attn.q_proj, h))
        k_cache.index_copy_(2, pos, self._split_heads(lin(attn.k_proj, h)))
        v_cache.index_copy_(2, pos, self._split_heads(lin(attn.v_proj, h)))
        o = F.scaled_dot_product_attention(q, k_cache, v_cache, attn_mask=mask, scale=attn.scaling)
        return self._linear(attn.out_proj, o.transpose(1, 2).flatten(2))

    def _cross_attention(
        self, attn, h: torch.Tensor, k: torch.Tensor, v: torch.Tensor, mask: torch.Tensor
    ) -> torch.Tensor:
        q = self._split_heads(self._linear(attn.q_proj, h))
        o = F.scaled_dot_product_attention(q, k, v, attn_mask=mask, scale=attn.scaling)
        return self._linear(attn.out_proj, o.transpose(1, 2).flatten(2))

    def _forward(self, st: StepBuffers, x: torch.Tensor, pos: torch.Tensor) -> torch.Tensor:
        """x (rows, T, H) input embeddings at absolute positions pos (T,) => last position's logits (rows*K, V) f32."""
        x = x + self._positions.index_select(0, pos)
        length = st.k_cache.shape[3]
        # (1, 1, T, L): causal over the whole cache; positions not yet written in this request are masked
        mask = (self._arange[:length] <= pos[:, None])[None, None]
        for i, layer in enumerate(self.layers):
            x = x + self._self_attention(
                layer.self_attn, layer.self_attn_layer_norm(x), st.k_cache[i], st.v_cache[i], pos, mask
            )
            if st.cross_k is not None:
                x = x + self._cross_attention(
                    layer.encoder_attn,
                    layer.encoder_attn_layer_norm(x),
                    st.cross_k[i],
                    st.cross_v[i],
                    st.cross_mask,
                )
            lin = self._linear
            x = x + lin(layer.fc2, layer.activation_fn(lin(layer.fc1, layer.final_layer_norm(x))))
        h = self.final_norm(x[:, -1])  # (rows, H)
        return torch.stack([self._linear(head, h) for head in self.lm_heads], dim=1).flatten(0, 1).float()

    # -------------------------------------------------------------------------------------- sampling

    def _sample(self, st: StepBuffers, logits: torch.Tensor) -> torch.Tensor:
        """(rows*K, V) float32 logits => (B*K,) codes, drawn with the decoder's generator (see `sample`)."""
        return sample(st, logits, self._gen)

    def _emit(self, st: StepBuffers, logits: torch.Tensor) -> None:
        """Sample the column at pos + 1, apply the delay pattern / prompt forcing, store it and advance pos."""
        nxt = self._sample(st, logits)
        at = st.pos + 1
        forced = st.forced.index_select(1, at).view(-1)
        nxt = torch.where(forced < 0, nxt, forced)
        st.seq.index_copy_(1, at, nxt[:, None])
        st.tokens.copy_(nxt)
        st.pos.copy_(at)

    # ------------------------------------------------------------------------------------- the loop

    def _prefill(self, st: StepBuffers, prefix: torch.Tensor | None, prefix_len: int, p: int) -> None:
        """Conditioning prefix + BOS/prompt columns in one forward; samples the first new column (step 1)."""
        b, k = st.batch, self.num_codebooks
        t = prefix_len + 1 + p
        columns = st.forced.view(b, k, -1)[:, :, prefix_len:t]  # (B, K, 1+P), delay pattern applied
        x = self._embed(columns)  # (B, 1+P, H)
        if st.cfg:
            x = x.repeat(2, 1, 1)
        if prefix is not None:
            x = torch.cat([prefix, x], dim=1)  # (rows, t, H)
        logits = self._forward(st, x, torch.arange(t, device=self.device))
        st.pos.fill_(t - 1)
        self._emit(st, logits)

    def _decode_one_step(self, st: StepBuffers) -> None:
        """One code column: only tensor ops on st's static buffers (CUDA-graph capturable)."""
        x = self._embed(st.tokens.view(st.batch, self.num_codebooks, 1))  # (B, 1, H)
        if st.cfg:
            x = x.repeat(2, 1, 1)
        self._emit(st, self._forward(st, x, st.pos))

    def _decode_n_steps(
        self, st: StepBuffers, total: int, progress: Progress, cancel: threading.Event | None
    ) -> None:
        """Steps 2..total (the prefill was step 1); each step's column is copied to the host for `progress`.

        On CUDA the copies are non-blocking into pinned memory and the host runs at most LOOKAHEAD steps ahead
        of the GPU: it waits on the event of an older step (the GPU queue never drains), so progress, streamed
        frames and cancel trail the GPU by a few steps at most, without a synchronisation per step.
        """
        step = self._replayer(st)
        ring = [torch.cuda.Event() for _ in range(LOOKAHEAD)] if self.device.type == "cuda" else []
        for i in range(1, total + 1):
            if i > 1:
                _check(cancel)
                step()
            progress.columns[i - 1].copy_(st.tokens, non_blocking=bool(ring))
            if ring:
                event = ring[i % LOOKAHEAD]
                event.synchronize()  # step i - LOOKAHEAD is finished, and its column is on the host
                event.record()
                progress.finished(i - LOOKAHEAD)
            else:
                progress.finished(i)
        if ring:
            torch.cuda.current_stream().synchronize()
            progress.finished(total)

    def _replayer(self, st: StepBuffers) -> Callable[[], None]:
        if self.cuda_graphs and st.graph is None:
            st.graph = self._capture(st)
        return st.graph.replay if st.graph is not None else partial(self._decode_one_step, st)

    def _capture(self, st: StepBuffers) -> torch.cuda.CUDAGraph | None:
        """Warm up and record one decode step over st's buffers; on failure log once and decode eagerly from now.

        Called after a prefill: the warm-up step writes the K/V the real step will write, and a sequence
        column the real step overwrites; tokens, pos and the generator are restored afterwards.
        """
        saved = st.tokens.clone(), st.pos.clone(), self._gen.get_state()
        graph = None
        try:
            side = torch.cuda.Stream()
            side.wait_stream(torch.cuda.current_stream())
            with torch.cuda.stream(side):
                self._decode_one_step(st)  # kernels chosen, cuBLAS workspaces allocated
            torch.cuda.current_stream().wait_stream(side)
            st.tokens.copy_(saved[0])
            st.pos.copy_(saved[1])
            graph = torch.cuda.CUDAGraph()
            graph.register_generator_state(self._gen)
            if self._pool is None:
                self._pool = torch.cuda.graph_pool_handle()
            # thread_local: CUDA work from other threads (streaming decode) does not break the capture
            with torch.cuda.graph(graph, pool=self._pool, capture_error_mode="thread_local"):
                self._decode_one_step(st)
        except Exception as e:  # any capture problem: correctness first, eager decoding still works
            log.warning(
                "CUDA graph capture failed, decoding without CUDA graphs: %s: %s", type(e).__name__, e
            )
            self.cuda_graphs = False
            graph = None
        finally:
            st.tokens.copy_(saved[0])
            st.pos.copy_(saved[1])
            self._gen.set_state(saved[2])
        return graph


def _round_up(n: int, multiple: int) -> int:
    return -(-n // multiple) * multiple


def _check(cancel: threading.Event | None) -> None:
    if cancel is not None and cancel.is_set():
        raise Cancelled()
