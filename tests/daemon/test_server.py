"""The OSC daemon over real UDP sockets on 127.0.0.1.

In-process servers with the fake renderer cover routing, hostile input, bursts and fuzzing quickly; the
real daemon (`python -m bridge.cli serve --model debug`) runs as a subprocess for end-to-end generation,
cancel, idempotency, SIGTERM, and a SIGKILL followed by a restart.
"""

from __future__ import annotations

import hashlib
import os
import signal
import time
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from osc_client import Daemon, FakeRenderer, OscTestClient, build

from bridge import protocol
from bridge.audio.tempo import TimeSignature, loop_samples
from bridge.cli import main
from bridge.daemon.journal import Journal
from bridge.daemon.server import Server, ServerError, ServerOptions

FIGURES: dict[str, object] = {}  # burst and fuzz figures, printed with -s


def _write_tone(path: Path, seconds: float = 2.0, sr: int = 44100, freq: float = 330.0) -> Path:
    t = np.arange(int(seconds * sr)) / sr
    sf.write(path, (0.5 * np.sin(2 * np.pi * freq * t)).astype(np.float32), sr)
    return path


def _wait_running(client: OscTestClient, request_id: str, timeout: float = 30.0) -> None:
    """Until the job has made progress; fails at once if it ended instead."""
    reply = client.wait(
        lambda r: (
            r.args[:1] == (request_id,)
            and (r.verb in ("done", "error") or (r.verb == "progress" and r.args[1] > 0))
        ),
        timeout,
    )
    assert reply.verb == "progress", reply


def _final_wavs(out: Path) -> set[Path]:
    return {p for p in out.glob("*.wav") if not p.name.startswith(".")}


# ========================================================================= in-process, fake renderer


@pytest.fixture
def fake_server(tmp_path):
    made = []

    def make(renderer=None, **options):
        journal = Journal.open(tmp_path, synchronous="NORMAL")
        server = Server(
            renderer or FakeRenderer(), tmp_path, journal, ServerOptions(port=0, **options), model_name="fake"
        )
        thread = server.serve_in_thread()
        made.append((server, thread, journal))
        return server

    yield make
    for server, thread, journal in made:
        server.close(timeout=5)
        thread.join(5)
        assert not thread.is_alive()
        journal.close()


@pytest.fixture
def client_of():
    clients = []

    def make(server):
        c = OscTestClient(("127.0.0.1", server.address[1]))
        clients.append(c)
        return c

    yield make
    for c in clients:
        assert all(r.size <= protocol.MAX_DATAGRAM for r in c.replies)
        c.close()


def test_replies_go_to_the_declared_port_not_the_source(fake_server, client_of):
    server = fake_server()
    c = client_of(server)
    welcome = c.hello("max")
    assert welcome.args == ("hello-max", protocol.PROTOCOL_VERSION, "0.1.0", "fake")
    c.send("ping", "p1", reply=False)  # no reply_port: the hello's port, found by the sending socket
    c.wait_for("p1", {"pong"})
    # like `oscsend`: every message from a fresh socket; the newest hello from this IP still applies
    other = OscTestClient(c.server)
    other.send_raw(build("/musicgen/ping", "p2"))
    c.wait_for("p2", {"pong"})
    assert not other.replies
    other.close()
    # a reply_port key wins over the hello
    third = client_of(server)
    c.send_raw(build("/musicgen/ping", "p3", "reply_port", third.reply_port))
    third.wait_for("p3", {"pong"})


def test_a_client_without_hello_is_answered_at_its_source_address(fake_server, client_of):
    server = fake_server()
    c = OscTestClient(("127.0.0.1", server.address[1]), shared_socket=True)
    c.send("ping", "p1", reply=False)
    c.wait_for("p1", {"pong"})
    c.close()


def test_never_replies_to_its_own_port(fake_server, client_of):
    server = fake_server()
    c = client_of(server)
    c.send_raw(build("/musicgen/ping", "loop", "reply_port", server.address[1]))
    c.send_raw(build("/musicgen/nope", "loop2", "reply_port", server.address[1]))
    assert c.ping() < 1.0 and server.stats["datagrams"] == 3


def test_generate_cancel_status_and_history_over_osc(fake_server, client_of):
    renderer = FakeRenderer(steps=500, step_seconds=0.01)
    server = fake_server(renderer)
    c = client_of(server)
    c.hello()
    c.send("generate", "a", "prompt", "x", "bpm", 120, "bars", 1)
    c.send("generate", "b", "prompt", "x", "bpm", 120, "bars", 1)
    assert c.wait_for("a", {"ack"}).args[1] == 0 and c.wait_for("b", {"ack"}).args[1] == 1
    c.wait_for("a", {"progress"})
    c.send("status", "s1")
    pairs = c.wait_for("s1", {"status"}).args[1:]
    status = dict(zip(pairs[0::2], pairs[1::2], strict=True))
    assert status["state"] == "busy" and status["queued"] == 1 and status["running"] == "a"
    c.send("status", "s2", "job", "b")
    job = dict(zip(*[iter(c.wait_for("s2", {"status"}).args[1:])] * 2, strict=True))
    assert job["state"] == "queued" and job["position"] == 1
    c.send("cancel", "c1", "job", "b")
    assert c.wait_for("b", {"error"}).args[1] == "cancelled"
    assert c.wait_for("c1", {"ok"}).args == ("c1", "cancel", 1)
    c.send("cancel", "c2")  # all of mine: the running one
    assert c.wait_for("a", {"error"}, timeout=2).args[1] == "cancelled"
    c.send("cancel", "c3", "job", "zzz")
    assert c.wait_for("c3", {"error"}).args[1] == "not_found"
    c.send("history", "h", "limit", 5)
    rows = c.wait_count(lambda r: r.verb == "history" and r.args[0] == "h", 2)
    assert [(r.args[1], r.args[2], r.args[4], r.args[5]) for r in rows] == [
        (0, 2, "b", "cancelled"),
        (1, 2, "a", "cancelled"),
    ]


def test_streamed_chunks_are_announced_as_wav_paths(fake_server, client_of, tmp_path):
    server = fake_server(FakeRenderer(steps=4, step_seconds=0.01, chunks=3))
    c = client_of(server)
    c.hello()
    c.send("generate", "s1", "prompt", "x", "bpm", 120, "bars", 1)
    done = c.wait_for("s1", {"done"})
    job_id = c.of("s1", "ack")[0].args[2]
    chunks = c.of("s1", "chunk")
    assert [r.args[1] for r in chunks] == [0, 1, 2]
    assert [r.args[3] for r in chunks] == pytest.approx([0.0, 0.1, 0.2])
    for r in chunks:
        assert (
            Path(r.args[2]).parent == tmp_path / ".jobs" / job_id and sf.info(r.args[2]).samplerate == 32000
        )
    replies = c.of("s1")
    assert replies.index(chunks[-1]) < replies.index(done)


def test_watchers_hear_about_every_job(fake_server, client_of):
    server = fake_server(FakeRenderer(steps=2))
    maker, panel = client_of(server), client_of(server)
    maker.hello("maker")
    panel.hello("panel", watch=1)
    maker.send("generate", "w1", "prompt", "x", "bpm", 120, "bars", 1)
    done = maker.wait_for("w1", {"done"})
    assert panel.wait_for("w1", {"done"}).args == done.args


def test_a_retransmitted_request_runs_once(fake_server, client_of):
    renderer = FakeRenderer(steps=5, step_seconds=0.02)
    server = fake_server(renderer)
    c = client_of(server)
    c.hello()
    for _ in range(3):
        c.send("generate", "dup", "prompt", "x", "bpm", 120, "bars", 1, "seed", 4)
    first = c.wait_for("dup", {"done"})
    c.send("generate", "dup", "prompt", "x", "bpm", 120, "bars", 1, "seed", 4)
    c.wait_count(lambda r: r.verb == "done" and r.args[0] == "dup", 2)
    assert c.of("dup", "done")[1].args == first.args
    c.send("generate", "dup", "prompt", "other", "bpm", 120, "bars", 1)
    assert c.wait_for("dup", {"error"}).args[1] == "duplicate_id"
    assert len(c.of("dup", "ack")) == 3 and len(renderer.rendered) == 1


def test_hostile_input_gets_specific_codes(fake_server, client_of, tmp_path):
    server = fake_server()
    c = client_of(server)
    c.hello()
    cases = {
        "t1": (["bpm", "fast", "bars", 1], "bad_argument"),
        "t2": (["bpm", 9999, "bars", 1], "out_of_range"),
        "t3": (["bpm", 120, "bars", 1, "prompt", "x" * 501], "too_long"),
        "t4": (["bpm", 120], "missing_argument"),
        "t5": (["bpm", 120, "bars", 1, "prompt", "x", "melody", "y" * 2000], "too_long"),
        "t6": (["bpm", 120, "bars", 1, "shell", "rm -rf /"], "bad_argument"),
    }
    for rid, (args, _) in cases.items():
        c.send("generate", rid, *args)
    for rid, (_, code) in cases.items():
        assert c.wait_for(rid, {"error", "ack"}).args[1] == code, rid
    c.send("launch", "u1")
    assert c.wait_for("u1", {"error"}).args[1] == "unknown_address"
    c.send_raw(b"\x00\x01garbage")
    c.send_raw(b"/musicgen/ping\x00\x00,s\x00\x00\xff\xfe\x00\x00")  # invalid UTF-8 string
    c.send_raw(b"/" + b"x" * 9000)
    got = c.wait_count(lambda r: r.verb == "error" and r.args[0] == "", 3)
    assert sorted(r.args[1] for r in got) == ["bad_message", "bad_message", "too_long"]
    assert c.ping() < 1.0


def test_garbage_from_a_stranger_is_only_logged(fake_server, client_of, caplog):
    server = fake_server()
    stranger = client_of(server)
    stranger.send_raw(b"not osc at all")
    stranger.send_raw(b"/musicgen/ping\x00\x00")  # truncated: no type tags, but still a message
    time.sleep(0.3)
    assert all(r.verb != "error" for r in stranger.replies)
    assert "bad_message" in caplog.text


@pytest.fixture
def hostile_paths(tmp_path):
    good = _write_tone(tmp_path / "good.wav")
    (tmp_path / "sub").mkdir()
    text = tmp_path / "notes.wav"
    text.write_text("not audio")
    (tmp_path / "link-text.wav").symlink_to(text)
    (tmp_path / "link-zero.wav").symlink_to("/dev/zero")
    if hasattr(os, "mkfifo"):
        os.mkfifo(tmp_path / "fifo.wav")
    else:  # Windows: no FIFOs; a missing file stands in
        pass
    big = tmp_path / "huge.wav"
    with open(big, "wb") as f:  # sparse: 1 GiB + 1 byte, over the size limit, costs no disk
        f.truncate((1 << 30) + 1)
    return {
        "dotdot": f"{tmp_path}/sub/../{good.name}",
        "symlink_to_text": str(tmp_path / "link-text.wav"),
        "symlink_to_dev_zero": str(tmp_path / "link-zero.wav"),
        "dev_zero": "/dev/zero",
        "fifo": str(tmp_path / "fifo.wav"),
        "directory": str(tmp_path / "sub"),
        "oversize": str(big),
        "relative": "good.wav",
        "missing": str(tmp_path / "missing.wav"),
    }


def test_path_attacks_are_refused(fake_server, client_of, hostile_paths):
    server = fake_server()
    c = client_of(server)
    c.hello()
    for key in ("melody", "continue"):
        for name, path in hostile_paths.items():
            c.send("generate", f"{key}-{name}", "prompt", "x", "bpm", 120, "bars", 1, key, path)
            reply = c.wait_for(f"{key}-{name}", {"error", "ack"}, timeout=5)
            assert reply.args[1] == "bad_path", (key, name, reply)
            assert reply.args[2].startswith(f"{key}: ")
    assert c.ping() < 1.0


def test_burst_of_requests_is_answered_in_full(fake_server, client_of):
    n = 500
    server = fake_server(FakeRenderer(steps=10_000, step_seconds=0.01))
    c = client_of(server)
    c.hello()
    t0 = time.monotonic()
    for i in range(n):
        c.send("generate", f"b{i}", "prompt", "burst", "bpm", 120, "bars", 1, "seed", i)
    sent = time.monotonic() - t0
    answers = c.wait_count(lambda r: r.verb in ("ack", "error") and r.args[0].startswith("b"), n, timeout=30)
    elapsed = time.monotonic() - t0
    by_id = {r.args[0]: r for r in answers}
    acks = [r for r in by_id.values() if r.verb == "ack"]
    errors = [r for r in by_id.values() if r.verb == "error"]
    assert len(by_id) == n and len(answers) == n  # every request answered, exactly once
    assert len(acks) == 1 + server.options.max_queued  # the running one + a full queue
    assert {r.args[1] for r in errors} == {"queue_full"}
    latency = max(c.ping(f"after{i}") for i in range(5))
    c.send("cancel", "stop")
    assert c.wait_for("stop", {"ok"}).args[2] == len(acks)
    FIGURES["burst"] = dict(
        requests=n,
        acks=len(acks),
        queue_full=len(errors),
        lost=n - len(by_id),
        send_s=round(sent, 3),
        all_answered_s=round(elapsed, 3),
        ping_after_ms=round(latency * 1000, 2),
    )
    print("\nburst:", FIGURES["burst"])
    assert latency < 1.0


# ---------------------------------------------------------------------------------------- fuzzing

_keys = [f.name for m in protocol.REQUESTS.values() for f in m.fields]
osc_args = st.lists(
    st.one_of(
        st.integers(-(2**31), 2**31 - 1),
        st.floats(width=32),
        st.text(max_size=30),
        st.binary(max_size=20),
        st.booleans(),
        st.none(),
        st.sampled_from(_keys + ["r1", "/dev/zero", "..", ""]),
    ),
    max_size=10,
)
osc_address = st.one_of(
    st.sampled_from([m.address for m in protocol.REQUESTS.values()]),
    st.text(min_size=1, max_size=40).map(lambda s: "/" + s),
)


@pytest.fixture(scope="module")
def fuzz_target(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("fuzz")
    journal = Journal.open(tmp, synchronous="OFF")
    server = Server(
        FakeRenderer(steps=1, step_seconds=0),
        tmp,
        journal,
        ServerOptions(port=0),
        model_name="fake",
        progress_interval=1.0,
    )
    thread = server.serve_in_thread()
    client = OscTestClient(("127.0.0.1", server.address[1]))
    client.hello("fuzzer")
    counts = {"messages": 0, "bytes": 0}
    yield server, thread, client, counts
    FIGURES["fuzz"] = dict(
        counts,
        datagrams_seen=server.stats["datagrams"],
        error_replies=server.stats["errors"],
        internal_errors=sum(1 for r in client.replies if r.verb == "error" and r.args[1] == "internal"),
    )
    print("\nfuzz:", FIGURES["fuzz"])
    client.close()
    server.close(timeout=5)
    journal.close()


def _still_alive(server, thread, client, counts) -> None:
    rid = f"alive{counts['messages'] + counts['bytes']}"
    client.send("ping", rid)
    client.wait_for(rid, {"pong"}, timeout=5)
    assert thread.is_alive()


@settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))
@given(address=osc_address, args=osc_args)
def test_fuzz_random_messages_never_crash_the_daemon(fuzz_target, address, args):
    server, thread, client, counts = fuzz_target
    try:
        dgram = build(address, *args)
    except Exception:  # python-osc cannot build it: not our concern
        return
    client.send_raw(dgram[:9000])
    counts["messages"] += 1
    _still_alive(*fuzz_target)
    assert not any(r.verb == "error" and r.args[1] == "internal" for r in client.replies)


@settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    data=st.one_of(
        st.binary(max_size=600),
        st.binary(min_size=8000, max_size=9000),
        st.binary(max_size=200).map(lambda b: b"/musicgen/generate\x00\x00,ssif" + b),
        st.binary(max_size=200).map(lambda b: b"#bundle\x00" + b),
    )
)
def test_fuzz_random_bytes_never_crash_the_daemon(fuzz_target, data):
    _, _, client, counts = fuzz_target
    client.send_raw(data)
    counts["bytes"] += 1
    _still_alive(*fuzz_target)


def test_fuzz_bundles_are_unpacked(fuzz_target):
    from pythonosc.osc_bundle_builder import IMMEDIATELY, OscBundleBuilder
    from pythonosc.osc_message_builder import OscMessageBuilder

    _, _, client, _ = fuzz_target
    bundle = OscBundleBuilder(IMMEDIATELY)
    for i in range(3):
        m = OscMessageBuilder("/musicgen/ping")
        m.add_arg(f"bp{i}")
        m.add_arg("reply_port")
        m.add_arg(client.reply_port)
        bundle.add_content(m.build())
    client.send_raw(bundle.build().dgram)
    for i in range(3):
        client.wait_for(f"bp{i}", {"pong"})


# ========================================================================= options and the CLI


def test_remote_binding_needs_explicit_permission(capsys):
    with pytest.raises(ServerError, match="--allow-remote"):
        ServerOptions(host="0.0.0.0")
    with pytest.raises(ServerError, match="--allow"):
        ServerOptions(host="0.0.0.0", allow_remote=True)
    opts = ServerOptions(host="0.0.0.0", allow_remote=True, allow=("192.168.1.0/24", "10.0.0.7"))
    assert opts.allowed("127.0.0.1") and opts.allowed("192.168.1.50") and opts.allowed("10.0.0.7")
    assert not opts.allowed("10.0.0.8") and not opts.allowed("::ffff:10.0.0.8") and opts.allowed("::1")
    assert main(["serve", "--host", "0.0.0.0", "--port", "0", "--model", "debug"]) == 2
    assert "--allow-remote" in capsys.readouterr().err


def test_status_extras_join_the_daemon_status(fake_server, client_of):
    server = fake_server()
    server.status_extras.append(lambda: {"midi_connected": True, "clock_bpm": None, "midi_preset": 1})
    server.status_extras.append(lambda: 1 / 0)  # a broken extra costs its fields, not the reply
    c = client_of(server)
    c.send("status", "s")
    args = c.wait_for("s", {"status"}).args
    fields = dict(zip(args[1::2], args[2::2], strict=True))
    assert fields["midi_connected"] == 1 and fields["clock_bpm"] == "" and fields["midi_preset"] == 1


def test_serve_runs_on_ready_and_its_stop(tmp_path, monkeypatch):
    """bridge.server.serve with the model and renderer faked: hook order, announcement, clean exit."""
    import threading

    import bridge.daemon.jobs
    import bridge.engine.engine
    from bridge.daemon import server as server_module

    class FakeEngine:
        name = "fake"

    monkeypatch.setattr(bridge.engine.engine, "load_engine", lambda *a, **k: FakeEngine())
    monkeypatch.setattr(bridge.daemon.jobs, "PipelineRenderer", lambda engine, backend: FakeRenderer())
    seen: dict[str, object] = {}
    ready = threading.Event()

    def on_ready(server):
        seen["server"] = server
        ready.set()
        return lambda: seen.setdefault("stopped", True)

    result: list[int] = []
    thread = threading.Thread(
        target=lambda: result.append(
            server_module.serve(
                ServerOptions(port=0),
                model="debug",
                out_dir=tmp_path / "out",
                warmup=False,
                announce=lambda line: seen.setdefault("line", line),
                on_ready=on_ready,
            )
        )
    )
    thread.start()
    assert ready.wait(10)
    with OscTestClient(seen["server"].address) as c:
        assert c.ping() < 1.0
    seen["server"].stop()
    thread.join(10)
    assert result == [0] and seen["stopped"] is True
    assert seen["line"] == f"listening on 127.0.0.1:{seen['server'].address[1]}"
    assert (tmp_path / "out" / ".musicgen-journal.sqlite3").is_file()


def test_one_daemon_per_output_folder(tmp_path, capsys):
    from bridge.daemon.server import OutDirLock

    lock = OutDirLock(tmp_path)
    try:
        assert main(["serve", "--port", "0", "--model", "debug", "--out", str(tmp_path)]) == 2
        assert "another musicgen-bridge daemon" in capsys.readouterr().err
    finally:
        lock.release()
    OutDirLock(tmp_path).release()  # free again


def test_strangers_are_ignored_when_listening_remotely(tmp_path):
    journal = Journal.open(tmp_path)
    server = Server(
        FakeRenderer(), tmp_path, journal, ServerOptions(host="127.0.0.1", port=0, allow=("10.0.0.7",))
    )
    sent = []
    server._send = lambda dgram, to: sent.append(to)
    server.handle_datagram(build("/musicgen/ping", "x"), ("10.9.9.9", 5000))
    server.handle_datagram(build("/musicgen/ping", "y"), ("10.0.0.7", 5000))
    assert sent == [("10.0.0.7", 5000)]
    server.close(0)
    journal.close()


# ========================================================================= the real daemon (debug model)

BPM, BARS, SR = 240, 2, 32000
LONG_BARS = 8  # 16 s of audio: long enough to be caught running


@pytest.fixture(scope="module")
def daemon(tmp_path_factory):
    out = tmp_path_factory.mktemp("daemon") / "out"
    d = Daemon(out)
    yield d
    if d.alive():
        assert d.terminate() == 0, d.log()[-3000:]
    d.kill()


@pytest.fixture
def client(daemon):
    c = OscTestClient(daemon.address)
    c.hello()
    yield c
    assert all(r.size <= protocol.MAX_DATAGRAM for r in c.replies)
    c.close()


def _check_loop(path: str, out: Path, bars: int = BARS, bpm: float = BPM, sr: int = SR) -> None:
    p = Path(path)
    assert p.parent == out.resolve() and p.is_file(), path
    info = sf.info(p)
    assert info.samplerate == sr and info.frames == loop_samples(bars, bpm, TimeSignature(4, 4), sr)


def test_daemon_status_names_the_model_device_and_engine(daemon, client):
    client.send("status", "st")
    args = client.wait_for("st", {"status"}).args[1:]
    pairs = dict(zip(args[::2], args[1::2], strict=True))
    assert pairs["model"] == "debug" and pairs["device"] == "cpu" and pairs["dtype"] == "float32"
    assert pairs["engine"] == "ours"


def test_end_to_end_generate(daemon, client):
    client.send(
        "generate",
        "e2e",
        "prompt",
        "../../escape/dub techno",
        "bpm",
        BPM,
        "bars",
        BARS,
        "sample_rate",
        SR,
        "seed",
        5,
    )
    done = client.wait_for("e2e", {"done", "error"}, timeout=60)
    assert done.verb == "done", done
    replies = client.of("e2e")
    assert replies[0].verb == "ack" and replies[0].args[1] == 0
    fractions = [r.args[1] for r in replies if r.verb == "progress"]
    assert fractions[0] == 0.0 and fractions[-1] == 1.0 and fractions == sorted(fractions)
    assert replies[-1] is done and replies[-2].verb == "progress"
    (path,) = done.args[1:]
    _check_loop(path, daemon.out)  # the prompt's "../.." never leaves the output folder
    chunks = [r for r in replies if r.verb == "chunk"]
    assert chunks, "pipeline.render takes on_chunk, yet no /musicgen/chunk came (streaming not wired?)"
    assert [r.args[1] for r in chunks] == list(range(len(chunks)))
    for r in chunks:
        assert Path(r.args[2]).parent.parent == daemon.out.resolve() / ".jobs"
        assert sf.info(r.args[2]).samplerate == 32000
    starts = [r.args[3] for r in chunks]
    assert starts[0] == 0.0 and starts == sorted(starts)


def test_melody_continuation_and_variations(daemon, client, tmp_path):
    clip = str(_write_tone(tmp_path / "clip.wav", seconds=3.0))
    client.send(
        "generate",
        "mel",
        "prompt",
        "lead",
        "bpm",
        BPM,
        "bars",
        BARS,
        "sample_rate",
        SR,
        "melody",
        clip,
        "melody_bpm",
        120,
        "region_start",
        0.5,
        "region_end",
        2.5,
    )
    client.send(
        "generate",
        "cont",
        "prompt",
        "more",
        "bpm",
        BPM,
        "bars",
        BARS,
        "sample_rate",
        SR,
        "continue",
        clip,
        "prompt_seconds",
        1.0,
    )
    client.send(
        "generate",
        "vars",
        "prompt",
        "takes",
        "bpm",
        BPM,
        "bars",
        BARS,
        "sample_rate",
        SR,
        "variations",
        3,
        "seed",
        9,
    )
    for rid, takes in (("mel", 1), ("cont", 1), ("vars", 3)):
        done = client.wait_for(rid, {"done", "error"}, timeout=90)
        assert done.verb == "done", done
        assert len(done.args) == 1 + takes and len(set(done.args[1:])) == takes
        for path in done.args[1:]:
            _check_loop(path, daemon.out)


def test_cancel_queued_and_running_on_the_real_model(daemon, client):
    before = _final_wavs(daemon.out)
    client.send("generate", "long", "prompt", "cancel me", "bpm", 120, "bars", LONG_BARS, "sample_rate", SR)
    _wait_running(client, "long")
    client.send("generate", "next", "prompt", "never", "bpm", BPM, "bars", 1)
    assert client.wait_for("next", {"ack"}).args[1] == 1
    t0 = time.monotonic()
    client.send("cancel", "c-next", "job", "next")
    assert client.wait_for("next", {"error"}).args[1] == "cancelled"
    client.send("cancel", "c-long", "job", "long")
    reply = client.wait_for("long", {"error", "done"}, timeout=10)
    took = time.monotonic() - t0
    if reply.verb == "done":
        pytest.skip("the long job finished before cancel arrived (machine too fast)")
    assert reply.args[1] == "cancelled" and took < 2.0
    assert _final_wavs(daemon.out) == before
    assert client.ping() < 1.0


def test_duplicate_request_id_on_the_real_model(daemon, client):
    for _ in range(2):
        client.send(
            "generate", "twice", "prompt", "once only", "bpm", BPM, "bars", 1, "sample_rate", SR, "seed", 3
        )
    first = client.wait_for("twice", {"done"}, timeout=60)
    client.send(
        "generate", "twice", "prompt", "once only", "bpm", BPM, "bars", 1, "sample_rate", SR, "seed", 3
    )
    client.wait_count(lambda r: r.verb == "done" and r.args[0] == "twice", 2, timeout=10)
    assert {r.args for r in client.of("twice", "done")} == {first.args}
    assert len(client.of("twice", "ack")) >= 1
    assert len(list(daemon.out.glob("once-only*.wav"))) == 1


def test_hostile_input_to_the_real_daemon(daemon, client, hostile_paths):
    client.send_raw(os.urandom(64))
    client.send_raw(b"/" + b"A" * 8500)
    client.send("nope", "h1")
    client.send("generate", "h2", "bpm", [1, 2], "bars", 1)
    client.send("generate", "h3", "prompt", "x", "bpm", 120, "bars", 1, "melody", hostile_paths["fifo"])
    client.send("generate", "h4", "prompt", "x", "bpm", 120, "bars", 1, "continue", hostile_paths["dev_zero"])
    assert client.wait_for("h1", {"error"}).args[1] == "unknown_address"
    assert client.wait_for("h2", {"error"}).args[1] == "bad_argument"
    assert client.wait_for("h3", {"error"}).args[1] == "bad_path"
    assert client.wait_for("h4", {"error"}).args[1] == "bad_path"
    assert client.ping() < 1.0 and daemon.alive()


def test_burst_against_the_real_daemon(daemon, client):
    n = 300
    t0 = time.monotonic()
    for i in range(n):
        client.send("generate", f"rb{i}", "prompt", "burst", "bpm", BPM, "bars", 1, "sample_rate", SR)
    answers = client.wait_count(lambda r: r.verb in ("ack", "error") and r.args[0].startswith("rb"), n, 60)
    elapsed = time.monotonic() - t0
    client.send("cancel", "stop-burst")
    client.wait_for("stop-burst", {"ok"}, timeout=10)
    latency = max(client.ping(f"rb-ping{i}") for i in range(5))
    first = {}
    for r in answers:
        first.setdefault(r.args[0], r)
    acks = sum(r.verb == "ack" for r in first.values())
    codes = {r.args[1] for r in first.values() if r.verb == "error"}
    FIGURES["burst_real"] = dict(
        requests=n,
        answered=len(first),
        acks=acks,
        errors=n - acks,
        error_codes=sorted(codes),
        all_answered_s=round(elapsed, 3),
        ping_after_ms=round(latency * 1000, 2),
    )
    print("\nburst (real daemon):", FIGURES["burst_real"])
    assert len(first) == n and codes <= {"queue_full"} and acks >= 33
    assert latency < 1.0 and daemon.alive()


def test_sigterm_mid_job_exits_0_and_leaves_no_partial_file(daemon, client):
    before = _final_wavs(daemon.out)
    client.send("generate", "term", "prompt", "interrupted by sigterm", "bpm", 120, "bars", LONG_BARS)
    _wait_running(client, "term")
    assert daemon.terminate(timeout=30) == 0
    last = client.wait_for("term", {"error", "done"}, timeout=5)
    if last.verb == "error":
        assert last.args[1] == "cancelled" and _final_wavs(daemon.out) == before
    journal = Journal(daemon.out / ".musicgen-journal.sqlite3")
    assert {r.request_id: r.state for r in journal.recent(50)}["term"] in ("cancelled", "done")
    journal.close()


# ========================================================================= SIGKILL and restart


def _sha(path: str) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def test_sigkill_mid_generation_then_restart(tmp_path):
    out = tmp_path / "out"
    first = Daemon(out)
    try:
        with OscTestClient(first.address) as c:
            c.hello()
            c.send("generate", "keep", "prompt", "keeper", "bpm", BPM, "bars", 1, "sample_rate", SR)
            kept = c.wait_for("keep", {"done"}, timeout=60).args[1]
            digest = _sha(kept)
            c.send("generate", "victim", "prompt", "victim", "bpm", 120, "bars", LONG_BARS, "sample_rate", SR)
            _wait_running(c, "victim")
            port = c.reply_port
            first.proc.send_signal(signal.SIGKILL)
            first.proc.wait(10)
    finally:
        first.kill()
    assert not list(out.glob("victim*.wav"))  # nothing under a final name
    assert _final_wavs(out) == {Path(kept)}

    second = Daemon(out)
    try:
        with OscTestClient(second.address, reply_port=port) as c:  # the same client as before
            c.hello()
            c.send("history", "h")
            rows = c.wait_count(lambda r: r.verb == "history", 2)
            by_request = {r.args[4]: r.args for r in rows}
            assert by_request["victim"][5] == "interrupted" and len(by_request["victim"]) == 9  # no paths
            assert by_request["keep"][5] == "done" and by_request["keep"][9:] == (kept,)
            c.send("status", "s", "job", "victim")
            status = c.wait_for("s", {"status"}).args
            assert status[status.index("state") + 1] == "interrupted"
            c.send("generate", "victim", "prompt", "victim", "bpm", 120, "bars", LONG_BARS, "sample_rate", SR)
            assert c.wait_for("victim", {"error", "ack"}).args[1] == "interrupted"
            assert _sha(kept) == digest
        assert second.terminate() == 0
    finally:
        second.kill()
