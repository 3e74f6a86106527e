"""The panel and the grid fit: the grid mode and nudge the form sends, each result's fit as the daemon
reported it, and "Nudge bar line…" making the same loop again with only the bar line moved.

Against the real OSC server and job queue in this process, with a renderer that records the requests
and reports a fit per take (no model: fast).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from osc_client import FakeRenderer
from PyQt6.QtCore import QSettings, Qt
from PyQt6.QtWidgets import QApplication
from pythonosc.osc_message import OscMessage

from bridge import protocol
from bridge.audio.io import write_wav_unique
from bridge.daemon.journal import Journal
from bridge.daemon.net import ServerOptions
from bridge.daemon.server import Server
from bridge.daemon.types import Rendered, Renderer
from bridge.names import output_stem
from gui import theme
from gui.form import FormValues, build_params
from gui.main_window import MainWindow
from gui.osc_client import OscClient, build_request
from gui.output import FakeOutputDevice
from gui.player import PreviewPlayer
from gui.results import UNKNOWN_REQUEST, ResultEntry
from gui.results_view import NUDGE_MENU

TIMEOUT_MS = 30_000


class GridRenderer(Renderer):
    """Writes one short WAV per take under the daemon's own file names and reports each take's fit."""

    name = "grid-test"

    def __init__(self) -> None:
        self.requests: list = []

    def render(self, request, out_dir, *, on_progress, on_chunk, cancel) -> Rendered:
        self.requests.append(request)
        paths = []
        for take in range(1, request.variations + 1):
            stem = output_stem(
                request.prompt,
                request.bpm,
                request.bars,
                request.seed,
                take if request.variations > 1 else None,
            )
            audio = np.full((1, 3200), 0.1 * take, np.float32)
            paths.append(write_wav_unique(Path(out_dir), stem, audio, 32000, "PCM_16"))
        on_progress(1.0)
        reports = []
        for take in range(1, len(paths) + 1):
            report = FakeRenderer.grid_report(take)
            played = 121.7 + take / 10
            report.update(played_bpm=played, message=f"on grid (played {played:.1f} bpm)")
            reports.append(report)
        return Rendered(tuple(paths), {}, tuple(reports))


@pytest.fixture
def daemon(tmp_path):
    renderer = GridRenderer()
    out = tmp_path / "out"
    out.mkdir()
    server = Server(renderer, out, Journal.open(out), ServerOptions(port=0), model_name="grid-test")
    server.serve_in_thread()
    yield server, renderer
    server.close(timeout=5)


@pytest.fixture
def window(qtbot, tmp_path, daemon):
    theme.apply_theme(QApplication.instance())
    settings = QSettings(str(tmp_path / "panel.ini"), QSettings.Format.IniFormat)
    client = OscClient("panel")
    client.set_target(*daemon[0].address)
    w = MainWindow(client, settings, player=PreviewPlayer(FakeOutputDevice()))
    qtbot.addWidget(w)
    w.show()
    qtbot.waitUntil(w.is_connected, timeout=TIMEOUT_MS)
    return w


def generate(qtbot, window: MainWindow, button) -> str:  # noqa: ANN001
    before = set(window.jobs)
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    (rid,) = set(window.jobs) - before
    qtbot.waitUntil(lambda: window.jobs[rid].state == "done", timeout=TIMEOUT_MS)
    return rid


def nudge_action(row, text: str):  # noqa: ANN001, ANN201
    menu = row.build_menu()
    (nudge,) = [a.menu() for a in menu.actions() if a.text() == NUDGE_MENU]
    return nudge, next(a for a in nudge.actions() if a.text().startswith(text))


# ------------------------------------------------------------------------------------------ the form


def test_grid_and_nudge_are_generate_keys_the_daemon_accepts():
    p = build_params(FormValues(prompt="dub", bpm=124.0, bars=4), seed=3)
    assert (p["grid"], p["grid_shift"]) == ("on", 0.0)  # the protocol's defaults
    p = build_params(FormValues(prompt="dub", bpm=124.0, bars=4, grid="strict", grid_shift=-1.5), seed=3)
    assert (p["grid"], p["grid_shift"]) == ("strict", -1.5)
    request = protocol.parse_request("/musicgen/generate", _args(build_request("generate", "g1", p, 50123)))
    assert (request.params["grid"], request.params["grid_shift"]) == ("strict", -1.5)


def _args(dgram: bytes) -> list:
    return list(OscMessage(dgram).params)


def test_the_form_sends_its_grid_mode_and_nudge_with_generate(qtbot, window, daemon):
    form = window.form
    assert form.grid.mode.currentData() == "on" and form.grid.shift.value() == 0.0
    assert "Strict" in form.grid.mode.toolTip() and "Off" in form.grid.mode.toolTip()
    shift = protocol.REQUESTS["generate"].field("grid_shift")
    assert (form.grid.shift.minimum(), form.grid.shift.maximum()) == (shift.low, shift.high)
    form.prompt.setEditText("dub techno")
    form.grid.mode.setCurrentIndex(form.grid.mode.findData("strict"))
    qtbot.mouseClick(form.grid.later, Qt.MouseButton.LeftButton)
    qtbot.mouseClick(form.grid.later, Qt.MouseButton.LeftButton)
    form.grid.shift.setValue(form.grid.shift.value() - 0.5)
    generate(qtbot, window, window.generate_button)
    request = daemon[1].requests[-1]
    assert (request.grid, request.grid_shift) == ("strict", 1.5)
    # with the grid off there is no bar line to move
    form.grid.mode.setCurrentIndex(form.grid.mode.findData("off"))
    assert not form.grid.shift.isEnabled() and not form.grid.later.isEnabled()


# ------------------------------------------------------------------------------------------ results


def test_each_result_shows_its_take_fit_from_the_grid_reply(qtbot, window, daemon):
    window.form.prompt.setEditText("boom bap")
    window.form.variations.setValue(2)
    generate(qtbot, window, window.variations_button)
    rows = [window.results.rows[p] for p in window.results.paths()]
    assert [r.entry.take for r in rows] == [1, 2]
    assert [r.fit.text() for r in rows] == ["on grid (played 121.8 bpm)", "on grid (played 121.9 bpm)"]
    assert all(r.entry.grid_status == "on_grid" and r.fit.property("role") == "ok" for r in rows)
    assert all(r.fit.isVisibleTo(r) for r in rows)
    # the file's metadata, read for the thumbnail afterwards, does not overwrite what the daemon said
    qtbot.waitUntil(lambda: all(r.wave.thumb is not None for r in rows), timeout=TIMEOUT_MS)
    assert rows[0].fit.text() == "on grid (played 121.8 bpm)"


def test_another_clients_loop_shows_its_fit_too(qtbot, window):
    client = window.client
    client.handle_reply(
        "/musicgen/grid",
        ["midi-7", 1, "beatless", 0.0, 1.0, -1.0, 0.12, "beatless: kept the generated timing"],
    )
    client.handle_reply("/musicgen/done", ["midi-7", "/nowhere/pad_120bpm_2bars_s5.wav"])
    row = window.results.rows["/nowhere/pad_120bpm_2bars_s5.wav"]
    assert row.fit.text() == "beatless: kept the generated timing" and row.fit.property("role") == "muted"


def test_the_grid_reply_is_read_by_name_into_a_report(qtbot):
    client = OscClient()
    with qtbot.waitSignal(client.grid) as blocker:
        client.handle_reply(
            "/musicgen/grid", ["r1", 2, "on_grid", 121.7, 1.0142, 0.512, 0.83, "on grid (played 121.7 bpm)"]
        )
    rid, report = blocker.args
    assert rid == "r1" and (report.take, report.status, report.played_bpm) == (2, "on_grid", 121.7)
    assert (report.ratio, report.downbeat, report.confidence) == (1.0142, 0.512, 0.83)
    with qtbot.waitSignal(client.grid) as blocker:
        client.handle_reply("/musicgen/grid", ["r1", 1, "beatless", 0.0, 1.0, -1.0, 0.1, "beatless"])
    assert blocker.args[1].played_bpm is None and blocker.args[1].downbeat is None  # not measured, none found


def test_a_file_read_back_from_disk_gets_its_fit_from_its_comment():
    entry = ResultEntry.from_path("/o/dub_124bpm_4bars_s7.wav")
    entry.update_from_metadata(
        {"comment": "bpm=124 bars=4 time_signature=4/4 seed=7 grid=on_grid played_bpm=121.70"}
    )
    assert (entry.grid_status, entry.grid_text) == ("on_grid", "on grid (played 121.7 bpm)")
    entry = ResultEntry.from_path("/o/pad_90bpm_2bars_s1.wav")
    entry.update_from_metadata({"comment": "bpm=90 bars=2 grid=beatless"})
    assert entry.grid_text == "beatless: kept the generated timing"


# ------------------------------------------------------------------------------------------ nudge


def test_nudge_makes_the_same_loop_again_with_the_bar_line_moved(qtbot, window, daemon):
    form = window.form
    form.prompt.setEditText("deep house")
    form.bpm.setValue(124.0)
    form.bars.setValue(2)
    form.time_signature.setEditText("7/8")
    form.variations.setValue(2)
    form.grid.shift.setValue(0.5)
    generate(qtbot, window, window.variations_button)
    first = daemon[1].requests[-1]
    take2 = window.results.rows[window.results.paths()[1]]
    assert take2.entry.take == 2
    form.prompt.setEditText("something else")  # the form's changes since do not matter
    form.grid.shift.setValue(0.0)

    menu, later = nudge_action(take2, "1 beat later")
    assert menu.isEnabled()
    assert [a.text() for a in menu.actions()][2] == "Half a bar (+3.5 beats)"  # 7/8: 7 beats a bar
    before = set(window.jobs)
    later.trigger()
    (rid,) = set(window.jobs) - before
    qtbot.waitUntil(lambda: window.jobs[rid].state == "done", timeout=TIMEOUT_MS)
    again = daemon[1].requests[-1]
    assert again.seed == first.seed and again.grid_shift == 1.5
    same = ("prompt", "bpm", "bars", "time_signature", "variations", "temperature", "top_k", "cfg", "grid")
    assert all(getattr(again, k) == getattr(first, k) for k in same)
    assert window.jobs[rid].params["grid_shift"] == 1.5
    assert "bar line +1.5 beats" in window.jobs_view.row(rid).detail.text()
    # the nudged take is the selected result: the new take 2
    selected = window.results.rows[window.results.selected_path()]
    assert selected.entry.take == 2 and selected is not take2

    _, half = nudge_action(selected, "Half a bar")
    half.trigger()
    qtbot.waitUntil(lambda: daemon[1].requests[-1].grid_shift == 5.0, timeout=TIMEOUT_MS)


def test_nudge_is_disabled_with_the_reason_when_the_request_is_unknown(qtbot, window):
    entry = ResultEntry.from_path("/somewhere/loop_120bpm_4bars_s9.wav")  # e.g. from the daemon's history
    window.results_part.add(entry, top=True)
    menu, later = nudge_action(window.results.rows[entry.path], "1 beat later")
    assert not menu.isEnabled() and menu.menuAction().toolTip() == UNKNOWN_REQUEST
    before = set(window.jobs)
    assert window.compose.nudge(entry.path, 1.0) == "" and set(window.jobs) == before
    # a beatless take has no bar line to move either
    beatless = ResultEntry.from_path("/somewhere/pad_120bpm_4bars_s9.wav", prompt="pad")
    beatless.request, beatless.grid_status = {"prompt": "pad", "bpm": 120.0, "bars": 4}, "beatless"
    window.results_part.add(beatless, top=True)
    menu, _ = nudge_action(window.results.rows[beatless.path], "1 beat later")
    assert not menu.isEnabled() and "no bar line" in menu.menuAction().toolTip()
