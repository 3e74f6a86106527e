"""The RESULTS list as a library: a filter bar over it, and what can be done to the selected loop.

    [Search prompts…      ] BPM [118-124] Bars [4 ] [★ only] [Show hidden]     12 of 140 shown   (Filter)
    (the results)
    [Again like this] [☆] [Hide] [Filter]                                  [Load older]

The filter bar is shown by Filter (or Ctrl+F) and stays out of the way on a small screen otherwise;
hiding it keeps its filter (the Filter button then says how many loops are shown).

"Again like this" loads the selected loop's prompt, bpm, bars, time signature and seed (locked) into the
form. Favourites carry a ★ in their row; a hidden loop leaves the list (its file stays: the panel never
deletes files), and "Show hidden" brings it back to be un-hidden. Marks live in the panel's settings.
The filter applies to rows as they arrive (new loops, older history pages).
"""

from __future__ import annotations

from PyQt6.QtCore import QObject, QSettings, Qt, QTimer
from PyQt6.QtGui import QKeySequence, QShortcut
from PyQt6.QtWidgets import QHBoxLayout, QLabel, QLineEdit, QPushButton, QToolButton, QWidget

from gui import theme
from gui.form import GenerateForm
from gui.library import Marks, Query, matches, parse_span, recalled
from gui.window.banner import Banner
from gui.window.results import ResultsController

STAR = "★"
STAR_ROLE = "star"  # the row's ★ label's object name


class LibraryController(QObject):
    """Owns the filter bar (`bar`), the selected loop's actions (`actions`) and the marks."""

    def __init__(
        self,
        window: QWidget,
        settings: QSettings,
        results: ResultsController,
        form: GenerateForm,
        banner: Banner,
    ):
        super().__init__(window)
        self.settings, self.results, self.form, self.banner = settings, results, form, banner
        self.view = results.view
        self.marks = Marks.load(settings)
        self.search = QLineEdit()
        self.search.setPlaceholderText("Search prompts…")
        self.search.setClearButtonEnabled(True)
        self.search.setToolTip("Show the loops whose prompt (or file name) has all these words")
        self.bpm = QLineEdit()
        self.bpm.setPlaceholderText("any")
        self.bpm.setToolTip("Only loops at this tempo, e.g. 124, or a range: 118-126")
        self.bpm.setMaximumWidth(84)
        self.bars = QLineEdit()
        self.bars.setPlaceholderText("any")
        self.bars.setToolTip("Only loops of this many bars, e.g. 4, or a range: 2-8")
        self.bars.setMaximumWidth(64)
        self.favourites_only = QToolButton()
        self.favourites_only.setText(f"{STAR} only")
        self.favourites_only.setCheckable(True)
        self.favourites_only.setToolTip("Show only your favourite loops")
        self.show_hidden = QToolButton()
        self.show_hidden.setText("Show hidden")
        self.show_hidden.setCheckable(True)
        self.show_hidden.setToolTip("List the loops you hid too (to un-hide them)")
        self.count_label = theme.set_role(QLabel(), "muted")
        self.again_button = QPushButton("Again like this")
        self.again_button.setToolTip(
            "Load the selected loop's prompt, BPM, bars and seed into the form (the seed is locked, so "
            "Generate makes the same loop; unlock it for a new take)"
        )
        self.favourite_button = QPushButton()
        self.hide_button = QPushButton()
        self.filter_button = QToolButton()
        self.filter_button.setText("Filter")
        self.filter_button.setCheckable(True)
        self.filter_button.setToolTip("Search the loops by prompt, BPM and bars; favourites only (Ctrl+F)")
        self.bar = self._row(
            self.search,
            QLabel("BPM"),
            self.bpm,
            QLabel("Bars"),
            self.bars,
            self.favourites_only,
            self.show_hidden,
        )
        self.bar.layout().addWidget(self.count_label, 1, Qt.AlignmentFlag.AlignRight)
        self.actions = self._row(
            self.again_button, self.favourite_button, self.hide_button, self.filter_button
        )
        self.bar.setVisible(False)
        self.filter_button.toggled.connect(self._show_bar)
        find = QShortcut(QKeySequence(QKeySequence.StandardKey.Find), window)
        find.setContext(Qt.ShortcutContext.WindowShortcut)
        find.activated.connect(self.open_filter)
        for edit in (self.search, self.bpm, self.bars):
            edit.textChanged.connect(self.apply)
        for button in (self.favourites_only, self.show_hidden):
            button.toggled.connect(self.apply)
        self.again_button.clicked.connect(self.again_like_this)
        self.favourite_button.clicked.connect(lambda: self.toggle("favourite"))
        self.hide_button.clicked.connect(lambda: self.toggle("hidden"))
        self.view.selection_changed.connect(lambda _p: self._show_actions())
        self.view.recall_requested.connect(self._recall_path)
        self.view.mark_requested.connect(lambda path, kind: self.toggle(kind, path))
        # rows arrive one by one (new loops, history pages): mark and filter them once the row exists
        self._pending = QTimer(self)
        self._pending.setSingleShot(True)
        self._pending.setInterval(0)
        self._pending.timeout.connect(self.apply)
        self.view.model().rowsInserted.connect(lambda *_a: self._pending.start())
        self._show_actions()

    @staticmethod
    def _row(*widgets: QWidget) -> QWidget:
        row = QWidget()
        layout = QHBoxLayout(row)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(6)
        for widget in widgets:
            if isinstance(widget, QLabel):
                theme.set_role(widget, "muted")
            layout.addWidget(widget)
        return row

    # ------------------------------------------------------------------ filtering

    def query(self) -> Query:
        return Query(
            self.search.text(),
            self.bpm.text(),
            self.bars.text(),
            self.favourites_only.isChecked(),
            self.show_hidden.isChecked(),
        )

    def apply(self) -> None:
        """Show the rows the filter lets through, star the favourites, say how many are shown."""
        query = self.query()
        for edit in (self.bpm, self.bars):
            try:
                parse_span(edit.text())
                edit.setStyleSheet("")
            except ValueError:  # said, not silently ignored: the box is marked and its tooltip tells why
                edit.setStyleSheet(f"border-color: {theme.DANGER};")
        shown = 0
        for i in range(self.view.count()):
            item = self.view.item(i)
            path = item.data(Qt.ItemDataRole.UserRole)
            row = self.view.rows.get(path)
            visible = row is None or matches(row.entry, query, self.marks)
            item.setHidden(not visible)
            shown += visible
            if row is not None:
                row.favourite, row.hidden = path in self.marks.favourites, path in self.marks.hidden
                self._star(row, row.favourite)
        total = self.view.count()
        hidden = sum(1 for p in self.view.rows if p in self.marks.hidden)
        if query.active or (hidden and not query.show_hidden):
            self.count_label.setText(f"{shown} of {total} shown")
        else:
            self.count_label.setText("")
        self.filter_button.setText(f"Filter · {shown}/{total}" if query.active else "Filter")
        self._show_actions()

    def open_filter(self) -> None:
        """Ctrl+F: show the filter bar and put the cursor in its search box."""
        if self.filter_button.isChecked():
            self.search.setFocus()
            self.search.selectAll()
        else:
            self.filter_button.setChecked(True)

    def _show_bar(self, shown: bool) -> None:
        self.bar.setVisible(shown)
        if shown:
            self.search.setFocus()

    def _star(self, row: QWidget, on: bool) -> None:
        star = row.findChild(QLabel, STAR_ROLE)
        if star is None and on:
            star = QLabel(STAR, row)
            star.setObjectName(STAR_ROLE)
            star.setToolTip("A favourite")
            star.setStyleSheet(f"color: {theme.ACCENT}; background: transparent; font-size: 11px;")
            star.move(3, 1)  # in the row's corner margin: nothing of the layout moves
        if star is not None:
            star.setVisible(on)
            star.raise_()

    def visible_paths(self) -> list[str]:
        return [p for i, p in enumerate(self.view.paths()) if not self.view.item(i).isHidden()]

    # ------------------------------------------------------------------ the selected loop

    def _selected(self):  # noqa: ANN202 (a ResultRow or None)
        return self.view.rows.get(self.view.selected_path())

    def _show_actions(self) -> None:
        row = self._selected()
        path = row.entry.path if row is not None else ""
        favourite, hidden = path in self.marks.favourites, path in self.marks.hidden
        self.favourite_button.setText(STAR if favourite else "☆")  # a star keeps the row short on a laptop
        self.favourite_button.setAccessibleName("Favourite")
        self.favourite_button.setToolTip(
            "A favourite: press to remove it from your favourites"
            if favourite
            else "Mark the selected loop as a favourite"
        )
        self.hide_button.setText("Unhide" if hidden else "Hide")
        self.hide_button.setToolTip(
            "List this loop again"
            if hidden
            else "Take the selected loop off the list (the file stays on disk; Show hidden lists it again)"
        )
        for button in (self.again_button, self.favourite_button, self.hide_button):
            button.setEnabled(row is not None)

    def toggle(self, kind: str, path: str = "") -> None:
        """Favourite / un-favourite, hide / un-hide a loop (the selected one without `path`)."""
        row = self.view.rows.get(path) if path else self._selected()
        if row is None:
            return
        marked = self.marks.toggle(kind, row.entry.path)
        self.marks.save(self.settings)
        if kind == "hidden" and marked and not self.show_hidden.isChecked():
            self.banner.show_message(
                f"{row.entry.name} is hidden (the file stays on disk).",
                "info",
                actions=[("Undo", lambda p=row.entry.path: self._unhide(p))],
            )
        self.apply()

    def _unhide(self, path: str) -> None:
        self.marks.hidden.discard(path)
        self.marks.save(self.settings)
        self.apply()

    def _recall_path(self, path: str) -> None:
        self.view.select_path(path)
        self.again_like_this()

    def again_like_this(self) -> None:
        """The selected loop's prompt, bpm, bars, time signature and seed into the form."""
        row = self._selected()
        if row is None:
            return
        self.form.set_values(recalled(self.form.values(), row.entry))
        seed = f", seed {row.entry.seed} (locked)" if row.entry.seed is not None else ""
        self.banner.show_message(f"The form now has {row.entry.name}'s settings{seed}.", "info")
