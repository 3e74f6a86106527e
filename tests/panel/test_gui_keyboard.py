"""The panel from the keyboard: every widget Tab reaches draws a visible focus indicator, Tab follows the
screen, the result row's menu opens from the Menu key and Shift+F10, Enter plays, Space clicks a focused
button, Ctrl+Q / Ctrl+W close; auto-play while arrowing through results; click-to-seek on the large
waveform."""

from __future__ import annotations

import numpy as np
import pytest
from panel_window import add_results, fully_visible, offline_window, reach, settle, write_loop
from PyQt6.QtCore import QPoint, Qt
from PyQt6.QtGui import QKeySequence
from PyQt6.QtWidgets import QApplication, QMenu, QWidget

from gui.results import ResultEntry


@pytest.fixture
def window(qtbot, tmp_path):
    w = offline_window(qtbot, tmp_path, (1024, 700))
    add_results(w, tmp_path, 3)
    w.activateWindow()
    qtbot.waitUntil(w.isActiveWindow, timeout=5000)
    qtbot.waitUntil(lambda: all(r.wave.thumb is not None for r in w.results.rows.values()), timeout=10_000)
    settle()
    return w


def tab_stops(window) -> list[QWidget]:  # noqa: ANN001
    return [
        w
        for w in window.findChildren(QWidget)
        if w.isVisible() and w.isEnabled() and w.focusPolicy() & Qt.FocusPolicy.TabFocus and w.focusProxy() is None
    ]


def test_every_focusable_widget_draws_a_visible_focus_indicator(qtbot, window):
    window.form.advanced_toggle.setChecked(True)
    window.form.clip.set_clip(str(next(iter(window.results.rows))))  # the clip's options become enabled
    settle()
    neutral = window.form.prompt  # focus sits here while the others are drawn without it
    stops = [w for w in tab_stops(window) if w is not neutral and not neutral.isAncestorOf(w)]
    assert len(stops) > 25
    plain = []
    for widget in stops:
        reach(widget, window)
        neutral.setFocus(Qt.FocusReason.TabFocusReason)
        settle()
        without = widget.grab().toImage()
        widget.setFocus(Qt.FocusReason.TabFocusReason)
        settle()
        assert widget.hasFocus(), widget
        with_focus = widget.grab().toImage()
        if with_focus == without:
            plain.append(f"{type(widget).__name__}({getattr(widget, 'text', lambda: '')()!r})")
    assert plain == []


def test_tab_follows_the_form_down_to_the_actions(qtbot, window):
    f = window.form
    f.prompt.setFocus(Qt.FocusReason.OtherFocusReason)
    seen = []
    for _ in range(9):
        qtbot.keyClick(QApplication.focusWidget(), Qt.Key.Key_Tab)
        seen.append(QApplication.focusWidget())
    assert seen[:8] == [f.bpm, f.bars, f.time_signature, f.seed, f.seed_lock, f.variations, f.grid.mode, f.grid.shift]
    window.cancel_button.setEnabled(True)  # offline, the actions are disabled: Tab skips those
    window.continue_button.setEnabled(True)
    window.continue_button.setFocus(Qt.FocusReason.OtherFocusReason)
    qtbot.keyClick(window.continue_button, Qt.Key.Key_Tab)
    assert QApplication.focusWidget() is window.cancel_button
    window.midi_learn.setFocus(Qt.FocusReason.OtherFocusReason)
    qtbot.keyClick(window.midi_learn, Qt.Key.Key_Tab)
    assert QApplication.focusWidget() in (window.browse.autoplay, window.results)
    # a result row's buttons are no Tab stops: the list is one, its keys do the rest
    row = window.results.rows[window.results.paths()[0]]
    assert not row.play.focusPolicy() & Qt.FocusPolicy.TabFocus and not row.folder.focusPolicy() & Qt.FocusPolicy.TabFocus


@pytest.mark.parametrize("key", ["menu", "shift+f10"])
def test_the_row_menu_opens_from_the_keyboard(qtbot, window, key):
    results = window.results
    results.setFocus(Qt.FocusReason.TabFocusReason)
    results.setCurrentRow(1)
    if key == "menu":
        qtbot.keyClick(results, Qt.Key.Key_Menu)
    else:
        qtbot.keyClick(results, Qt.Key.Key_F10, Qt.KeyboardModifier.ShiftModifier)
    qtbot.waitUntil(lambda: isinstance(QApplication.activePopupWidget(), QMenu), timeout=3000)
    menu = QApplication.activePopupWidget()
    texts = [a.text() for a in menu.actions()]
    assert {"Copy path", "Continue from this loop", "Use as clip", "Show in folder"} <= set(texts)
    row = results.rows[results.paths()[1]]
    assert menu.parent() is row  # the selected row's own menu
    copy = next(a for a in menu.actions() if a.text() == "Copy path")
    qtbot.keyClick(menu, Qt.Key.Key_Escape)
    copy.trigger()
    assert QApplication.clipboard().text() == row.entry.path


def test_enter_plays_and_space_clicks_the_focused_button(qtbot, window):
    results = window.results
    results.setFocus(Qt.FocusReason.TabFocusReason)
    results.setCurrentRow(2)
    qtbot.keyClick(results, Qt.Key.Key_Return)
    assert window.player.state == "playing" and window.player.current_path == results.paths()[2]
    qtbot.keyClick(results, Qt.Key.Key_Space)  # Space stops it again
    assert window.player.state == "idle"
    lock = window.form.seed_lock
    lock.setFocus(Qt.FocusReason.TabFocusReason)
    before = lock.isChecked()
    qtbot.keyClick(lock, Qt.Key.Key_Space)
    qtbot.waitUntil(lambda: lock.isChecked() != before, timeout=2000)  # the button, not the player
    assert window.player.state == "idle"


@pytest.mark.parametrize("key", ["Ctrl+Q", "Ctrl+W"])
def test_ctrl_q_and_ctrl_w_close_the_window(qtbot, window, key):
    combo = QKeySequence(key)[0]
    qtbot.keyClick(window.form.prompt, combo.key(), combo.keyboardModifiers())
    qtbot.waitUntil(lambda: not window.isVisible(), timeout=3000)


def test_auto_play_follows_the_arrow_keys_not_new_results(qtbot, window, tmp_path):
    results = window.results
    results.setFocus(Qt.FocusReason.TabFocusReason)
    results.setCurrentRow(0)
    settle()
    qtbot.keyClick(results, Qt.Key.Key_Down)
    assert window.player.state == "idle"  # auto-play is off by default
    window.browse.autoplay.setChecked(True)
    qtbot.keyClick(results, Qt.Key.Key_Down)
    assert window.player.state == "playing" and window.player.current_path == results.paths()[2]
    qtbot.keyClick(results, Qt.Key.Key_Up)
    assert window.player.current_path == results.paths()[1]
    window.stop_playback()
    new = ResultEntry.from_path(write_loop(tmp_path, "new_120bpm_1bars_s5.wav"))
    window.results_part.add_newest([new], select=True)  # a job finishing selects its loop: no browsing
    assert results.selected_path() == new.path
    assert window.player.state == "idle"


def test_clicking_the_large_waveform_plays_from_there(qtbot, window):
    results = window.results
    results.setCurrentRow(1)
    path = results.paths()[1]
    wave = window.browse.wave
    reach(wave, window)
    assert fully_visible(wave, window) and wave.thumb is results.rows[path].wave.thumb
    qtbot.mouseClick(wave, Qt.MouseButton.LeftButton, pos=QPoint(wave.width() // 2, wave.height() // 2))
    player = window.player
    assert player.state == "playing" and player.current_path == path
    duration = player.duration_seconds()
    assert abs(player.position_seconds() - duration / 2) < 0.05 * duration
    # while it plays, a click moves the playhead (no restart from the top)
    qtbot.mouseClick(wave, Qt.MouseButton.LeftButton, pos=QPoint(wave.width() // 5, wave.height() // 2))
    assert player.current_path == path and player.position_seconds() < 0.35 * duration
    heard = window.player.device.pull(1000)
    assert np.abs(heard).max() > 0
