"""The one table between the generate keys of the protocol and the fields of `GenerationRequest`.

Every client speaks the protocol's vocabulary (`continue`, `region_start`/`region_end`, `loudness` with
`normalize`, `bit_depth`, seed -1 = pick one); the request object speaks its own (`continue_from`,
`region`, `loudness_lufs`, `subtype`, seed None). `REQUEST_FIELDS` says, once, which keys make which
field and how: the OSC path (`generation_kwargs`), the CLI (`request_kwargs` over its options, named
like the keys) and the error messages (`key_of`, which names the key a client sent) all read it.

    kwargs = generation_kwargs(request)            # GenerationRequest(**kwargs), see bridge.protocol.to_request
    key_of("continue_from")                        # "continue"

Plain data and no bridge.request import, so the panel can check a request without numpy.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from bridge.limits import BIT_DEPTHS
from bridge.protocol.parse import Request
from bridge.protocol.schema import REQUESTS, ProtocolError


def _same(value: Any) -> Any:
    return value


def _region(start: float | None, end: float | None) -> tuple[float, float] | None:
    if (start is None) != (end is None):
        missing = "region_end" if end is None else "region_start"
        raise ProtocolError("missing_argument", "region_start and region_end go together", field=missing)
    return None if start is None else (start, end)


def _seed(seed: int | None) -> int | None:
    return None if seed == -1 else seed  # -1 (or no seed at all) => GenerationRequest picks one


def _loudness(loudness: float, normalize: bool) -> float | None:
    return loudness if normalize else None


def _subtype(bit_depth: str) -> str:
    return BIT_DEPTHS[bit_depth]


@dataclass(frozen=True)
class RequestField:
    """One `GenerationRequest` field and the generate key(s) it is built from."""

    field: str  # the GenerationRequest attribute
    keys: tuple[str, ...]  # the generate keys it is made of, in `build`'s argument order
    build: Callable[..., Any] = _same  # the keys' values => the field's value
    blame: str = ""  # the key an error about the field names; "" = the keys joined by "/"

    @property
    def key(self) -> str:
        return self.blame or "/".join(self.keys)


def _one(name: str) -> RequestField:
    return RequestField(name, (name,))


REQUEST_FIELDS: tuple[RequestField, ...] = (
    _one("prompt"),
    _one("bpm"),
    _one("bars"),
    _one("time_signature"),
    _one("melody"),
    _one("melody_bpm"),
    RequestField("region", ("region_start", "region_end"), _region),
    RequestField("continue_from", ("continue",)),
    _one("prompt_seconds"),
    _one("keep_prompt"),
    _one("variations"),
    RequestField("seed", ("seed",), _seed),
    _one("temperature"),
    _one("top_k"),
    _one("top_p"),
    _one("cfg"),
    _one("sample_rate"),
    _one("bpm_in_prompt"),
    RequestField("loudness_lufs", ("loudness", "normalize"), _loudness, blame="loudness"),
    RequestField("subtype", ("bit_depth",), _subtype),
    _one("channels"),
    _one("grid"),
    _one("grid_shift"),
    RequestField("grid_margin_bars", ("grid_margin",)),
    RequestField("grid_tolerance_pct", ("grid_tolerance",)),
)

_BY_FIELD = {f.field: f for f in REQUEST_FIELDS}


def request_kwargs(values: Mapping[str, Any]) -> dict[str, Any]:
    """Values named by generate key (every key of the table present) => GenerationRequest keyword
    arguments. Raises ProtocolError('missing_argument') for half a region."""
    return {f.field: f.build(*(values[k] for k in f.keys)) for f in REQUEST_FIELDS}


def generation_kwargs(request: Request) -> dict[str, Any]:
    """A generate request's params => keyword arguments of bridge.request.GenerationRequest."""
    if request.verb != "generate":
        raise ValueError(f"not a generate request: {request.verb}")
    return request_kwargs(request.params)


def key_of(field: str) -> str:
    """The generate key(s) a client sent for a GenerationRequest field, for naming it in an error;
    a field no key sets (peak_dbfs) keeps its own name."""
    spec = _BY_FIELD.get(field)
    return field if spec is None else spec.key


def kind_of(field: str) -> str | None:
    """The protocol type (string, path, int, float, bool) of the first key behind a field; None when no
    key of the table sets it."""
    spec = _BY_FIELD.get(field)
    key = None if spec is None else REQUESTS["generate"].field(spec.keys[0])
    return None if key is None else key.kind
