"""Render the README's screenshot of the panel: docs/panel.png.

    QT_QPA_PLATFORM=offscreen python scripts/screenshot_panel.py [--out docs/panel.png] [--size 980x640]

Starts a debug daemon (tiny random-weight model, CPU) in a temporary folder, opens the panel, fills the
form the way a user would (prompt, tempo, a melody clip), generates a loop and two variations, starts a
longer loop and grabs the window while that one is generating and its streamed preview is playing.

Machines that render this have no sound card, so playback goes to a silent output driven by a timer
(like an audio callback would pull it); everything else is the real panel talking to the real daemon.
The debug model's loops are noise: the waveforms look like it, and the grid fit finds no beat in them, so
each result row says "beatless: kept the generated timing" where a real model's says "on grid (played
121.7 bpm)".
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import numpy as np  # noqa: E402
import soundfile as sf  # noqa: E402
from PyQt6.QtCore import QSettings, QTimer  # noqa: E402
from PyQt6.QtWidgets import QApplication  # noqa: E402

from gui.app import create_app  # noqa: E402
from gui.daemon import DaemonProcess, serve_command  # noqa: E402
from gui.main_window import DaemonOptions, MainWindow  # noqa: E402
from gui.osc_client import OscClient  # noqa: E402
from gui.output import FakeOutputDevice  # noqa: E402
from gui.player import PreviewPlayer  # noqa: E402

WINDOW_SIZE = (1180, 760)


class SilentOutput(FakeOutputDevice):
    """Pulls audio every 20 ms like a sound card would, and drops it."""

    name = "silent output (no sound card)"

    def __init__(self) -> None:
        super().__init__()
        self.timer = QTimer()
        self.timer.setInterval(20)
        self.timer.timeout.connect(lambda: self.pull(int(self.samplerate * 0.02)) if self.is_open else None)
        self.timer.start()

    def pull(self, frames: int):  # noqa: ANN201 (keep nothing)
        block = self._render(frames) if self._render is not None else None
        return block


def wait(app: QApplication, predicate, timeout: float, what: str) -> None:  # noqa: ANN001
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out waiting for {what}")
        app.processEvents()
        time.sleep(0.01)


def write_clip(path: Path) -> Path:
    """A short arpeggio to steer the melody (what a user would drop from their DAW)."""
    sr, note = 44100, 0.25
    freqs = [220.0, 277.18, 329.63, 440.0, 329.63, 277.18, 246.94, 293.66] * 2
    t = np.arange(int(sr * note)) / sr
    env = np.exp(-t * 6.0)
    audio = np.concatenate([0.4 * env * np.sin(2 * np.pi * f * t) for f in freqs]).astype(np.float32)
    sf.write(path, audio, sr)
    return path


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(REPO / "docs" / "panel.png"), help="PNG to write")
    parser.add_argument(
        "--size", default="x".join(map(str, WINDOW_SIZE)), help="window size WxH (the minimum is 980x640)"
    )
    args = parser.parse_args()
    size = tuple(int(v) for v in args.size.lower().split("x", 1))
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    app = create_app()
    work = Path(tempfile.mkdtemp(prefix="panel-shot-"))
    out_dir = work / "MusicGen Bridge"
    daemon = DaemonProcess()
    daemon.start(serve_command(0, model="debug", out=out_dir, device="cpu"))
    try:
        host, port = daemon.wait_until_listening(180)
        settings = QSettings(str(work / "panel.ini"), QSettings.Format.IniFormat)
        client = OscClient("panel")
        client.set_target(host, port)
        player = PreviewPlayer(SilentOutput())
        window = MainWindow(client, settings, player=player, daemon_options=DaemonOptions(model="debug"))
        window.resize(*size)
        window.show()
        wait(app, lambda: window.is_connected() and window.out_dir, 30, "the daemon to answer")

        form = window.form
        form.prompt.setEditText("warm analog house groove with a deep bassline")
        form.bpm.setValue(124.0)
        form.bars.setValue(2)
        form.clip.set_clip(str(write_clip(work / "riff.wav")))
        wait(app, lambda: form.clip.wave.thumb is not None, 30, "the clip's waveform")

        first = window.submit("generate")
        wait(app, lambda: window.jobs[first].state == "done", 120, "the first loop")
        form.prompt.setEditText("dusty boom bap drums with vinyl crackle")
        form.bpm.setValue(90.0)
        form.variations.setValue(2)
        form.mode_buttons["melody"].setChecked(True)
        form.clip.set_clip("")
        second = window.submit("variations")
        wait(app, lambda: window.jobs[second].state == "done", 120, "the variations")
        wait(
            app, lambda: all(r.wave.thumb is not None for r in window.results.rows.values()), 30, "thumbnails"
        )

        form.prompt.setEditText("deep dub techno chords, tape delay")
        form.bpm.setValue(124.0)
        form.bars.setValue(16)
        form.clip.set_clip(str(work / "riff.wav"))
        form.advanced_toggle.setChecked(True)
        third = window.submit("generate")  # streamed: the preview plays while it is generated
        wait(app, lambda: window.jobs_view.row(third).bar.value() >= 350, 120, "the third loop's progress")
        wait(app, lambda: window.jobs_view.rows.keys() == {third}, 30, "finished rows to clear")
        window.results.select_path(window.results.paths()[0])
        for _ in range(5):
            app.processEvents()
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        if not window.grab().save(args.out):
            raise RuntimeError(f"could not write {args.out}")
        print(args.out)
        client.cancel()
        window.close()
    finally:
        daemon.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
