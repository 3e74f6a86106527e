"""Checking one incoming OSC message against the request table: types, lengths, ranges, paths.

    request = parse_request("/musicgen/generate", ["r1", "prompt", "dub techno", "bpm", 124, "bars", 8])
    request.params["bars"], request.given          # 8, frozenset({"prompt", "bpm", "bars"})

Anything wrong raises a `ProtocolError` whose code is one of `ERRORS`. Turning a checked generate request
into a `GenerationRequest` is `bridge.protocol.mapping` (the field table) and `bridge.protocol.to_request`.
"""

from __future__ import annotations

import json
import math
import os
import re
import struct
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from bridge.protocol.schema import (
    ADDRESS_PREFIX,
    ID_PATTERN,
    ID_RULE,
    MAX_ID,
    REPLY_PORT,
    REQUESTS,
    Field,
    Message,
    ProtocolError,
)
from bridge.protocol.text import cut, short_repr, type_name


@dataclass(frozen=True)
class Request:
    """A request whose types and ranges are checked. `params` holds every field of the verb, defaults
    filled in; `given` names the keys the client actually sent."""

    verb: str
    request_id: str
    params: Mapping[str, Any]
    given: frozenset[str] = frozenset()
    reply_port: int | None = None

    @property
    def address(self) -> str:
        return REQUESTS[self.verb].address

    def fingerprint(self) -> str:
        """What the client asked for, for telling a retransmission from a reused id."""
        sent = {k: self.params[k] for k in sorted(self.given) if k != "reply_port"}
        return json.dumps([self.verb, sent], sort_keys=True, default=str)


def verb_of(address: str) -> str | None:
    """'/musicgen/generate' -> 'generate'; None for any address not in the request table."""
    if not isinstance(address, str) or not address.startswith(ADDRESS_PREFIX + "/"):
        return None
    verb = address[len(ADDRESS_PREFIX) + 1 :]
    return verb if verb in REQUESTS else None


def check_request_id(value: Any) -> str:
    """Request ids are short safe strings (they appear in logs and replies). Max sends `7` as an int."""
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 10**12:
        value = str(value)
    if not isinstance(value, str):
        raise ProtocolError(
            "bad_argument", f"must be a string ({ID_RULE}), got {type_name(value)}", field="request_id"
        )
    if len(value) > MAX_ID:
        raise ProtocolError("too_long", f"must be at most {MAX_ID} characters", field="request_id")
    if not ID_PATTERN.fullmatch(value):
        raise ProtocolError("bad_argument", f"must be {ID_RULE}, got {value[:MAX_ID]!r}", field="request_id")
    return value


def parse_request(address: str, args: Sequence[Any]) -> Request:
    """Check one incoming message against the table. Raises ProtocolError (with request_id and
    reply_port set as far as they could be read)."""
    args = list(args)
    request_id = ""
    reply_port = _sniff_reply_port(args)
    try:
        verb = verb_of(address)
        if args:
            try:
                request_id = check_request_id(args[0])
            except ProtocolError:
                if verb is not None:
                    raise
        if verb is None:
            shown = address if isinstance(address, str) else repr(address)
            raise ProtocolError(
                "unknown_address",
                f"{cut(shown, 200)!r} is not an address of this daemon; "
                f"requests are {', '.join(m.address for m in REQUESTS.values())}",
            )
        message = REQUESTS[verb]
        if not args:
            raise ProtocolError(
                "missing_argument", f"{message.address} needs a request id first", field="request_id"
            )
        params, given = _parse_pairs(message, args[1:])
        port = params.pop("reply_port", None)
        return Request(verb, request_id, MappingProxyType(params), frozenset(given), port)
    except ProtocolError as e:
        e.request_id = e.request_id or request_id
        e.reply_port = reply_port
        raise


def _sniff_reply_port(args: list[Any]) -> int | None:
    """The reply_port of a request that may be otherwise broken, so its error can still be answered."""
    for i in range(1, len(args) - 1, 2):
        if args[i] == "reply_port":
            try:
                return _check_value(REPLY_PORT, args[i + 1])
            except ProtocolError:
                return None
    return None


def _parse_pairs(message: Message, pairs: list[Any]) -> tuple[dict[str, Any], set[str]]:
    if len(pairs) % 2:
        key = pairs[-1]
        what = f"key {key!r} has no value" if isinstance(key, str) else "arguments must be key value pairs"
        raise ProtocolError("missing_argument", cut(what, 200))
    values: dict[str, Any] = {}
    for key, value in zip(pairs[0::2], pairs[1::2], strict=True):
        if not isinstance(key, str):
            raise ProtocolError(
                "bad_argument", f"expected a key (string) after the request id, got {type_name(key)}"
            )
        spec = message.field(key)
        if spec is None:
            known = ", ".join(f.name for f in message.fields)
            raise ProtocolError(
                "bad_argument", f"unknown key {cut(key, 64)!r} for {message.verb} (known: {known})"
            )
        if key in values:
            raise ProtocolError("bad_argument", "given twice", field=key)
        values[key] = _check_value(spec, value)
    for spec in message.fields:
        if spec.name not in values:
            if spec.required:
                raise ProtocolError("missing_argument", f"is required for {message.verb}", field=spec.name)
            values[spec.name] = _normalise(spec, spec.default)
    return values, set(pairs[0::2])


def _normalise(spec: Field, value: Any) -> Any:
    if spec.kind == "bool" and value is not None:
        return bool(value)
    return value


def _check_value(spec: Field, value: Any) -> Any:
    """Type, length and range of one value; OSC ints and floats are interchangeable for numbers."""
    name = spec.name
    if spec.kind in ("string", "path"):
        if isinstance(value, int) and not isinstance(value, bool) and spec.choices is not None:
            value = str(value)  # bit_depth 24 sent as a number
        if not isinstance(value, str):
            raise ProtocolError("bad_argument", f"must be a string, got {type_name(value)}", field=name)
        if spec.max_len is not None and len(value) > spec.max_len:
            raise ProtocolError(
                "too_long", f"must be at most {spec.max_len} characters, got {len(value)}", field=name
            )
        if spec.choices is not None and value not in spec.choices:
            raise ProtocolError(
                "bad_argument", f"must be one of {', '.join(map(str, spec.choices))}", field=name
            )
        if spec.pattern is not None and not re.fullmatch(spec.pattern, value, re.ASCII):
            raise ProtocolError(  # ASCII: int() would read '٤' as 4, and \d matches any script's digits
                "bad_argument", f"must be written like {spec.default} in ASCII, got {short_repr(value)}", field=name
            )
        return check_path(name, value) if spec.kind == "path" else value
    if spec.kind == "bool":
        if isinstance(value, bool):
            return value
        if isinstance(value, (int, float)) and value in (0, 1):
            return bool(value)
        raise ProtocolError("bad_argument", f"must be 0 or 1, got {short_repr(value)}", field=name)
    # numbers
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ProtocolError("bad_argument", f"must be a number, got {type_name(value)}", field=name)
    if isinstance(value, float) and not math.isfinite(value):
        raise ProtocolError("out_of_range", f"must be a finite number, got {value!r}", field=name)
    if spec.kind == "int":
        if isinstance(value, float):
            if not value.is_integer():
                raise ProtocolError("bad_argument", f"must be a whole number, got {value!r}", field=name)
            value = int(value)
    else:
        value = _float32_tidy(float(value))
    if spec.choices is not None:
        if value not in spec.choices:
            raise ProtocolError(
                "out_of_range",
                f"must be one of {', '.join(map(str, spec.choices))}, got {value!r}",
                field=name,
            )
        return value
    low_ok = spec.low is None or (value > spec.low if spec.low_open else value >= spec.low)
    if not low_ok or (spec.high is not None and value > spec.high):
        lo = f"more than {spec.low:g}" if spec.low_open else f"{spec.low:g}"
        raise ProtocolError("out_of_range", f"must be from {lo} to {spec.high:g}, got {value!r}", field=name)
    return value


_HFS_VOLUME = re.compile(r"^[^/:]+:(/.*)$")  # Max on macOS may write "Macintosh HD:/Users/..."
_CONTROL = re.compile(r"[\x01-\x1f\x7f-\x9f]")  # C0, DEL and C1 controls (NUL has its own message)


def check_path(name: str, value: str) -> str:
    """A client-given audio path: absolute, no '..' parts, no NUL. Whether it is a readable regular audio
    file is checked (without opening devices or FIFOs) when the request is built."""
    if os.name != "nt":
        m = _HFS_VOLUME.match(value)
        if m:
            value = m.group(1)
    if not value:
        raise ProtocolError("bad_path", "is empty", field=name)
    if "\x00" in value:
        raise ProtocolError("bad_path", "contains a NUL character", field=name)
    if _CONTROL.search(value):  # a newline or ESC in a path would reach the log and the terminal raw
        raise ProtocolError("bad_path", "contains a control character", field=name)
    if not os.path.isabs(value):
        raise ProtocolError("bad_path", f"must be an absolute path, got {cut(value, 200)!r}", field=name)
    if ".." in re.split(r"[\\/]", value):
        raise ProtocolError("bad_path", "must not contain '..'", field=name)
    return value


def _float32_tidy(x: float) -> float:
    """OSC 'f' arguments are float32: 123.45 arrives as 123.44999694824219. Give back the shortest
    decimal that is the same float32, so tempos and file names read as the client meant them."""
    try:
        as32 = struct.unpack(">f", struct.pack(">f", x))[0]
    except (OverflowError, struct.error):
        return x
    if as32 != x:
        return x  # a double: keep it
    for digits in range(1, 10):
        candidate = float(f"{x:.{digits}g}")
        if struct.unpack(">f", struct.pack(">f", candidate))[0] == x:
            return candidate
    return x
