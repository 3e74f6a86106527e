"""Strings in datagrams: cutting them to a limit, making them encodable, naming a value's type in an error.

Shared by request parsing (`bridge.protocol.parse`) and reply encoding (`bridge.protocol.replies`).
"""

from __future__ import annotations

from typing import Any


def clean(s: str) -> str:
    """OSC strings end at NUL and must be encodable: drop NULs and lone surrogates."""
    return s.replace("\x00", "").encode("utf-8", "replace").decode("utf-8")


def cut(s: str, limit: int) -> str:
    return s if len(s) <= limit else s[: max(limit - 1, 0)] + "…"


def type_name(value: Any) -> str:
    return {
        bool: "a boolean",
        int: "an int",
        float: "a float",
        str: "a string",
        bytes: "a blob",
        list: "an array",
        type(None): "nil",
    }.get(type(value), type(value).__name__)


def short_repr(value: Any) -> str:
    return cut(repr(value), 80)
