"""The OSC protocol as data: every address, its arguments, their types and ranges, and the error codes.

This is the only place where OSC addresses are written. The server, the PyQt panel and the Max device
(through `musicgen-bridge protocol --json`) all read these tables. No torch and no numpy here: the panel
imports this module and must start fast.

Requests are `/musicgen/<verb> <request_id> [key value]...`; replies go to the client's declared reply
port (hello's `reply_port`, or a `reply_port` key on any request), because Max's `[udpsend]` and
`[udpreceive]` are separate sockets. Audio travels only as file paths and every datagram stays under
`MAX_DATAGRAM` bytes.

    request = parse_request("/musicgen/generate", ["r1", "prompt", "dub techno", "bpm", 124, "bars", 8])
    kwargs = generation_kwargs(request)            # GenerationRequest(**kwargs), see to_generation_request
    datagram = ack("r1", 0, "j-0001")              # bytes, guaranteed <= MAX_DATAGRAM
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

from pythonosc.osc_message_builder import OscMessageBuilder

from bridge.limits import (  # re-exported: the panel reads the limits from here
    BIT_DEPTHS,
    CFG_RANGE,
    DEFAULT_BIT_DEPTH,
    DEFAULT_CFG,
    DEFAULT_LOUDNESS_LUFS,
    DEFAULT_PROMPT_SECONDS,
    DEFAULT_SAMPLE_RATE,
    DEFAULT_TEMPERATURE,
    DEFAULT_TOP_K,
    DEFAULT_TOP_P,
    LOUDNESS_RANGE,
    MAX_BARS,
    MAX_BPM,
    MAX_PROMPT_CHARS,
    MAX_PROMPT_SECONDS,
    MAX_SEED,
    MAX_VARIATIONS,
    MIN_BPM,
    SAMPLE_RATES,
    TEMPERATURE_RANGE,
    TOP_K_RANGE,
    TOP_P_RANGE,
)

PROTOCOL_VERSION = 1
ADDRESS_PREFIX = "/musicgen"
DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 9000  # the daemon listens here
DEFAULT_REPLY_PORT = 9001  # where a client's [udpreceive] usually listens (clients declare their own)
MAX_DATAGRAM = 8192  # bytes, requests and replies (python-osc servers read 8192; macOS caps UDP at 9216)
MAX_STRING = 1024  # characters in any string argument
MAX_PATH = 1024  # characters in a file path argument
MAX_ID = 64  # characters in a request id
MAX_NAME = 64  # characters in a client name
MAX_ERROR_MESSAGE = 1000  # characters of an error message in a reply (longer ones are cut)
HISTORY_PROMPT_CHARS = 200  # characters of the prompt in a history reply
HISTORY_ERROR_CHARS = 300  # characters of the error in a history reply
ID_PATTERN = re.compile(r"[A-Za-z0-9._:-]{1,64}")
ID_RULE = "1 to 64 characters from A-Z a-z 0-9 . _ : -"


class ProtocolError(Exception):
    """A request cannot be accepted: `code` is one of ERRORS, `field` names the culprit when there is one.

    `request_id` and `reply_port` are filled in as far as the message could be read, so the server can
    still answer a half-broken request.
    """

    def __init__(self, code: str, message: str, *, field: str | None = None):
        assert code in ERRORS, code
        super().__init__(f"{field}: {message}" if field else message)
        self.code = code
        self.field = field
        self.request_id = ""
        self.reply_port: int | None = None


# ------------------------------------------------------------------------------------------- errors

ERRORS: dict[str, str] = {
    "bad_message": "the datagram is not a well-formed OSC message or bundle",
    "unknown_address": "no such address (see the request table)",
    "bad_argument": "an argument has the wrong type, an unknown key, or an invalid value",
    "missing_argument": "a required argument or a key's value is missing",
    "out_of_range": "a number lies outside its allowed range",
    "too_long": "a string, or the whole datagram, is longer than allowed",
    "bad_path": "an audio path is not a regular, readable audio file under the size limit",
    "queue_full": "too many jobs are waiting; try again when one finishes",
    "duplicate_id": "the request id was already used for a different request",
    "not_found": "no job with that id",
    "cancelled": "the job was cancelled",
    "interrupted": "the job was running or waiting when the daemon stopped",
    "shutting_down": "the daemon is shutting down and accepts no new jobs",
    "io_error": "a file could not be read or written (disk full, permissions, the clip vanished)",
    "model_error": "the model failed on this request",
    "out_of_memory": "the GPU (or CPU) ran out of memory on this request",
    "internal": "an unexpected error inside the daemon (see its log)",
}


# ------------------------------------------------------------------------------------------- tables


@dataclass(frozen=True)
class Field:
    """One `key value` argument of a request. kind: string, int, float, bool or path."""

    name: str
    kind: str
    doc: str
    required: bool = False
    default: Any = None
    low: float | None = None
    high: float | None = None
    low_open: bool = False  # the range excludes `low`
    choices: tuple[Any, ...] | None = None
    max_len: int | None = None

    def describe(self) -> dict[str, Any]:
        d: dict[str, Any] = {"name": self.name, "type": self.kind, "required": self.required}
        if self.default is not None:
            d["default"] = self.default
        if self.low is not None:
            d["min"] = self.low
            if self.low_open:
                d["min_exclusive"] = True
        if self.high is not None:
            d["max"] = self.high
        if self.choices is not None:
            d["choices"] = list(self.choices)
        if self.max_len is not None:
            d["max_length"] = self.max_len
        d["doc"] = self.doc
        return d


@dataclass(frozen=True)
class Message:
    """A request address: `/musicgen/<verb> <request_id> [key value]...`."""

    verb: str
    doc: str
    fields: tuple[Field, ...] = ()
    replies: tuple[str, ...] = ()

    @property
    def address(self) -> str:
        return f"{ADDRESS_PREFIX}/{self.verb}"

    def field(self, name: str) -> Field | None:
        return next((f for f in self.fields if f.name == name), None)


@dataclass(frozen=True)
class Reply:
    """A reply address and its positional arguments as (name, OSC type tag, doc)."""

    verb: str
    doc: str
    args: tuple[tuple[str, str, str], ...] = ()
    variadic: bool = False  # the last argument repeats

    @property
    def address(self) -> str:
        return f"{ADDRESS_PREFIX}/{self.verb}"


def _f(name: str, kind: str, doc: str, range: tuple[float, float] | None = None, **kw: Any) -> Field:
    if range is not None:  # a (low, high) pair from bridge.limits
        kw["low"], kw["high"] = range
    if kind in ("string", "path") and "max_len" not in kw:
        kw["max_len"] = MAX_PATH if kind == "path" else MAX_STRING
    return Field(name, kind, doc, **kw)


REPLY_PORT = _f(
    "reply_port",
    "int",
    "UDP port on the sender's address where replies go (overrides hello's)",
    low=1,
    high=65535,
)

_GENERATE_FIELDS = (
    _f("prompt", "string", "text description of the loop", default="", max_len=MAX_PROMPT_CHARS),
    _f("bpm", "float", "song tempo, quarter notes per minute", required=True, low=MIN_BPM, high=MAX_BPM),
    _f("bars", "int", "loop length in bars", required=True, low=1, high=MAX_BARS),
    _f("time_signature", "string", "e.g. 4/4, 3/4, 6/8, 7/8", default="4/4", max_len=16),
    _f("melody", "path", "absolute path of an audio clip whose melody (chroma) steers the loop"),
    _f(
        "melody_bpm",
        "float",
        "the clip's own tempo, if known: a melody's chroma is retimed and a continue source time-stretched "
        "to the song tempo",
        low=MIN_BPM,
        high=MAX_BPM,
    ),
    _f("region_start", "float", "start of the used part of the clip(s), seconds", low=0.0, high=86400.0),
    _f("region_end", "float", "end of the used part of the clip(s), seconds", low=0.0, high=86400.0),
    _f("continue", "path", "absolute path of an audio clip to continue (its end prompts the model)"),
    _f(
        "prompt_seconds",
        "float",
        "continuation prompt length at the song tempo: the clip's last whole beats that fit",
        default=DEFAULT_PROMPT_SECONDS,
        low=0.0,
        low_open=True,
        high=MAX_PROMPT_SECONDS,
    ),
    _f("keep_prompt", "bool", "with continue: the file starts with the prompt audio", default=0),
    _f(
        "variations",
        "int",
        "takes generated in one pass; done lists one path each",
        default=1,
        low=1,
        high=MAX_VARIATIONS,
    ),
    _f("seed", "int", "random seed; -1 = pick one (recorded in the file)", default=-1, low=-1, high=MAX_SEED),
    _f("temperature", "float", "sampling temperature; 0 = greedy", default=DEFAULT_TEMPERATURE, range=TEMPERATURE_RANGE),
    _f("top_k", "int", "top-k sampling; 0 = off", default=DEFAULT_TOP_K, range=TOP_K_RANGE),
    _f("top_p", "float", "nucleus sampling; 0 = off", default=DEFAULT_TOP_P, range=TOP_P_RANGE),
    _f("cfg", "float", "classifier-free guidance scale", default=DEFAULT_CFG, range=CFG_RANGE),
    _f("sample_rate", "int", "output sample rate in Hz", default=DEFAULT_SAMPLE_RATE, choices=SAMPLE_RATES),
    _f("bpm_in_prompt", "bool", "append '<bpm> bpm' to the text the model sees", default=1),
    _f("loudness", "float", "integrated loudness target, LUFS", default=DEFAULT_LOUDNESS_LUFS, range=LOUDNESS_RANGE),
    _f("normalize", "bool", "0 = skip loudness normalisation", default=1),
    _f("bit_depth", "string", "WAV sample format", default=DEFAULT_BIT_DEPTH, choices=tuple(BIT_DEPTHS), max_len=8),
)

REQUESTS: dict[str, Message] = {
    m.verb: m
    for m in (
        Message(
            "hello",
            "register this client: replies (and, with watch 1, every job's news) go to reply_port",
            (
                _f("name", "string", "client name for logs and history", default="", max_len=MAX_NAME),
                REPLY_PORT,
                _f(
                    "watch",
                    "bool",
                    "also receive progress/chunk/done/error of other clients' jobs",
                    default=0,
                ),
            ),
            ("welcome",),
        ),
        Message("ping", "liveness check", (REPLY_PORT,), ("pong",)),
        Message(
            "generate",
            "queue a loop; replies ack, then progress, chunk(s), and done or error",
            (*_GENERATE_FIELDS, REPLY_PORT),
            ("ack", "progress", "chunk", "done", "error"),
        ),
        Message(
            "cancel",
            "cancel a queued or running job (by its request id or job id); without job: all of this "
            "client's jobs",
            (_f("job", "string", "request id or job id of the job to cancel", max_len=MAX_ID), REPLY_PORT),
            ("ok",),
        ),
        Message(
            "status",
            "daemon status, or one job's status with job",
            (_f("job", "string", "request id or job id", max_len=MAX_ID), REPLY_PORT),
            ("status",),
        ),
        Message(
            "history",
            "recent jobs, newest first, one history reply each",
            (
                _f("limit", "int", "how many jobs", default=20, low=1, high=100),
                _f("offset", "int", "skip this many of the newest", default=0, low=0, high=1_000_000),
                REPLY_PORT,
            ),
            ("history",),
        ),
    )
}

_S, _I, _F = "s", "i", "f"
REPLIES: dict[str, Reply] = {
    r.verb: r
    for r in (
        Reply(
            "welcome",
            "answer to hello",
            (
                ("id", _S, "request id"),
                ("protocol", _I, "protocol version"),
                ("version", _S, "daemon version"),
                ("model", _S, "loaded model"),
            ),
        ),
        Reply("pong", "answer to ping", (("id", _S, "request id"),)),
        Reply(
            "ack",
            "a generate request was accepted (also re-sent for a retransmitted request)",
            (
                ("id", _S, "request id"),
                ("queue_position", _I, "jobs ahead of this one; 0 = runs now"),
                ("job", _S, "the daemon's job id"),
            ),
        ),
        Reply(
            "progress",
            "rate-limited (<= 20/s), monotonic, 0 when the job starts and 1 when its files are written",
            (("id", _S, "request id"), ("fraction", _F, "0..1")),
        ),
        Reply(
            "chunk",
            "a streamed preview chunk of take 1 was written (32 kHz WAV in the job's folder)",
            (
                ("id", _S, "request id"),
                ("index", _I, "0, 1, 2, ..."),
                ("path", _S, "absolute WAV path"),
                ("start_seconds", _F, "where the chunk starts in the generated audio"),
            ),
        ),
        Reply(
            "done",
            "the job finished: one path per variation",
            (("id", _S, "request id"), ("path", _S, "absolute WAV path")),
            variadic=True,
        ),
        Reply(
            "error",
            "a request or job failed; message starts with the field name when one is to blame",
            (
                ("id", _S, "request id ('' if unreadable)"),
                ("code", _S, "one of the error codes"),
                ("message", _S, "human-readable, <= 1000 characters"),
            ),
        ),
        Reply(
            "ok",
            "a command without other data succeeded",
            (("id", _S, "request id"), ("verb", _S, "e.g. cancel"), ("count", _I, "jobs affected")),
        ),
        Reply(
            "status",
            "key value pairs: daemon (state, queued, running, model, device, dtype, engine, version, clients, "
            "uptime) or one job "
            "(job, request, state, progress, position, error)",
            (("id", _S, "request id"), ("key", _S, "then its value (s, i or f)")),
            variadic=True,
        ),
        Reply(
            "history",
            "one reply per job, newest first; count 0 with no job fields means no jobs",
            (
                ("id", _S, "request id"),
                ("index", _I, "0-based"),
                ("count", _I, "replies in this answer"),
                ("job", _S, "job id"),
                ("request", _S, "its request id"),
                ("state", _S, "queued, running, done, failed, cancelled or interrupted"),
                ("created", _S, "local time, ISO 8601"),
                ("prompt", _S, f"first {HISTORY_PROMPT_CHARS} chars"),
                ("error", _S, "'' or the error"),
                ("path", _S, "absolute WAV path"),
            ),
            variadic=True,
        ),
    )
}

JOB_STATES = ("queued", "running", "done", "failed", "cancelled", "interrupted")


# ------------------------------------------------------------------------------------------- parsing


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
            "bad_argument", f"must be a string ({ID_RULE}), got {_type_name(value)}", field="request_id"
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
                f"{_cut(shown, 200)!r} is not an address of this daemon; "
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
        raise ProtocolError("missing_argument", _cut(what, 200))
    values: dict[str, Any] = {}
    for key, value in zip(pairs[0::2], pairs[1::2], strict=True):
        if not isinstance(key, str):
            raise ProtocolError(
                "bad_argument", f"expected a key (string) after the request id, got {_type_name(key)}"
            )
        spec = message.field(key)
        if spec is None:
            known = ", ".join(f.name for f in message.fields)
            raise ProtocolError(
                "bad_argument", f"unknown key {_cut(key, 64)!r} for {message.verb} (known: {known})"
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
            raise ProtocolError("bad_argument", f"must be a string, got {_type_name(value)}", field=name)
        if spec.max_len is not None and len(value) > spec.max_len:
            raise ProtocolError(
                "too_long", f"must be at most {spec.max_len} characters, got {len(value)}", field=name
            )
        if spec.choices is not None and value not in spec.choices:
            raise ProtocolError(
                "bad_argument", f"must be one of {', '.join(map(str, spec.choices))}", field=name
            )
        return check_path(name, value) if spec.kind == "path" else value
    if spec.kind == "bool":
        if isinstance(value, bool):
            return value
        if isinstance(value, (int, float)) and value in (0, 1):
            return bool(value)
        raise ProtocolError("bad_argument", f"must be 0 or 1, got {_short_repr(value)}", field=name)
    # numbers
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ProtocolError("bad_argument", f"must be a number, got {_type_name(value)}", field=name)
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
    if not os.path.isabs(value):
        raise ProtocolError("bad_path", f"must be an absolute path, got {_cut(value, 200)!r}", field=name)
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


def generation_kwargs(request: Request) -> dict[str, Any]:
    """A generate request's params => keyword arguments of bridge.config.GenerationRequest."""
    if request.verb != "generate":
        raise ValueError(f"not a generate request: {request.verb}")
    p = request.params
    start, end = p["region_start"], p["region_end"]
    if (start is None) != (end is None):
        missing = "region_end" if end is None else "region_start"
        raise ProtocolError("missing_argument", "region_start and region_end go together", field=missing)
    return {
        "prompt": p["prompt"],
        "bpm": p["bpm"],
        "bars": p["bars"],
        "time_signature": p["time_signature"],
        "melody": p["melody"],
        "melody_bpm": p["melody_bpm"],
        "region": None if start is None else (start, end),
        "continue_from": p["continue"],
        "prompt_seconds": p["prompt_seconds"],
        "keep_prompt": p["keep_prompt"],
        "variations": p["variations"],
        "seed": None if p["seed"] == -1 else p["seed"],
        "temperature": p["temperature"],
        "top_k": p["top_k"],
        "top_p": p["top_p"],
        "cfg": p["cfg"],
        "sample_rate": p["sample_rate"],
        "bpm_in_prompt": p["bpm_in_prompt"],
        "loudness_lufs": p["loudness"] if p["normalize"] else None,
        "subtype": BIT_DEPTHS[p["bit_depth"]],
    }


_REQUEST_FIELD_NAMES = {
    "continue_from": "continue",
    "region": "region_start/region_end",
    "subtype": "bit_depth",
    "loudness_lufs": "loudness",
}


def to_generation_request(request: Request):
    """Build the immutable GenerationRequest (this probes the clips). Errors become ProtocolErrors that
    name the OSC key. Imports bridge.request (numpy, soundfile) on first use."""
    from bridge.request import GenerationRequest, RequestError

    try:
        return GenerationRequest(**generation_kwargs(request))
    except RequestError as e:
        name = _REQUEST_FIELD_NAMES.get(e.field, e.field)
        text = str(e).split(": ", 1)[-1]
        if name in ("melody", "continue"):
            code = "bad_path"
        elif name in ("prompt", "time_signature"):
            code = "bad_argument"
        else:
            code = "out_of_range"
        err = ProtocolError(code, text, field=name)
        err.request_id, err.reply_port = request.request_id, request.reply_port
        raise err from None
    except ProtocolError as e:
        e.request_id, e.reply_port = request.request_id, request.reply_port
        raise


# ------------------------------------------------------------------------------------------- replies


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
            builder.add_arg(_clean(str(a)), "s")
    dgram = builder.build().dgram
    if len(dgram) > MAX_DATAGRAM:
        raise ProtocolError("too_long", f"reply {address} would be {len(dgram)} bytes (> {MAX_DATAGRAM})")
    return dgram


def _clean(s: str) -> str:
    """OSC strings end at NUL and must be encodable: drop NULs and lone surrogates."""
    return s.replace("\x00", "").encode("utf-8", "replace").decode("utf-8")


def _cut(s: str, limit: int) -> str:
    return s if len(s) <= limit else s[: max(limit - 1, 0)] + "…"


def _type_name(value: Any) -> str:
    return {
        bool: "a boolean",
        int: "an int",
        float: "a float",
        str: "a string",
        bytes: "a blob",
        list: "an array",
        type(None): "nil",
    }.get(type(value), type(value).__name__)


def _short_repr(value: Any) -> str:
    return _cut(repr(value), 80)


def reply_address(verb: str) -> str:
    return REPLIES[verb].address


def welcome(request_id: str, version: str, model: str) -> bytes:
    return encode(
        reply_address("welcome"), [request_id, PROTOCOL_VERSION, _cut(version, 64), _cut(model, 256)]
    )


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


def error(request_id: str, code: str, message: str) -> bytes:
    """Never fails on size: the message is cut to MAX_ERROR_MESSAGE characters, then further if needed."""
    if code not in ERRORS:
        code = "internal"
    limit = MAX_ERROR_MESSAGE
    while True:
        try:
            return encode(reply_address("error"), [_cut(request_id, MAX_ID), code, _cut(message, limit)])
        except ProtocolError:
            limit //= 2


def ok(request_id: str, verb: str, count: int) -> bytes:
    return encode(reply_address("ok"), [request_id, verb, int(count)])


def status(request_id: str, pairs: Mapping[str, Any]) -> bytes:
    args: list[Any] = [request_id]
    for key, value in pairs.items():
        args += [
            key,
            "" if value is None else (_cut(value, MAX_ERROR_MESSAGE) if isinstance(value, str) else value),
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
            tail = [_cut(prompt, prompt_chars), _cut(error_text, error_chars), *map(str, paths)]
            return encode(address, head + tail)
        except ProtocolError:
            if prompt_chars == 0 and error_chars == 0:
                raise
            prompt_chars, error_chars = prompt_chars // 4, error_chars // 4


# ------------------------------------------------------------------------------------------- export


def describe() -> dict[str, Any]:
    """The whole protocol as plain data (what `musicgen-bridge protocol --json` prints)."""
    return {
        "protocol": PROTOCOL_VERSION,
        "prefix": ADDRESS_PREFIX,
        "default_host": DEFAULT_HOST,
        "default_port": DEFAULT_PORT,
        "default_reply_port": DEFAULT_REPLY_PORT,
        "max_datagram": MAX_DATAGRAM,
        "max_string": MAX_STRING,
        "request_id": {"max_length": MAX_ID, "pattern": ID_PATTERN.pattern},
        "requests": [
            {
                "address": m.address,
                "verb": m.verb,
                "doc": m.doc,
                "args": [{"name": "request_id", "type": "string", "doc": ID_RULE}],
                "keys": [f.describe() for f in m.fields],
                "replies": [REPLIES[r].address for r in m.replies],
            }
            for m in REQUESTS.values()
        ],
        "replies": [
            {
                "address": r.address,
                "verb": r.verb,
                "doc": r.doc,
                "args": [{"name": n, "type": t, "doc": d} for n, t, d in r.args],
                "variadic": r.variadic,
            }
            for r in REPLIES.values()
        ],
        "errors": dict(ERRORS),
        "job_states": list(JOB_STATES),
    }


def to_json(indent: int | None = 2) -> str:
    return json.dumps(describe(), indent=indent)


def _num(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else f"{x:g}"


def to_markdown() -> str:
    """The request, reply and error tables for the README."""
    lines = [
        f"Requests are `{ADDRESS_PREFIX}/<verb> <request_id> [key value]...` (request id: {ID_RULE}); every "
        f"request also takes `reply_port`: {REPLY_PORT.doc}. Datagrams stay under {MAX_DATAGRAM} bytes; "
        "numbers may be sent as OSC ints or floats.",
        "",
        "| Request | Key | Type | Range / default | Meaning |",
        "|---|---|---|---|---|",
    ]
    for m in REQUESTS.values():
        lines.append(f"| `{m.address} <request_id>` | | | | {m.doc} |")
        for f in m.fields:
            if f is REPLY_PORT:
                continue
            rng = []
            if f.choices is not None:
                rng.append(" / ".join(map(str, f.choices)))
            elif f.low is not None and f.high is not None:
                lo = f"> {_num(f.low)}" if f.low_open else _num(f.low)
                rng.append(f"{lo} .. {_num(f.high)}")
            if f.max_len is not None and f.choices is None:
                rng.append(f"<= {f.max_len} chars")
            if f.required:
                rng.append("**required**")
            elif f.default == "":
                rng.append('default ""')
            elif f.default is not None:
                rng.append(f"default `{f.default}`")
            else:
                rng.append("optional")
            lines.append(f"| | `{f.name}` | {f.kind} | {', '.join(rng)} | {f.doc} |")
    lines += ["", "| Reply | Arguments | Meaning |", "|---|---|---|"]
    for r in REPLIES.values():
        args = " ".join(f"<{n}:{t}>" for n, t, _ in r.args) + ("..." if r.variadic else "")
        lines.append(f"| `{r.address}` | `{args}` | {r.doc} |")
    lines += ["", "| Error code | Meaning |", "|---|---|"]
    lines += [f"| `{code}` | {text} |" for code, text in ERRORS.items()]
    return "\n".join(lines) + "\n"
