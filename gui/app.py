"""`musicgen-panel`: the desktop panel. Talks to the daemon over OSC only; never imports torch.

    musicgen-panel                          # the daemon at 127.0.0.1:9000 (or the last host:port used)
    musicgen-panel --spawn-daemon           # start a local daemon if none answers
    musicgen-panel --port 9100 --spawn-daemon --model debug --out ~/loops

Settings (form, recent prompts, volume, output device, window) are kept with QSettings under
organisation "MusicGen Bridge", application "Panel".
"""

from __future__ import annotations

import argparse
import logging
import signal
import sys

from PyQt6.QtCore import QSettings, QTimer
from PyQt6.QtWidgets import QApplication

from bridge import protocol
from gui import theme
from gui.main_window import DaemonOptions, MainWindow
from gui.osc_client import OscClient

ORGANIZATION = "MusicGen Bridge"
APPLICATION = "Panel"
SIGNAL_POLL_MS = 250


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="musicgen-panel", description="Desktop panel for the MusicGen Bridge daemon (PyQt6)."
    )
    p.add_argument("--host", help=f"daemon address [default: last used, else {protocol.DEFAULT_HOST}]")
    p.add_argument(
        "--port", type=int, help=f"daemon UDP port [default: last used, else {protocol.DEFAULT_PORT}]"
    )
    p.add_argument(
        "--spawn-daemon",
        action="store_true",
        help="start a local daemon (musicgen-bridge serve) if none answers; it stops when the panel closes",
    )
    p.add_argument("--model", help="model for a daemon the panel starts [default: auto]")
    p.add_argument(
        "--out", help="output folder for a daemon the panel starts [default: ~/Music/MusicGen Bridge]"
    )
    p.add_argument("--device", help="torch device for a daemon the panel starts [default: auto]")
    p.add_argument("--settings", help="keep settings in this INI file instead of the system's place")
    p.add_argument("-v", "--verbose", action="store_true", help="log to stderr")
    return p


def create_app(argv: list[str] | None = None) -> QApplication:
    app = QApplication.instance() or QApplication(list(argv or sys.argv[:1]))
    app.setOrganizationName(ORGANIZATION)
    app.setApplicationName(APPLICATION)
    app.setApplicationDisplayName("MusicGen Bridge")
    theme.apply_theme(app)
    return app  # type: ignore[return-value]


def build_window(args: argparse.Namespace, settings: QSettings | None = None) -> MainWindow:
    """The window for parsed arguments, pointed at its daemon (the QApplication must exist)."""
    if settings is None:
        settings = (
            QSettings(args.settings, QSettings.Format.IniFormat)
            if args.settings
            else QSettings(ORGANIZATION, APPLICATION)
        )
    host = args.host or str(settings.value("connection/host", protocol.DEFAULT_HOST) or protocol.DEFAULT_HOST)
    try:
        port = int(
            args.port or settings.value("connection/port", protocol.DEFAULT_PORT) or protocol.DEFAULT_PORT
        )
    except (TypeError, ValueError):
        port = protocol.DEFAULT_PORT
    options = DaemonOptions.from_settings(settings)
    for name in ("model", "out", "device"):
        if getattr(args, name):
            setattr(options, name, getattr(args, name))
    client = OscClient("panel")
    problem = ""
    try:
        client.set_target(host, port)
    except (ValueError, OSError) as e:
        problem = f"Cannot talk to {host}:{port}: {e}. Use Connect… to pick another daemon."
    window = MainWindow(client, settings, daemon_options=options, spawn_daemon=args.spawn_daemon)
    client.setParent(window)
    if problem:
        window.show_message(problem)
    return window


def quit_on_signals(app: QApplication) -> QTimer:
    """Ctrl+C / SIGTERM close the window properly (settings saved, our daemon stopped). Python runs
    signal handlers only between bytecodes, so a timer wakes the interpreter up now and then."""

    def close(*_args: object) -> None:
        app.closeAllWindows()
        app.quit()

    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, close)
    timer = QTimer()
    timer.start(SIGNAL_POLL_MS)
    timer.timeout.connect(lambda: None)
    return timer


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    app = create_app()
    window = build_window(args)
    app.aboutToQuit.connect(window.close)  # however the app ends, the window's cleanup runs
    _timer = quit_on_signals(app)
    window.show()
    return app.exec()


if __name__ == "__main__":
    sys.exit(main())
