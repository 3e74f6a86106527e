"""The "MIDI learn" hook: bind a controller pad or knob to Generate from the panel.

The MIDI side is `bridge.midi.learn` (light: no daemon, no model; mido and python-rtmidi are optional and
checked by `bridge.midi.ports.backend_missing`). Its learn API is used as it is:

    inputs, _outputs = learn.list_ports()
    session = learn.LearnSession("generate")                 # writes the user's mapping file
    mapping = session.listen(port, timeout)                  # None on timeout / session.cancel()
    learn.control_of(session.message).describe()             # "note 36 on channel 10"

`listen` blocks, so it runs on a worker thread; clicking the button again cancels. The daemon reloads the
mapping file within a second. The button is disabled, with a tooltip saying why, when no MIDI backend
(mido / python-rtmidi) is installed.
"""

from __future__ import annotations

from typing import Any

from PyQt6.QtCore import QObject, QRunnable, QThreadPool, pyqtSignal
from PyQt6.QtWidgets import QPushButton, QWidget

from bridge.midi import learn as midi
from bridge.midi.ports import backend_missing

LEARN_TIMEOUT_S = 15.0


def midi_learn_available() -> tuple[bool, str]:
    """(True, '') when a MIDI backend is installed; else (False, why)."""
    why = backend_missing()
    return not why, why


def learn(action: str, port: str = "", timeout: float = LEARN_TIMEOUT_S, sessions: list | None = None) -> str:
    """Wait for the next pad hit / knob move on `port` (default: the first input) and bind it to
    `action`. Returns a description; raises on timeout, cancel, or when there is no MIDI input."""
    inputs, _outputs = midi.list_ports()
    if not inputs:
        raise RuntimeError("no MIDI input found: connect a controller and try again")
    name = port if port in inputs else inputs[0]
    session = midi.LearnSession(action)
    if sessions is not None:
        sessions.append(session)
    if session.listen(name, timeout) is None:
        raise TimeoutError(f"nothing was pressed on {name} within {timeout:.0f} s")
    control = midi.control_of(session.message)
    return f"{control.describe() if control is not None else session.message} on {name}"


class _Signals(QObject):
    finished = pyqtSignal(bool, str)


class _Learn(QRunnable):
    def __init__(self, action: str, port: str, signals: _Signals, sessions: list):
        super().__init__()
        self.action, self.port, self.signals, self.sessions = action, port, signals, sessions

    def run(self) -> None:
        try:
            description = learn(self.action, self.port, sessions=self.sessions)
        except Exception as e:
            self.signals.finished.emit(False, str(e) or type(e).__name__)
            return
        self.signals.finished.emit(True, description)


class MidiLearnButton(QPushButton):
    """Click, then hit a pad: `learned(description)` or `failed(reason)`. Click again to give up."""

    learned = pyqtSignal(str)
    failed = pyqtSignal(str)

    def __init__(self, action: str = "generate", port: str = "", parent: QWidget | None = None):
        super().__init__("MIDI learn", parent)
        self.action, self.port = action, port
        self.learning = False
        self._sessions: list[Any] = []
        self._signals = _Signals(self)
        self._signals.finished.connect(self._finished)
        ok, reason = midi_learn_available()
        self.setEnabled(ok)
        self.setToolTip(
            f"Click, then press a pad or move a knob on your controller to trigger {action.title()}"
            if ok
            else f"MIDI learn is unavailable: {reason}"
        )
        self.clicked.connect(self._clicked)

    def _clicked(self) -> None:
        if self.learning:
            for session in self._sessions:
                session.cancel()
            return
        self.learning = True
        self._sessions.clear()
        self.setText("Press a pad… (click to stop)")
        QThreadPool.globalInstance().start(_Learn(self.action, self.port, self._signals, self._sessions))

    def _finished(self, ok: bool, text: str) -> None:
        self.learning = False
        self.setText("MIDI learn")
        if ok:
            self.setToolTip(f"{self.action.title()} is triggered by {text}. Click to learn another control.")
            self.learned.emit(text)
        else:
            self.failed.emit(text)
