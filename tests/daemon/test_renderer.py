"""The model adapter: `bridge.pipeline.render` behind the job queue's Renderer contract, errors as codes."""

from __future__ import annotations

import errno
import threading

import numpy as np
import pytest

from bridge import pipeline
from bridge.audio.io import AudioError
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


def test_every_wording_of_out_of_memory_is_out_of_memory(tmp_path):
    """numpy, torch's CPU allocator, the C library (an OSError, not an io_error) and wrapped errors."""
    try:
        np.empty(1 << 60, dtype=np.uint8)  # numpy refuses at once: "Unable to allocate 1.00 EiB ..."
    except MemoryError as e:
        numpy_error: BaseException = e
    wrapped = AudioError("clip.flac: cannot decode audio")
    wrapped.__cause__ = OSError(errno.ENOMEM, "Cannot allocate memory")
    renderer = PipelineRenderer(engine=object(), backend="ours")
    for exc in (
        numpy_error,
        RuntimeError("DefaultCPUAllocator: not enough memory: you tried to allocate 4294967296 bytes."),
        OSError(errno.ENOMEM, "Cannot allocate memory"),
        RuntimeError("std::bad_alloc"),
        wrapped,
    ):

        def boom(*a, exc=exc, **k):
            raise exc

        renderer._render = boom
        with pytest.raises(JobError) as e:
            renderer.render(req(), tmp_path, on_progress=print, on_chunk=print, cancel=threading.Event())
        assert e.value.code == "out_of_memory", exc
    renderer._render = lambda *a, **k: (_ for _ in ()).throw(OSError(errno.ENOSPC, "No space left on device"))
    with pytest.raises(JobError) as e:
        renderer.render(req(), tmp_path, on_progress=print, on_chunk=print, cancel=threading.Event())
    assert e.value.code == "io_error"
