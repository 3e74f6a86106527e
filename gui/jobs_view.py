"""Running and queued jobs: one row each, with its queue position or progress bar and a cancel button.

Titles and details are elided to the row's width (the full text in their tooltips), so a long detail
("continues …_v2.wav") never widens the list; `JobsScroll` shows the rows up to a maximum height and
scrolls beyond it, so nine queued jobs stay readable.
"""

from __future__ import annotations

from PyQt6.QtCore import QEvent, QObject, QSize, Qt, QTimer, pyqtSignal
from PyQt6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from bridge.protocol import ACTIVE_STATES, FINAL_STATES
from gui import theme
from gui.widgets import ElidedLabel

ACTIVE_ROW_STATES = ("sending", *ACTIVE_STATES)  # "sending": no ack yet, the panel's own state
FINISHED_ROW_MS = 2500  # a finished job's row stays this long (an error stays until dismissed)
MAX_JOBS_HEIGHT = 140  # px: two rows in full; more rows scroll (the results keep their room)


class JobRow(QFrame):
    cancel_requested = pyqtSignal(str)
    dismissed = pyqtSignal(str)

    def __init__(self, rid: str, title: str, detail: str, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("jobRow")
        self.rid = rid
        self.state = "sending"
        self.title = ElidedLabel(title)
        self.detail = theme.set_role(ElidedLabel(detail), "muted")
        self.error = theme.set_role(QLabel(), "muted")  # a failure's text, wrapped
        self.error.setWordWrap(True)
        self.error.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.error.hide()
        self.status = theme.set_role(QLabel("Sending…"), "muted")
        self.status.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        self.bar = QProgressBar()
        self.bar.setRange(0, 1000)
        self.bar.setTextVisible(False)
        self.bar.setFixedHeight(8)
        self.cancel = QPushButton("Cancel")
        self.cancel.setObjectName("danger")
        self.cancel.setToolTip("Stop this job now (the GPU stops at its next step)")
        self.cancel.clicked.connect(self._button)

        top = QHBoxLayout()
        top.addWidget(self.title, 1)
        top.addWidget(self.status)
        layout = QVBoxLayout()
        layout.setSpacing(4)
        layout.addLayout(top)
        layout.addWidget(self.bar)
        layout.addWidget(self.detail)
        layout.addWidget(self.error)
        row = QHBoxLayout(self)
        row.setContentsMargins(10, 8, 10, 8)
        row.addLayout(layout, 1)
        row.addWidget(self.cancel, 0, Qt.AlignmentFlag.AlignVCenter)

    def _button(self) -> None:
        if self.state in FINAL_STATES:
            self.dismissed.emit(self.rid)
        else:
            self.cancel.setEnabled(False)
            self.status.setText("Cancelling…")
            self.cancel_requested.emit(self.rid)

    @property
    def active(self) -> bool:
        return self.state in ACTIVE_ROW_STATES

    def set_queued(self, position: int) -> None:
        self.state = "queued"
        self.bar.setRange(0, 1000)
        self.status.setText("Starting…" if position <= 0 else f"Queued · {position} ahead")
        self.bar.setValue(0)

    def set_progress(self, fraction: float, chunks: int = 0) -> None:
        self.state = "running"
        self.bar.setValue(int(round(1000 * min(max(fraction, 0.0), 1.0))))
        text = f"{fraction * 100:.0f} %"
        if chunks:
            text += f" · {chunks} chunk{'s' if chunks != 1 else ''} streamed"
        self.status.setText(text)

    def set_done(self, files: int) -> None:
        self.state = "done"
        self.bar.setValue(1000)
        self.status.setText(f"Done · {files} file{'s' if files != 1 else ''}")
        self.cancel.hide()

    def set_failed(self, text: str, cancelled: bool = False) -> None:
        self.state = "cancelled" if cancelled else "failed"
        self.status.setText("Cancelled" if cancelled else "Failed")
        self.status.setStyleSheet(f"color: {theme.MUTED if cancelled else theme.DANGER};")
        self.error.setText(text)
        self.error.setToolTip(text)
        self.error.show()
        self.layout().setAlignment(self.cancel, Qt.AlignmentFlag.AlignTop)  # Dismiss stays in view
        self.cancel.setEnabled(True)
        self.cancel.setText("Dismiss")
        self.cancel.setObjectName("")
        theme.repolish(self.cancel)


class JobsView(QWidget):
    """Rows for this panel's jobs, newest at the bottom; a hint when there are none."""

    cancel_requested = pyqtSignal(str)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.rows: dict[str, JobRow] = {}
        self.empty = theme.set_role(QLabel("No jobs running. Press Generate (Ctrl+Enter)."), "muted")
        self._layout = QVBoxLayout(self)
        self._layout.setContentsMargins(0, 0, 0, 0)
        self._layout.setSpacing(6)
        self._layout.addWidget(self.empty)

    def add(self, rid: str, title: str, detail: str) -> JobRow:
        row = JobRow(rid, title, detail, self)
        row.cancel_requested.connect(self.cancel_requested)
        row.dismissed.connect(self.remove)
        self.rows[rid] = row
        self._layout.addWidget(row)
        self.empty.hide()
        return row

    def first_row_height(self) -> int:
        """The height that shows one row (or the empty hint) in full."""
        first = next(iter(self.rows.values()), None)
        return (first or self.empty).sizeHint().height()

    def row(self, rid: str) -> JobRow | None:
        return self.rows.get(rid)

    def active_ids(self) -> list[str]:
        return [rid for rid, row in self.rows.items() if row.active]

    def remove(self, rid: str) -> None:
        row = self.rows.pop(rid, None)
        if row is not None:
            self._layout.removeWidget(row)
            row.deleteLater()
        self.empty.setVisible(not self.rows)

    def remove_later(self, rid: str, ms: int = FINISHED_ROW_MS) -> None:
        timer = QTimer(self)  # a child: it dies with the view, so it never fires into a deleted one
        timer.setSingleShot(True)
        timer.timeout.connect(lambda: self.remove(rid))
        timer.timeout.connect(timer.deleteLater)
        timer.start(ms)


class JobsScroll(QScrollArea):
    """The jobs view, as tall as its rows up to MAX_JOBS_HEIGHT; beyond that it scrolls."""

    def __init__(self, view: JobsView, parent: QWidget | None = None):
        super().__init__(parent)
        self.setWidget(view)
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # no Tab stop of its own: its Cancel buttons are
        self.setWidgetResizable(True)
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Maximum)
        self.setMaximumHeight(MAX_JOBS_HEIGHT)
        self.setStyleSheet(
            "QScrollArea { background: transparent; } QScrollArea > QWidget > QWidget { background: transparent; }"
        )
        view.installEventFilter(self)

    def sizeHint(self) -> QSize:  # noqa: N802 (Qt naming)
        inner = self.widget().sizeHint()
        return QSize(inner.width(), min(inner.height(), MAX_JOBS_HEIGHT))

    def minimumSizeHint(self) -> QSize:  # noqa: N802
        # one row fully readable (or the empty hint), never less
        return QSize(0, min(self.widget().minimumSizeHint().height(), self.widget().first_row_height()))

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802
        if event.type() == QEvent.Type.LayoutRequest:
            self.updateGeometry()  # rows came or went: the area's height follows
        return super().eventFilter(watched, event)
