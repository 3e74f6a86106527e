"""Tests for bridge.engine.windows: long loops are planned as sliding 30 s windows."""

from __future__ import annotations

from itertools import pairwise

import pytest
import torch

from bridge.engine import windows
from bridge.engine.conditioning import Conditioning
from bridge.engine.loading import load_engine
from bridge.engine.types import Sampling, delay_steps
from bridge.engine.windows import Window, plan_windows


def test_window_plan_covers_the_request_in_30s_windows():
    assert plan_windows(0, 1000) == [Window(0, 0, 1000)]
    plan = plan_windows(200, 2500)
    assert plan[0] == Window(0, 200, 1300)
    assert all(w.prompt + w.new <= 1500 for w in plan)
    assert sum(w.new for w in plan) == 2500
    for prev, w in pairwise(plan):  # each window's context ends where the previous window ended
        assert w.start + w.prompt == prev.start + prev.prompt + prev.new
    with pytest.raises(ValueError):
        plan_windows(0, 10, stride=1500)


@pytest.mark.parametrize("model", ["debug", "debug-stereo"])
def test_windows_continue_each_take_like_transformers(model, monkeypatch, one_thread):
    """Short windows (24 frames, 12 of context), 3 of them: one progress count over all windows' steps
    (the stereo delay pattern is 4 steps deep, not 8), one frame stream in order, and greedy codes equal
    to the transformers path's through the same windows, mono and stereo."""
    engine = load_engine(model, device="cpu")
    plan = windows.plan_windows
    monkeypatch.setattr(windows, "plan_windows", lambda p, n: plan(p, n, window=24, stride=12))
    k = engine.num_codebooks
    prompt = torch.randint(0, 2048, (k, 6), generator=torch.Generator().manual_seed(2))
    cond = Conditioning("x", None, prompt)
    greedy = Sampling(temperature=0.0, cfg=3.0)
    runs = {}
    for backend in ("transformers", "ours"):
        steps, frames = [], []
        codes = windows.generate_codes(
            engine, cond, 40, 2, greedy, 0, backend, lambda d, t, s=steps: s.append((d, t)), None,
            on_frames=lambda first, f, seen=frames: seen.append((first, f)),
        )
        total = sum(delay_steps(w.new, k, engine.channels) for w in plan(6, 40, window=24, stride=12))
        assert codes.shape == (2, k, 6 + 40) and torch.equal(codes[:, :, :6], prompt.expand(2, -1, -1))
        assert [d for d, _ in steps] == list(range(1, total + 1)) and {t for _, t in steps} == {total}
        assert [first for first, _ in frames] == list(range(40))
        assert torch.equal(torch.cat([f for _, f in frames], dim=2), codes[:, :, 6:])
        runs[backend] = codes
    assert len(plan(6, 40, window=24, stride=12)) == 3
    assert torch.equal(runs["ours"], runs["transformers"])
