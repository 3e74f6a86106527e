"""Tests for bridge.engine.windows: long loops are planned as sliding 30 s windows."""

from __future__ import annotations

from itertools import pairwise

import pytest

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
