"""Log escaping and the limiter, without sockets."""

from __future__ import annotations

import logging

from bridge.daemon.logs import LogLimiter, escape, route_library_warnings


def test_escape_keeps_text_on_one_line_and_drops_terminal_control():
    text = escape("a\nb\r\x1b[31mred\u202eevil\x00 ok é")
    assert "\n" not in text and "\x1b" not in text and "\u202e" not in text and "\x00" not in text
    assert text == "a\\nb\\r\\x1b[31mred\\u202eevil\\x00 ok é"
    assert escape("plain text") == "plain text"


def test_the_limiter_escapes_arguments_and_bounds_lines(caplog):
    caplog.set_level(logging.INFO)
    complain = LogLimiter(logging.getLogger("bridge.test"), rate=3)
    for _ in range(50):
        complain("k", "from %s", "x\nFORGED", level=logging.INFO)
    msgs = [r.getMessage() for r in caplog.records]
    assert msgs == ["from x\\nFORGED"] * 3


def test_root_logger_lines_of_python_osc_are_routed(caplog):
    caplog.set_level(logging.WARNING)
    complain = LogLimiter(logging.getLogger("bridge.test"), rate=2)
    undo = route_library_warnings(complain)
    try:
        record = logging.LogRecord("root", logging.WARNING, "/x/pythonosc/osc_message.py", 1, "Unhandled %s", ("q",), None)
        for _ in range(20):
            logging.getLogger().handle(record)
        logging.warning("someone else's root line")  # not python-osc: untouched
    finally:
        undo()
    msgs = [(r.name, r.getMessage()) for r in caplog.records]
    assert msgs == [("bridge.test", "python-osc: Unhandled q")] * 2 + [("root", "someone else's root line")]
