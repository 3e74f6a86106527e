"""The panel window: wires the form, the OSC client, the jobs and results lists, and the preview player.

    ┌ header: ● connection · model/device · [Start daemon] [Connect…] ─────────────────────────────┐
    │ banner: readable errors                                                                       │
    │ form (prompt, tempo, seed, advanced, clip)  │ JOBS  (progress, queue position, cancel)         │
    │ [Generate] [Variations] [Continue] [Cancel] │ RESULTS (waveform, prompt, bpm, bars; drag out)  │
    └ PREVIEW ▶ ■ Loop  0:01.5  streaming…   [x] Preview while generating  Vol ─── Out [device] ──┘

Everything the daemon says arrives as OscClient signals on the GUI thread; nothing here blocks.
"""

from __future__ import annotations

import datetime
import logging
import os
from dataclasses import dataclass, field
from typing import Any

from PyQt6.QtCore import QByteArray, QSettings, QStandardPaths, Qt, QTimer
from PyQt6.QtGui import QCloseEvent, QKeySequence, QShortcut
from PyQt6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QMainWindow,
    QPushButton,
    QScrollArea,
    QSplitter,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from bridge.protocol import ProtocolError
from gui import theme
from gui.daemon import DaemonProcess, serve_command
from gui.drag import reveal_in_file_manager
from gui.form import GenerateForm, build_params
from gui.jobs_view import JobsView
from gui.messages import NOT_CONNECTED, friendly_error
from gui.midi_learn import MidiLearnButton
from gui.osc_client import HistoryEntry, OscClient, is_loopback, resolve_host
from gui.player import PreviewPlayer, PreviewUnavailable, list_output_devices, open_output_device
from gui.preview_bar import PreviewBar
from gui.results import ResultEntry, entries_from_history
from gui.results_view import ResultsView
from gui.waveform import Thumbnail, ThumbnailLoader

log = logging.getLogger(__name__)

HISTORY_LIMIT = 50  # results fetched from the daemon's history on (re)connect
POLL_MS = 1000  # queued jobs' positions are refreshed this often
PLAYER_POLL_MS = 50  # transport and playhead refresh
SPAWN_AFTER_MS = 1500  # --spawn-daemon: start one if nothing answered a ping by then
INFO_BANNER_MS = 6000
FINAL_STATES = ("done", "failed", "cancelled", "interrupted")


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


@dataclass
class PanelJob:
    rid: str
    kind: str
    params: dict[str, Any]
    job_id: str = ""
    chunks: int = 0
    state: str = "sending"


def _fmt_bpm(bpm: float) -> str:
    return f"{bpm:.2f}".rstrip("0").rstrip(".")


class MainWindow(QMainWindow):
    def __init__(
        self,
        client: OscClient,
        settings: QSettings,
        *,
        player: PreviewPlayer | None = None,
        daemon_options: DaemonOptions | None = None,
        spawn_daemon: bool = False,
    ):
        super().__init__()
        self.client = client
        self.settings = settings
        self.daemon_options = daemon_options or DaemonOptions()
        self.daemon = DaemonProcess(self)
        self.player = player if player is not None else PreviewPlayer()
        self._probe_audio = player is None  # a given player (tests) keeps its device
        self.loader = ThumbnailLoader(parent=self)
        self.jobs: dict[str, PanelJob] = {}
        self._status_for: dict[str, str] = {}  # status request id -> job request id ('' = daemon status)
        self._history_rids: set[str] = set()
        self.out_dir = ""
        self.model = ""
        self.device = ""
        self._closing = False
        self.setWindowTitle("MusicGen Bridge")
        self.setMinimumSize(980, 640)
        self._build()
        self._wire()
        self._restore()
        self._update_connection(False)
        self.player.on_finished = self._playback_finished
        self._player_timer = QTimer(self)
        self._player_timer.setInterval(PLAYER_POLL_MS)
        self._player_timer.timeout.connect(self._tick_player)
        self._player_timer.start()
        self._poll_timer = QTimer(self)
        self._poll_timer.setInterval(POLL_MS)
        self._poll_timer.timeout.connect(self._poll_jobs)
        self._poll_timer.start()
        if self._probe_audio:
            QTimer.singleShot(0, self._init_audio)  # after the window is shown: PortAudio takes a moment
        else:
            self._show_player_availability()
        if spawn_daemon:
            QTimer.singleShot(SPAWN_AFTER_MS, self._spawn_if_down)

    # ------------------------------------------------------------------ layout

    def _build(self) -> None:
        # header
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

        # banner
        self.banner = QFrame()
        self.banner.setObjectName("banner")
        self.banner_label = QLabel()
        self.banner_label.setWordWrap(True)
        self.banner_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        banner_close = QToolButton()
        banner_close.setText("✕")
        banner_close.setToolTip("Dismiss")
        banner_close.clicked.connect(self.hide_message)
        bl = QHBoxLayout(self.banner)
        bl.setContentsMargins(12, 8, 8, 8)
        bl.addWidget(self.banner_label, 1)
        bl.addWidget(banner_close, 0, Qt.AlignmentFlag.AlignTop)
        self.banner.hide()
        self._banner_timer = QTimer(self)
        self._banner_timer.setSingleShot(True)
        self._banner_timer.timeout.connect(self.hide_message)

        # left: form and actions
        self.form = GenerateForm()
        self.generate_button = QPushButton("Generate")
        self.generate_button.setObjectName("primary")
        self.generate_button.setToolTip("Generate one loop (Ctrl+Enter)")
        self.variations_button = QPushButton("Variations")
        self.variations_button.setToolTip("Generate several takes in one pass (Ctrl+Shift+Enter)")
        self.continue_button = QPushButton("Continue")
        self.continue_button.setToolTip(
            "Continue the clip, or the selected result when there is no clip (Ctrl+Alt+Enter)"
        )
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setToolTip("Cancel all of this panel's jobs (Esc)")
        self.midi_learn = MidiLearnButton("generate")
        actions = QHBoxLayout()
        actions.setSpacing(6)
        actions.addWidget(self.generate_button, 2)
        actions.addWidget(self.variations_button, 1)
        actions.addWidget(self.continue_button, 1)
        actions.addWidget(self.cancel_button, 1)
        left_inner = QWidget()
        ll = QVBoxLayout(left_inner)
        ll.setContentsMargins(16, 14, 16, 14)
        ll.addWidget(self.form)
        ll.addStretch(1)
        ll.addLayout(actions)
        midi_row = QHBoxLayout()
        midi_row.addStretch(1)
        midi_row.addWidget(self.midi_learn)
        ll.addLayout(midi_row)
        left = QFrame()
        left.setObjectName("card")
        lcl = QVBoxLayout(left)
        lcl.setContentsMargins(0, 0, 0, 0)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        scroll.setStyleSheet(
            "QScrollArea { background: transparent; } QScrollArea > QWidget > QWidget { background: transparent; }"
        )
        scroll.setWidget(left_inner)
        lcl.addWidget(scroll)

        # right: jobs and results
        self.jobs_view = JobsView()
        self.results = ResultsView()
        self.open_folder_button = QToolButton()
        self.open_folder_button.setText("Open folder")
        self.open_folder_button.setToolTip("Open the daemon's output folder")
        self.open_folder_button.setEnabled(False)
        right = QFrame()
        right.setObjectName("card")
        rl = QVBoxLayout(right)
        rl.setContentsMargins(16, 14, 16, 14)
        rl.setSpacing(6)
        rl.addWidget(theme.set_role(QLabel("JOBS"), "section"))
        rl.addWidget(self.jobs_view)
        rl.addSpacing(8)
        results_head = QHBoxLayout()
        results_head.addWidget(theme.set_role(QLabel("RESULTS"), "section"))
        results_head.addWidget(theme.set_role(QLabel("drag a loop onto your DAW's timeline"), "muted"), 1)
        results_head.addWidget(self.open_folder_button)
        rl.addLayout(results_head)
        rl.addWidget(self.results, 1)

        split = QSplitter(Qt.Orientation.Horizontal)
        split.addWidget(left)
        split.addWidget(right)
        split.setChildrenCollapsible(False)
        split.setSizes([470, 630])
        split.setHandleWidth(10)
        self.splitter = split

        self.preview = PreviewBar()
        body = QWidget()
        bodyl = QVBoxLayout(body)
        bodyl.setContentsMargins(12, 10, 12, 10)
        bodyl.setSpacing(8)
        bodyl.addWidget(self.banner)
        bodyl.addWidget(split, 1)
        central = QWidget()
        cl = QVBoxLayout(central)
        cl.setContentsMargins(0, 0, 0, 0)
        cl.setSpacing(0)
        cl.addWidget(header)
        cl.addWidget(body, 1)
        cl.addWidget(self.preview)
        self.setCentralWidget(central)

    def _wire(self) -> None:
        c = self.client
        c.connection_changed.connect(self._update_connection)
        c.welcome.connect(self._on_welcome)
        c.ack.connect(self._on_ack)
        c.progress.connect(self._on_progress)
        c.chunk.connect(self._on_chunk)
        c.done.connect(self._on_done)
        c.error.connect(self._on_error)
        c.ok.connect(self._on_ok)
        c.status.connect(self._on_status)
        c.history.connect(self._on_history)

        self.generate_button.clicked.connect(lambda: self.submit("generate"))
        self.variations_button.clicked.connect(lambda: self.submit("variations"))
        self.continue_button.clicked.connect(lambda: self.submit("continue"))
        self.cancel_button.clicked.connect(self.cancel_all)
        self.start_daemon_button.clicked.connect(self.start_daemon)
        self.connect_button.clicked.connect(self._ask_target)
        self.open_folder_button.clicked.connect(lambda: self.out_dir and reveal_in_file_manager(self.out_dir))
        self.midi_learn.learned.connect(
            lambda d: self.show_message(f"Generate is now triggered by {d}.", "info")
        )
        self.midi_learn.failed.connect(lambda r: self.show_message(f"MIDI learn did not work: {r}"))

        shortcuts = (
            (("Ctrl+Return", "Ctrl+Enter"), lambda: self.submit("generate")),
            (("Ctrl+Shift+Return", "Ctrl+Shift+Enter"), lambda: self.submit("variations")),
            (("Ctrl+Alt+Return", "Ctrl+Alt+Enter"), lambda: self.submit("continue")),
            (("Esc",), self.cancel_all),
            (("Space",), self.toggle_playback),
            (("Ctrl+O",), self.form.clip._browse),
            (("Ctrl+L",), self.form.seed_lock.toggle),
        )
        self._shortcuts = []
        for keys, slot in shortcuts:
            for key in keys:
                shortcut = QShortcut(QKeySequence(key), self)
                shortcut.setContext(Qt.ShortcutContext.WindowShortcut)
                shortcut.activated.connect(slot)
                self._shortcuts.append(shortcut)

        self.jobs_view.cancel_requested.connect(lambda rid: self.client.cancel(rid))
        r = self.results
        r.play_requested.connect(self.play_file)
        r.stop_requested.connect(self.stop_playback)
        r.reveal_requested.connect(reveal_in_file_manager)
        r.continue_requested.connect(lambda p: self.submit("continue", continue_from=p))
        r.clip_requested.connect(self.form.clip.set_clip)
        r.selection_changed.connect(lambda _p: self._update_actions())

        self.loader.loaded.connect(self._on_thumbnail)
        self.loader.failed.connect(self._on_thumbnail_failed)
        self.form.clip.clip_changed.connect(self._on_clip_changed)

        p = self.preview
        p.play_clicked.connect(self.play_selected)
        p.stop_clicked.connect(self.stop_playback)
        p.loop_toggled.connect(self.player.set_loop)
        p.volume_changed.connect(self.player.set_volume)
        p.device_chosen.connect(self._choose_device)

        d = self.daemon
        d.listening.connect(self._daemon_listening)
        d.failed.connect(self._daemon_failed)
        d.exited.connect(self._daemon_exited)
        d.log_line.connect(self._daemon_log)

    # ------------------------------------------------------------------ settings

    def _restore(self) -> None:
        s = self.settings
        geometry = s.value("window/geometry")
        if isinstance(geometry, QByteArray):
            self.restoreGeometry(geometry)
        else:
            self.resize(1120, 720)
        self.form.restore(s)
        volume = float(s.value("preview/volume", 0.8))
        self.preview.volume.setValue(int(round(volume * 100)))
        self.player.set_volume(volume)
        self.preview.stream.setChecked(s.value("preview/stream", True) in (True, "true"))
        loop = s.value("preview/loop", True) in (True, "true")
        self.preview.loop.setChecked(loop)
        self.player.set_loop(loop)

    def save_settings(self) -> None:
        s = self.settings
        s.setValue("window/geometry", self.saveGeometry())
        self.form.save(s)
        s.setValue("preview/volume", self.player.volume)
        s.setValue("preview/stream", self.preview.stream.isChecked())
        s.setValue("preview/loop", self.preview.loop.isChecked())
        s.setValue("preview/device", self.preview.device.currentData() or "")
        host, port = self.client.target
        s.setValue("connection/host", host)
        s.setValue("connection/port", port)
        s.setValue("daemon/model", self.daemon_options.model)
        s.setValue("daemon/out", self.daemon_options.out)
        s.setValue("daemon/device", self.daemon_options.device)
        s.sync()

    # ------------------------------------------------------------------ messages

    def show_message(self, text: str, kind: str = "error") -> None:
        self.banner_label.setText(text)
        self.banner.setProperty("kind", kind)
        theme.repolish(self.banner)
        self.banner.show()
        if kind == "info":
            self._banner_timer.start(INFO_BANNER_MS)
        else:
            self._banner_timer.stop()

    def hide_message(self) -> None:
        self.banner.hide()

    def message(self) -> str:
        return self.banner_label.text() if self.banner.isVisible() else ""

    # ------------------------------------------------------------------ connection

    def _update_connection(self, connected: bool) -> None:
        host, port = self.client.target
        where = f"{host}:{port}" if host else "no daemon set"
        if connected:
            self.dot.setStyleSheet(f"color: {theme.OK};")
            self.connection_label.setText("Connected")
            self.connection_label.setToolTip(f"Daemon at {where}")
            self.daemon_log_label.setText("")
            self._daemon_status_request()
            self._history_rids.add(self.client.request_history(HISTORY_LIMIT))
            for rid in self.jobs_view.active_ids():
                self._status_for[self.client.request_status(rid)] = rid
        else:
            starting = self.daemon.running and self.daemon.address is None
            self.dot.setStyleSheet(f"color: {theme.WARN if starting else theme.DANGER};")
            self.connection_label.setText("Starting daemon…" if starting else "Daemon not running")
            self.connection_label.setToolTip(f"No answer from {where}")
            self.model_label.setText("" if starting else f"nothing answers at {where}")
            for rid in self.jobs_view.active_ids():
                row = self.jobs_view.row(rid)
                if row is not None:
                    row.status.setText("Waiting for the daemon…")
        local = bool(host) and self._target_is_local()
        self.start_daemon_button.setVisible(not connected and local and not self.daemon.running)
        self._update_actions()

    def _target_is_local(self) -> bool:
        try:
            return is_loopback(resolve_host(self.client.target[0]))
        except ValueError:
            return False

    def is_connected(self) -> bool:
        return self.client.connected

    def _daemon_status_request(self) -> None:
        self._status_for[self.client.request_status()] = ""

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
        text, ok = QInputDialog.getText(self, "Connect to a daemon", "Host:port", text=f"{host}:{port}")
        if not ok or not text.strip():
            return
        new_host, _, new_port = text.strip().rpartition(":")
        try:
            self.client.set_target(new_host or host, int(new_port))
        except ValueError as e:
            self.show_message(f"Cannot use {text!r}: {e}")
            return
        self.save_settings()
        self._update_connection(False)

    # ------------------------------------------------------------------ daemon process

    def _spawn_if_down(self) -> None:
        if not self.client.connected and not self.daemon.running and self._target_is_local():
            self.start_daemon()

    def start_daemon(self) -> None:
        if self.daemon.running:
            return
        host, port = self.client.target
        o = self.daemon_options
        try:
            os.makedirs(os.path.expanduser(o.out), exist_ok=True)
        except OSError as e:
            self.show_message(f"Cannot create the output folder {o.out}: {e.strerror or e}")
            return
        self.daemon.start(
            serve_command(port, host=host, model=o.model, out=o.out, device=o.device, extra=o.extra)
        )
        self.hide_message()
        self._update_connection(self.client.connected)

    def _daemon_listening(self, host: str, port: int) -> None:
        self.daemon_log_label.setText("")
        self.client.hello()
        self.client.ping()

    def _daemon_failed(self, reason: str) -> None:
        self.show_message(f"The daemon could not start: {reason}")
        self._update_connection(self.client.connected)

    def _daemon_exited(self, code: int) -> None:
        if not self._closing and self.daemon.address is not None:
            self.show_message(f"The daemon the panel started has stopped (exit status {code}).")
        self._update_connection(self.client.connected)

    def _daemon_log(self, line: str) -> None:
        if self.daemon.address is None:  # while loading: show what it is doing
            text = line.split(": ", 1)[-1] if " INFO " in line or " WARNING " in line else line
            metrics = self.daemon_log_label.fontMetrics()
            self.daemon_log_label.setText(metrics.elidedText(text, Qt.TextElideMode.ElideRight, 420))

    # ------------------------------------------------------------------ requests

    def _update_actions(self) -> None:
        connected = self.client.connected
        tip = "" if connected else friendly_error(NOT_CONNECTED)
        for button in (self.generate_button, self.variations_button, self.continue_button):
            button.setEnabled(connected)
            button.setStatusTip(tip)
        can_continue = bool(self.form.clip.path or self.results.selected_path())
        self.continue_button.setEnabled(connected and can_continue)
        self.cancel_button.setEnabled(bool(self.jobs_view.active_ids()))

    def submit(self, kind: str = "generate", continue_from: str | None = None) -> str:
        """Send a generate request from the form; returns its request id ('' if nothing was sent)."""
        if not self.client.connected:
            self.show_message(friendly_error(NOT_CONNECTED))
            return ""
        v = self.form.values()
        if kind == "continue" and not continue_from:
            continue_from = v.clip_path or self.results.selected_path()
            if not continue_from:
                self.show_message(
                    "Continue needs a clip (drop one on the panel) or a selected result.", "info"
                )
                return ""
        variations = v.variations if kind == "variations" else 1
        seed = self.form.next_seed()
        params = build_params(v, seed=seed, variations=variations, continue_from=continue_from)
        try:
            rid = self.client.generate(params)
        except ProtocolError as e:
            self.show_message(friendly_error(e.code, str(e)))
            return ""
        self.hide_message()
        self.form.remember_prompt(v.prompt)
        self.jobs[rid] = PanelJob(rid, kind, params)
        self.jobs_view.add(rid, params["prompt"] or "(no prompt)", self._job_detail(params))
        self._update_actions()
        self.save_settings()
        return rid

    @staticmethod
    def _job_detail(p: dict[str, Any]) -> str:
        bars = p["bars"]
        parts = [f"{_fmt_bpm(p['bpm'])} bpm", f"{bars} bar{'s' if bars != 1 else ''}", p["time_signature"]]
        parts.append(f"seed {p['seed']}")
        if p["variations"] > 1:
            parts.append(f"{p['variations']} takes")
        if p.get("melody"):
            parts.append(f"melody of {os.path.basename(p['melody'])}")
        if p.get("continue"):
            parts.append(f"continues {os.path.basename(p['continue'])}")
        return " · ".join(parts)

    def cancel_all(self) -> None:
        if self.jobs_view.active_ids():
            self.client.cancel()
            for rid in self.jobs_view.active_ids():
                row = self.jobs_view.row(rid)
                if row is not None:
                    row.status.setText("Cancelling…")
        elif self.player.state != "idle":
            self.stop_playback()

    def _poll_jobs(self) -> None:
        if not self.client.connected:
            return
        for rid in self.jobs_view.active_ids():
            row = self.jobs_view.row(rid)
            if row is not None and row.state == "queued":
                self._status_for[self.client.request_status(rid)] = rid

    # ------------------------------------------------------------------ replies

    def _on_ack(self, rid: str, position: int, job_id: str) -> None:
        job = self.jobs.get(rid)
        row = self.jobs_view.row(rid)
        if job is None or row is None:
            return
        job.job_id, job.state = job_id, "queued"
        if row.state in ("sending", "queued"):
            row.set_queued(position)
        self._update_actions()

    def _on_progress(self, rid: str, fraction: float) -> None:
        job, row = self.jobs.get(rid), self.jobs_view.row(rid)
        if job is not None and row is not None and row.active:
            job.state = "running"
            row.set_progress(fraction, job.chunks)

    def _on_chunk(self, rid: str, index: int, path: str, start: float) -> None:
        job = self.jobs.get(rid)
        if job is None:
            return
        job.chunks += 1
        row = self.jobs_view.row(rid)
        if row is not None and row.active:
            row.set_progress(row.bar.value() / 1000.0, job.chunks)
        if not (self.preview.stream.isChecked() and self.player.available):
            return
        if self.player.stream_key != rid:
            self.player.start_stream(rid)
            self.results.set_playing("")
        try:
            self.player.add_chunk_file(rid, index, path, start)
        except PreviewUnavailable as e:
            self._preview_failed(str(e))

    def _on_done(self, rid: str, paths: list) -> None:
        job = self.jobs.get(rid)
        if job is None:  # another client's job (a MIDI pad, the Max device): list its loops too
            created = datetime.datetime.now().isoformat(timespec="seconds")
            for path in reversed(paths):
                self._add_result(ResultEntry.from_path(path, created=created), top=True)
            return
        job.state = "done"
        row = self.jobs_view.row(rid)
        if row is not None:
            row.set_done(len(paths))
            self.jobs_view.remove_later(rid)
        if self.player.stream_key == rid:
            self.player.end_stream(rid)
        created = datetime.datetime.now().isoformat(timespec="seconds")
        first = ""
        for path in reversed(paths):
            entry = ResultEntry.from_path(
                path, prompt=job.params.get("prompt", ""), created=created, job=job.job_id
            )
            entry.time_signature = job.params.get("time_signature", "")
            self._add_result(entry, top=True)
            first = path
        if first:
            self.results.select_path(first)
            self.results.scrollToTop()
        self._update_actions()

    def _on_error(self, rid: str, code: str, message: str) -> None:
        job = self.jobs.get(rid)
        if rid in self._status_for:
            target = self._status_for.pop(rid)
            if target and code == "not_found":
                self._job_failed(target, "interrupted", "the daemon no longer knows this job")
            return
        if rid in self._history_rids:
            self._history_rids.discard(rid)
            return
        if job is None:
            if code not in ("not_found",):
                self.show_message(friendly_error(code, message))
            return
        self._job_failed(rid, code, message)

    def _job_failed(self, rid: str, code: str, message: str) -> None:
        job, row = self.jobs.get(rid), self.jobs_view.row(rid)
        if job is not None:
            job.state = "cancelled" if code == "cancelled" else "failed"
        text = friendly_error(code, message)
        if self.player.stream_key == rid:
            self.player.stop()
        if row is not None:
            row.set_failed(text, cancelled=code == "cancelled")
            if code == "cancelled":
                self.jobs_view.remove_later(rid)
        if code != "cancelled":
            prompt = job.params.get("prompt", "") if job is not None else ""
            self.show_message(f"“{prompt}” failed: {text}" if prompt else text)
        self._update_actions()

    def _on_ok(self, rid: str, verb: str, count: int) -> None:
        if verb == "cancel" and count == 0 and not self.jobs_view.active_ids():
            self.show_message("Nothing to cancel.", "info")

    def _on_status(self, rid: str, pairs: dict) -> None:
        target = self._status_for.pop(rid, None)
        if target is None:
            return
        if target == "":  # the daemon's own status
            self.model = str(pairs.get("model", self.model))
            self.device = str(pairs.get("device", self.device) or "")
            out = str(pairs.get("out", "") or "")
            if out:
                self.out_dir = out
                self.open_folder_button.setEnabled(True)
                self.open_folder_button.setToolTip(f"Open {out}")
            self._show_model()
            return
        row = self.jobs_view.row(target)
        if row is None or not row.active:
            return
        state = str(pairs.get("state", ""))
        if state == "queued":
            if row.state in ("sending", "queued"):  # a late answer must not undo progress already shown
                row.set_queued(int(pairs.get("position", 0)))
        elif state == "done":
            self._history_rids.add(self.client.request_history(HISTORY_LIMIT))
            row.set_done(int(pairs.get("paths", 0) or 0))
            self.jobs_view.remove_later(target)
        elif state in FINAL_STATES:
            self._job_failed(target, str(pairs.get("error_code") or state), str(pairs.get("error", "")))

    def _on_history(self, rid: str, entries: list[HistoryEntry]) -> None:
        self._history_rids.discard(rid)
        for entry in entries_from_history(entries):
            self._add_result(entry, top=False)

    def _add_result(self, entry: ResultEntry, top: bool) -> None:
        row, new = self.results.add_entry(entry, top=top)
        if new and entry.exists:
            self.loader.request(entry.path)
        elif new:
            row.set_unreadable("the file is missing")

    def _on_thumbnail(self, path: str, thumb: Thumbnail) -> None:
        row = self.results.rows.get(path)
        if row is not None:
            row.set_thumbnail(thumb)
        if path == self.form.clip.path:
            self.form.clip.set_thumbnail(thumb)
            self.form.set_clip_duration(thumb.duration)

    def _on_thumbnail_failed(self, path: str, reason: str) -> None:
        row = self.results.rows.get(path)
        if row is not None:
            row.set_unreadable(reason)
        if path == self.form.clip.path:
            self.form.clip.set_unreadable(path, reason)

    def _on_clip_changed(self, path: str) -> None:
        if path:
            self.loader.request(path)
        self._update_actions()

    # ------------------------------------------------------------------ preview

    def _init_audio(self) -> None:
        name = str(self.settings.value("preview/device", "") or "")
        try:
            devices = [d.name for d in list_output_devices()]
        except PreviewUnavailable as e:
            self.player.set_device(open_output_device())
            self.preview.set_unavailable(str(e).rstrip("."))
            return
        self.preview.set_devices(devices, name if name in devices else "")
        self.player.set_device(open_output_device(name if name in devices else None))
        self._show_player_availability()

    def _show_player_availability(self) -> None:
        if not self.player.available:
            self.preview.set_unavailable(self.player.unavailable_reason or "no audio output device")
        else:
            self.preview.set_available()
            self.preview.show_state(f"Output: {self.player.device.name}")

    def _choose_device(self, name: str) -> None:
        self.player.set_device(open_output_device(name or None))
        self.settings.setValue("preview/device", name)
        self._show_player_availability()
        self.results.set_playing("")

    def _preview_failed(self, reason: str) -> None:
        self.player.stop()
        self.show_message(f"Preview stopped: {reason}")

    def play_file(self, path: str, loop: bool | None = None) -> None:
        if not self.player.available:
            self.show_message(f"Preview unavailable: {self.player.unavailable_reason}.", "info")
            return
        loop = self.preview.loop.isChecked() if loop is None else loop
        try:
            self.player.play_file(path, loop=loop)
        except PreviewUnavailable as e:
            self._preview_failed(str(e))
        except Exception as e:  # soundfile raises RuntimeError/LibsndfileError for unreadable files
            self.show_message(f"Cannot play {os.path.basename(path)}: {e}")

    def play_selected(self) -> None:
        path = self.results.selected_path()
        if path:
            self.play_file(path)

    def stop_playback(self) -> None:
        self.player.stop()
        self.results.set_playing("")

    def toggle_playback(self) -> None:
        if self.player.state != "idle":
            self.stop_playback()
        else:
            self.play_selected()

    def _tick_player(self) -> None:
        self.player.poll()
        state = self.player.state
        if not self.player.available:
            return
        if state == "playing":
            path = self.player.current_path
            pos, dur = self.player.position_seconds(), self.player.duration_seconds()
            if dur and self.player.looping:
                pos = pos % dur
            self.results.set_playing(path, pos / dur if dur else None)
            self.preview.show_state(f"Playing {os.path.basename(path)}", pos, dur)
        elif state == "streaming":
            job = self.jobs.get(self.player.stream_key)
            prompt = job.params.get("prompt", "") if job else ""
            self.preview.show_state(f"Streaming preview · {prompt}", self.player.position_seconds())
        else:
            self.preview.show_state(f"Output: {self.player.device.name}")

    def _playback_finished(self, _what: str) -> None:
        self.results.set_playing("")

    # ------------------------------------------------------------------ closing

    def closeEvent(self, event: QCloseEvent) -> None:
        if self._closing:
            super().closeEvent(event)
            return
        self._closing = True
        self.save_settings()
        self.player.stop()
        self.player.device.close()
        self.client.close()
        self.daemon.stop()
        super().closeEvent(event)
