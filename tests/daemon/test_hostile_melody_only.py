"""A request with a melody clip and no prompt (the protocol's default prompt is "", and the CLI says "give
a melody or a clip") is a loop, not `io_error: cannot write audio: Error : bad string.`: libsndfile
refuses an empty INFO string, and the prompt is the file's title."""

from __future__ import annotations

import soundfile as sf
from osc_client import Daemon, OscTestClient, write_tone


def test_a_melody_without_a_prompt_is_a_loop(tmp_path):
    clip = write_tone(tmp_path / "hum.wav", seconds=2.0)
    daemon = Daemon(tmp_path / "out")
    client = OscTestClient(daemon.address)
    try:
        client.hello()
        client.send("generate", "hum", "melody", str(clip), "bpm", 240, "bars", 1, "grid", "off")
        done = client.wait_for("hum", {"done", "error"}, timeout=120)
        assert done.verb == "done", done
        (path,) = done.args[1:]
        assert sf.info(path).frames > 0
    finally:
        client.close()
        if daemon.alive():
            assert daemon.terminate() == 0, daemon.log()[-3000:]
        daemon.kill()
