"""The OSC server over real UDP sockets on 127.0.0.1, in-process with the fake renderer: routing, replies
and addressing, hostile input, bursts and fuzzing. Bind and allow-list options are in test_net.py, the
daemon as `serve` starts it (the debug model in a subprocess) in test_app.py.
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest
import soundfile as sf
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from osc_client import REPO, FakeRenderer, OscTestClient, build
from pythonosc.osc_bundle_builder import IMMEDIATELY, OscBundleBuilder
from pythonosc.osc_message_builder import OscMessageBuilder

from bridge import protocol
from bridge.daemon.journal import Journal
from bridge.daemon.net import ServerOptions
from bridge.daemon.server import Server
from bridge.protocol.decode import decode_reply

FIGURES: dict[str, object] = {}  # burst and fuzz figures, printed with -s


# ========================================================================= in-process, fake renderer


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


def test_replies_go_to_the_declared_port_not_the_source(make_server, client_of):
    server = make_server()
    c = client_of(server)
    welcome = c.hello("max")
    assert welcome.args == ("hello-max", protocol.PROTOCOL_VERSION, "0.1.0", "fake")
    c.send("ping", "p1", reply=False)  # no reply_port: the hello's port, found by the sending socket
    c.wait_for("p1", {"pong"})
    # another app on the same IP that never said hello is answered at its own socket, not at c's port
    other = OscTestClient(c.server, shared_socket=True)
    other.send_raw(build("/musicgen/ping", "p2"))
    other.wait_for("p2", {"pong"})
    assert not c.of("p2")
    other.close()
    # a reply_port key wins over the hello
    third = client_of(server)
    c.send_raw(build("/musicgen/ping", "p3", "reply_port", third.reply_port))
    third.wait_for("p3", {"pong"})


def test_a_client_without_hello_is_answered_at_its_source_address(make_server, client_of):
    server = make_server()
    c = OscTestClient(("127.0.0.1", server.address[1]), shared_socket=True)
    c.send("ping", "p1", reply=False)
    c.wait_for("p1", {"pong"})
    c.close()


def test_never_replies_to_its_own_port(make_server, client_of):
    server = make_server()
    c = client_of(server)
    c.send_raw(build("/musicgen/ping", "loop", "reply_port", server.address[1]))
    c.send_raw(build("/musicgen/nope", "loop2", "reply_port", server.address[1]))
    assert c.ping() < 1.0 and server.stats["datagrams"] == 3


def test_generate_cancel_status_and_history_over_osc(make_server, client_of):
    renderer = FakeRenderer(steps=500, step_seconds=0.01)
    server = make_server(renderer)
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


def test_streamed_chunks_are_announced_as_wav_paths(make_server, client_of, tmp_path):
    server = make_server(FakeRenderer(steps=4, step_seconds=0.01, chunks=3))
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


def test_each_take_gets_a_grid_reply_before_done(make_server, client_of):
    server = make_server(FakeRenderer(steps=1))
    c = client_of(server)
    c.hello()
    c.send("generate", "g1", "prompt", "x", "bpm", 120, "bars", 1, "variations", 2, "grid_shift", -1)
    done = c.wait_for("g1", {"done"})
    grids = c.of("g1", "grid")
    assert [r.args[1] for r in grids] == [1, 2]
    decoded = decode_reply(grids[0].address, list(grids[0].args))
    assert decoded["status"] == "on_grid" and decoded["played_bpm"] == pytest.approx(121.7, abs=1e-3)
    assert decoded["downbeat"] == pytest.approx(0.512) and decoded["message"] == "on grid (played 121.7 bpm)"
    replies = c.of("g1")
    assert replies.index(grids[-1]) < replies.index(done)
    assert server.jobs.renderer.rendered[0].grid_shift == -1.0


def test_watchers_hear_about_every_job(make_server, client_of):
    server = make_server(FakeRenderer(steps=2))
    maker, panel = client_of(server), client_of(server)
    maker.hello("maker")
    panel.hello("panel", watch=1)
    maker.send("generate", "w1", "prompt", "x", "bpm", 120, "bars", 1)
    done = maker.wait_for("w1", {"done"})
    assert panel.wait_for("w1", {"done"}).args == done.args


def test_a_retransmitted_request_runs_once(make_server, client_of):
    renderer = FakeRenderer(steps=5, step_seconds=0.02)
    server = make_server(renderer)
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


def test_hostile_input_gets_specific_codes(make_server, client_of, tmp_path):
    server = make_server()
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


def test_garbage_from_a_stranger_is_only_logged(make_server, client_of, caplog):
    server = make_server()
    stranger = client_of(server)
    stranger.send_raw(b"not osc at all")
    stranger.send_raw(b"/musicgen/ping\x00\x00")  # truncated: no type tags, but still a message
    time.sleep(0.3)
    assert all(r.verb != "error" for r in stranger.replies)
    assert "bad_message" in caplog.text


def test_path_attacks_are_refused(make_server, client_of, hostile_paths):
    server = make_server()
    c = client_of(server)
    c.hello()
    for key in ("melody", "continue"):
        for name, path in hostile_paths.items():
            c.send("generate", f"{key}-{name}", "prompt", "x", "bpm", 120, "bars", 1, key, path)
            reply = c.wait_for(f"{key}-{name}", {"error", "ack"}, timeout=5)
            assert reply.args[1] == "bad_path", (key, name, reply)
            assert reply.args[2].startswith(f"{key}: ")
    assert c.ping() < 1.0


def test_burst_of_requests_is_answered_in_full(make_server, client_of):
    n = 500
    server = make_server(FakeRenderer(steps=10_000, step_seconds=0.01))
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


def test_status_extras_join_the_daemon_status(make_server, client_of):
    server = make_server()
    server.status_extras.append(lambda: {"midi_connected": True, "clock_bpm": None, "midi_preset": 1})
    server.status_extras.append(lambda: 1 / 0)  # a broken extra costs its fields, not the reply
    c = client_of(server)
    c.send("status", "s")
    args = c.wait_for("s", {"status"}).args
    fields = dict(zip(args[1::2], args[2::2], strict=True))
    assert fields["midi_connected"] == 1 and fields["clock_bpm"] == "" and fields["midi_preset"] == 1


def test_the_server_and_the_queue_never_load_the_model():
    """Only the start-up (bridge.daemon.app) and the model adapter (bridge.daemon.renderer) import torch."""
    code = (
        "import sys, bridge.daemon.server, bridge.daemon.jobs, bridge.daemon.net, bridge.daemon.types; "
        "print(sorted({'torch', 'bridge.pipeline', 'bridge.daemon.renderer'} & set(sys.modules)))"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
