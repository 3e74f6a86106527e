"""The OSC protocol as data: every address, its arguments, their types and ranges, and the error codes.

This is the only place where OSC addresses are written. The server, the PyQt panel and the Max device
(through `musicgen-bridge protocol --json`) all read these tables. No torch and no numpy here: the panel
imports this module and must start fast.

Requests are `/musicgen/<verb> <request_id> [key value]...`; replies go to the client's declared reply
port (hello's `reply_port`, or a `reply_port` key on any request), because Max's `[udpsend]` and
`[udpreceive]` are separate sockets. Audio travels only as file paths and every datagram stays under
`MAX_DATAGRAM` bytes.

    REQUESTS["generate"].field("bpm").high        # 400.0
    REPLIES["ack"].args                            # (("id", "s", ...), ("queue_position", "i", ...), ...)

Checking a request against these tables is `bridge.protocol.parse`, writing replies
`bridge.protocol.replies`, exporting them `bridge.protocol.export`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from bridge.limits import (  # re-exported: the panel reads the limits from here
    BIT_DEPTHS,
    CFG_RANGE,
    CHANNEL_CHOICES,
    DEFAULT_BIT_DEPTH,
    DEFAULT_CFG,
    DEFAULT_CHANNELS,
    DEFAULT_GRID,
    DEFAULT_GRID_MARGIN_BARS,
    DEFAULT_GRID_TOLERANCE_PCT,
    DEFAULT_LOUDNESS_LUFS,
    DEFAULT_PROMPT_SECONDS,
    DEFAULT_SAMPLE_RATE,
    DEFAULT_TEMPERATURE,
    DEFAULT_TOP_K,
    DEFAULT_TOP_P,
    GRID_MARGIN_RANGE,
    GRID_MODES,
    GRID_SHIFT_RANGE,
    GRID_TOLERANCE_RANGE,
    LOUDNESS_RANGE,
    MAX_BARS,
    MAX_BPM,
    MAX_PROMPT_CHARS,
    MAX_PROMPT_SECONDS,
    MAX_SEED,
    MAX_VARIATIONS,
    MIN_BPM,
    REPLY_BUDGET_BYTES,
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
TIME_SIG_PATTERN = r" *[0-9]{1,3} */ *[0-9]{1,3} *"  # ASCII digits only: '٤/٤' is not 4/4


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
    "rate_limited": "this client sent too many requests of this kind (generate, status/history); wait a moment",
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
    pattern: str | None = None  # a string must match it in full, ASCII only (re.ASCII)

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
        if self.pattern is not None:
            d["pattern"] = self.pattern
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
    _f("time_signature", "string", "e.g. 4/4, 3/4, 6/8, 7/8", default="4/4", max_len=16, pattern=TIME_SIG_PATTERN),
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
    _f(
        "channels",
        "int",
        "channels of the file: 0 = the model's (mono, or stereo from a stereo checkpoint), 1 = mono (a stereo "
        "take downmixed), 2 = stereo (a mono take in both channels)",
        default=DEFAULT_CHANNELS,
        choices=CHANNEL_CHOICES,
    ),
    _f(
        "grid",
        "string",
        "fit the take onto the song's bars: off = cut as generated, on = warp whatever tempo the model "
        "played onto the grid, strict = also generate again a take further off than grid_tolerance",
        default=DEFAULT_GRID,
        choices=GRID_MODES,
        max_len=8,
    ),
    _f(
        "grid_shift",
        "float",
        "beats the bar line moves (e.g. -1, 1, half a bar) when the downbeat was found in the wrong place",
        default=0.0,
        range=GRID_SHIFT_RANGE,
    ),
    _f(
        "grid_margin",
        "int",
        "bars generated before and after the loop for the fit to choose from",
        default=DEFAULT_GRID_MARGIN_BARS,
        range=GRID_MARGIN_RANGE,
    ),
    _f(
        "grid_tolerance",
        "float",
        "strict: percent off the song tempo a take may play and still be kept",
        default=DEFAULT_GRID_TOLERANCE_PCT,
        range=GRID_TOLERANCE_RANGE,
    ),
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
            ("ack", "progress", "chunk", "grid", "done", "error"),
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
            "recent jobs, newest first, one history reply each: at most limit, and fewer when their bytes "
            f"would pass the reply budget ({REPLY_BUDGET_BYTES} bytes per request datagram); page on with "
            "offset += count until count is 0",
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
            "grid",
            "how one take was fitted onto the grid; sent for every take just before done",
            (
                ("id", _S, "request id"),
                ("take", _I, "1, 2, ... (the order of done's paths)"),
                ("status", _S, "on_grid, beatless (kept the generated timing), off, or too_far (strict)"),
                ("played_bpm", _F, "tempo the model actually played; 0 when not measured"),
                ("ratio", _F, "stretch applied: played / song tempo (1 = none)"),
                ("downbeat", _F, "seconds into the generated take where the bar line was found; -1 if none"),
                ("confidence", _F, "0..1, how clear the beat was"),
                ("message", _S, "one line for the user, e.g. 'on grid (played 121.7 bpm)'"),
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
            "uptime, recv_buffer, and counters: datagrams, messages, errors, ignored_replies, errors_unsent, "
            "rate_limited, over_budget) or one job "
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
ACTIVE_STATES = JOB_STATES[:2]  # waiting or running: cancel reaches it, the journal marks it interrupted
FINAL_STATES = JOB_STATES[2:]  # over: the job's `done` or `error` has been sent
