"""Tests for bridge.engine.step: the on-device sampler and the CPU few-rows linear of one decode step."""

from __future__ import annotations

import math
from types import SimpleNamespace

import pytest
import torch

from bridge.engine.step import BIG_WEIGHT, few_rows_linear, sample


@pytest.mark.parametrize("top_k,top_p", [(0, 0.0), (5, 0.0), (0, 0.8), (5, 0.8)])
def test_sampler_draws_from_the_filtered_distribution(top_k, top_p):
    """Empirical frequencies of the on-device sampler match softmax after transformers' top-k / top-p."""
    generator = torch.Generator().manual_seed(0)
    logits = torch.tensor([[2.0, 1.5, 1.0, 0.5, 0.0, -0.5, -1.0, -3.0]]).repeat(20000, 1)
    st = SimpleNamespace(
        cfg=False, greedy=False, top_k=top_k, top_p=top_p > 0, scalars=torch.tensor([1.0, 1.0, 1.0 - top_p])
    )
    draws = sample(st, logits, generator)
    expected = logits[0].clone()
    if top_k:
        expected[expected < expected.topk(top_k).values[-1]] = -math.inf
    if top_p:
        ascending, order = expected.sort()
        drop = ascending.softmax(-1).cumsum(-1) <= 1 - top_p
        drop[-1] = False
        expected[order[drop]] = -math.inf
    p = expected.softmax(-1)
    freq = torch.bincount(draws, minlength=8).float() / len(draws)
    assert torch.allclose(freq, p, atol=0.015), (freq, p)
    assert (freq[p == 0] == 0).all()


@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("layout", ["row-major", "transposed"])
def test_few_rows_linear_matches_the_layer_and_returns_row_major(bias, layout):
    """The CPU decode-step linear equals layer(x) for inputs of either memory layout, and always hands back a
    row-major result: a transposed one made the next linear ~5x slower and pushed SDPA off its flash kernel."""
    layer = torch.nn.Linear(512, BIG_WEIGHT // 512, bias=bias)  # big enough to take the weight @ x.T path
    x = torch.randn(2, 1, 512)
    if layout == "transposed":  # what a previous few-rows linear returned: (rows, in) with strides (1, rows)
        x = torch.randn(512, 2).T.reshape(2, 1, 512)
        assert not x.is_contiguous()
    y = few_rows_linear(layer, x)
    assert y.shape == (2, 1, layer.out_features)
    assert y.is_contiguous()
    torch.testing.assert_close(y, layer(x), rtol=1e-5, atol=1e-5)
