"""The panel window: lays out its parts (`gui.window`) and connects one part to another.

    ┌ header: ● connection · model/device · [Start daemon] [Connect…] ─────────────────────────────┐
    │ banner: readable errors, floating over the top of the body (nothing under it moves)           │
    │ form (prompt, tempo, seed, advanced, clip;  │ JOBS  (progress, queue position, cancel; scrolls) │
    │       scrolls, never cut off)               │ RESULTS  [x] Auto-play · Saved in … [Copy path]   │
    │ [Generate        ] [Variations]             │ [the selected loop's waveform: click to play]     │
    │ [Continue selected] [Cancel] [MIDI learn]   │ rows (waveform, prompt, bpm, bars; drag out)      │
    └ PREVIEW ▶ ■ Loop  0:01.5  streaming…   [x] Preview while generating  Vol ─── Out [device] ──┘

    header      gui.window.connection.ConnectionController   banner  gui.window.banner.Banner
    form        gui.window.compose.ComposeController         JOBS    gui.window.jobs.JobsController
    RESULTS     gui.window.results.ResultsController         PREVIEW gui.window.transport.TransportController
    browsing    gui.window.browse.BrowseController           drops   gui.window.drops.DropController
    keyboard    gui.window.keys (shortcuts, Space, Tab order)

Everything the daemon says arrives as OscClient signals on the GUI thread; nothing here blocks. The
window keeps the settings, the keyboard shortcuts and closing; the attributes below name the parts'
widgets so scripts and tests can drive the window like a user.
"""

from __future__ import annotations

from PyQt6.QtCore import QByteArray, QSettings, Qt, QTimer
from PyQt6.QtGui import QCloseEvent
from PyQt6.QtWidgets import QFrame, QHBoxLayout, QLabel, QMainWindow, QSplitter, QVBoxLayout, QWidget

from gui import theme
from gui.jobs_view import JobsScroll
from gui.osc_client import OscClient
from gui.player import PreviewPlayer
from gui.widgets import ElidedLabel
from gui.window import keys
from gui.window.banner import Banner
from gui.window.browse import BrowseController
from gui.window.compose import ComposeController
from gui.window.connection import ConnectionController, DaemonOptions, default_out_dir
from gui.window.drops import DropController
from gui.window.history import HistoryController
from gui.window.jobs import JobsController, PanelJob
from gui.window.library import LibraryController
from gui.window.overlay import pin_to_top
from gui.window.results import ResultsController
from gui.window.transport import TransportController

SPAWN_AFTER_MS = 1500  # --spawn-daemon: start one if nothing answered a ping by then

__all__ = ["DaemonOptions", "MainWindow", "PanelJob", "default_out_dir"]


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
        self._closing = False
        self.setWindowTitle("MusicGen Bridge")
        self.setMinimumSize(980, 640)
        # the parts, each after those it talks to (the jobs' and the transport's slots run in this order)
        self.banner = Banner()
        self.connection = ConnectionController(self, client, self.daemon_options, self.banner)
        self.results_part = ResultsController(self)
        self.jobs_part = JobsController(self, client, self.banner, self.results_part)
        self.history = HistoryController(self, client, self.results_part)
        self.transport = TransportController(
            self, settings, client, self.results_part.view, self.banner, self.jobs_part.prompt_of, player
        )
        self.compose = ComposeController(self, client, self.banner, self.jobs_part, self.results_part)
        self.library = LibraryController(self, settings, self.results_part, self.compose.form, self.banner)
        self.browse = BrowseController(self, self.results_part, self.transport)
        self.drops = DropController(self, self.compose.form.clip)
        self._spawn_pending = spawn_daemon  # until the panel knows whether it starts a daemon
        self._name_widgets()
        self._build()
        self._wire()
        self._restore()
        self._update_connection(False)
        self.transport.start()
        self.jobs_part.start()
        self.form.prompt.setFocus(Qt.FocusReason.OtherFocusReason)  # type a prompt first
        if spawn_daemon:
            QTimer.singleShot(SPAWN_AFTER_MS, self._spawn_if_down)

    def _name_widgets(self) -> None:
        """The parts' widgets and state under the names the window has always had."""
        c, t, f = self.connection, self.transport, self.compose
        self.daemon = c.daemon
        self.dot, self.connection_label, self.model_label = c.dot, c.connection_label, c.model_label
        self.daemon_log_label = c.daemon_log_label
        self.start_daemon_button, self.connect_button = c.start_daemon_button, c.connect_button
        self.banner_label = self.banner.label
        self.form, self.midi_learn = f.form, f.midi_learn
        self.generate_button, self.variations_button = f.generate_button, f.variations_button
        self.continue_button, self.cancel_button = f.continue_button, f.cancel_button
        self.jobs, self.jobs_view = self.jobs_part.jobs, self.jobs_part.view
        self.results, self.loader = self.results_part.view, self.results_part.loader
        self.open_folder_button = self.results_part.open_folder_button
        self.player, self.preview = t.player, t.preview

    @property
    def out_dir(self) -> str:
        return self.results_part.out_dir

    @property
    def model(self) -> str:
        return self.connection.model

    @property
    def device(self) -> str:
        return self.connection.device

    # ------------------------------------------------------------------ layout

    def _build(self) -> None:
        right = QFrame()
        right.setObjectName("card")
        rl = QVBoxLayout(right)
        rl.setContentsMargins(16, 14, 16, 14)
        rl.setSpacing(6)
        rl.addWidget(theme.set_role(QLabel("JOBS"), "section"))
        self.jobs_scroll = JobsScroll(self.jobs_view)
        rl.addWidget(self.jobs_scroll)
        rl.addSpacing(8)
        results_head = QHBoxLayout()
        results_head.addWidget(theme.set_role(QLabel("RESULTS"), "section"))
        hint = theme.set_role(ElidedLabel("drag a loop onto your DAW's timeline"), "muted")
        results_head.addWidget(hint, 1)
        results_head.addWidget(self.browse.autoplay)
        rl.addLayout(results_head)
        folder_row = QHBoxLayout()
        folder_row.addWidget(self.results_part.folder_label, 1)
        folder_row.addWidget(self.results_part.copy_path_button)
        folder_row.addWidget(self.open_folder_button)
        rl.addLayout(folder_row)
        rl.addWidget(self.browse.wave)
        rl.addWidget(self.library.bar)
        rl.addWidget(self.results, 1)
        below = QHBoxLayout()
        below.addWidget(self.library.actions)
        below.addStretch(1)
        below.addWidget(self.history.load_button)
        rl.addLayout(below)

        split = QSplitter(Qt.Orientation.Horizontal)
        split.addWidget(self.compose.card)
        split.addWidget(right)
        split.setChildrenCollapsible(False)
        split.setSizes([470, 630])
        split.setHandleWidth(10)
        self.splitter = split

        body = QWidget()
        bodyl = QVBoxLayout(body)
        bodyl.setContentsMargins(12, 10, 12, 10)
        bodyl.setSpacing(8)
        bodyl.addWidget(split, 1)
        self._banner_pin = pin_to_top(self.banner, body)
        central = QWidget()
        cl = QVBoxLayout(central)
        cl.setContentsMargins(0, 0, 0, 0)
        cl.setSpacing(0)
        cl.addWidget(self.connection.header)
        cl.addWidget(body, 1)
        cl.addWidget(self.preview)
        self.setCentralWidget(central)

    def _wire(self) -> None:
        self.client.connection_changed.connect(self._update_connection)
        self.connection.refresh.connect(lambda: self._update_connection(self.client.connected))
        self.connection.target_changed.connect(self._target_changed)
        self.jobs_part.failed.connect(self.transport.stop_stream)
        self.jobs_part.daemon_status.connect(self._on_daemon_status)
        self.compose.cancel_button.clicked.connect(self.cancel_all)
        self.compose.sent.connect(lambda _rid: self.save_settings())
        self.results_part.problem.connect(self.banner.show_message)

        self._shortcuts = keys.install_shortcuts(
            self,
            (
                (("Ctrl+Return", "Ctrl+Enter"), lambda: self.submit("generate")),
                (("Ctrl+Shift+Return", "Ctrl+Shift+Enter"), lambda: self.submit("variations")),
                (("Ctrl+Alt+Return", "Ctrl+Alt+Enter"), lambda: self.submit("continue")),
                (("Esc",), self.cancel_all),
                (("Space",), lambda: keys.press_space(self.toggle_playback)),
                (("Ctrl+O",), self.form.clip._browse),
                (("Ctrl+L",), self.form.seed_lock.toggle),
                (("Ctrl+Q", "Ctrl+W"), self.close),
            ),
        )
        self.drops.release_text_fields()
        self._tab_order()

    def _tab_order(self) -> None:
        """Tab goes down the form, through the actions, into the results, the preview bar, the header."""
        f, g, c, p = self.form, self.form.grid, self.form.clip, self.preview
        cf, of, lib = self.compose.clock_follow, self.compose.output_format, self.library
        for button in (g.earlier, g.later):  # the nudge box's own arrows do the same from the keyboard
            button.setFocusPolicy(Qt.FocusPolicy.ClickFocus)
        checked_mode = next((b for b in f.mode_buttons.values() if b.isChecked()), None)
        keys.chain_tab_order(
            (
                f.prompt, f.bpm, f.bars, f.time_signature, f.seed, f.seed_lock, f.variations, g.mode, g.shift,
                f.advanced_toggle, f.temperature, f.top_k, f.top_p, f.cfg, f.reset_advanced,
                c.browse, c.clear, checked_mode, f.clip_bpm, f.prompt_seconds, f.use_region, f.region_start,
                f.region_end, cf.enabled_box, cf.ports, of.toggle, of.sample_rate, of.bit_depth, of.normalize,
                getattr(of, "channels", None),
                self.generate_button, self.variations_button, self.continue_button, self.cancel_button,
                self.midi_learn,
                lib.search, lib.bpm, lib.bars, lib.favourites_only, lib.show_hidden,
                self.browse.autoplay, self.results_part.copy_path_button, self.open_folder_button, self.results,
                lib.again_button, lib.favourite_button, lib.hide_button, lib.filter_button,
                self.history.load_button,
                p.play, p.stop, p.loop, p.stream, p.volume, p.device,
                self.start_daemon_button, self.connection.folder_button, self.connect_button,
            )
        )  # fmt: skip

    # ------------------------------------------------------------------ settings

    def _restore(self) -> None:
        s = self.settings
        geometry = s.value("window/geometry")
        if isinstance(geometry, QByteArray):
            self.restoreGeometry(geometry)
        else:
            self.resize(1120, 720)
        self.form.restore(s)
        self.compose.output_format.restore(s)
        self.compose.clock_follow.restore(s)
        self.transport.restore(s)
        self.browse.restore(s)

    def save_settings(self) -> None:
        s = self.settings
        s.setValue("window/geometry", self.saveGeometry())
        self.form.save(s)
        self.compose.output_format.save(s)
        self.compose.clock_follow.save(s)
        self.transport.save(s)
        self.browse.save(s)
        self.connection.save(s)
        s.sync()

    # ------------------------------------------------------------------ messages

    def show_message(self, text: str, kind: str = "error") -> None:
        self.banner.show_message(text, kind)

    def hide_message(self) -> None:
        self.banner.hide_message()

    def message(self) -> str:
        return self.banner.message()

    # ------------------------------------------------------------------ connection

    def _update_connection(self, connected: bool) -> None:
        self.connection.show(connected)
        if connected:
            self._spawn_pending = False
        elif self._spawn_pending:  # --spawn-daemon: one is on its way, this is no failure
            self.dot.setStyleSheet(f"color: {theme.WARN};")
            self.connection_label.setText("Starting daemon…")
            self.model_label.setText("")
        if connected:
            self.jobs_part.resync()
            self.history.restart()
        else:
            self.jobs_part.wait_for_daemon()
        self.connection.show_start_button(connected)
        self.compose.update_actions()

    def _target_changed(self) -> None:
        self.save_settings()
        self._update_connection(False)

    def _on_daemon_status(self, pairs: dict) -> None:
        self.results_part.set_out_dir(str(pairs.get("out", "") or ""))
        self.connection.show_status(pairs)

    def _spawn_if_down(self) -> None:
        self._spawn_pending = False
        self.connection.spawn_if_down()
        self._update_connection(self.client.connected)

    def is_connected(self) -> bool:
        return self.client.connected

    def start_daemon(self) -> None:
        self.connection.start_daemon()

    # ------------------------------------------------------------------ actions

    def submit(self, kind: str = "generate", continue_from: str | None = None) -> str:
        """Send a generate request from the form; returns its request id ('' if nothing was sent)."""
        return self.compose.submit(kind, continue_from)

    def cancel_all(self) -> None:
        if not self.jobs_part.cancel_all():
            self.transport.stop_if_playing()

    def play_file(self, path: str, loop: bool | None = None) -> None:
        self.transport.play_file(path, loop)

    def play_selected(self) -> None:
        self.transport.play_selected()

    def stop_playback(self) -> None:
        self.transport.stop_playback()

    def toggle_playback(self) -> None:
        self.transport.toggle_playback()

    # ------------------------------------------------------------------ closing

    def closeEvent(self, event: QCloseEvent) -> None:
        if self._closing:
            super().closeEvent(event)
            return
        self._closing = True
        self.connection.closing = True  # the daemon's exit is no news now
        self.save_settings()
        self.transport.close()
        self.compose.clock_follow.stop()
        self.client.close()
        self.connection.close()
        super().closeEvent(event)
