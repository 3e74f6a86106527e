"""The model adapter: the job queue's `Renderer` for a loaded engine, `bridge.pipeline.render` with its
failures mapped to protocol error codes.

    JobQueue worker ─> PipelineRenderer.render ─> bridge.pipeline.render(engine, request, out_dir) ─> WAVs
                                │
                                └─ Cancelled / ModelError / ChromaError, LoopError / AudioError, OSError /
                                   out of memory  ─>  JobError(cancelled / model_error / bad_argument /
                                                               io_error / out_of_memory)

The one daemon module that imports the pipeline (and so torch): the daemon's start-up
(`bridge.daemon.app`) builds it; the queue and the server only know the `Renderer` contract.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from bridge import pipeline
from bridge.audio.io import AudioError
from bridge.audio.tempo import LoopError
from bridge.daemon.types import (
    ChunkFn,
    FileFn,
    JobError,
    ProgressFn,
    Rendered,
    Renderer,
    out_of_memory_error,
)
from bridge.engine.chroma import ChromaError
from bridge.engine.types import Cancelled, ModelError


class PipelineRenderer(Renderer):
    """The real thing: `bridge.pipeline.render` on a loaded engine, errors mapped to protocol codes."""

    def __init__(self, engine: Any, backend: str = "ours"):
        self.engine = engine
        self.backend = backend
        self.name = getattr(engine, "name", "model")
        self._render = pipeline.render

    reports_files = True  # takes on_file: each take's path as soon as it is written

    def render(
        self,
        request: Any,
        out_dir: Path,
        *,
        on_progress: ProgressFn,
        on_chunk: ChunkFn,
        cancel: threading.Event,
        on_file: FileFn | None = None,
    ) -> Rendered:
        try:
            result = self._render(
                self.engine,
                request,
                out_dir,
                backend=self.backend,
                on_progress=on_progress,
                on_chunk=on_chunk,
                cancel=cancel,
                on_file=on_file,
            )
        except Cancelled:
            raise JobError("cancelled", "cancelled") from None
        except Exception as e:
            oom = out_of_memory_error(e)  # first: "Cannot allocate memory" is an OSError, too
            if oom is not None:
                raise oom from e
            if isinstance(e, ModelError):
                raise JobError("model_error", str(e)) from e
            if isinstance(e, ChromaError | LoopError):
                raise JobError("bad_argument", str(e)) from e
            if isinstance(e, AudioError | OSError):
                raise JobError("io_error", str(e)) from e
            raise
        return Rendered(tuple(result.paths), dict(result.timings), tuple(result.grid))
