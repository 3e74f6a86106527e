"""Where the daemon listens and who may talk: loopback by default, remote only with an allow-list."""

from __future__ import annotations

import logging
import socket

import pytest
from osc_client import FakeRenderer, build
from pythonosc.osc_message import OscMessage

from bridge.cli import main
from bridge.daemon.journal import Journal
from bridge.daemon.net import ServerError, ServerOptions, _is_loopback_host, bind_socket, recv_buffer_size
from bridge.daemon.server import Server


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


def test_loopback_hosts_are_recognised():
    assert _is_loopback_host("localhost") and _is_loopback_host("127.0.0.1") and _is_loopback_host("::1")
    assert not _is_loopback_host("0.0.0.0") and not _is_loopback_host("192.168.1.2")


def test_a_port_in_use_is_a_server_error_with_a_hint():
    sock = bind_socket("127.0.0.1", 0)
    try:
        assert sock.type == socket.SOCK_DGRAM
        with pytest.raises(ServerError, match="another musicgen-bridge running"):
            bind_socket("127.0.0.1", sock.getsockname()[1])
    finally:
        sock.close()
    with pytest.raises(ServerError, match="port must be 0..65535"):
        ServerOptions(port=70000)
    with pytest.raises(ServerError, match="is not an IP address or network"):
        ServerOptions(allow=("not-an-address",))


def test_the_receive_buffer_obtained_is_logged_and_reported(tmp_path, caplog):
    caplog.set_level(logging.INFO, logger="bridge.daemon.net")
    huge = 1 << 30  # more than any stock kernel grants
    sock = bind_socket("127.0.0.1", 0, huge)
    got = recv_buffer_size(sock)
    sock.close()
    if got >= huge:
        pytest.skip(f"this kernel granted a {got}-byte receive buffer")
    warning = [r for r in caplog.records if r.levelno == logging.WARNING and "receive buffer" in r.getMessage()]
    assert warning and f"{got} bytes (asked for {huge})" in warning[0].getMessage()
    caplog.clear()
    journal = Journal.open(tmp_path)
    server = Server(FakeRenderer(), tmp_path, journal, ServerOptions(port=0, recv_buffer=4096))
    sent = []
    server.outbox.send = lambda dgram, to, charged=True: sent.append(dgram)
    server.handle_datagram(build("/musicgen/status", "s", "reply_port", 9), ("127.0.0.1", 5000))
    fields = OscMessage(sent[0]).params
    small = dict(zip(fields[1::2], fields[2::2], strict=True))["recv_buffer"]
    assert 0 < small < got and small == server.recv_buffer  # Linux reports 2 x 4096
    assert any("asked for 4096" in r.getMessage() for r in caplog.records)
    server.close(0)
    journal.close()
    with pytest.raises(ServerError, match="receive buffer"):
        ServerOptions(recv_buffer=10)
