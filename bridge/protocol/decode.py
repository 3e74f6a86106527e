"""Reading a reply: its arguments by name, typed as the reply table says, never by position in the caller.

    reply = decode_reply("/musicgen/ack", ["r1", 2, "j-0001"])
    reply.verb, reply.request_id, reply["queue_position"], reply["job"]   -> "ack", "r1", 2, "j-0001"
    decode_reply("/musicgen/done", ["r1", "/o/a.wav", "/o/b.wav"]).repeated -> ("/o/a.wav", "/o/b.wav")
    decode_reply("/musicgen/status", ["s1", "state", "idle", "queued", 0]).pairs -> {"state": "idle", "queued": 0}

A variadic reply's last argument repeats: its values are `repeated` (done's and history's paths). A
repeating `key` argument is a key/value list instead (status): each key is followed by its value, which
keeps its own type, and the pairs are `pairs`. Fixed arguments a reply leaves off at its end (an empty
history answer, an error without message) are absent, so callers can tell "not sent" from "empty".

No torch and no numpy: the panel decodes every reply with this.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from bridge.protocol.schema import REPLIES, ProtocolError, Reply

PAIR_ARG = "key"  # a repeating argument of this name is followed by its value: key value key value ...
_COERCE = {"s": str, "i": int, "f": float}  # OSC type tag => Python type
_BY_ADDRESS: Mapping[str, Reply] = MappingProxyType({r.address: r for r in REPLIES.values()})


@dataclass(frozen=True)
class DecodedReply:
    """One reply: `args` by name (fixed arguments only), `repeated` or `pairs` for a variadic tail."""

    verb: str
    args: Mapping[str, Any]
    repeated: tuple[Any, ...] = ()
    pairs: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))

    @property
    def request_id(self) -> str:
        return str(self.args.get("id", ""))

    def __getitem__(self, name: str) -> Any:
        return self.args[name]

    def __contains__(self, name: str) -> bool:
        return name in self.args

    def get(self, name: str, default: Any = None) -> Any:
        return self.args.get(name, default)


def reply_for(address: str) -> Reply | None:
    """The table entry of a reply address, or None for an address that is not a reply."""
    return _BY_ADDRESS.get(address)


def _typed(name: str, tag: str, value: Any) -> Any:
    try:
        return _COERCE[tag](value)
    except (TypeError, ValueError):
        raise ProtocolError("bad_argument", f"expected {tag}, got {value!r}", field=name) from None


def decode_reply(address: str, args: Sequence[Any]) -> DecodedReply:
    """Name and type a reply's arguments from `REPLIES`. ProtocolError for an address that is not a reply
    (`unknown_address`), a reply without its request id (`missing_argument`) or a mistyped argument."""
    spec = reply_for(address)
    if spec is None:
        raise ProtocolError("unknown_address", f"{address!r} is not a reply")
    if not args:
        raise ProtocolError("missing_argument", "a reply starts with its request id", field="id")
    fixed = spec.args[:-1] if spec.variadic else spec.args
    named = {name: _typed(name, tag, value) for (name, tag, _doc), value in zip(fixed, args, strict=False)}
    tail = list(args[len(fixed) :]) if spec.variadic else []
    repeated: tuple[Any, ...] = ()
    pairs: dict[str, Any] = {}
    if tail:
        name, tag, _doc = spec.args[-1]
        if name == PAIR_ARG:
            pairs = {str(k): v for k, v in zip(tail[0::2], tail[1::2], strict=False)}
        else:
            repeated = tuple(_typed(name, tag, value) for value in tail)
    return DecodedReply(spec.verb, MappingProxyType(named), repeated, MappingProxyType(pairs))


__all__ = ["PAIR_ARG", "DecodedReply", "decode_reply", "reply_for"]
