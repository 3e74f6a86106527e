"""The daemon link as the header shows it, and the local daemon the panel may start.

    ● Connected  model debug on cpu · daemon 0.3.0 · 127.0.0.1:9000  [Start daemon] [Folder…] [Connect…]

`refresh` asks the window to show the connection again (a daemon started, failed or stopped);
`target_changed` says the user picked another host:port with Connect…. When the daemon the panel started
dies, the banner says how in words ("killed by signal 9 (SIGKILL)") with a Restart button; Folder…
picks where a daemon the panel starts writes its loops.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from PyQt6.QtCore import QObject, QSettings, QStandardPaths, Qt, pyqtSignal
from PyQt6.QtWidgets import (
    QFileDialog,
    QFrame,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QPushButton,
    QToolButton,
    QWidget,
)

from gui import theme
from gui.daemon import DaemonProcess, serve_command
from gui.osc_client import OscClient, is_loopback, resolve_host
from gui.window.banner import Banner

TOPIC = "connection"  # banner messages about reaching the daemon: a good connection clears them


def parse_target(text: str, default_host: str) -> tuple[str, int]:
    """'host:port', ':port' or 'port' typed into Connect… -> (host, port); ValueError in plain words."""
    text = text.strip()
    host, sep, port_text = text.rpartition(":")
    if not sep:
        host, port_text = "", text
    host = host.strip().strip("[]") or default_host
    port_text = port_text.strip()
    if not port_text:
        raise ValueError("Type the daemon's address as host:port, for example 127.0.0.1:9000.")
    if not port_text.isdigit() or not 1 <= int(port_text) <= 65535:
        raise ValueError(
            f"The port must be a whole number from 1 to 65535 (you typed “{port_text}”). "
            "Type the daemon's address as host:port, for example 127.0.0.1:9000."
        )
    return host, int(port_text)


def default_out_dir() -> str:
    music = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.MusicLocation)
    return os.path.join(music or os.path.expanduser("~"), "MusicGen Bridge")


@dataclass
class DaemonOptions:
    """How the panel starts a local daemon (Start daemon / --spawn-daemon)."""

    model: str = "auto"
    out: str = field(default_factory=default_out_dir)
    device: str = "auto"
    extra: tuple[str, ...] = ()

    @classmethod
    def from_settings(cls, settings: QSettings) -> DaemonOptions:
        d = cls()
        return cls(
            model=str(settings.value("daemon/model", d.model) or d.model),
            out=str(settings.value("daemon/out", d.out) or d.out),
            device=str(settings.value("daemon/device", d.device) or d.device),
        )


class ConnectionController(QObject):
    """The header's widgets, what the daemon said about itself, and the DaemonProcess the panel started."""

    refresh = pyqtSignal()
    target_changed = pyqtSignal()

    def __init__(self, window: QWidget, client: OscClient, options: DaemonOptions, banner: Banner):
        super().__init__(window)
        self.window, self.client, self.options, self.banner = window, client, options, banner
        self.daemon = DaemonProcess(window)
        self.model = ""
        self.device = ""
        self.closing = False
        self.dot = QLabel("●")
        self.connection_label = theme.set_role(QLabel(), "title")
        self.model_label = theme.set_role(QLabel(), "muted")
        self.daemon_log_label = theme.set_role(QLabel(), "muted")
        self.start_daemon_button = QPushButton("Start daemon")
        self.start_daemon_button.setToolTip(
            "Start a local musicgen-bridge daemon on this port (it is stopped again when the panel closes)"
        )
        self.folder_button = QToolButton()
        self.folder_button.setText("Folder…")
        self.connect_button = QToolButton()
        self.connect_button.setText("Connect…")
        self.connect_button.setToolTip("Talk to a daemon at another host:port")
        self.header = self._build_header()
        self._show_folder()
        self.start_daemon_button.clicked.connect(self.start_daemon)
        self.folder_button.clicked.connect(self._ask_folder)
        self.connect_button.clicked.connect(self._ask_target)
        client.welcome.connect(self._on_welcome)
        d = self.daemon
        d.listening.connect(self._daemon_listening)
        d.failed.connect(self._daemon_failed)
        d.exited.connect(self._daemon_exited)
        d.log_line.connect(self._daemon_log)

    def _build_header(self) -> QFrame:
        header = QFrame()
        header.setObjectName("header")
        hl = QHBoxLayout(header)
        hl.setContentsMargins(16, 10, 16, 10)
        hl.setSpacing(10)
        brand = theme.set_role(QLabel("MusicGen Bridge"), "title")
        brand.setStyleSheet(f"color: {theme.ACCENT};")
        hl.addWidget(brand)
        hl.addSpacing(14)
        hl.addWidget(self.dot)
        hl.addWidget(self.connection_label)
        hl.addWidget(self.model_label)
        hl.addWidget(self.daemon_log_label, 1)
        hl.addWidget(self.start_daemon_button)
        hl.addWidget(self.folder_button)
        hl.addWidget(self.connect_button)
        return header

    # ------------------------------------------------------------------ showing the link

    def show(self, connected: bool) -> None:
        """The header for a daemon that answers, or does not (yet)."""
        host, port = self.client.target
        where = f"{host}:{port}" if host else "no daemon set"
        if connected:
            self.dot.setStyleSheet(f"color: {theme.OK};")
            self.connection_label.setText("Connected")
            self.connection_label.setToolTip(f"Daemon at {where}")
            self.daemon_log_label.setText("")
            self.banner.hide_topic(TOPIC)  # it answers now: what went wrong before is over
        else:
            starting = self.daemon.running and self.daemon.address is None
            self.dot.setStyleSheet(f"color: {theme.WARN if starting else theme.DANGER};")
            self.connection_label.setText("Starting daemon…" if starting else "Daemon not running")
            reason = self.client.down_reason
            self.connection_label.setToolTip(f"No answer from {where}" + (f": {reason}" if reason else ""))
            self.model_label.setText("" if starting else f"nothing answers at {where}")

    def show_start_button(self, connected: bool) -> None:
        local = bool(self.client.target[0]) and self.target_is_local()
        self.start_daemon_button.setVisible(not connected and local and not self.daemon.running)
        self.folder_button.setVisible(local)

    def target_is_local(self) -> bool:
        try:
            return is_loopback(resolve_host(self.client.target[0]))
        except ValueError:
            return False

    def show_status(self, pairs: Mapping[str, Any]) -> None:
        """The daemon's own status answer: which model runs on which device."""
        self.model = str(pairs.get("model", self.model))
        self.device = str(pairs.get("device", self.device) or "")
        self._show_model()

    def _on_welcome(self, version: str, model: str) -> None:
        self.model = model
        self._show_model()

    def _show_model(self) -> None:
        parts = [f"model {self.model}" if self.model else ""]
        if self.device:
            parts.append(f"on {self.device}")
        if self.client.daemon_version:
            parts.append(f"· daemon {self.client.daemon_version}")
        host, port = self.client.target
        parts.append(f"· {host}:{port}")
        self.model_label.setText(" ".join(p for p in parts if p))

    def _ask_target(self) -> None:
        host, port = self.client.target
        text, ok = QInputDialog.getText(
            self.window, "Connect to a daemon", "Host:port", text=f"{host}:{port}"
        )
        if ok and text.strip():
            self.connect_to(text)

    def connect_to(self, text: str) -> bool:
        """Talk to the daemon at 'host:port' (what Connect… asks for); False, with the banner saying why
        in plain words, when the text is not a usable address."""
        try:
            host, port = parse_target(text, self.client.target[0] or "127.0.0.1")
            self.client.set_target(host, port)
        except ValueError as e:
            self.banner.show_message(f"Cannot connect to “{text.strip()}”: {e}", topic=TOPIC)
            return False
        except OSError as e:
            self.banner.show_message(f"Cannot talk to “{text.strip()}”: {e}", topic=TOPIC)
            return False
        self.banner.hide_topic(TOPIC)
        self.target_changed.emit()
        return True

    # ------------------------------------------------------------------ where a started daemon writes

    def _show_folder(self) -> None:
        out = os.path.expanduser(self.options.out)
        self.folder_button.setToolTip(f"Where a daemon the panel starts writes its loops: {out}")
        self.start_daemon_button.setToolTip(
            f"Start a local musicgen-bridge daemon on this port, writing to {out} "
            "(it is stopped again when the panel closes)"
        )

    def _ask_folder(self) -> None:
        path = QFileDialog.getExistingDirectory(
            self.window, "Where should a daemon the panel starts write its loops?", self.options.out
        )
        if path:
            self.set_daemon_out(path)

    def set_daemon_out(self, path: str) -> None:
        """The output folder of a daemon the panel starts; the one it runs now keeps its folder until it
        is restarted (the banner offers that)."""
        self.options.out = path
        self._show_folder()
        if self.daemon.running:
            self.banner.show_message(
                f"The daemon the panel started writes to {path} after a restart.",
                "info",
                actions=[("Restart", self.restart_daemon)],
            )

    def save(self, s: QSettings) -> None:
        host, port = self.client.target
        s.setValue("connection/host", host)
        s.setValue("connection/port", port)
        s.setValue("daemon/model", self.options.model)
        s.setValue("daemon/out", self.options.out)
        s.setValue("daemon/device", self.options.device)

    # ------------------------------------------------------------------ daemon process

    def spawn_if_down(self) -> None:
        if not self.client.connected and not self.daemon.running and self.target_is_local():
            self.start_daemon()

    def start_daemon(self) -> None:
        if self.daemon.running:
            return
        host, port = self.client.target
        o = self.options
        try:
            os.makedirs(os.path.expanduser(o.out), exist_ok=True)
        except OSError as e:
            self.banner.show_message(f"Cannot create the output folder {o.out}: {e.strerror or e}")
            return
        self.daemon.start(
            serve_command(port, host=host, model=o.model, out=o.out, device=o.device, extra=o.extra)
        )
        self.banner.hide_message()
        self.refresh.emit()

    def restart_daemon(self) -> None:
        """Stop the daemon the panel started (if it still runs) and start it again."""
        self.daemon.stop()
        self.start_daemon()

    def _daemon_listening(self, host: str, port: int) -> None:
        self.daemon_log_label.setText("")
        self.client.hello()
        self.client.ping()

    def _daemon_failed(self, reason: str) -> None:
        self.banner.show_message(
            f"The daemon could not start: {reason}", actions=[("Try again", self.start_daemon)], topic=TOPIC
        )
        self.refresh.emit()

    def _daemon_exited(self, code: int) -> None:
        if self.closing:
            return
        how = self.daemon.exit_text or f"exited with status {code}"
        self.client.mark_down(f"the daemon the panel started {how}")  # no need to wait for pings
        if self.daemon.address is not None:
            # its own `error: ...` line, if it printed one (a log line with its timestamp says nothing more)
            last = next(
                (x[len("error:") :].strip() for x in reversed(self.daemon.lines) if x.startswith("error:")),
                "",
            )
            was = "was " if how.startswith("killed") else ""
            self.banner.show_message(
                f"The daemon the panel started has stopped: it {was}{how}."
                + (f" It said: {last}" if last else ""),
                actions=[("Restart", self.start_daemon)],
                topic=TOPIC,
            )
        self.refresh.emit()

    def _daemon_log(self, line: str) -> None:
        if self.daemon.address is None:  # while loading: show what it is doing
            text = line.split(": ", 1)[-1] if " INFO " in line or " WARNING " in line else line
            metrics = self.daemon_log_label.fontMetrics()
            self.daemon_log_label.setText(metrics.elidedText(text, Qt.TextElideMode.ElideRight, 420))

    def close(self) -> None:
        """The window closes: stop the daemon the panel started (its exit is no news then)."""
        self.closing = True
        self.daemon.stop()
