"""A checked generate request made into the immutable `GenerationRequest` the daemon queues.

Building one probes the clips (numpy, soundfile), so this module is not imported by `bridge.protocol`
itself: the daemon imports it, the panel never does (`import bridge.protocol` stays light).

    generation = to_generation_request(parse_request(address, args))   # or a ProtocolError naming the key
"""

from __future__ import annotations

from bridge.protocol.mapping import generation_kwargs, key_of, kind_of
from bridge.protocol.parse import Request
from bridge.protocol.schema import ProtocolError
from bridge.request import GenerationRequest, RequestError

# The error code for a field the request object refuses, by the protocol type of its key; numbers (and
# fields no key sets) are out of range, since their type was checked when the request was parsed.
_CODES = {"path": "bad_path", "string": "bad_argument"}


def to_generation_request(request: Request) -> GenerationRequest:
    """Build the immutable GenerationRequest (this probes the clips). Errors become ProtocolErrors that
    name the OSC key and carry the request's id and reply port."""
    try:
        return GenerationRequest(**generation_kwargs(request))
    except RequestError as e:
        text = str(e).split(": ", 1)[-1]
        code = _CODES.get(kind_of(e.field) or "", "out_of_range")
        err = ProtocolError(code, text, field=key_of(e.field))
        err.request_id, err.reply_port = request.request_id, request.reply_port
        raise err from None
    except ProtocolError as e:
        e.request_id, e.reply_port = request.request_id, request.reply_port
        raise
