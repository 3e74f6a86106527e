"""A small OSC test client like Max's: one socket sends ([udpsend]), another receives ([udpreceive]).

Also the daemon-as-a-subprocess helpers and an in-memory fake renderer shared by the server tests.
"""

from __future__ import annotations

import contextlib
import functools
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import soundfile as sf
from pythonosc.osc_message import OscMessage
from pythonosc.osc_message_builder import OscMessageBuilder

from bridge.audio.io import write_wav_unique
from bridge.daemon.types import JobError, Rendered, Renderer
from bridge.protocol import ProtocolError
from bridge.protocol.decode import DecodedReply, decode_reply

REPO = Path(__file__).resolve().parents[1]


def build(address: str, *args: Any) -> bytes:
    """int => i, float => f, str => s, bytes => b, bool => T/F, None => N (python-osc's inference)."""
    builder = OscMessageBuilder(address=address)
    for a in args:
        builder.add_arg(a)
    return builder.build().dgram


@dataclass(frozen=True)
class Reply:
    address: str
    args: tuple[Any, ...]
    size: int
    t: float

    @property
    def verb(self) -> str:
        return self.address.rsplit("/", 1)[-1]

    @property
    def decoded(self) -> DecodedReply:
        """The arguments by name, typed from the reply table (ProtocolError for a reply that breaks it)."""
        return decode_reply(self.address, self.args)

    @functools.cached_property
    def request_id(self) -> str | None:
        """The request id the reply answers; None for a datagram that is not a well-formed reply."""
        try:
            return self.decoded.request_id
        except ProtocolError:
            return None


class OscTestClient:
    """Send to the daemon; collect every reply on our own port, with timeouts."""

    def __init__(
        self, server: tuple[str, int], reply_port: int = 0, shared_socket: bool = False, rcvbuf: int = 4 << 20
    ):
        """`reply_port`: listen there (0: any free port). `shared_socket`: send and receive on one socket,
        like most OSC libraries (then replies without a declared port come back to the source)."""
        self.server = server
        self.recv_sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        with contextlib.suppress(OSError):
            self.recv_sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        self.recv_sock.bind(("127.0.0.1", reply_port))
        self.send_sock = self.recv_sock if shared_socket else socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.reply_port = self.recv_sock.getsockname()[1]
        self.replies: list[Reply] = []
        self._cond = threading.Condition()
        self._closed = False
        self._thread = threading.Thread(target=self._receive, daemon=True)
        self._thread.start()

    def _receive(self) -> None:
        self.recv_sock.settimeout(0.1)
        while not self._closed:
            try:
                data = self.recv_sock.recv(65536)
            except TimeoutError:
                continue
            except OSError:
                return
            msg = OscMessage(data)
            with self._cond:
                self.replies.append(Reply(msg.address, tuple(msg.params), len(data), time.monotonic()))
                self._cond.notify_all()

    def close(self) -> None:
        self._closed = True
        self._thread.join(1)
        self.recv_sock.close()
        if self.send_sock is not self.recv_sock:
            self.send_sock.close()

    def __enter__(self) -> OscTestClient:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    # ------------------------------------------------------------------ sending

    def send_raw(self, data: bytes) -> None:
        self.send_sock.sendto(data, self.server)

    def send(self, verb: str, request_id: Any, *args: Any, reply: bool = True) -> None:
        """`/musicgen/<verb> <id> key value ...`, with our reply_port unless reply=False."""
        extra = ("reply_port", self.reply_port) if reply else ()
        self.send_raw(build(f"/musicgen/{verb}", request_id, *args, *extra))

    def hello(self, name: str = "test", timeout: float = 10.0, **keys: Any) -> Reply:
        args = [a for kv in keys.items() for a in kv]
        self.send_raw(
            build("/musicgen/hello", f"hello-{name}", "name", name, "reply_port", self.reply_port, *args)
        )
        return self.wait(lambda r: r.verb == "welcome", timeout)

    # ------------------------------------------------------------------ waiting

    def wait(self, predicate: Callable[[Reply], bool], timeout: float = 10.0) -> Reply:
        deadline = time.monotonic() + timeout
        seen = 0
        with self._cond:
            while True:
                for r in self.replies[seen:]:
                    if predicate(r):
                        return r
                seen = len(self.replies)
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError(f"no matching reply in {timeout} s; got {self.replies[-10:]}")
                self._cond.wait(left)

    def wait_for(self, request_id: str, verbs: Iterable[str], timeout: float = 10.0) -> Reply:
        verbs = set(verbs)
        return self.wait(lambda r: r.verb in verbs and r.request_id == request_id, timeout)

    def wait_count(
        self, predicate: Callable[[Reply], bool], count: int, timeout: float = 10.0
    ) -> list[Reply]:
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                found = [r for r in self.replies if predicate(r)]
                if len(found) >= count:
                    return found
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError(f"{len(found)} of {count} replies in {timeout} s")
                self._cond.wait(left)

    def of(self, request_id: str, verb: str | None = None) -> list[Reply]:
        with self._cond:
            return [r for r in self.replies if r.request_id == request_id and (verb is None or r.verb == verb)]

    def ping(self, request_id: str = "ping", timeout: float = 10.0) -> float:
        t0 = time.monotonic()
        self.send("ping", request_id)
        reply = self.wait_for(request_id, {"pong"}, timeout)
        return reply.t - t0


# ----------------------------------------------------------------------------------------- daemon


class Daemon:
    """`python -m bridge.cli serve --model debug --port 0 --out OUT` as a subprocess; stderr goes to a
    file (a full pipe would block the daemon)."""

    def __init__(self, out: Path, *extra: str, timeout: float = 120.0):
        self.out = out
        self.log_path = out.parent / f"{out.name}-daemon-{time.monotonic_ns()}.log"
        self._log = open(self.log_path, "w")  # noqa: SIM115 (closed in kill)
        env = dict(os.environ, PYTHONUNBUFFERED="1", TOKENIZERS_PARALLELISM="false", OMP_NUM_THREADS="1")
        engine = os.environ.get("MUSICGEN_TEST_ENGINE", "ours")  # "transformers": the other decode loop
        cmd = [
            sys.executable,
            "-m",
            "bridge.cli",
            "serve",
            "--model",
            "debug",
            "--device",
            "cpu",
            "--port",
            "0",
            "--out",
            str(out),
            "--engine",
            engine,
            *extra,
        ]
        self.proc = subprocess.Popen(
            cmd, cwd=REPO, stdout=subprocess.PIPE, stderr=self._log, text=True, env=env
        )
        self.address = self._read_address(timeout)

    def _read_address(self, timeout: float) -> tuple[str, int]:
        result: list[str] = []
        reader = threading.Thread(target=lambda: result.append(self.proc.stdout.readline()), daemon=True)
        reader.start()
        reader.join(timeout)
        line = result[0] if result else ""
        if not line.startswith("listening on "):
            self.kill()
            raise RuntimeError(f"daemon did not start: {line!r}\n{self.log()}")
        host, port = line.split()[-1].rsplit(":", 1)
        return host, int(port)

    def log(self) -> str:
        if not self._log.closed:
            self._log.flush()
        return self.log_path.read_text(errors="replace")

    def alive(self) -> bool:
        return self.proc.poll() is None

    def terminate(self, timeout: float = 60.0) -> int:
        self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(timeout)

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(30)
        self._log.close()


# ----------------------------------------------------------------------------------------- fakes


def write_tone(path: Path, seconds: float = 2.0, sr: int = 44100, freq: float = 330.0) -> Path:
    """A sine clip to send as a melody or a continuation."""
    t = np.arange(int(seconds * sr)) / sr
    sf.write(path, (0.5 * np.sin(2 * np.pi * freq * t)).astype(np.float32), sr)
    return path


@dataclass
class FakeChunk:
    index: int
    start_sample: int
    audio: Any


class FakeRenderer(Renderer):
    """`steps` steps of `step_seconds`, honouring cancel at every step; writes one tiny WAV per variation.
    `fail` makes it raise (a JobError or any exception); `chunks` streams that many preview chunks."""

    name = "fake"

    def __init__(
        self, steps: int = 5, step_seconds: float = 0.01, fail: BaseException | None = None, chunks: int = 0
    ):
        self.steps, self.step_seconds, self.fail, self.chunks = steps, step_seconds, fail, chunks
        self.rendered: list[Any] = []
        self.running = threading.Event()

    def render(self, request, out_dir, *, on_progress, on_chunk, cancel) -> Rendered:
        self.running.set()
        try:
            for step in range(self.steps):
                if cancel.is_set():
                    raise JobError("cancelled", "cancelled")
                time.sleep(self.step_seconds)
                on_progress(0.95 * (step + 1) / self.steps)
                if step < self.chunks:
                    on_chunk(FakeChunk(step, step * 3200, np.zeros((1, 3200), np.float32)))
            if self.fail is not None:
                raise self.fail
            paths = tuple(
                write_wav_unique(
                    Path(out_dir),
                    f"fake_{request.seed}_v{i + 1}",
                    np.zeros((1, 16000), np.float32),  # 0.5 s: long enough to be continued (MIN_CLIP_SECONDS)
                    32000,
                    "PCM_16",
                )
                for i in range(request.variations)
            )
            on_progress(1.0)
            self.rendered.append(request)
            return Rendered(paths, {"fake_s": 0.0}, tuple(self.grid_report(i + 1) for i in range(len(paths))))
        finally:
            self.running.clear()

    @staticmethod
    def grid_report(take: int) -> dict[str, Any]:
        """What the real pipeline reports for a take fitted onto the grid (bridge.audio.grid.GridFit.report)."""
        return {"take": take, "attempts": 1, "status": "on_grid", "message": "on grid (played 121.7 bpm)",
                "played_bpm": 121.7, "ratio": 1.0142, "first_downbeat": 0.512, "confidence": 0.83,
                "shift_beats": 0.0}
