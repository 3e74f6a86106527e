"""The real daemon on a stereo model (`serve --model debug-stereo` as a subprocess): a generate request
gets a 2-channel loop of the exact length whose channels differ and stereo preview chunks; `channels 1`
on the same daemon gets the mono downmix."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import soundfile as sf
from osc_client import Daemon, OscTestClient

from bridge.audio.tempo import TimeSignature, loop_samples

BPM, BARS, SR = 240, 1, 32000


def test_a_stereo_daemon_writes_stereo_chunks_and_files(tmp_path):
    daemon = Daemon(tmp_path / "out", "--model", "debug-stereo")  # the later --model wins
    client = OscTestClient(daemon.address)
    try:
        client.hello()
        common = ("bpm", BPM, "bars", BARS, "sample_rate", SR, "grid", "off", "seed", 3)
        client.send("generate", "st", "prompt", "wide pads", *common)
        client.send("generate", "mono", "prompt", "wide pads", *common, "channels", 1)
        expected = loop_samples(BARS, BPM, TimeSignature(4, 4), SR)
        for rid, channels in (("st", 2), ("mono", 1)):
            done = client.wait_for(rid, {"done", "error"}, timeout=120)
            assert done.verb == "done", done
            (path,) = done.args[1:]
            y, sr = sf.read(path, always_2d=True)
            assert sr == SR and y.shape == (expected, channels)
            chunks = [r.args[2] for r in client.of(rid) if r.verb == "chunk"]
            assert chunks and all(sf.info(c).channels == channels for c in chunks)
            assert all(Path(c).parent.parent == daemon.out.resolve() / ".jobs" for c in chunks)
            if channels == 2:
                assert np.abs(y[:, 0] - y[:, 1]).max() > 1e-3  # two channels, not one copied
                first, _ = sf.read(chunks[0], always_2d=True)
                assert np.abs(first[:, 0] - first[:, 1]).max() > 1e-4
        client.send("status", "s")
        pairs = client.wait_for("s", {"status"}).args[1:]
        assert dict(zip(pairs[::2], pairs[1::2], strict=True))["model"] == "debug-stereo"
    finally:
        client.close()
        if daemon.alive():
            assert daemon.terminate() == 0, daemon.log()[-3000:]
        daemon.kill()
