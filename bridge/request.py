"""One immutable, validated request per generation.

`GenerationRequest` is built once (from CLI flags, an OSC message or a MIDI trigger), validated in
`__post_init__`, and never changed afterwards: everything downstream can trust its fields. No torch here.
"""

from __future__ import annotations

import math
import secrets
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

from bridge.audio.io import AudioError, format_bpm, probe
from bridge.audio.tempo import LoopError, TimeSignature, loop_seconds
from bridge.limits import (
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
    DEFAULT_PEAK_DBFS,
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
    MAX_LOOP_SECONDS,
    MAX_PROMPT_CHARS,
    MAX_PROMPT_SECONDS,
    MAX_SEED,
    MAX_VARIATIONS,
    MIN_BPM,
    MIN_CLIP_SECONDS,
    SAMPLE_RATES,
    SUBTYPES,
    TEMPERATURE_RANGE,
    TOP_K_RANGE,
    TOP_P_RANGE,
)


class RequestError(ValueError):
    """A request field is invalid; `field` names it so every client can point at the culprit."""

    def __init__(self, field: str, message: str):
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


@dataclass(frozen=True)
class GenerationRequest:
    prompt: str
    bpm: float
    bars: int
    time_signature: str = "4/4"
    melody: Path | None = None  # clip whose chroma steers the melody
    melody_bpm: float | None = None  # the clip's own tempo (melody and continuation source), if known
    region: tuple[float, float] | None = None  # seconds inside the clip(s); None = whole clip
    continue_from: Path | None = None  # clip to continue (audio prompt)
    prompt_seconds: float = DEFAULT_PROMPT_SECONDS  # prompt length at the song tempo, from the clip's end
    keep_prompt: bool = False  # also return the prompt audio before the new bars
    variations: int = 1
    seed: int | None = None  # None => a random seed, chosen here and recorded
    temperature: float = DEFAULT_TEMPERATURE  # 0 => greedy
    top_k: int = DEFAULT_TOP_K
    top_p: float = DEFAULT_TOP_P
    cfg: float = DEFAULT_CFG
    sample_rate: int = DEFAULT_SAMPLE_RATE
    bpm_in_prompt: bool = True  # append "<bpm> bpm" to the text, as loop generators do
    loudness_lufs: float | None = DEFAULT_LOUDNESS_LUFS  # None => no loudness normalisation
    peak_dbfs: float = DEFAULT_PEAK_DBFS
    subtype: str = BIT_DEPTHS[DEFAULT_BIT_DEPTH]
    channels: int = DEFAULT_CHANNELS  # 0 => the model's (mono or stereo); 1 => downmix; 2 => stereo
    grid: str = DEFAULT_GRID  # off / on / strict: how the take is fitted onto the song's bars
    grid_shift: float = 0.0  # beats the bar line moves: +1 starts the loop one beat later in the take
    grid_margin_bars: int = DEFAULT_GRID_MARGIN_BARS  # bars generated before and after the loop to fit in
    grid_tolerance_pct: float = DEFAULT_GRID_TOLERANCE_PCT  # strict: a take further off is generated again

    def __post_init__(self) -> None:
        set_ = object.__setattr__  # frozen: normalise fields once, here
        if self.seed is None:
            set_(self, "seed", secrets.randbelow(MAX_SEED + 1))
        for name in ("melody", "continue_from"):
            value = getattr(self, name)
            if value is not None and not isinstance(value, Path):
                set_(self, name, Path(value).expanduser())
        if self.region is not None:
            set_(self, "region", tuple(float(v) for v in self.region))
        self._validate()

    # ------------------------------------------------------------------ validation

    def _validate(self) -> None:
        if not isinstance(self.prompt, str) or len(self.prompt) > MAX_PROMPT_CHARS:
            raise RequestError("prompt", f"must be text of at most {MAX_PROMPT_CHARS} characters")
        if not self.prompt.strip() and self.melody is None and self.continue_from is None:
            raise RequestError(
                "prompt", "is empty; describe the loop, or give a melody or a clip to continue"
            )
        _number("bpm", self.bpm, MIN_BPM, MAX_BPM)
        if not isinstance(self.bars, int) or isinstance(self.bars, bool) or not 1 <= self.bars <= MAX_BARS:
            raise RequestError("bars", f"must be a whole number from 1 to {MAX_BARS}, got {self.bars!r}")
        try:
            ts = TimeSignature.parse(self.time_signature)
        except LoopError as e:
            raise RequestError("time_signature", str(e)) from e
        seconds = float(loop_seconds(self.bars, self.bpm, ts))
        if seconds > MAX_LOOP_SECONDS:
            raise RequestError(
                "bars",
                f"{self.bars} bars at {self.bpm:g} bpm last {seconds:.0f} s; "
                f"the limit is {MAX_LOOP_SECONDS:.0f} s",
            )
        if self.melody_bpm is not None:
            _number("melody_bpm", self.melody_bpm, MIN_BPM, MAX_BPM)
        _number("prompt_seconds", self.prompt_seconds, 0.0, MAX_PROMPT_SECONDS, low_open=True)
        if not isinstance(self.variations, int) or not 1 <= self.variations <= MAX_VARIATIONS:
            raise RequestError("variations", f"must be 1 to {MAX_VARIATIONS}, got {self.variations!r}")
        if not isinstance(self.seed, int) or not 0 <= self.seed <= MAX_SEED:
            raise RequestError("seed", f"must be an integer from 0 to {MAX_SEED}")
        _number("temperature", self.temperature, *TEMPERATURE_RANGE)
        if not isinstance(self.top_k, int) or not TOP_K_RANGE[0] <= self.top_k <= TOP_K_RANGE[1]:
            raise RequestError("top_k", f"must be {TOP_K_RANGE[0]} (off) to {TOP_K_RANGE[1]}")
        _number("top_p", self.top_p, *TOP_P_RANGE)
        _number("cfg", self.cfg, *CFG_RANGE)
        if self.sample_rate not in SAMPLE_RATES:
            raise RequestError("sample_rate", f"must be one of {', '.join(map(str, SAMPLE_RATES))}")
        if self.subtype not in SUBTYPES:
            raise RequestError("subtype", f"must be one of {', '.join(SUBTYPES)}")
        whole = isinstance(self.channels, int) and not isinstance(self.channels, bool)
        if not whole or self.channels not in CHANNEL_CHOICES:
            raise RequestError(
                "channels", f"must be 0 (the model's), 1 (mono) or 2 (stereo), got {self.channels!r}"
            )
        if self.loudness_lufs is not None:
            _number("loudness_lufs", self.loudness_lufs, *LOUDNESS_RANGE)
        _number("peak_dbfs", self.peak_dbfs, -40.0, 0.0)
        if self.grid not in GRID_MODES:
            raise RequestError("grid", f"must be one of {', '.join(GRID_MODES)}, got {self.grid!r}")
        _number("grid_shift", self.grid_shift, *GRID_SHIFT_RANGE)
        lo, hi = GRID_MARGIN_RANGE
        if not isinstance(self.grid_margin_bars, int) or not lo <= self.grid_margin_bars <= hi:
            raise RequestError("grid_margin_bars", f"must be {lo} to {hi} bars, got {self.grid_margin_bars!r}")
        _number("grid_tolerance_pct", self.grid_tolerance_pct, *GRID_TOLERANCE_RANGE)
        if self.region is not None:
            if len(self.region) != 2 or not all(math.isfinite(v) for v in self.region):
                raise RequestError("region", "must be two finite numbers: start and end in seconds")
            start, end = self.region
            if not 0 <= start < end:
                raise RequestError("region", f"start must be >= 0 and before end, got {start:g}..{end:g}")
            if self.melody is None and self.continue_from is None:
                raise RequestError("region", "needs a melody or a clip to continue")
        # options that only mean something with a clip are refused without one, like region above
        if self.melody_bpm is not None and self.melody is None and self.continue_from is None:
            raise RequestError("melody_bpm", "needs a melody or a clip to continue")
        if self.keep_prompt and self.continue_from is None:
            raise RequestError("keep_prompt", "needs a clip to continue")
        for name in ("melody", "continue_from"):
            path = getattr(self, name)
            if path is not None:
                self._check_clip(name, path)

    def _check_clip(self, name: str, path: Path) -> None:
        try:
            info = probe(path)
        except AudioError as e:
            raise RequestError(name, str(e)) from e
        if info.duration < MIN_CLIP_SECONDS:
            raise RequestError(
                name,
                f"{path.name} holds only {info.duration * 1000:.0f} ms of audio (a truncated file?); "
                f"a clip needs at least {MIN_CLIP_SECONDS * 1000:.0f} ms",
            )
        if self.region is not None and self.region[1] > info.duration + 1.0 / info.sample_rate:
            raise RequestError(
                "region",
                f"{self.region[0]:g}..{self.region[1]:g} s lies outside {path.name}, "
                f"which is {info.duration:.3f} s long",
            )

    # ------------------------------------------------------------------ derived values

    @property
    def signature(self) -> TimeSignature:
        return TimeSignature.parse(self.time_signature)

    @property
    def text(self) -> str:
        """The text the model sees: the prompt, optionally with the tempo appended."""
        prompt = self.prompt.strip()
        if not self.bpm_in_prompt:
            return prompt
        tempo = f"{format_bpm(self.bpm)} bpm"
        return f"{prompt}, {tempo}" if prompt else tempo

    @property
    def clip_bpm(self) -> float:
        """Tempo of the clip(s) as recorded; the song tempo when the client did not say."""
        return self.melody_bpm if self.melody_bpm is not None else self.bpm

    def to_dict(self) -> dict[str, Any]:
        """JSON-friendly form (journal, metadata, logs)."""
        d = asdict(self)
        for name in ("melody", "continue_from"):
            d[name] = None if d[name] is None else str(d[name])
        d["region"] = None if self.region is None else list(self.region)
        return d

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> GenerationRequest:
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise RequestError(unknown[0], "is not a request field")
        data = dict(data)
        if data.get("region") is not None:
            data["region"] = tuple(data["region"])
        return cls(**data)


def _number(name: str, value: Any, low: float, high: float, low_open: bool = False) -> None:
    ok = isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
    if ok:
        ok = (low < value if low_open else low <= value) and value <= high
    if not ok:
        lo = f"more than {low:g}" if low_open else f"{low:g}"
        raise RequestError(name, f"must be a number from {lo} to {high:g}, got {value!r}")
