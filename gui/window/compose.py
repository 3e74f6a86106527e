"""The left card: the generate form and its actions, and what pressing one of them sends.

    (the form, in a scroll area: it never gets cut off, it scrolls)
    [Generate              ] [Variations]
    [Continue selected] [Cancel] [MIDI learn]

The action rows sit below the scroll area, so they are always in view. Continue continues the selected
result, or the clip when no result is selected; its text says which. `submit` turns the form into a
generate request (checked against the protocol table before it is sent; never with a clip known to be
unreadable) and hands the sent job to the jobs list; `sent` then asks the window to save its settings.
`nudge` sends a result's own request again with its bar line moved (a result row's "Nudge bar line…").
"""

from __future__ import annotations

import os
from typing import Any

from PyQt6.QtCore import QObject, QSize, Qt, pyqtSignal
from PyQt6.QtWidgets import QFrame, QGridLayout, QPushButton, QScrollArea, QVBoxLayout, QWidget

from bridge.protocol import ProtocolError
from gui.clock_follow import ClockFollow
from gui.form import GenerateForm, build_params
from gui.messages import NOT_CONNECTED, friendly_error
from gui.midi_learn import MidiLearnButton
from gui.osc_client import OscClient
from gui.output_format import OutputFormat
from gui.results import nudge_blocked, nudged_request
from gui.waveform import Thumbnail
from gui.window.banner import Banner
from gui.window.jobs import JobsController
from gui.window.results import ResultsController

FORM_MIN_HEIGHT = 120  # px: the form scrolls inside at least this much


class FormScroll(QScrollArea):
    """A vertical scroll area as wide as its form wants (its size hint, so no box is squeezed below the
    text it shows): the splitter cannot make the form narrower; a horizontal bar appears only if the window
    itself is narrower than that."""

    def minimumSizeHint(self) -> QSize:  # noqa: N802 (Qt naming)
        inner = self.widget()
        width = inner.sizeHint().width() if inner is not None else 0
        return QSize(
            width + self.verticalScrollBar().sizeHint().width() + 2 * self.frameWidth(), FORM_MIN_HEIGHT
        )


class ComposeController(QObject):
    """Owns the form, the action buttons and MIDI learn; the clip zone's thumbnail comes from the results'
    loader."""

    sent = pyqtSignal(str)  # request id

    def __init__(
        self,
        window: QWidget,
        client: OscClient,
        banner: Banner,
        jobs: JobsController,
        results: ResultsController,
    ):
        super().__init__(window)
        self.client, self.banner, self.jobs, self.results = client, banner, jobs, results
        self.form = GenerateForm()
        self.output_format = OutputFormat()  # the file's format, sent with every new request
        self.clock_follow = ClockFollow(self.form.bpm)  # the host's tempo, while its MIDI clock runs
        self.generate_button = QPushButton("Generate")
        self.generate_button.setObjectName("primary")
        self.generate_button.setToolTip("Generate one loop (Ctrl+Enter)")
        self.variations_button = QPushButton("Variations")
        self.variations_button.setToolTip("Generate several takes in one pass (Ctrl+Shift+Enter)")
        self.continue_button = QPushButton("Continue")
        self.continue_button.setToolTip(
            "Continue the selected result, or the clip when no result is selected (Ctrl+Alt+Enter)"
        )
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setToolTip("Cancel all of this panel's jobs (Esc)")
        self.midi_learn = MidiLearnButton("generate")
        self.card = self._build_card()
        self.generate_button.clicked.connect(lambda: self.submit("generate"))
        self.variations_button.clicked.connect(lambda: self.submit("variations"))
        self.continue_button.clicked.connect(lambda: self.submit("continue"))
        self.midi_learn.learned.connect(
            lambda d: self.banner.show_message(f"Generate is now triggered by {d}.", "info")
        )
        self.midi_learn.failed.connect(lambda r: self.banner.show_message(f"MIDI learn did not work: {r}"))
        r = results.view
        r.continue_requested.connect(lambda p: self.submit("continue", continue_from=p))
        r.nudge_requested.connect(self.nudge)
        r.clip_requested.connect(self.form.clip.set_clip)
        r.selection_changed.connect(lambda _p: self.update_actions())
        results.loader.loaded.connect(self._on_thumbnail)
        results.loader.failed.connect(self._on_thumbnail_failed)
        self.form.clip.clip_changed.connect(self._on_clip_changed)
        self.form.clip.refused.connect(lambda why: self.banner.show_message(why, "info"))
        jobs.changed.connect(self.update_actions)

    def _build_card(self) -> QFrame:
        actions = QGridLayout()
        actions.setContentsMargins(16, 8, 16, 14)
        actions.setSpacing(6)
        actions.addWidget(self.generate_button, 0, 0, 1, 2)
        actions.addWidget(self.variations_button, 0, 2)
        actions.addWidget(self.continue_button, 1, 0)
        actions.addWidget(self.cancel_button, 1, 1)
        actions.addWidget(self.midi_learn, 1, 2)
        for col in range(3):
            actions.setColumnStretch(col, 1)
        left_inner = QWidget()
        ll = QVBoxLayout(left_inner)
        ll.setContentsMargins(16, 14, 16, 6)
        ll.addWidget(self.form)
        ll.addWidget(self.clock_follow)
        ll.addWidget(self.output_format)
        ll.addStretch(1)
        left = QFrame()
        left.setObjectName("card")
        lcl = QVBoxLayout(left)
        lcl.setContentsMargins(0, 0, 0, 0)
        lcl.setSpacing(0)
        scroll = FormScroll()
        scroll.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # no Tab stop of its own: focus moves inside it
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAsNeeded)
        scroll.setStyleSheet(
            "QScrollArea { background: transparent; } QScrollArea > QWidget > QWidget { background: transparent; }"
        )
        scroll.setWidget(left_inner)
        self.scroll = scroll
        lcl.addWidget(scroll, 1)
        lcl.addLayout(actions)
        return left

    def update_actions(self) -> None:
        connected = self.client.connected
        tip = "" if connected else friendly_error(NOT_CONNECTED)
        for button in (self.generate_button, self.variations_button, self.continue_button):
            button.setEnabled(connected)
            button.setStatusTip(tip)
        target, what = self.continue_target()
        self.continue_button.setText(
            {"result": "Continue selected", "clip": "Continue clip"}.get(what, "Continue")
        )
        self.continue_button.setToolTip(
            (
                f"Continue {os.path.basename(target)} ({'the selected result' if what == 'result' else 'the clip'})"
                if target
                else "Select a result, or load a clip, to continue it"
            )
            + " (Ctrl+Alt+Enter)"
        )
        self.continue_button.setEnabled(connected and bool(target))
        self.cancel_button.setEnabled(bool(self.jobs.active_ids()))

    def submit(self, kind: str = "generate", continue_from: str | None = None) -> str:
        """Send a generate request from the form; returns its request id ('' if nothing was sent)."""
        if not self.client.connected:
            self.banner.show_message(friendly_error(NOT_CONNECTED))
            return ""
        v = self.form.values()
        clip = self.form.clip
        if kind == "continue" and not continue_from:
            continue_from = self.continue_target()[0]
            if not continue_from:
                self.banner.show_message(
                    "Continue needs a clip (drop one on the panel) or a selected result.", "info"
                )
                return ""
        uses_clip = bool(v.clip_path) and (
            not continue_from or continue_from == v.clip_path or v.clip_mode == "both"
        )
        if uses_clip and clip.unreadable:
            self.banner.show_message(
                f"Not sent: the clip {os.path.basename(clip.path)} cannot be read. {clip.unreadable} "
                "Clear it, or choose another clip."
            )
            return ""
        variations = v.variations if kind == "variations" else 1
        seed = self.form.next_seed()
        params = build_params(v, seed=seed, variations=variations, continue_from=continue_from)
        params.update(self.output_format.params())
        rid = self._send(params, kind)
        if rid:
            self.form.remember_prompt(v.prompt)
        return rid

    def continue_target(self) -> tuple[str, str]:
        """What Continue continues: (path, 'result') for the selected result, else (path, 'clip') for the
        clip, else ('', '')."""
        selected = self.results.view.selected_path()
        if selected:
            return selected, "result"
        if self.form.clip.path:
            return self.form.clip.path, "clip"
        return "", ""

    def nudge(self, path: str, beats: float) -> str:
        """Make the loop at `path` again from its own request (same seed, same keys: the same music) with
        its bar line `beats` further; returns the request id ('' if nothing was sent)."""
        row = self.results.view.rows.get(path)
        if row is None:
            return ""
        blocked = nudge_blocked(row.entry)
        if blocked:
            self.banner.show_message(blocked, "info")
            return ""
        if not self.client.connected:
            self.banner.show_message(friendly_error(NOT_CONNECTED))
            return ""
        return self._send(nudged_request(row.entry, beats), "nudge", select_take=row.entry.take or 1)

    def _send(self, params: dict[str, Any], kind: str, **job: Any) -> str:
        """Send one generate request and list it as a job; its request id, or '' when the client refused it
        (the banner says why)."""
        try:
            rid = self.client.generate(params)
        except ProtocolError as e:
            self.banner.show_message(friendly_error(e.code, str(e)))
            return ""
        self.banner.hide_message()
        self.jobs.add(rid, kind, params, **job)
        self.update_actions()
        self.sent.emit(rid)
        return rid

    # ------------------------------------------------------------------ the clip zone

    def _on_thumbnail(self, path: str, thumb: Thumbnail) -> None:
        if path == self.form.clip.path:
            self.form.clip.set_thumbnail(thumb)
            self.form.set_clip_duration(thumb.duration)

    def _on_thumbnail_failed(self, path: str, reason: str) -> None:
        if path == self.form.clip.path:
            self.form.clip.set_unreadable(path, reason)

    def _on_clip_changed(self, path: str) -> None:
        if path:
            self.results.loader.request(path)
        self.update_actions()
