"""The daemon link as the header shows it, and the local daemon the panel may start.

    ● Connected  model debug on cpu · daemon 0.3.0 · 127.0.0.1:9000      [Start daemon] [Connect…]

`refresh` asks the window to show the connection again (a daemon started, failed or stopped);
`target_changed` says the user picked another host:port with Connect….
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from PyQt6.QtCore import QObject, QSettings, QStandardPaths, Qt, pyqtSignal
from PyQt6.QtWidgets import QFrame, QHBoxLayout, QInputDialog, QLabel, QPushButton, QToolButton, QWidget

from gui import theme
from gui.daemon import DaemonProcess, serve_command
from gui.osc_client import OscClient, is_loopback, resolve_host
from gui.window.banner import Banner


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
        self.connect_button = QToolButton()
        self.connect_button.setText("Connect…")
        self.connect_button.setToolTip("Talk to a daemon at another host:port")
        self.header = self._build_header()
        self.start_daemon_button.clicked.connect(self.start_daemon)
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
        else:
            starting = self.daemon.running and self.daemon.address is None
            self.dot.setStyleSheet(f"color: {theme.WARN if starting else theme.DANGER};")
            self.connection_label.setText("Starting daemon…" if starting else "Daemon not running")
            self.connection_label.setToolTip(f"No answer from {where}")
            self.model_label.setText("" if starting else f"nothing answers at {where}")

    def show_start_button(self, connected: bool) -> None:
        local = bool(self.client.target[0]) and self.target_is_local()
        self.start_daemon_button.setVisible(not connected and local and not self.daemon.running)

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
        if not ok or not text.strip():
            return
        new_host, _, new_port = text.strip().rpartition(":")
        try:
            self.client.set_target(new_host or host, int(new_port))
        except ValueError as e:
            self.banner.show_message(f"Cannot use {text!r}: {e}")
            return
        self.target_changed.emit()

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

    def _daemon_listening(self, host: str, port: int) -> None:
        self.daemon_log_label.setText("")
        self.client.hello()
        self.client.ping()

    def _daemon_failed(self, reason: str) -> None:
        self.banner.show_message(f"The daemon could not start: {reason}")
        self.refresh.emit()

    def _daemon_exited(self, code: int) -> None:
        if not self.closing and self.daemon.address is not None:
            self.banner.show_message(f"The daemon the panel started has stopped (exit status {code}).")
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
