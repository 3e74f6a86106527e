"""The panel on a laptop screen: at the window's minimum size (980×640) and at 1024×700 every control of the
form, of the actions and of a result row is fully inside the window and reachable (its visible region is
its whole rectangle once scrolled to), with an unreadable clip loaded, with a long job detail and with nine
queued jobs; rows shrink back with the list; the banner does not move anything."""

from __future__ import annotations

import pytest
from panel_window import SIZES, add_results, controls, fully_visible, offline_window, reach, settle
from PyQt6.QtWidgets import QLabel

from gui.jobs_view import MAX_JOBS_HEIGHT
from gui.window.jobs import job_detail

LONG_CONTINUE = "/home/me/Music/MusicGen Bridge/" + "deep-dub-techno-chords-with-tape-delay" * 3 + "_v2.wav"


def job_params(**extra) -> dict:  # noqa: ANN003
    params = dict(prompt="deep dub techno chords, tape delay, " * 4, bpm=124.0, bars=16, time_signature="4/4")
    params.update(seed=2147483000, variations=4, **extra)
    return params


def unreachable(window, widgets) -> list[str]:  # noqa: ANN001
    """The widgets that cannot be brought fully into view, by class and text."""
    missing = []
    for widget in widgets:
        reach(widget, window)
        if not fully_visible(widget, window):
            missing.append(f"{type(widget).__name__}({getattr(widget, 'text', lambda: '')()!r})")
    return missing


def squeezed(widgets) -> list[str]:  # noqa: ANN001
    """Controls laid out narrower than they need to show their text."""
    return [
        f"{type(w).__name__}({getattr(w, 'text', lambda: '')()!r}) {w.width()} < {w.minimumSizeHint().width()}"
        for w in widgets
        if w.width() < w.minimumSizeHint().width()
    ]


def check_everything_reachable(window) -> None:  # noqa: ANN001
    form_controls = controls(window.compose.card)
    assert len(form_controls) > 20  # the form's boxes, menus and buttons, and the actions
    assert unreachable(window, form_controls) == []
    assert squeezed(form_controls) == []
    for row in window.results.rows.values():
        parts = [row.play, row.folder, row.wave, row.title, row.detail, row.seed, row.file]
        assert unreachable(window, parts) == []
        assert row.width() <= window.results.viewport().width()
    header = [window.open_folder_button, window.results_part.copy_path_button, window.browse.autoplay]
    assert unreachable(window, header + [window.browse.wave, window.preview.play, window.preview.device]) == []


@pytest.mark.parametrize("size", SIZES)
def test_every_control_is_reachable_at_laptop_sizes(qtbot, tmp_path, size):
    window = offline_window(qtbot, tmp_path, size)
    add_results(window, tmp_path, 3)
    settle()
    assert (window.width(), window.height()) == size
    check_everything_reachable(window)
    window.form.advanced_toggle.setChecked(True)  # the sampling boxes too
    settle()
    check_everything_reachable(window)
    # the seed reproduces a loop: its text is never elided
    row = window.results.rows[window.results.paths()[0]]
    assert row.seed.text() == f"seed {row.entry.seed} ·"
    assert row.seed.width() >= row.seed.fontMetrics().horizontalAdvance(row.seed.text())


@pytest.mark.parametrize("size", SIZES)
def test_an_unreadable_clip_keeps_clear_in_view_and_says_why_in_words(qtbot, tmp_path, size):
    window = offline_window(qtbot, tmp_path, size)
    bad = tmp_path / ("a very long name of a file that only pretends to be audio " * 3 + ".wav")
    bad.write_text("this is not audio")
    clip = window.form.clip
    clip.set_clip(str(bad))
    qtbot.waitUntil(lambda: bool(clip.unreadable), timeout=10_000)
    settle()
    assert clip.info.text().startswith("Cannot use this clip. It is not audio the daemon can read")
    assert "Libsndfile" not in clip.info.text() and "Error opening" not in clip.info.text()
    assert clip.info.width() <= clip.width()  # elided, the whole sentence in its tooltip
    assert "Format not recognised" in clip.info.toolTip()
    check_everything_reachable(window)
    assert unreachable(window, [clip.clear, clip.browse]) == []


@pytest.mark.parametrize("size", SIZES)
def test_a_long_job_detail_is_elided_and_leaves_everything_in_view(qtbot, tmp_path, size):
    window = offline_window(qtbot, tmp_path, size)
    add_results(window, tmp_path, 2)
    params = job_params(**{"continue": LONG_CONTINUE, "melody": LONG_CONTINUE})
    window.jobs_part.add("r1", "continue", params)
    settle()
    row = window.jobs_view.row("r1")
    assert row.detail.text() == job_detail(params)  # the full text, shown elided
    assert row.detail.width() < row.detail.fontMetrics().horizontalAdvance(row.detail.text())
    assert unreachable(window, [row.title, row.detail, row.status, row.cancel, row.bar]) == []
    check_everything_reachable(window)


@pytest.mark.parametrize("size", SIZES)
def test_nine_queued_jobs_scroll_and_each_stays_readable(qtbot, tmp_path, size):
    window = offline_window(qtbot, tmp_path, size)
    add_results(window, tmp_path, 2)
    for i in range(9):
        window.jobs_part.add(f"r{i}", "generate", job_params())
        window.jobs_view.row(f"r{i}").set_queued(i)
    settle()
    area = window.jobs_scroll
    assert area.height() <= MAX_JOBS_HEIGHT
    assert area.verticalScrollBar().maximum() > 0  # it scrolls
    for i in range(9):
        row = window.jobs_view.row(f"r{i}")
        assert row.height() >= row.minimumSizeHint().height()  # never squashed
        assert row.title.height() >= row.title.fontMetrics().height()
        assert unreachable(window, [row, row.status, row.cancel]) == [], i
    assert window.jobs_view.row("r8").status.text() == "Queued · 8 ahead"
    check_everything_reachable(window)  # the results keep their room too


def test_rows_shrink_back_with_the_list(qtbot, tmp_path):
    window = offline_window(qtbot, tmp_path, (1600, 1000))
    add_results(window, tmp_path, 2)
    settle()
    wide = [row.width() for row in window.results.rows.values()]
    window.resize(980, 640)
    settle()
    viewport = window.results.viewport().width()
    for row, before in zip(window.results.rows.values(), wide, strict=True):
        assert row.width() <= viewport < before
        assert unreachable(window, [row.folder, row.play]) == []


def test_the_banner_floats_without_moving_the_layout(qtbot, tmp_path):
    window = offline_window(qtbot, tmp_path)
    before = {w: w.mapTo(window, w.rect().topLeft()) for w in (window.form.prompt, window.jobs_scroll)}
    window.show_message("The daemon is busy: too many jobs queued. Try again in a moment. " * 3)
    settle()
    assert window.banner.isVisible() and window.banner.width() > 0.9 * window.splitter.width()
    assert {w: w.mapTo(window, w.rect().topLeft()) for w in before} == before
    assert window.banner.height() >= window.banner.label.heightForWidth(window.banner.label.width())


def test_disabled_controls_look_disabled_and_there_is_one_loop_toggle(qtbot, tmp_path):
    window = offline_window(qtbot, tmp_path)
    add_results(window, tmp_path, 1)
    settle()
    form = window.form
    # without a clip its options are disabled: each must draw differently from its enabled self
    labels = tuple(form.clip_options.findChildren(QLabel))  # "Use clip for", "Clip BPM", "to", ... (muted)
    assert len(labels) >= 3
    widgets = (form.clip_bpm, form.mode_buttons["continue"], form.use_region, form.grid.shift, *labels)
    form.grid.set_values("on", 0.0)
    form.clip.set_clip(next(iter(window.results.rows)))
    settle()
    enabled = [w.grab().toImage() for w in widgets]
    form.clip.set_clip("")
    form.grid.set_values("off", 0.0)
    settle()
    assert not any(w.isEnabled() for w in widgets)
    assert [w.grab().toImage() for w in widgets] != enabled
    for before, widget in zip(enabled, widgets, strict=True):
        assert widget.grab().toImage() != before, widget
    row = next(iter(window.results.rows.values()))
    assert not hasattr(row, "loop") and window.preview.loop.isCheckable()  # Loop lives in PREVIEW only
