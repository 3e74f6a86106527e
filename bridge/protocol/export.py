"""The protocol tables exported: as plain data and JSON (`musicgen-bridge protocol --json`, which the Max
device embeds) and as the Markdown tables of the README.

    data = describe()                              # {"protocol": 1, "requests": [...], "replies": [...], ...}
    text = to_markdown()
"""

from __future__ import annotations

import json
from typing import Any

from bridge.protocol.schema import (
    ADDRESS_PREFIX,
    DEFAULT_HOST,
    DEFAULT_PORT,
    DEFAULT_REPLY_PORT,
    ERRORS,
    ID_PATTERN,
    ID_RULE,
    JOB_STATES,
    MAX_DATAGRAM,
    MAX_ID,
    MAX_STRING,
    PROTOCOL_VERSION,
    REPLIES,
    REPLY_PORT,
    REQUESTS,
)


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
