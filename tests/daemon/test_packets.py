"""Reading a datagram strictly: python-osc's lenient bundle reader executes truncated elements and skips
unknown ones; here a malformed bundle is refused whole, and an empty one is an error."""

from __future__ import annotations

import struct

import pytest
from osc_client import build

from bridge.daemon.packets import BadPacket, read_packet

HEAD = b"#bundle\x00" + b"\x00" * 7 + b"\x01"


def _el(data: bytes) -> bytes:
    return struct.pack(">i", len(data)) + data


def test_messages_and_nested_bundles_are_read_in_order():
    a, b = build("/a", 1), build("/b", "x")
    msgs = read_packet(HEAD + _el(a) + _el(HEAD + _el(b)))
    assert [(m.address, list(m.params)) for m in msgs] == [("/a", [1]), ("/b", ["x"])]
    assert read_packet(a)[0].address == "/a"


@pytest.mark.parametrize(
    "data",
    [
        HEAD,  # no element at all
        HEAD + _el(HEAD),  # only an empty bundle inside
        HEAD + struct.pack(">i", 64) + build("/a", 1),  # element runs past the end
        HEAD + _el(build("/a", 1)) + b"\x00\x00",  # a size cut short
        HEAD + struct.pack(">i", -8) + build("/a", 1),
        HEAD + struct.pack(">i", 6) + b"/a\x00\x00,\x00\x00\x00",  # not a multiple of 4
        HEAD + _el(b"abc\x00") + _el(build("/a", 1)),  # an element of unknown type
        b"#bundle\x00\x00",  # no time tag
        b"not osc",
        b"",
        b"/a\x00\x00,s\x00\x00\xff\xfe\x00\x00",  # invalid UTF-8
    ],
)
def test_malformed_datagrams_are_refused_whole(data):
    with pytest.raises(BadPacket):
        read_packet(data)


def test_nesting_is_bounded():
    inner = build("/deep")
    for _ in range(9):
        inner = HEAD + _el(inner)
    with pytest.raises(BadPacket, match="nested"):
        read_packet(inner)
