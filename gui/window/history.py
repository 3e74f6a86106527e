"""The daemon's history in the RESULTS list, page by page: the newest page when the panel connects, older
ones when the list is scrolled to its end or "Load older" is pressed.

    history limit 50 offset 0   -> 50 jobs (or fewer: the daemon keeps each answer within a byte budget)
    history limit 50 offset 50  -> ...
    history limit 50 offset N   -> count 0: everything is listed

The offset moves by the number of jobs the daemon answered (`count`), never by the limit asked for, so an
answer cut short by the daemon's budget loses nothing. Only one page is asked for at a time.
"""

from __future__ import annotations

from PyQt6.QtCore import QObject, pyqtSignal
from PyQt6.QtWidgets import QPushButton, QWidget

from gui.osc_client import NO_REPLY, HistoryEntry, OscClient
from gui.results import entries_from_history
from gui.window.results import ResultsController

PAGE_SIZE = 50  # jobs asked for per history request (the protocol allows up to 100)
LOAD_TEXT = "Load older"


class HistoryController(QObject):
    """Pages through `history` into the results. `page_loaded(jobs)` after each answer."""

    page_loaded = pyqtSignal(int)

    def __init__(self, window: QWidget, client: OscClient, results: ResultsController):
        super().__init__(window)
        self.client, self.results = client, results
        self.offset = 0  # jobs of the history listed so far (newest first)
        self.exhausted = False  # an answer had count 0: the oldest job is listed
        self._rid = ""  # the page being asked for
        self.load_button = QPushButton(LOAD_TEXT)
        self.load_button.setToolTip("List older loops from the daemon's history")
        self.load_button.clicked.connect(self.load_more)
        self.load_button.setEnabled(False)
        client.history_page.connect(self._on_page)
        client.error.connect(self._on_error)
        bar = results.view.verticalScrollBar()
        bar.valueChanged.connect(self._scrolled)
        bar.rangeChanged.connect(lambda _lo, _hi: self._scrolled(bar.value()))

    @property
    def loading(self) -> bool:
        return bool(self._rid)

    def restart(self) -> None:
        """Connected (again): the newest page first (rows already listed stay; files are not listed twice)."""
        self.offset, self.exhausted, self._rid = 0, False, ""
        self.load_more()

    def load_more(self) -> None:
        """Ask for the next older page, unless one is on its way or the oldest job is listed."""
        if self._rid or self.exhausted or not self.client.connected:
            self._show()
            return
        self._rid = self.client.request_history(PAGE_SIZE, self.offset)
        self._show()

    def _scrolled(self, value: int) -> None:
        bar = self.results.view.verticalScrollBar()
        if bar.maximum() > 0 and value >= bar.maximum() and self.offset > 0:
            self.load_more()

    def _on_page(self, rid: str, entries: list[HistoryEntry], count: int) -> None:
        if rid != self._rid:
            return  # another request's answer (or a late repeat of one already used)
        self._rid = ""
        if count <= 0:
            self.exhausted = True
        self.offset += max(count, 0)
        for entry in entries_from_history(entries):
            self.results.add(entry, top=False)
        self._show()
        self.page_loaded.emit(count)

    def _on_error(self, rid: str, code: str, _message: str) -> None:
        if rid == self._rid:
            self._rid = ""  # the next scroll or press asks again
            self._show(failed=code == NO_REPLY)

    def _show(self, failed: bool = False) -> None:
        b = self.load_button
        if self.exhausted:
            b.setText("All listed")
            b.setToolTip("Every loop of the daemon's history is in the list")
        elif self._rid:
            b.setText("Loading…")
        else:
            b.setText(LOAD_TEXT)
            b.setToolTip(
                "The daemon did not answer: press to ask again"
                if failed
                else "List older loops from the daemon's history"
            )
        b.setEnabled(not self.exhausted and not self._rid and self.client.connected)
