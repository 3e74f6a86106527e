"""Starting a local daemon from the panel: `musicgen-bridge serve` as a child process we own.

    daemon = DaemonProcess()
    daemon.listening.connect(lambda host, port: ...)      # its `listening on HOST:PORT` line
    daemon.failed.connect(lambda reason: ...)             # it exited before listening (reason: its error)
    daemon.start(serve_command(9000, model="auto", out="~/Music/MusicGen Bridge"))
    ...
    daemon.stop()                                          # SIGTERM, then kill after a grace period

The daemon is run with the panel's own interpreter (`python -m bridge.cli`), so it is the same install.
Only a daemon the panel started is ever stopped by the panel.
"""

from __future__ import annotations

import logging
import os
import re
import signal
import sys
import time
from collections import deque
from collections.abc import Sequence

from PyQt6.QtCore import QObject, QProcess, QProcessEnvironment, pyqtSignal

log = logging.getLogger(__name__)

LOG_LINES = 200  # daemon stderr lines kept for the panel's log view
STOP_GRACE_MS = 8000  # after SIGTERM the daemon finishes its current decoder step, then exits
LISTENING_PATTERN = re.compile(r"^listening on (?P<address>\S+)\s*$")


def parse_listening(line: str) -> tuple[str, int] | None:
    """'listening on 127.0.0.1:9000' -> ('127.0.0.1', 9000); None for any other line."""
    m = LISTENING_PATTERN.match(line.strip())
    if m is None:
        return None
    host, sep, port = m["address"].rpartition(":")
    if not sep or not port.isdigit():
        return None
    return host.strip("[]"), int(port)


def describe_exit(code: int, crashed: bool) -> str:
    """How a process ended, in words: 'killed by signal 9 (SIGKILL)', 'exited with status 2'."""
    if crashed:
        try:
            name = signal.Signals(code).name
        except ValueError:
            return f"killed by signal {code}"
        return f"killed by signal {code} ({name})"
    return "exited normally" if code == 0 else f"exited with status {code}"


def serve_command(
    port: int,
    *,
    host: str = "127.0.0.1",
    model: str = "auto",
    out: str | os.PathLike[str] | None = None,
    device: str | None = None,
    extra: Sequence[str] = (),
    python: str = sys.executable,
) -> list[str]:
    """argv of a daemon listening on host:port."""
    argv = [python, "-m", "bridge.cli", "serve", "--host", host, "--port", str(int(port)), "--model", model]
    if out:
        argv += ["--out", os.path.expanduser(str(out))]
    if device and device != "auto":
        argv += ["--device", device]
    return argv + list(extra)


class DaemonProcess(QObject):
    """One child daemon. Signals: listening(host, port), failed(reason), exited(exit code; how in words:
    `exit_text`), log_line."""

    listening = pyqtSignal(str, int)
    failed = pyqtSignal(str)
    exited = pyqtSignal(int)
    log_line = pyqtSignal(str)

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self.address: tuple[str, int] | None = None
        self.lines: deque[str] = deque(maxlen=LOG_LINES)
        self._proc: QProcess | None = None
        self._stdout = b""
        self._stderr = b""
        self._stopping = False
        self.exit_text = ""  # how the last run ended, in words (describe_exit)

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.state() != QProcess.ProcessState.NotRunning

    @property
    def pid(self) -> int:
        return int(self._proc.processId()) if self._proc is not None else 0

    def start(self, argv: Sequence[str]) -> None:
        if self.running:
            raise RuntimeError("the daemon is already running")
        self.address = None
        self._stdout = self._stderr = b""
        self._stopping = False
        self.exit_text = ""
        proc = QProcess(self)
        env = QProcessEnvironment.systemEnvironment()
        env.insert("PYTHONUNBUFFERED", "1")
        env.insert("TOKENIZERS_PARALLELISM", "false")
        proc.setProcessEnvironment(env)
        proc.readyReadStandardOutput.connect(self._read_stdout)
        proc.readyReadStandardError.connect(self._read_stderr)
        proc.finished.connect(self._on_finished)
        proc.errorOccurred.connect(self._on_error)
        self._proc = proc
        log.info("starting the daemon: %s", " ".join(argv))
        proc.start(argv[0], list(argv[1:]))

    def _lines(self, buffer: bytes, data: bytes) -> tuple[bytes, list[str]]:
        buffer += data
        *complete, rest = buffer.split(b"\n")
        return rest, [c.decode("utf-8", "replace").rstrip("\r") for c in complete]

    def _read_stdout(self) -> None:
        if self._proc is None:
            return
        self._stdout, lines = self._lines(self._stdout, bytes(self._proc.readAllStandardOutput()))
        for line in lines:
            self._keep(line)
            address = parse_listening(line)
            if address is not None and self.address is None:
                self.address = address
                self.listening.emit(*address)

    def _read_stderr(self) -> None:
        if self._proc is None:
            return
        self._stderr, lines = self._lines(self._stderr, bytes(self._proc.readAllStandardError()))
        for line in lines:
            self._keep(line)

    def _keep(self, line: str) -> None:
        if line.strip():
            self.lines.append(line)
            self.log_line.emit(line)

    def last_error(self) -> str:
        """The daemon's `error: ...` line if it printed one, else its last log line."""
        for line in reversed(self.lines):
            if line.startswith("error:"):
                return line[len("error:") :].strip()
        return self.lines[-1] if self.lines else ""

    def _on_error(self, error: QProcess.ProcessError) -> None:
        if error == QProcess.ProcessError.FailedToStart:
            self.failed.emit(f"could not start {sys.executable} -m bridge.cli serve")

    def _on_finished(self, code: int, status: QProcess.ExitStatus) -> None:
        self._read_stdout()
        self._read_stderr()
        self.exit_text = describe_exit(int(code), status == QProcess.ExitStatus.CrashExit)
        if self.address is None and not self._stopping:
            self.failed.emit(self.last_error() or f"the daemon {self.exit_text}")
        self.exited.emit(int(code))

    def wait_until_listening(self, timeout: float = 120.0) -> tuple[str, int]:
        """Block until the `listening on` line (for scripts and tests; the panel uses the signal)."""
        deadline = time.monotonic() + timeout
        while self.address is None:
            if self._proc is None or not self.running:
                self._read_stdout()
                if self.address is not None:
                    break
                raise RuntimeError(f"the daemon did not start: {self.last_error()}")
            if time.monotonic() > deadline:
                raise TimeoutError(f"the daemon did not listen within {timeout} s: {self.last_error()}")
            self._proc.waitForReadyRead(100)
            self._read_stdout()
            self._read_stderr()
        return self.address

    def stop(self, grace_ms: int = STOP_GRACE_MS) -> None:
        """SIGTERM (the daemon stops after its current step and closes its journal), kill if it hangs."""
        proc = self._proc
        if proc is None or proc.state() == QProcess.ProcessState.NotRunning:
            return
        self._stopping = True
        proc.terminate()
        if not proc.waitForFinished(grace_ms):
            log.warning("the daemon did not stop within %d ms; killing it", grace_ms)
            proc.kill()
            proc.waitForFinished(3000)

    def kill(self) -> None:
        """For tests: simulate a crash."""
        if self._proc is not None and self.running:
            self._stopping = True
            self._proc.kill()
            self._proc.waitForFinished(5000)
