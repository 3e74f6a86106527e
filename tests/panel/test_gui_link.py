"""The panel's link to the daemon, against the real OSC server and job queue in-process (a fake renderer):
retransmission through a small receive buffer, other clients' jobs live, the history paged beyond 50
jobs, a dead daemon noticed within a second, Retry, and Connect…'s plain words."""

from __future__ import annotations

import socket
import time
from pathlib import Path

import pytest
from osc_client import FakeRenderer, OscTestClient, build
from PyQt6.QtCore import QSettings, Qt
from PyQt6.QtWidgets import QApplication

from bridge.daemon.journal import Journal
from bridge.daemon.net import ServerOptions
from bridge.daemon.renderer import PipelineRenderer
from bridge.daemon.server import Server
from gui import theme
from gui.main_window import MainWindow
from gui.osc_client import NO_REPLY, OscClient
from gui.output import FakeOutputDevice
from gui.player import PreviewPlayer
from gui.window.history import PAGE_SIZE
from gui.window.jobs import FOREIGN_TITLE

SMALL_RCVBUF = 4096  # bytes asked for; Linux doubles it: room for a handful of requests
BURST = 60


def start_server(tmp_path: Path, renderer=None, sock: socket.socket | None = None, **options) -> Server:
    out = tmp_path / "out"
    out.mkdir(exist_ok=True)
    server = Server(
        renderer or FakeRenderer(steps=1, step_seconds=0.0),
        out,
        Journal.open(out, synchronous="OFF"),
        ServerOptions(port=0, **options),
        model_name="fake",
        sock=sock,
    )
    server.serve_in_thread()
    return server


@pytest.fixture
def server(tmp_path):
    s = start_server(tmp_path)
    yield s
    s.close(timeout=5)


def open_window(qtbot, tmp_path: Path, address: tuple[str, int], name: str = "panel") -> MainWindow:
    theme.apply_theme(QApplication.instance())
    settings = QSettings(str(tmp_path / f"{name}.ini"), QSettings.Format.IniFormat)
    client = OscClient(name)
    client.set_target(*address)
    window = MainWindow(client, settings, player=PreviewPlayer(FakeOutputDevice()))
    qtbot.addWidget(window)
    window.show()
    qtbot.waitUntil(window.is_connected, timeout=10_000)
    return window


def small_buffer_socket() -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, SMALL_RCVBUF)
    sock.bind(("127.0.0.1", 0))
    return sock


# ------------------------------------------------------------------------------------------ retransmission


def test_a_burst_through_a_small_receive_buffer_is_answered_in_full(qtbot, tmp_path):
    sock = small_buffer_socket()
    assert sock.getsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF) <= 4 * SMALL_RCVBUF
    server = start_server(tmp_path, sock=sock, max_queued=1000)
    try:
        # without retransmission this buffer loses part of a burst: pings fired at once, counted pongs
        with OscTestClient(server.address) as raw:
            for i in range(BURST):
                raw.send_raw(build("/musicgen/ping", f"raw-{i}", "reply_port", raw.reply_port))
            time.sleep(1.0)
            assert sum(r.verb == "pong" for r in raw.replies) < BURST

        client = OscClient("burst")
        client.set_target(*server.address)
        qtbot.waitUntil(lambda: client.connected, timeout=10_000)
        answered: dict[str, str] = {}
        client.ack.connect(lambda rid, _pos, _job: answered.setdefault(rid, "ack"))
        client.done.connect(lambda rid, _paths: answered.setdefault(rid, "done"))
        client.error.connect(lambda rid, code, _msg: answered.setdefault(rid, code))
        rids = [client.generate({"prompt": f"burst {i}", "bpm": 120.0, "bars": 1}) for i in range(BURST)]
        qtbot.waitUntil(lambda: all(r in answered for r in rids), timeout=30_000)
        assert [r for r in rids if answered[r] not in ("ack", "done")] == []
        assert client.retransmissions > 0  # some were dropped by the kernel and sent again
        assert client.pending_ids() == []
        # ids are idempotent: every request ran exactly once
        qtbot.waitUntil(lambda: server.jobs.status()["queued"] == 0, timeout=30_000)
        assert server.journal.count() == BURST
        client.close()
    finally:
        server.close(timeout=5)


def test_an_unanswered_request_fails_in_plain_words_after_the_timeout(qtbot, monkeypatch):
    monkeypatch.setattr("gui.osc_client.GIVE_UP_S", 1.0)
    silent = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)  # bound, never answers
    silent.bind(("127.0.0.1", 0))
    client = OscClient("lonely")
    client.set_target(*silent.getsockname())
    errors = []
    client.error.connect(lambda *a: errors.append(a))
    rid = client.generate({"prompt": "x", "bpm": 120.0, "bars": 1})
    qtbot.waitUntil(lambda: bool(errors), timeout=5_000)
    ((erid, code, message),) = errors
    assert (erid, code) == (rid, NO_REPLY) and "nothing came back" in message
    silent.settimeout(0.2)
    seen = set()
    try:
        while True:
            seen.add(silent.recv(9000))
    except TimeoutError:
        pass
    assert any(b"/musicgen/generate" in d for d in seen)
    client.close()
    silent.close()


# ------------------------------------------------------------------------------------------ other clients


def test_another_clients_job_appears_live(qtbot, tmp_path):
    server = start_server(tmp_path, renderer=FakeRenderer(steps=20, step_seconds=0.05))
    try:
        window = open_window(qtbot, tmp_path, server.address)
        qtbot.waitUntil(lambda: any(c.watch for c in server.clients()), timeout=10_000)
        with OscTestClient(server.address) as max_device:
            max_device.hello("max")
            max_device.send("generate", "max-1", "prompt", "from max", "bpm", 124.0, "bars", 1)
            qtbot.waitUntil(lambda: window.jobs_view.row("max-1") is not None, timeout=10_000)
            row = window.jobs_view.row("max-1")
            assert row.title.text() == FOREIGN_TITLE and not row.cancel.isVisible()
            assert "max-1" not in window.jobs_part.active_ids()  # not ours to cancel
            done = max_device.wait_for("max-1", ("done",), timeout=20)
            path = done.args[1]
            qtbot.waitUntil(lambda: path in window.results.rows, timeout=10_000)  # no restart needed
    finally:
        server.close(timeout=5)


# ------------------------------------------------------------------------------------------ history


def fill_journal(server: Server, jobs: int) -> list[str]:
    """`jobs` finished jobs, oldest first; returns their paths newest first (the files need not exist)."""
    paths = []
    for i in range(jobs):
        job = f"old-{i:04d}"
        server.journal.add(job, f"req-{i}", "someone", {"prompt": f"old loop {i}"}, created=1_700_000_000 + i)
        path = str(server.out_dir / f"old-loop-{i}_120bpm_1bars_s{i}.wav")
        server.journal.finish(job, "done", paths=[path])
        paths.append(path)
    return paths[::-1]


def test_the_whole_history_is_reachable_page_by_page(qtbot, tmp_path, server, monkeypatch):
    paths = fill_journal(server, 2 * PAGE_SIZE + 23)
    original = server.jobs.history
    monkeypatch.setattr(server.jobs, "history", lambda limit, offset: original(min(limit, 17), offset))
    window = open_window(qtbot, tmp_path, server.address)
    history = window.history
    qtbot.waitUntil(lambda: len(window.results.paths()) == 17, timeout=10_000)  # the first page only
    assert window.results.paths() == paths[:17]
    bar = window.results.verticalScrollBar()
    bar.setValue(bar.maximum())  # scrolling to the end asks for the next page
    qtbot.waitUntil(lambda: len(window.results.paths()) == 34, timeout=10_000)
    while not history.exhausted:
        qtbot.waitUntil(lambda: history.load_button.isEnabled() or history.exhausted, timeout=10_000)
        if not history.exhausted:
            qtbot.mouseClick(history.load_button, Qt.MouseButton.LeftButton)
    assert window.results.paths() == paths  # all 123, newest first, none twice
    assert history.offset == len(paths) and not history.load_button.isEnabled()
    assert history.load_button.text() == "All listed"


# ------------------------------------------------------------------------------------------ liveness


def test_a_daemon_that_dies_is_reported_within_a_second(qtbot, tmp_path):
    server = start_server(tmp_path)
    window = open_window(qtbot, tmp_path, server.address)
    assert window.connection_label.text() == "Connected"
    server.close(timeout=5)  # its port closes: the kernel answers the next ping with "port unreachable"
    t0 = time.monotonic()
    qtbot.waitUntil(lambda: window.connection_label.text() == "Daemon not running", timeout=1_000)
    assert time.monotonic() - t0 < 1.0
    assert not window.generate_button.isEnabled()
    assert "nothing listens" in window.connection_label.toolTip()


def test_a_failed_job_offers_retry_without_protocol_words(qtbot, tmp_path, server):
    window = open_window(qtbot, tmp_path, server.address)
    window.form.prompt.setEditText("retry me")
    rid = window.submit("generate")
    qtbot.waitUntil(lambda: window.jobs[rid].state == "done", timeout=10_000)
    params = window.jobs[rid].params
    window.client.handle_reply(  # what the journal says of a job the daemon lost in a crash
        "/musicgen/error",
        [rid, "interrupted", "the daemon stopped while this job was running; send it again with a new id"],
    )
    message = window.message()
    assert "Try it again" in message and "new id" not in message and "interrupted" not in message
    retry = window.banner.action("Retry")
    assert retry is not None
    before = set(window.jobs)
    qtbot.mouseClick(retry, Qt.MouseButton.LeftButton)
    (new,) = set(window.jobs) - before
    assert new != rid and window.jobs[new].params == params
    qtbot.waitUntil(lambda: window.jobs[new].state == "done", timeout=10_000)
    assert window.message() == ""


def test_connect_says_what_is_wrong_in_plain_words_and_a_good_connect_clears_it(qtbot, tmp_path, server):
    window = open_window(qtbot, tmp_path, server.address)
    host, port = server.address
    assert not window.connection.connect_to(f"{host}:abc")
    message = window.message()
    assert "The port must be a whole number from 1 to 65535" in message and "invalid literal" not in message
    assert not window.connection.connect_to(f"{host}:70000")
    assert "70000" in window.message()
    assert window.client.target == (host, port)  # nothing changed
    assert window.connection.connect_to(f"{host}:{port}")
    assert window.message() == ""
    qtbot.waitUntil(window.is_connected, timeout=10_000)


def test_a_debug_model_daemon_with_a_small_buffer_answers_a_burst_from_the_panel(
    qtbot, tmp_path, debug_engine
):
    """The same with the real renderer on the debug model: every generate acknowledged (none lost to the
    kernel), each run once, then all cancelled with one request."""
    sock = small_buffer_socket()
    server = start_server(tmp_path, renderer=PipelineRenderer(debug_engine), sock=sock, max_queued=1000)
    try:
        client = OscClient("burst")
        client.set_target(*server.address)
        qtbot.waitUntil(lambda: client.connected, timeout=10_000)
        answered: dict[str, str] = {}
        client.ack.connect(lambda rid, _pos, _job: answered.setdefault(rid, "ack"))
        client.error.connect(lambda rid, code, _msg: answered.setdefault(rid, code))
        rids = [client.generate({"prompt": f"burst {i}", "bpm": 120.0, "bars": 1}) for i in range(40)]
        qtbot.waitUntil(lambda: all(r in answered for r in rids), timeout=30_000)
        assert {answered[r] for r in rids} == {"ack"} and client.retransmissions > 0
        assert server.journal.count() == len(rids)  # retransmissions were not run again
        cancelled = []
        client.ok.connect(lambda _rid, verb, count: cancelled.append((verb, count)))
        client.cancel()
        qtbot.waitUntil(lambda: bool(cancelled), timeout=10_000)
        assert cancelled[0][0] == "cancel" and cancelled[0][1] >= 1
        client.close()
    finally:
        server.close(timeout=30)


def test_a_reconnect_asks_its_pending_questions_again_and_fails_only_unanswered_jobs(qtbot, server):
    silent = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)  # the first target never answers
    silent.bind(("127.0.0.1", 0))
    client = OscClient("switching")
    client.set_target(*silent.getsockname())
    errors, pages = [], []
    client.error.connect(lambda *a: errors.append(a))
    client.history_page.connect(lambda rid, entries, count: pages.append(rid))
    asked = client.request_history(10, 0)
    job = client.generate({"prompt": "x", "bpm": 120.0, "bars": 1})
    client.set_target(*server.address)  # Connect… to the real daemon before the first one answered
    qtbot.waitUntil(lambda: asked in pages, timeout=5_000)
    assert [(rid, code) for rid, code, _ in errors] == [(job, NO_REPLY)]  # the job, not the history question
    client.close()
    silent.close()
