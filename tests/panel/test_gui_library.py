"""What producers expect of the results and the form: "again like this", favourites and hiding (files
stay), search by prompt / bpm / bars, the output format sent with a request, following a MIDI clock."""

from __future__ import annotations

import time
from pathlib import Path

import mido
import numpy as np
import pytest
import soundfile as sf
from PyQt6.QtCore import QSettings, Qt
from PyQt6.QtGui import QColor, QImage, QPainter, QRegion
from PyQt6.QtWidgets import QApplication, QDoubleSpinBox
from test_gui_link import open_window, start_server

from bridge.midi.clock import synthetic_clock
from bridge.midi.ports import MemoryBackend
from gui.clock_follow import ClockFollow
from gui.library import Marks, Query, matches, parse_span
from gui.output_format import OutputFormat
from gui.results import ResultEntry
from gui.waveform import paint_thumbnail, read_thumbnail


@pytest.fixture
def server(tmp_path):
    s = start_server(tmp_path)
    yield s
    s.close(timeout=5)


@pytest.fixture
def window(qtbot, tmp_path, server):
    return open_window(qtbot, tmp_path, server.address)


LOOPS = (  # (file stem, prompt): bpm, bars and seed come from the name, as for any file the daemon wrote
    ("dub-techno_124bpm_8bars_s7", "dub techno chords"),
    ("boom-bap_90bpm_4bars_s11", "dusty boom bap drums"),
    ("dub-bass_122bpm_4bars_s13", "deep dub bass"),
    ("acid-line_128bpm_4bars_s17", "acid line"),
)


def add_loops(window, tmp_path: Path) -> list[str]:
    paths = []
    for stem, prompt in LOOPS:
        path = tmp_path / f"{stem}.wav"
        sf.write(path, np.zeros(3200, np.float32), 32000)
        window.results_part.add(ResultEntry.from_path(str(path), prompt=prompt), top=False)
        paths.append(str(path))
    QApplication.processEvents()
    return paths


def test_again_like_this_loads_a_loops_prompt_bpm_bars_and_seed_into_the_form(qtbot, tmp_path, window):
    paths = add_loops(window, tmp_path)
    window.form.bpm.setValue(100.0)
    window.results.select_path(paths[0])
    qtbot.mouseClick(window.library.again_button, Qt.MouseButton.LeftButton)
    v = window.form.values()
    assert (v.prompt, v.bpm, v.bars, v.seed, v.seed_locked) == ("dub techno chords", 124.0, 8, 7, True)
    rid = window.submit("generate")
    sent = window.jobs[rid].params
    assert (sent["prompt"], sent["bpm"], sent["bars"], sent["seed"]) == ("dub techno chords", 124.0, 8, 7)


def test_favourites_and_hidden_loops_are_kept_and_no_file_is_deleted(qtbot, tmp_path, window):
    paths = add_loops(window, tmp_path)
    lib = window.library
    window.results.select_path(paths[1])
    qtbot.mouseClick(lib.favourite_button, Qt.MouseButton.LeftButton)
    assert lib.favourite_button.text() == "★"
    star = window.results.rows[paths[1]].findChild(type(lib.count_label), "star")
    assert star is not None and star.isVisible()
    lib.filter_button.setChecked(True)
    qtbot.mouseClick(lib.favourites_only, Qt.MouseButton.LeftButton)
    assert lib.visible_paths() == [paths[1]]
    qtbot.mouseClick(lib.favourites_only, Qt.MouseButton.LeftButton)

    window.results.select_path(paths[2])
    qtbot.mouseClick(lib.hide_button, Qt.MouseButton.LeftButton)
    assert paths[2] not in lib.visible_paths() and Path(paths[2]).is_file()  # off the list, not off the disk
    assert "hidden" in window.message() and window.banner.action("Undo") is not None
    assert lib.count_label.text() == "3 of 4 shown"
    qtbot.mouseClick(lib.show_hidden, Qt.MouseButton.LeftButton)
    assert paths[2] in lib.visible_paths()

    marks = Marks.load(window.settings)  # kept in the settings: the next session knows them
    assert marks.favourites == {paths[1]} and marks.hidden == {paths[2]}
    window.results.select_path(paths[2])
    assert lib.hide_button.text() == "Unhide"
    qtbot.mouseClick(lib.hide_button, Qt.MouseButton.LeftButton)
    assert Marks.load(window.settings).hidden == set()


def test_the_history_can_be_searched_by_prompt_bpm_and_bars(qtbot, tmp_path, window):
    paths = add_loops(window, tmp_path)
    lib = window.library
    assert not lib.bar.isVisible()  # out of the way until asked for
    qtbot.keyClick(window.results, Qt.Key.Key_F, Qt.KeyboardModifier.ControlModifier)
    assert lib.bar.isVisible() and lib.search.hasFocus()
    qtbot.keyClicks(lib.search, "dub")
    assert lib.visible_paths() == [paths[0], paths[2]]
    qtbot.mouseClick(lib.filter_button, Qt.MouseButton.LeftButton)  # hidden, the filter still holds
    assert not lib.bar.isVisible() and lib.filter_button.text() == "Filter · 2/4"
    assert lib.visible_paths() == [paths[0], paths[2]]
    qtbot.mouseClick(lib.filter_button, Qt.MouseButton.LeftButton)
    qtbot.keyClicks(lib.bars, "4")
    assert lib.visible_paths() == [paths[2]]
    lib.search.clear()
    lib.bpm.setText("120-126")
    assert lib.visible_paths() == [paths[2]]  # 124 bpm has 8 bars
    lib.bars.clear()
    assert lib.visible_paths() == [paths[0], paths[2]]
    lib.bpm.setText("90")
    assert lib.visible_paths() == [paths[1]]
    lib.bpm.setText("fast")  # not a tempo: marked, and filters nothing
    assert lib.visible_paths() == paths and "border-color" in lib.bpm.styleSheet()
    # a loop arriving later (a new result, an older history page) is filtered too
    lib.bpm.setText("128")
    late = tmp_path / "late_128bpm_2bars_s3.wav"
    window.results_part.add(ResultEntry.from_path(str(late), prompt="late"), top=True)
    later = tmp_path / "later_100bpm_2bars_s4.wav"
    window.results_part.add(ResultEntry.from_path(str(later), prompt="later"), top=True)
    qtbot.waitUntil(lambda: lib.visible_paths() == [str(late), paths[3]], timeout=2_000)


def test_filter_rules():
    entry = ResultEntry.from_path("/o/dub-techno_123.8bpm_4bars_s1.wav", prompt="Dub Techno chords")
    marks = Marks()
    assert matches(entry, Query(text="techno DUB", bpm="124", bars="2-4"), marks)
    assert not matches(entry, Query(bpm="126-130"), marks)
    assert not matches(entry, Query(text="house"), marks)
    assert parse_span("130-120") == (120.0, 130.0) and parse_span(" ") is None
    with pytest.raises(ValueError):
        parse_span("fast")
    marks.hidden.add(entry.path)
    assert not matches(entry, Query(), marks) and matches(entry, Query(show_hidden=True), marks)


def test_the_output_format_is_sent_with_each_request_and_remembered(qtbot, tmp_path, window, server):
    fmt = window.compose.output_format
    assert fmt.params()["sample_rate"] == 44100 and fmt.params()["bit_depth"] == "24"
    fmt.sample_rate.setCurrentIndex(fmt.sample_rate.findData(48000))
    fmt.bit_depth.setCurrentIndex(fmt.bit_depth.findData("16"))
    fmt.normalize.setChecked(False)
    stereo = fmt.channels is not None  # offered where the protocol has `channels`
    if stereo:
        fmt.channels.setCurrentIndex(fmt.channels.findData(2))
    assert "48 kHz · 16-bit · level as generated" in fmt.toggle.text()
    assert not fmt.loudness.isEnabled()
    window.form.prompt.setEditText("formatted")
    rid = window.submit("generate")
    qtbot.waitUntil(lambda: window.jobs[rid].job_id != "", timeout=10_000)
    record = server.journal.get(window.jobs[rid].job_id)
    request = record.request  # the daemon's own request: the file it writes
    assert (request["sample_rate"], request["subtype"], request["loudness_lufs"]) == (48000, "PCM_16", None)
    assert ("channels" in fmt.params()) == stereo
    if stereo:
        assert request["channels"] == 2
    window.save_settings()
    again = OutputFormat()
    again.restore(QSettings(window.settings.fileName(), QSettings.Format.IniFormat))
    assert again.params() == fmt.params()


def test_the_bpm_follows_a_midi_clock_while_one_runs(qtbot):
    backend = MemoryBackend()
    port = backend.add_input("DAW clock")
    box = QDoubleSpinBox()
    box.setRange(20.0, 400.0)
    box.setDecimals(2)
    box.setValue(100.0)
    follow = ClockFollow(box, backend=backend)
    qtbot.addWidget(follow)
    follow.enabled_box.setChecked(True)
    assert follow.following and follow.ports.currentText() == "DAW clock"
    assert follow.poll() is None and box.isEnabled()  # no clock yet: the box is the user's
    now = time.monotonic()
    for t in synthetic_clock([(124.0, 4)], jitter=0.0005, start=now - 4 * 60 / 124.0):
        port.send(mido.Message("clock"), t)
    assert follow.poll() == pytest.approx(124.0, abs=0.1)
    assert box.value() == 124.0 and not box.isEnabled()  # the host's tempo, not 123.99
    assert follow.status.text() == "following 124.0 bpm"
    follow.enabled_box.setChecked(False)
    assert not follow.following and box.isEnabled() and not port.listeners


def test_the_library_controls_fit_the_smallest_window(qtbot, tmp_path, window):
    paths = add_loops(window, tmp_path)
    window.resize(window.minimumSize())
    window.results.select_path(paths[0])
    window.library.filter_button.setChecked(True)
    window.compose.output_format.toggle.setChecked(True)
    qtbot.wait(50)
    lib, fmt = window.library, window.compose.output_format
    widgets = [
        lib.again_button,
        lib.favourite_button,
        lib.hide_button,
        lib.filter_button,
        window.history.load_button,
    ]
    widgets += [lib.search, lib.bpm, lib.bars, lib.favourites_only, lib.show_hidden]
    for widget in widgets:  # all of each is on screen, none squeezed below what its text needs
        assert widget.visibleRegion() == QRegion(widget.rect()), widget
        assert widget.width() >= widget.minimumSizeHint().width(), widget
    bar = window.compose.scroll.verticalScrollBar()
    bar.setValue(bar.maximum())  # the format sits at the end of the form: scrolled down, all of it shows
    qtbot.wait(20)
    for widget in (fmt.sample_rate, fmt.bit_depth, fmt.loudness, fmt.normalize):
        assert widget.visibleRegion() == QRegion(widget.rect()), widget


def test_a_stereo_loop_draws_left_and_right_lanes(qtbot, tmp_path):
    t = np.arange(16000) / 32000
    left_only = np.stack([0.8 * np.sin(2 * np.pi * 220 * t), np.zeros_like(t)], axis=1).astype(np.float32)
    stereo, mono = tmp_path / "wide.wav", tmp_path / "mono.wav"
    sf.write(stereo, left_only, 32000)
    sf.write(mono, left_only[:, 0], 32000)
    thumb = read_thumbnail(str(stereo))
    (l_min, l_max), (r_min, r_max) = thumb.lanes
    assert max(l_max) > 0.7 and max(r_max) == 0.0 == min(r_min)
    assert read_thumbnail(str(mono)).lanes == ()

    def drawn_rows(path: Path) -> np.ndarray:
        """How many wave-coloured pixels each pixel row of a 120x60 drawing has."""
        image = QImage(120, 60, QImage.Format.Format_ARGB32)
        image.fill(QColor(0, 0, 0))
        painter = QPainter(image)
        paint_thumbnail(painter, 0, 0, 120, 60, read_thumbnail(str(path)), QColor(255, 0, 0))
        painter.end()
        bits = image.constBits()
        bits.setsize(image.sizeInBytes())
        pixels = np.frombuffer(bits, np.uint8).reshape(60, 120, 4)
        return (pixels[:, :, 2] > 200).sum(axis=1)  # BGRA: strong red

    rows = drawn_rows(stereo)
    assert rows[:29].sum() > 20 * rows[31:].sum()  # the left lane has the tone, the right one only a line
    rows = drawn_rows(mono)
    assert rows[:30].sum() > 0 and rows[30:].sum() > 0  # one envelope over the whole height


def test_the_row_menu_offers_again_favourite_and_hide(qtbot, tmp_path, window):
    paths = add_loops(window, tmp_path)
    row = window.results.rows[paths[3]]

    def trigger(text: str) -> None:
        menu = row.build_menu()
        (action,) = [a for a in menu.actions() if a.text() == text]
        action.trigger()

    trigger("Add to favourites")
    assert window.library.marks.favourites == {paths[3]}
    trigger("Remove from favourites")
    assert window.library.marks.favourites == set()
    trigger("Hide from the list")
    assert paths[3] not in window.library.visible_paths() and Path(paths[3]).is_file()
    window.library.show_hidden.setChecked(True)
    trigger("Unhide")
    assert window.library.marks.hidden == set()
    trigger("Again like this")
    assert window.results.selected_path() == paths[3]
    assert (window.form.values().prompt, window.form.values().bpm, window.form.values().seed) == (
        "acid line",
        128.0,
        17,
    )
