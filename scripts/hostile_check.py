"""Hostile and clumsy clients against real daemons on loopback: the measurements behind the daemon's limits.

    .venv/bin/python scripts/hostile_check.py                      # every case, default counts
    .venv/bin/python scripts/hostile_check.py --cases crosstalk loop --keep

Each case starts its own `musicgen-bridge serve --model debug --device cpu --port 0 --out <tmp>` (127.0.0.1
only, the tiny random model, no download) and stops it with SIGTERM at the end. One line per case:

    <case> tried=N answered=N crashed=no lost=N <measures> ok | FAIL: <the bound that broke>

tried / answered / lost count the requests the case sends that expect an answer (pings, generates, status
requests, ...); crashed says whether a daemon died during the case or did not exit 0 on SIGTERM. The exit
status is 1 when any case breaks its bound. Cases:

    crosstalk  three apps on 127.0.0.1 (split send/receive sockets + hello, one socket + hello, one socket
               that never says hello) all use request id job-1 and ping id p-1; 50 more sockets say hello
               without reply_port. Each must get only its own replies; B's cancel-all leaves A's and C's jobs.
    fifo       a clip path swapped between a WAV and a FIFO as fast as possible while generates name it as
               melody (50/s); other client's pings (10/s) must each be answered within 1 s.
    loop       two daemons; datagrams that make daemon A answer at daemon B's port (ping, a bad generate, an
               unknown address, a forged pong); datagrams the pair exchanges over 3 s must stay a few.
    amplify    ~100 jobs with 500-character prompts in the journal; reply bytes / request bytes of one
               `history limit 100` and of one 8 KB bundle of them (one reply budget each); another client's
               ping wait during a storm of such bundles.
    bomb       FLAC files of silence as a melody: 2 h at 8 kHz (~180 KB: decoded only up to the melody's
               30 s) and 5 h stereo (~900 KB, header over MAX_CLIP_SAMPLES: refused); the daemon's RSS growth.
    burst      1000 generates at once (bars 1) at a daemon whose receive buffer is stock Linux size
               (--recv-buffer), from a client that resends unanswered ids every 0.5 s (like the panel, at
               most a few per tick): every id answered (ack or queue_full / rate_limited).
    disk       N 1-bar jobs and M submitted-then-cancelled ones; <out>/.jobs, the journal and the loops,
               then the daemon's own retention pass (bridge.daemon.retention) run with its clock moved past
               CHUNK_KEEP_SECONDS, then past JOURNAL_KEEP_DAYS: previews and dead rows go, loops stay.
    cli        the CLI cases: --out naming a file, --out=~/x, a 5 ms WAV as --melody, --melody-bpm without a
               clip, --keep-prompt without --continue, --seed -1, `m4l build --check`, `midi check` on a
               file with three mistakes; also --out under a file, and `serve --out` naming a file (exit
               code, `error:` lines, no Traceback).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import soundfile as sf
from pythonosc.osc_bundle_builder import IMMEDIATELY, OscBundleBuilder
from pythonosc.osc_message import OscMessage
from pythonosc.osc_message_builder import OscMessageBuilder
from pythonosc.osc_packet import OscPacket

from bridge.daemon.journal import JOURNAL_NAME, Journal
from bridge.daemon.retention import JOBS_FOLDER, Retention
from bridge.limits import CHUNK_KEEP_SECONDS, JOURNAL_KEEP_DAYS, MAX_CLIP_SAMPLES, REPLY_BUDGET_BYTES
from bridge.protocol.schema import MAX_DATAGRAM

REPO = Path(__file__).resolve().parents[1]
LOCAL = "127.0.0.1"
JOB = ("bpm", 400.0, "bars", 1, "grid", "off")  # the cheapest job: 1 bar at 400 bpm is 0.6 s of audio
LONG_JOB = ("bpm", 60.0, "bars", 64, "grid", "off")  # 256 s of audio: still running or waiting when cancelled
GENERATE_ANSWERS = ("ack", "error", "done")
STOCK_RCVBUF = 106496  # asked for: Linux doubles it to 212,992 bytes, its stock net.core.rmem_default


# ----------------------------------------------------------------------------------------- OSC


def osc(address: str, *args: Any) -> bytes:
    builder = OscMessageBuilder(address=address)
    for a in args:
        builder.add_arg(a)
    return builder.build().dgram


def bundle(messages: Iterable[bytes]) -> bytes:
    builder = OscBundleBuilder(IMMEDIATELY)
    for m in messages:
        builder.add_content(OscMessage(m))
    return builder.build().dgram


@dataclass(frozen=True)
class Reply:
    verb: str
    args: tuple[Any, ...]
    size: int
    t: float

    @property
    def rid(self) -> str | None:
        return self.args[0] if self.args and isinstance(self.args[0], str) else None


class Peer:
    """One app on 127.0.0.1. `split`: sends from a second socket, like Max's [udpsend]/[udpreceive]."""

    def __init__(self, server: tuple[str, int], *, split: bool = False, rcvbuf: int = 4 << 20):
        self.server = server
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        with contextlib.suppress(OSError):
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        self.sock.bind((LOCAL, 0))
        self.port = self.sock.getsockname()[1]
        self.out = socket.socket(socket.AF_INET, socket.SOCK_DGRAM) if split else self.sock
        if split:
            self.out.bind((LOCAL, 0))
        self.replies: list[Reply] = []
        self.sent_bytes = 0
        self._cond = threading.Condition()
        self._closed = False
        self._thread = threading.Thread(target=self._receive, daemon=True)
        self._thread.start()

    def _receive(self) -> None:
        self.sock.settimeout(0.05)
        while not self._closed:
            try:
                data = self.sock.recv(65536)
            except TimeoutError:
                continue
            except OSError:
                return
            try:
                msgs = [m.message for m in OscPacket(data).messages]
            except Exception:  # noqa: BLE001 (a reply that is not OSC is counted, not parsed)
                msgs = []
            now = time.monotonic()
            with self._cond:
                for m in msgs or [None]:
                    verb = m.address.rsplit("/", 1)[-1] if m is not None else "?"
                    self.replies.append(Reply(verb, tuple(m.params) if m else (), len(data), now))
                self._cond.notify_all()

    def close(self) -> None:
        self._closed = True
        self._thread.join(1)
        self.sock.close()
        if self.out is not self.sock:
            self.out.close()

    def send_raw(self, data: bytes, to: tuple[str, int] | None = None) -> None:
        self.out.sendto(data, to or self.server)
        self.sent_bytes += len(data)

    def send(self, verb: str, rid: str, *args: Any, reply_port: bool = False, to: tuple[str, int] | None = None):
        extra = ("reply_port", self.port) if reply_port else ()
        self.send_raw(osc(f"/musicgen/{verb}", rid, *args, *extra), to)

    def hello(self, name: str, *, reply_port: bool = True, timeout: float = 10.0) -> Reply | None:
        self.send("hello", f"hello-{name}", "name", name, reply_port=reply_port)
        return self.wait(lambda r: r.verb == "welcome", timeout)

    def wait(self, pred: Callable[[Reply], bool], timeout: float) -> Reply | None:
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                for r in self.replies:
                    if pred(r):
                        return r
                left = deadline - time.monotonic()
                if left <= 0:
                    return None
                self._cond.wait(min(left, 0.05))

    def of(self, rid: str, verbs: Iterable[str] | None = None) -> list[Reply]:
        verbs = set(verbs) if verbs is not None else None
        with self._cond:
            return [r for r in self.replies if r.rid == rid and (verbs is None or r.verb in verbs)]

    def answered(self, rid: str, verbs: Iterable[str]) -> bool:
        return bool(self.of(rid, verbs))

    def snapshot(self) -> list[Reply]:
        with self._cond:
            return list(self.replies)

    def ask(self, verb: str, rid: str, *args: Any, answers: Iterable[str], timeout: float = 10.0,
            tries: int = 3, **kw: Any) -> Reply | None:
        """Send until answered (ids are idempotent), at most `tries` times."""
        answers = tuple(answers)
        for _ in range(tries):
            self.send(verb, rid, *args, **kw)
            r = self.wait(lambda r: r.rid == rid and r.verb in answers, timeout / tries)
            if r is not None:
                return r
        return None

    def status(self, rid: str, *args: Any, **kw: Any) -> dict[str, Any] | None:
        r = self.ask("status", rid, *args, answers=("status", "error"), **kw)
        if r is None or r.verb != "status":
            return None
        pairs = r.args[1:]
        return {str(pairs[i]): pairs[i + 1] for i in range(0, len(pairs) - 1, 2)}


# ----------------------------------------------------------------------------------------- daemons


class Daemon:
    """`python -m bridge.cli serve --model debug` as a subprocess; stderr to a log file."""

    def __init__(self, out: Path, *extra: str, timeout: float = 300.0):
        self.out = out
        out.mkdir(parents=True, exist_ok=True)
        self.log_path = out.parent / f"{out.name}.log"
        self._log = open(self.log_path, "w")  # noqa: SIM115 (closed in stop)
        env = dict(os.environ, PYTHONUNBUFFERED="1", TOKENIZERS_PARALLELISM="false", OMP_NUM_THREADS="1")
        cmd = [sys.executable, "-m", "bridge.cli", "serve", "--model", "debug", "--device", "cpu",
               "--host", LOCAL, "--port", "0", "--out", str(out), "--no-warmup", *extra]
        self.proc = subprocess.Popen(cmd, cwd=REPO, stdout=subprocess.PIPE, stderr=self._log, text=True, env=env)
        self.died_early = False
        self.exit_code: int | None = None
        self.timeout = timeout
        self.address = (LOCAL, 0)

    def ready(self) -> Daemon:
        """Wait for `listening on HOST:PORT` (the model is loaded then)."""
        line: list[str] = []
        reader = threading.Thread(target=lambda: line.append(self.proc.stdout.readline()), daemon=True)
        reader.start()
        reader.join(self.timeout)
        if not line or not line[0].startswith("listening on "):
            self.stop()
            raise RuntimeError(f"the daemon did not start: {line!r}\n{self.log()[-2000:]}")
        host, port = line[0].split()[-1].rsplit(":", 1)
        self.address = (host, int(port))
        return self

    @property
    def pid(self) -> int:
        return self.proc.pid

    def alive(self) -> bool:
        return self.proc.poll() is None

    def _proc_status(self, key: str) -> int:
        """A /proc/<pid>/status field in kB (VmRSS, VmHWM); 0 when unreadable."""
        with contextlib.suppress(OSError):
            for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
                if line.startswith(key + ":"):
                    return int(line.split()[1])
        return 0

    def rss_kb(self) -> int:
        return self._proc_status("VmRSS")

    def cpu_seconds(self) -> float:
        with contextlib.suppress(OSError, IndexError, ValueError):
            fields = Path(f"/proc/{self.pid}/stat").read_text().rsplit(")", 1)[1].split()
            return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime
        return 0.0

    def log(self) -> str:
        if not self._log.closed:
            self._log.flush()
        return self.log_path.read_text(errors="replace")

    def stop(self, timeout: float = 30.0) -> int | None:
        """SIGTERM (SIGKILL after `timeout`); the exit code, None when it had to be killed."""
        if self.exit_code is not None or self._log.closed:
            return self.exit_code
        if self.proc.poll() is not None:
            self.died_early = True
        else:
            self.proc.send_signal(signal.SIGTERM)
        try:
            self.exit_code = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(30)
        self._log.close()
        return self.exit_code


@dataclass
class Result:
    case: str
    tried: int = 0
    answered: int = 0
    crashed: bool = False
    measures: dict[str, Any] = field(default_factory=dict)
    failures: list[str] = field(default_factory=list)

    @property
    def lost(self) -> int:
        return self.tried - self.answered

    def bound(self, ok: bool, what: str) -> None:
        if not ok:
            self.failures.append(what)

    def line(self) -> str:
        measures = " ".join(f"{k}={_fmt(v)}" for k, v in self.measures.items())
        verdict = "ok" if not self.failures else "FAIL: " + "; ".join(self.failures)
        crashed = "yes" if self.crashed else "no"
        return (f"{self.case:<16} tried={self.tried} answered={self.answered} crashed={crashed} "
                f"lost={self.lost} {measures} {verdict}")


def _fmt(v: Any) -> str:
    return f"{v:.3g}" if isinstance(v, float) else str(v)


class Run:
    """The run's temp folder and every daemon and peer it started (stopped at the end, whatever happens)."""

    def __init__(self, args: argparse.Namespace):
        self.args = args
        self.root = Path(tempfile.mkdtemp(prefix="hostile-check-"))
        self.daemons: list[Daemon] = []
        self.peers: list[Peer] = []

    def daemon(self, name: str, *extra: str, wait: bool = True) -> Daemon:
        d = Daemon(self.root / name, *extra)
        self.daemons.append(d)
        return d.ready() if wait else d

    def peer(self, d: Daemon, **kw: Any) -> Peer:
        p = Peer(d.address, **kw)
        self.peers.append(p)
        return p

    def finish(self, result: Result, *daemons: Daemon) -> Result:
        """Close the case's peers, stop its daemons: crashed if one died before or did not exit 0."""
        for p in self.peers:
            p.close()
        self.peers.clear()
        for d in daemons:
            died = not d.alive()
            code = d.stop()
            if died or code != 0:
                result.crashed = True
                result.failures.append(f"daemon {d.out.name} {'died' if died else 'exited'} with {code}")
            if "Traceback" in d.log():
                result.failures.append(f"Traceback in {d.log_path}")
        return result

    def close(self) -> None:
        for p in self.peers:
            p.close()
        for d in self.daemons:
            d.stop(10)
        if not self.args.keep:
            shutil.rmtree(self.root, ignore_errors=True)


def pace(deadline: float, seconds: float) -> bool:
    """Sleep `seconds`; False once `deadline` (monotonic) passed."""
    time.sleep(seconds)
    return time.monotonic() < deadline


def write_tone(path: Path, seconds: float, sr: int = 44100) -> Path:
    t = np.arange(int(seconds * sr)) / sr
    sf.write(path, (0.5 * np.sin(2 * np.pi * 330.0 * t)).astype(np.float32), sr)
    return path


def du(path: Path) -> int:
    """Bytes of the regular files under `path` (0 when it does not exist)."""
    if path.is_file():
        return path.stat().st_size
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) if path.exists() else 0


# ----------------------------------------------------------------------------------------- cases


def case_crosstalk(run: Run) -> Result:
    res = Result("crosstalk")
    d = run.daemon("crosstalk")
    a, b, c = run.peer(d, split=True), run.peer(d), run.peer(d)
    asks: list[tuple[Peer, str, tuple[str, ...]]] = []  # (peer, request id, answering verbs)

    def ask(p: Peer, verb: str, rid: str, *args: Any, answers: tuple[str, ...], timeout: float = 10.0) -> Reply | None:
        asks.append((p, rid, answers))
        return p.ask(verb, rid, *args, answers=answers, timeout=timeout)

    ask(a, "hello", "hello-a", "name", "app-a", "reply_port", a.port, answers=("welcome",))
    ask(b, "hello", "hello-b", "name", "app-b", "reply_port", b.port, answers=("welcome",))
    # A's job first (it runs), then B's and C's (they wait); the same request id from three apps. Jobs of
    # 256 s (64 bars at 60 bpm), so all three are still there when B cancels all of its own
    jobs = {}
    for p, prompt in ((a, "alpha"), (b, "bravo"), (c, "charlie")):
        r = ask(p, "generate", "job-1", "prompt", prompt, *LONG_JOB, answers=GENERATE_ANSWERS)
        jobs[prompt] = r.args[2] if r is not None and r.verb == "ack" else None
    for p in (a, b, c):
        ask(p, "ping", "p-1", answers=("pong",))
    hellos = [run.peer(d) for _ in range(run.args.hellos)]  # sockets that say hello without reply_port
    for i, p in enumerate(hellos):
        p.send("hello", "h-1", "name", f"tool-{i}")
    welcomed = sum(1 for p in hellos if p.wait(lambda r: r.verb == "welcome", 5.0) is not None)
    time.sleep(0.3)  # a welcome sent to the wrong socket would arrive by now
    cancel = ask(b, "cancel", "c-b", answers=("ok", "error"))
    time.sleep(0.5)
    st_a = ask(a, "status", "s-a", "job", "job-1", answers=("status", "error"))
    st_c = ask(c, "status", "s-c", "job", "job-1", answers=("status", "error"))
    state = {name: _pairs(r).get("state") if r is not None and r.verb == "status" else None
             for name, r in (("a", st_a), ("c", st_c))}
    for p, rid in ((a, "c-a"), (c, "c-c")):
        ask(p, "cancel", rid, answers=("ok", "error"))
    time.sleep(0.3)
    # every reply an app got must answer one of its own requests, and job replies must be its own job's
    mine = {id(p): {rid for q, rid, _ in asks if q is p} for p in (a, b, c)}
    misrouted = 0
    for p, prompt in ((a, "alpha"), (b, "bravo"), (c, "charlie")):
        own_job = jobs[prompt]
        misrouted += sum(1 for r in p.snapshot() if not _is_own(r, mine[id(p)], own_job, prompt))
    extra_welcomes = sum(max(0, len([r for r in p.snapshot() if r.verb == "welcome"]) - 1) for p in hellos)
    res.tried = len(asks) + len(hellos)
    res.answered = sum(1 for p, rid, verbs in asks if p.answered(rid, (*verbs, "error"))) + welcomed
    b_count = cancel.args[2] if cancel is not None and cancel.verb == "ok" else None
    res.measures.update(jobs=len({j for j in jobs.values() if j}), hellos=len(hellos), welcomed=welcomed,
                        extra_welcomes=extra_welcomes, misrouted=misrouted, b_cancelled=b_count,
                        a_state=state["a"], c_state=state["c"])
    res.bound(len({j for j in jobs.values() if j}) == 3, "three apps' job-1 must be three jobs")
    res.bound(misrouted == 0, "an app got another app's reply")
    res.bound(welcomed == len(hellos) and extra_welcomes == 0, "each hello's own welcome, once")
    res.bound(b_count == 1, "B's cancel-all cancels exactly B's one job")
    res.bound(state["a"] not in (None, "cancelled") and state["c"] not in (None, "cancelled"),
              "A's and C's jobs survive B's cancel-all")
    return run.finish(res, d)


def _is_own(r: Reply, rids: set[str], job: str | None, prompt: str) -> bool:
    """A reply to one of the app's request ids, and about its own job (ack's job id, chunk's folder, the
    done file's name, which starts with the prompt)."""
    if r.rid not in rids:
        return False
    if r.verb == "ack":
        return r.args[2] == job
    if r.verb == "chunk":
        return job is not None and job in str(r.args[2])
    if r.verb == "done":
        return all(Path(str(x)).name.startswith(prompt) for x in r.args[1:])
    return True


def _pairs(r: Reply) -> dict[str, Any]:
    pairs = r.args[1:]
    return {str(pairs[i]): pairs[i + 1] for i in range(0, len(pairs) - 1, 2)}


class Pinger:
    """Pings from its own socket every `interval` s; each ping's wait (s), inf when never answered."""

    def __init__(self, run: Run, d: Daemon, interval: float, prefix: str = "pg"):
        self.peer, self.interval, self.prefix = run.peer(d), interval, prefix
        self.sent: dict[str, float] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def __enter__(self) -> Pinger:
        self._thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._stop.set()
        self._thread.join(5)

    def _loop(self) -> None:
        n = 0
        while not self._stop.is_set():
            rid = f"{self.prefix}-{n}"
            self.sent[rid] = time.monotonic()
            self.peer.send("ping", rid)
            n += 1
            self._stop.wait(self.interval)

    def waits(self, settle: float = 1.0) -> list[float]:
        time.sleep(settle)
        got = {r.rid: r.t for r in self.peer.snapshot() if r.verb == "pong"}
        return [got[rid] - t if rid in got else float("inf") for rid, t in self.sent.items()]


def case_fifo(run: Run) -> Result:
    res = Result("fifo")
    d = run.daemon("fifo", "--queue-size", "4")
    clips = run.root / "fifo-clips"
    clips.mkdir()
    real = write_tone(clips / "real.wav", 1.0)
    target = clips / "clip.wav"
    os.link(real, target)
    stop, swaps = threading.Event(), [0]

    def swap() -> None:  # regular file and FIFO take turns under one name
        i = 0
        while not stop.is_set():
            link, fifo = clips / f".l{i}", clips / f".f{i}"
            os.link(real, link)
            os.replace(link, target)
            os.mkfifo(fifo)
            os.replace(fifo, target)
            swaps[0] += 1
            i += 1
            if i % 20 == 0:
                time.sleep(0.001)

    g = run.peer(d)
    sent: list[str] = []
    swapper = threading.Thread(target=swap, daemon=True)
    with Pinger(run, d, 0.1) as pinger:
        swapper.start()
        deadline = time.monotonic() + run.args.fifo_seconds
        while True:
            rid = f"f-{len(sent)}"
            g.send("generate", rid, "prompt", "fifo", "melody", str(target), *JOB)
            sent.append(rid)
            if not pace(deadline, 0.02):
                break
        stop.set()
        swapper.join(5)
    waits = pinger.waits()
    time.sleep(1.0)
    replies = g.snapshot()
    answered = {r.rid for r in replies if r.verb in GENERATE_ANSWERS}
    codes = [r.args[1] for r in replies if r.verb == "error" and len(r.args) > 1]
    g.ask("cancel", "f-cancel", answers=("ok", "error"))
    # the worker too must not be stuck on a FIFO: a plain job after the race runs to its end
    g.send("generate", "f-after", "prompt", "after", *JOB)
    after = g.wait(lambda r: r.rid == "f-after" and r.verb in ("done", "error"), run.args.job_timeout)
    late = sum(1 for w in waits if w > 1.0)
    res.tried = len(sent) + len(waits) + 1
    res.answered = len(answered & set(sent)) + sum(1 for w in waits if w != float("inf")) + (after is not None)
    res.measures.update(swaps=swaps[0], generates=len(sent), acked=len({r.rid for r in replies if r.verb == "ack"}),
                        **{c: codes.count(c) for c in sorted(set(codes))},
                        pings=len(waits), ping_max_s=max(waits, default=0.0), pings_over_1s=late,
                        job_after=after.verb if after is not None else None)
    res.bound(late == 0, "every ping answered within 1 s")
    res.bound(after is not None and after.verb == "done", "a job after the race is done (the worker is free)")
    res.bound(res.lost == 0, "every request answered")
    return run.finish(res, d)


def case_loop(run: Run) -> Result:
    res = Result("loop")
    d1, d2 = run.daemon("loop-a", wait=False), run.daemon("loop-b", wait=False)  # they load side by side
    d1.ready(), d2.ready()
    p = run.peer(d1)
    port2 = d2.address[1]
    starters = [
        osc("/musicgen/ping", "loop-ping", "reply_port", port2),
        osc("/musicgen/generate", "loop-bad", "bpm", 9999.0, "bars", 1, "reply_port", port2),
        osc("/musicgen/nope", "loop-x", "reply_port", port2),
        osc("/musicgen/pong", "loop-pong", "reply_port", port2),
    ]
    asked = [0]

    def counters(d: Daemon, rid: str) -> dict[str, Any]:
        asked[0] += 1
        return p.status(rid, to=d.address) or {}

    def datagrams(s: dict[str, Any]) -> int:
        return int(s.get("datagrams", 0))

    s1, s2 = counters(d1, "s1a"), counters(d2, "s2a")
    cpu0 = d1.cpu_seconds() + d2.cpu_seconds()
    for data in starters:
        p.send_raw(data, d1.address)
    time.sleep(1.0)
    m1, m2 = counters(d1, "s1b"), counters(d2, "s2b")
    time.sleep(2.0)
    e1, e2 = counters(d1, "s1c"), counters(d2, "s2c")
    cpu = d1.cpu_seconds() + d2.cpu_seconds() - cpu0
    # each status request is one datagram of ours in every interval; the starters went to d1 in the first
    into_d1 = datagrams(e1) - datagrams(s1) - len(starters) - 2
    into_d2 = datagrams(e2) - datagrams(s2) - 2
    late = (datagrams(e1) - datagrams(m1) - 1) + (datagrams(e2) - datagrams(m2) - 1)
    res.tried = asked[0]
    res.answered = sum(1 for s in (s1, s2, m1, m2, e1, e2) if s)
    res.measures.update(starters=len(starters), exchanged_3s=into_d1 + into_d2, into_a=into_d1, into_b=into_d2,
                        after_1s=late, ignored_replies_b=e2.get("ignored_replies"), cpu_s=round(cpu, 2))
    if not all("datagrams" in x for x in (s1, s2, m1, m2, e1, e2)):
        res.failures.append("a status reply without the datagrams counter: nothing measured")
        return run.finish(res, d1, d2)
    res.bound(into_d1 + into_d2 <= 2 * len(starters), "at most a few datagrams exchanged")
    res.bound(late == 0, "nothing exchanged after the first second")
    return run.finish(res, d1, d2)


def submit_all(p: Peer, rids: list[str], make: Callable[[str], bytes], *, seconds: float,
               retry_after: float = 0.5, per_tick: int = 8, tick: float = 0.1,
               answers: tuple[str, ...] = GENERATE_ANSWERS) -> dict[str, Any]:
    """Send every request at once, then resend those unanswered for `retry_after` s, at most `per_tick`
    per `tick` (the panel's rule: a retransmission must not overflow the daemon again), until all are
    answered or `seconds` pass. Ids are idempotent: a resent request is answered again, never run twice."""
    last: dict[str, float] = {}
    for rid in rids:
        p.send_raw(make(rid))
        last[rid] = time.monotonic()
    time.sleep(retry_after)
    answered = {r.rid for r in p.snapshot() if r.verb in answers}
    first = len(answered & set(rids))
    resent, deadline = 0, time.monotonic() + seconds
    while time.monotonic() < deadline:
        answered = {r.rid for r in p.snapshot() if r.verb in answers}
        waiting = [rid for rid in rids if rid not in answered]
        if not waiting:
            break
        now = time.monotonic()
        for rid in [rid for rid in waiting if now - last[rid] >= retry_after][:per_tick]:
            p.send_raw(make(rid))
            last[rid] = now
            resent += 1
        time.sleep(tick)
    answered = {r.rid for r in p.snapshot() if r.verb in answers} & set(rids)
    return {"first_pass": first, "resent": resent, "answered": len(answered)}


def case_amplify(run: Run) -> Result:
    res = Result("amplify")
    n = run.args.history_jobs
    d = run.daemon("amplify", "--queue-size", str(n + 8))
    filler = run.peer(d)
    prompt = ("dusty boom bap drums with vinyl crackle " * 13)[:500]
    fill = [f"fill-{i}" for i in range(n)]
    submit_all(filler, fill, lambda rid: osc("/musicgen/generate", rid, "prompt", prompt, *JOB), seconds=20)
    filler.ask("cancel", "fill-cancel", answers=("ok", "error"))
    time.sleep(0.5)
    x = run.peer(d)  # the attacker: one plain socket, no hello

    def reply_bytes(prefix: str, settle: float = 1.5) -> tuple[int, int]:
        time.sleep(settle)
        got = [r for r in x.snapshot() if r.rid and r.rid.startswith(prefix)]
        return sum(r.size for r in got), len(got)

    one = osc("/musicgen/history", "h-1", "limit", 100)
    x.send_raw(one)
    one_out, one_n = reply_bytes("h-1")
    msgs, rid = [], 0
    while len(bundle([*msgs, osc("/musicgen/history", f"hb-{rid:04d}", "limit", 100)])) <= MAX_DATAGRAM:
        msgs.append(osc("/musicgen/history", f"hb-{rid:04d}", "limit", 100))
        rid += 1
    packed = bundle(msgs)
    x.send_raw(packed)
    b_out, b_n = reply_bytes("hb-")
    with Pinger(run, d, 0.02, "amp-base") as base:
        time.sleep(1.0)
    base_waits = base.waits(0.5)
    storms = [bundle([osc("/musicgen/history", f"s{k}-{i:04d}", "limit", 100) for i in range(len(msgs))])
              for k in range(run.args.bundles)]
    with Pinger(run, d, 0.02, "amp-storm") as storm:
        time.sleep(0.2)
        for data in storms:
            x.send_raw(data)
        time.sleep(2.0)
    waits = storm.waits()
    storm_replies = [r for r in x.snapshot() if r.rid and r.rid[:1] == "s" and "-" in r.rid]
    s_out = sum(r.size for r in storm_replies)
    kinds = [r.verb if r.verb != "error" else str(r.args[1]) for r in storm_replies]
    res.tried = len(base_waits) + len(waits)
    res.answered = sum(1 for w in base_waits + waits if w != float("inf"))
    limit = REPLY_BUDGET_BYTES + MAX_DATAGRAM  # the budget, plus the reply that crosses it
    res.measures.update(jobs=n, one_in=len(one), one_out=one_out, one_replies=one_n,
                        one_ratio=one_out / len(one), bundle_msgs=len(msgs), bundle_in=len(packed),
                        bundle_out=b_out, bundle_replies=b_n, bundle_ratio=b_out / len(packed),
                        storm_bundles=len(storms), storm_out=s_out,
                        **{f"storm_{k}": kinds.count(k) for k in sorted(set(kinds))},
                        storm_ratio=s_out / max(1, sum(map(len, storms))),
                        ping_base_max_s=max(base_waits, default=0.0), ping_storm_max_s=max(waits, default=0.0))
    res.bound(one_out <= limit and b_out <= limit, f"one datagram causes at most {limit} reply bytes")
    res.bound(max(waits, default=0.0) < 1.0, "other clients' pings answered within 1 s during the storm")
    return run.finish(res, d)


def _flac(path: Path, seconds: float, sr: int, channels: int, tone_seconds: float = 0.0) -> Path:
    """Silence, 16-bit FLAC, written a minute at a time; with `tone_seconds`, a quiet tone at both ends
    (a silent melody is refused before its decode, and a continuation prompts from the end)."""
    if not path.exists():
        minute = sr * 60
        t = np.arange(minute) / sr
        tone = (3000 * np.sin(2 * np.pi * 330.0 * t)).astype(np.int16)[:, None].repeat(channels, 1)
        tone[int(tone_seconds * sr):] = 0
        block = np.zeros((minute, channels), np.int16)
        minutes = int(seconds // 60)
        with sf.SoundFile(path, "w", samplerate=sr, channels=channels, format="FLAC", subtype="PCM_16") as f:
            for i in range(minutes):
                f.write(tone if tone_seconds and i == 0 else tone[::-1] if tone_seconds and i == minutes - 1
                        else block)
    return path


def case_bomb(run: Run) -> Result:
    res = Result("bomb")
    d = run.daemon("bomb")
    p = run.peer(d)
    bomb = _flac(run.root / "silence-5h-8k-stereo.flac", 18000, 8000, 2)
    long = _flac(run.root / "tone-silence-tone-2h-8k.flac", 7200, 8000, 1, tone_seconds=40.0)
    declared = sf.info(str(bomb)).frames * 2
    # one plain job first: the model's first-run allocations are not the clip's
    p.send("generate", "warm", "prompt", "warm", *JOB)
    p.wait(lambda r: r.rid == "warm" and r.verb in ("done", "error"), run.args.job_timeout)
    outcome = {}
    for name, key, path in (("bomb", "melody", bomb), ("long_melody", "melody", long),
                            ("long_continue", "continue", long)):
        rss0 = peak = d.rss_kb()
        rid = f"m-{name}"
        p.send("generate", rid, "prompt", "bomb", key, str(path), *JOB)
        deadline = time.monotonic() + run.args.job_timeout
        while time.monotonic() < deadline and not p.answered(rid, ("done", "error")):
            peak = max(peak, d.rss_kb())
            time.sleep(0.05)
        end = (p.of(rid, ("done", "error")) or [None])[0]
        outcome[name] = (end.verb if end.verb == "done" else f"error:{end.args[1]}") if end else "no_answer"
        res.tried += 1
        res.answered += end is not None
        res.measures.update({f"{name}": outcome[name], f"{name}_rss_growth_mb": round((peak - rss0) / 1024, 1)})
    res.measures.update(bomb_kb=bomb.stat().st_size // 1024, bomb_declared_samples=declared,
                        long_kb=long.stat().st_size // 1024, long_samples=sf.info(str(long)).frames)
    res.bound(declared > MAX_CLIP_SAMPLES, "the bomb declares more than MAX_CLIP_SAMPLES")
    res.bound(outcome["bomb"].startswith("error:"), "the bomb is refused")
    res.bound(res.measures["bomb_rss_growth_mb"] < 64, "refusing the bomb costs < 64 MB")
    for name in ("long_melody", "long_continue"):
        res.bound(outcome[name] == "done", f"{name}: the 2 h clip under the limit is used")
        res.bound(res.measures[f"{name}_rss_growth_mb"] < 256, f"{name}: < 256 MB (only what is used is decoded)")
    return run.finish(res, d)


def case_burst(run: Run) -> Result:
    res = Result("burst")
    d = run.daemon("burst", "--recv-buffer", str(run.args.recv_buffer))
    p = run.peer(d)
    got = (p.status("st") or {}).get("recv_buffer")
    rids = [f"b-{i:04d}" for i in range(run.args.burst)]
    t0 = time.monotonic()
    out = submit_all(p, rids, lambda rid: osc("/musicgen/generate", rid, "prompt", "burst", *JOB, "reply_port", p.port),
                     seconds=run.args.burst_seconds)
    seconds = time.monotonic() - t0
    replies = p.snapshot()
    first = {}
    for r in replies:
        if r.rid in first or r.verb not in ("ack", "error"):
            continue
        first[r.rid] = r.verb if r.verb == "ack" else r.args[1]
    p.ask("cancel", "b-cancel", "reply_port", p.port, answers=("ok", "error"))
    kinds = sorted(set(first.values()))
    res.tried, res.answered = len(rids), out["answered"]
    res.measures.update(recv_buffer=got, first_pass=out["first_pass"], resent=out["resent"], seconds=round(seconds, 1),
                        **{k: list(first.values()).count(k) for k in kinds})
    res.bound(res.lost == 0, "every request of the burst answered")
    return run.finish(res, d)


def _sizes(out: Path) -> dict[str, int]:
    journal = sum(du(out / f"{JOURNAL_NAME}{s}") for s in ("", "-wal", "-shm"))
    loops = [f for f in out.iterdir() if f.is_file() and f.suffix == ".wav"]
    return {"jobs_dir": du(out / JOBS_FOLDER), "journal": journal, "loops": len(loops),
            "loop_bytes": sum(f.stat().st_size for f in loops)}


def _rows(out: Path) -> dict[str, int]:
    j = Journal(out / JOURNAL_NAME)
    try:
        return {"done": j.count("done"), "cancelled": j.count("cancelled"), "all": j.count()}
    finally:
        j.close()


def case_disk(run: Run) -> Result:
    res = Result("disk")
    n, m = run.args.jobs, run.args.cancelled
    d = run.daemon("disk", "--queue-size", str(max(n, m) + 8))
    p = run.peer(d)
    done_ids = [f"d-{i:04d}" for i in range(n)]
    t0 = time.monotonic()
    for i in range(0, n, 50):  # under the submit rate limit (10/s, burst 100)
        submit_all(p, done_ids[i:i + 50], lambda rid: osc("/musicgen/generate", rid, "prompt", "disk", *JOB),
                   seconds=20)
        if i + 50 < n:
            time.sleep(5.0)
    deadline = time.monotonic() + run.args.job_timeout * max(1, n)
    while time.monotonic() < deadline and not all(p.answered(r, ("done", "error")) for r in done_ids):
        time.sleep(0.5)
    job_s = (time.monotonic() - t0) / max(1, n)
    finished = sum(1 for r in done_ids if p.answered(r, ("done",)))
    cancel_ids = [f"x-{i:04d}" for i in range(m)]
    if m:
        submit_all(p, cancel_ids, lambda rid: osc("/musicgen/generate", rid, "prompt", "cancel me", *LONG_JOB),
                   seconds=20)
        p.ask("cancel", "x-cancel", answers=("ok", "error"))
        time.sleep(1.0)
    res.tried, res.answered = n + m, finished + sum(1 for r in cancel_ids if p.answered(r, GENERATE_ANSWERS))
    run.finish(res, d)  # the folder lock goes with the daemon; the retention pass below is its own code
    before, rows0 = _sizes(d.out), _rows(d.out)
    journal = Journal(d.out / JOURNAL_NAME)
    try:
        later = time.time() + CHUNK_KEEP_SECONDS + 1.0
        Retention(d.out, journal, clock=lambda: later).sweep()
        after, rows1 = _sizes(d.out), _rows(d.out)
        week = time.time() + JOURNAL_KEEP_DAYS * 86400.0 + 1.0
        Retention(d.out, journal, clock=lambda: week).at_start()
    finally:
        journal.close()
    week_sizes, rows2 = _sizes(d.out), _rows(d.out)
    res.measures.update(
        jobs=n, done=finished, cancelled=rows0["cancelled"], s_per_job=round(job_s, 2),
        jobs_dir_kb=before["jobs_dir"] // 1024, jobs_dir_kb_per_job=round(before["jobs_dir"] / 1024 / max(1, n), 1),
        journal_kb=before["journal"] // 1024, journal_rows=rows0["all"], loops=before["loops"],
        loops_kb=before["loop_bytes"] // 1024,
        after_10min_jobs_dir_kb=after["jobs_dir"] // 1024, after_10min_rows=rows1["all"],
        after_7d_rows=rows2["all"], after_7d_journal_kb=week_sizes["journal"] // 1024,
        after_7d_loops=week_sizes["loops"])
    res.bound(after["jobs_dir"] == 0, f"previews gone {CHUNK_KEEP_SECONDS:g} s after their jobs ended")
    res.bound(week_sizes["loops"] == before["loops"] and week_sizes["loop_bytes"] == before["loop_bytes"],
              "finished loops stay")
    res.bound(rows2["cancelled"] == 0 and rows2["done"] == rows0["done"],
              f"cancelled rows gone after {JOURNAL_KEEP_DAYS} days, done rows stay")
    res.bound(res.lost == 0, "every job answered")
    return res


@dataclass
class CliCase:
    name: str
    argv: list[str]
    want_exit: int
    want_errors: int | None  # `error:` lines on stderr; None: any
    check: Callable[[subprocess.CompletedProcess, Path], str] | None = None  # '' when fine, else why not


def _cli_cases(work: Path) -> list[CliCase]:
    gen = ["generate", "--model", "debug", "--device", "cpu", "--quiet", *map(str, ("--bpm", 400, "--bars", 1)),
           "--grid", "off"]
    existing = work / "a-file.txt"
    existing.write_text("not a folder\n")
    short = work / "short.wav"
    sf.write(short, np.zeros(220, np.float32), 44100)  # 5 ms
    bad_map = work / "three-mistakes.toml"
    bad_map.write_text('[settings]\nbpm = 120\n\n[[binding]]\naction = "explode"\nnote = 36\n\n'
                       '[[binding]]\naction = "generate"\nnote = 300\n\n[[binding]]\naction = "preset"\n'
                       'slot = 99\nnote = 44\n\n[[preset]]\nslot = 1\nname = "Drums"\nprompt = "funk"\n')

    def no_tilde_folder(p: subprocess.CompletedProcess, cwd: Path) -> str:
        if (cwd / "~").exists():
            return "made a folder named ~"
        if p.returncode == 0 and not list((work / "home" / "x").glob("*.wav")):
            return "exit 0 but no loop in $HOME/x"
        return ""

    def wrote_loop(p: subprocess.CompletedProcess, cwd: Path) -> str:
        return "" if p.stdout.strip().endswith(".wav") else "no loop path on stdout"

    def says_something(p: subprocess.CompletedProcess, cwd: Path) -> str:
        return "" if (p.stdout + p.stderr).strip() else "printed nothing"

    out = ["--out", str(work / "loops")]
    return [
        CliCase("out_is_file", [*gen, "--out", str(existing), "x"], 2, 1),
        CliCase("out_under_file", [*gen, "--out", str(existing / "sub"), "x"], 2, 1),
        CliCase("serve_out_is_file", ["serve", "--model", "debug", "--device", "cpu", "--port", "0", "--out",
                                      str(existing)], 2, 1),
        CliCase("out_tilde", [*gen, "--out=~/x", "x"], 0, 0, no_tilde_folder),
        CliCase("melody_5ms", [*gen, *out, "--melody", str(short), "x"], 2, 1),
        CliCase("melody_bpm_no_clip", [*gen, *out, "--melody-bpm", "100", "x"], 2, 1),
        CliCase("keep_prompt_no_continue", [*gen, *out, "--keep-prompt", "x"], 2, 1),
        CliCase("seed_minus_1", [*gen, *out, "--seed", "-1", "x"], 0, 0, wrote_loop),
        CliCase("m4l_build_check", ["m4l", "build", "--check"], 0, 0, says_something),
        CliCase("midi_check_3", ["midi", "check", str(bad_map)], 2, 3),
    ]


def _run_cli(c: CliCase, work: Path, env: dict[str, str], timeout: float) -> Result:
    cwd = REPO if c.argv[0] == "m4l" else work
    res = Result(f"cli:{c.name}", tried=1)
    t0 = time.monotonic()
    try:
        p = subprocess.run([sys.executable, "-m", "bridge.cli", *c.argv], cwd=cwd, env=env, text=True,
                           capture_output=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        res.failures.append("timed out")
        return res
    res.answered = 1
    errors = [ln for ln in p.stderr.splitlines() if ln.startswith("error:")]
    res.crashed = p.returncode < 0 or "Traceback" in p.stderr
    res.measures.update(exit=p.returncode, error_lines=len(errors), traceback="Traceback" in p.stderr,
                        s=round(time.monotonic() - t0, 1))
    first = (errors or (p.stdout + p.stderr).strip().splitlines() or [""])[0]
    res.measures["says"] = repr(first[:90])
    res.bound(p.returncode == c.want_exit, f"exit {c.want_exit}")
    res.bound(c.want_errors is None or len(errors) == c.want_errors, f"{c.want_errors} error: line(s)")
    res.bound("Traceback" not in p.stderr, "no Traceback")
    if c.check is not None and (why := c.check(p, cwd)):
        res.failures.append(why)
    return res


def case_cli(run: Run) -> list[Result]:
    work = run.root / "cli"
    (work / "home").mkdir(parents=True)  # $HOME for the run: --out=~/x lands here
    env = dict(os.environ, HOME=str(work / "home"), OMP_NUM_THREADS="1", TOKENIZERS_PARALLELISM="false")
    cases = _cli_cases(work)
    with ThreadPoolExecutor(max_workers=2) as pool:  # each run is mostly the CLI's imports
        return list(pool.map(lambda c: _run_cli(c, work, env, run.args.job_timeout + 120), cases))


CASES: dict[str, Callable[[Run], Result | list[Result]]] = {
    "crosstalk": case_crosstalk, "fifo": case_fifo, "loop": case_loop, "amplify": case_amplify,
    "bomb": case_bomb, "burst": case_burst, "disk": case_disk, "cli": case_cli,
}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--cases", nargs="+", choices=list(CASES), default=list(CASES), metavar="CASE",
                    help=f"which cases ({', '.join(CASES)}) [default: all]")
    ap.add_argument("--hellos", type=int, default=50, help="crosstalk: extra sockets saying hello [50]")
    ap.add_argument("--fifo-seconds", type=float, default=10.0, help="fifo: how long the race runs [10]")
    ap.add_argument("--history-jobs", type=int, default=100, help="amplify: jobs in the journal [100]")
    ap.add_argument("--bundles", type=int, default=20, help="amplify: 8 KB bundles in the storm [20]")
    ap.add_argument("--burst", type=int, default=1000, help="burst: generate requests at once [1000]")
    ap.add_argument("--burst-seconds", type=float, default=60.0, help="burst: resend for at most [60]")
    ap.add_argument("--recv-buffer", type=int, default=STOCK_RCVBUF,
                    help=f"burst: the daemon's --recv-buffer [{STOCK_RCVBUF}: Linux grants 212,992]")
    ap.add_argument("--jobs", type=int, default=200, help="disk: 1-bar jobs run to the end [200]")
    ap.add_argument("--cancelled", type=int, default=50, help="disk: jobs submitted, then cancelled [50]")
    ap.add_argument("--job-timeout", type=float, default=180.0, help="seconds one job may take [180]")
    ap.add_argument("--keep", action="store_true", help="keep the temp folder (daemon logs, outputs)")
    args = ap.parse_args(argv)
    run = Run(args)
    failed = False
    print(f"# hostile_check {time.strftime('%Y-%m-%d %H:%M:%S UTC', time.gmtime())} in {run.root}", flush=True)
    try:
        for name in args.cases:
            t0 = time.monotonic()
            try:
                results = CASES[name](run)
            except Exception as e:  # noqa: BLE001 (a case that cannot run is a failed case, the others go on)
                results = Result(name, failures=[f"{type(e).__name__}: {e}"])
            for res in results if isinstance(results, list) else [results]:
                print(res.line(), flush=True)
                failed |= bool(res.failures)
            print(f"#   {name}: {time.monotonic() - t0:.0f} s", flush=True)
    finally:
        run.close()
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
