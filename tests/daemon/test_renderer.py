"""The model adapter: `bridge.pipeline.render` behind the job queue's Renderer contract, errors as codes."""

from __future__ import annotations

import threading

import pytest

from bridge import pipeline
from bridge.daemon.renderer import PipelineRenderer
from bridge.daemon.types import JobError
from bridge.engine.types import Cancelled, ModelError
from bridge.request import GenerationRequest


def req(seed: int = 1, **kw) -> GenerationRequest:
    return GenerationRequest(prompt="test", bpm=120, bars=1, seed=seed, **kw)


def test_pipeline_renderer_maps_errors_to_codes(tmp_path, monkeypatch):
    renderer = PipelineRenderer(engine=object(), backend="ours")
    cancel = threading.Event()
    for exc, code in [
        (Cancelled(), "cancelled"),
        (ModelError("no melody"), "model_error"),
        (OSError("disk full"), "io_error"),
        (RuntimeError("out of memory"), "out_of_memory"),
    ]:

        def boom(*a, exc=exc, **k):
            raise exc

        renderer._render = boom
        with pytest.raises(JobError) as e:
            renderer.render(
                req(), tmp_path, on_progress=lambda f: None, on_chunk=lambda c: None, cancel=cancel
            )
        assert e.value.code == code
    seen = {}

    def fake_render(engine, request, out_dir, **kwargs):
        seen.update(kwargs)
        return pipeline.RenderResult((tmp_path / "a.wav",), 1, 2.0, {"generate_s": 1.0})

    renderer._render = fake_render
    out = renderer.render(req(), tmp_path, on_progress=print, on_chunk=print, cancel=cancel)
    assert out.paths == (tmp_path / "a.wav",) and seen["backend"] == "ours" and seen["cancel"] is cancel
    assert seen["on_chunk"] is print and seen["on_progress"] is print


def test_out_of_memory_reads_as_from_the_queue(tmp_path):
    """The adapter and the queue's worker share one out-of-memory branch: same code, same message."""
    renderer = PipelineRenderer(engine=object(), backend="ours")

    def boom(*a, **k):
        raise MemoryError("cannot allocate 3 GiB")

    renderer._render = boom
    with pytest.raises(JobError) as e:
        renderer.render(req(), tmp_path, on_progress=print, on_chunk=print, cancel=threading.Event())
    assert (e.value.code, e.value.message) == ("out_of_memory", "out of memory: cannot allocate 3 GiB")
