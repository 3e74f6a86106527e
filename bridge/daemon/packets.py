"""One datagram as the OSC messages it holds, read strictly: a bundle is all or nothing.

    messages = read_packet(data)                   # [OscMessage, ...], or BadPacket
    messages[0].address, messages[0].params

python-osc's own reader executes what it can: a bundle element whose size runs past the end of the
datagram is parsed from the bytes that are there, an element of unknown type is skipped with a warning,
and a bundle that holds nothing yields no message (so no error either). Here every element's size must be
a positive multiple of 4 inside its bundle, every element a message or a bundle (nested at most
MAX_BUNDLE_DEPTH deep), and a bundle must hold at least one message; anything else refuses the whole
datagram, nothing of it executed. Bundle time tags are not waited for: every message runs on arrival.
"""

from __future__ import annotations

import struct

from pythonosc.osc_message import OscMessage

from bridge.limits import MAX_BUNDLE_DEPTH

BUNDLE_PREFIX = b"#bundle\x00"
_HEADER = len(BUNDLE_PREFIX) + 8  # the prefix and the 64-bit time tag


class BadPacket(ValueError):
    """The datagram is not a well-formed OSC message or bundle (the message says why)."""


def read_packet(data: bytes) -> list[OscMessage]:
    if data.startswith(BUNDLE_PREFIX):
        messages: list[OscMessage] = []
        _read_bundle(data, 1, messages)
        if not messages:
            raise BadPacket("the bundle holds no message")
        return messages
    if data.startswith(b"/"):
        return [_message(data)]
    raise BadPacket("not an OSC message or bundle")


def _read_bundle(data: bytes, depth: int, out: list[OscMessage]) -> None:
    if depth > MAX_BUNDLE_DEPTH:
        raise BadPacket(f"bundles nested more than {MAX_BUNDLE_DEPTH} deep")
    if len(data) < _HEADER:
        raise BadPacket("truncated bundle header")
    index = _HEADER
    while index < len(data):
        if index + 4 > len(data):
            raise BadPacket("truncated bundle element size")
        (size,) = struct.unpack_from(">i", data, index)
        index += 4
        if size <= 0 or size % 4 or index + size > len(data):
            raise BadPacket(f"bundle element of {size} bytes does not fit the bundle")
        element = data[index : index + size]
        index += size
        if element.startswith(BUNDLE_PREFIX):
            _read_bundle(element, depth + 1, out)
        elif element.startswith(b"/"):
            out.append(_message(element))
        else:
            raise BadPacket("a bundle element is neither a message nor a bundle")


def _message(data: bytes) -> OscMessage:
    try:
        message = OscMessage(data)
        _ = message.address, list(message.params)
    except Exception as e:  # python-osc raises ParseError, but also UnicodeDecodeError & co.
        raise BadPacket(f"unreadable OSC message ({type(e).__name__})") from None
    return message
