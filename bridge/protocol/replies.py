"""Replies as bytes: one builder per reply address of the table, each guaranteed to fit `MAX_DATAGRAM`.

    datagram = ack("r1", 0, "j-0001")              # bytes, guaranteed <= MAX_DATAGRAM
    datagram = done("r1", ["/out/a.wav", "/out/b.wav"])

Strings that could overflow a datagram (error messages, history prompts) are cut until the reply fits.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

from pythonosc.osc_message_builder import OscMessageBuilder

from bridge.protocol.schema import (
    ERRORS,
    HISTORY_ERROR_CHARS,
    HISTORY_PROMPT_CHARS,
    MAX_DATAGRAM,
    MAX_ERROR_MESSAGE,
    MAX_ID,
    PROTOCOL_VERSION,
    REPLIES,
    ProtocolError,
)
from bridge.protocol.text import clean, cut


def encode(address: str, args: Sequence[Any]) -> bytes:
    """One OSC message as bytes: str => s, int => i, float => f. Raises ProtocolError('too_long')."""
    builder = OscMessageBuilder(address=address)
    for a in args:
        if isinstance(a, bool):
            builder.add_arg(int(a), "i")
        elif isinstance(a, int):
            builder.add_arg(a, "i" if -(2**31) <= a < 2**31 else "h")
        elif isinstance(a, float):
            builder.add_arg(a if math.isfinite(a) else 0.0, "f")
        else:
            builder.add_arg(clean(str(a)), "s")
    dgram = builder.build().dgram
    if len(dgram) > MAX_DATAGRAM:
        raise ProtocolError("too_long", f"reply {address} would be {len(dgram)} bytes (> {MAX_DATAGRAM})")
    return dgram


def reply_address(verb: str) -> str:
    return REPLIES[verb].address


def welcome(request_id: str, version: str, model: str) -> bytes:
    return encode(reply_address("welcome"), [request_id, PROTOCOL_VERSION, cut(version, 64), cut(model, 256)])


def pong(request_id: str) -> bytes:
    return encode(reply_address("pong"), [request_id])


def ack(request_id: str, queue_position: int, job_id: str) -> bytes:
    return encode(reply_address("ack"), [request_id, int(queue_position), job_id])


def progress(request_id: str, fraction: float) -> bytes:
    return encode(reply_address("progress"), [request_id, float(min(max(fraction, 0.0), 1.0))])


def chunk(request_id: str, index: int, path: str, start_seconds: float) -> bytes:
    return encode(reply_address("chunk"), [request_id, int(index), str(path), float(start_seconds)])


def done(request_id: str, paths: Sequence[str]) -> bytes:
    """All paths in one datagram; the server keeps the output folder's path short enough that 8 takes fit."""
    return encode(reply_address("done"), [request_id, *map(str, paths)])


def grid(request_id: str, report: Mapping[str, Any]) -> bytes:
    """One take's grid fit (`GridFit.report()` plus its take number), as the grid reply's arguments."""
    played, downbeat = report.get("played_bpm"), report.get("first_downbeat")
    args = [
        request_id,
        int(report["take"]),
        str(report["status"]),
        0.0 if played is None else float(played),
        float(report.get("ratio", 1.0)),
        -1.0 if downbeat is None else float(downbeat),
        float(report.get("confidence", 0.0)),
        cut(clean(str(report.get("message", ""))), MAX_ERROR_MESSAGE),
    ]
    return encode(reply_address("grid"), args)


def error(request_id: str, code: str, message: str) -> bytes:
    """Never fails on size: the message is cut to MAX_ERROR_MESSAGE characters, then further if needed."""
    if code not in ERRORS:
        code = "internal"
    limit = MAX_ERROR_MESSAGE
    while True:
        try:
            return encode(reply_address("error"), [cut(request_id, MAX_ID), code, cut(message, limit)])
        except ProtocolError:
            limit //= 2


def ok(request_id: str, verb: str, count: int) -> bytes:
    return encode(reply_address("ok"), [request_id, verb, int(count)])


def status(request_id: str, pairs: Mapping[str, Any]) -> bytes:
    args: list[Any] = [request_id]
    for key, value in pairs.items():
        args += [
            key,
            "" if value is None else (cut(value, MAX_ERROR_MESSAGE) if isinstance(value, str) else value),
        ]
    return encode(reply_address("status"), args)


def history(
    request_id: str,
    index: int,
    count: int,
    job_id: str = "",
    job_request_id: str = "",
    state: str = "",
    created: str = "",
    prompt: str = "",
    error_text: str = "",
    paths: Sequence[str] = (),
) -> bytes:
    address = reply_address("history")
    if count == 0:
        return encode(address, [request_id, 0, 0])
    head = [request_id, int(index), int(count), job_id, job_request_id, state, created]
    prompt_chars, error_chars = HISTORY_PROMPT_CHARS, HISTORY_ERROR_CHARS
    while True:
        try:
            tail = [cut(prompt, prompt_chars), cut(error_text, error_chars), *map(str, paths)]
            return encode(address, head + tail)
        except ProtocolError:
            if prompt_chars == 0 and error_chars == 0:
                raise
            prompt_chars, error_chars = prompt_chars // 4, error_chars // 4
