"""Audio outputs for the preview player: PortAudio through sounddevice, a fake for tests, a stand-in for none.

    device = open_output_device()           # SoundDeviceOutput, or NullOutput when none exists
    device.open(44100, 2, render)           # render(frames) -> (frames, 2) float32, called on its thread
    [d.name for d in list_output_devices()]

The output device pulls audio through a callback (`render(frames)`) from its own thread, like a PortAudio
callback stream. `OutputDevice` is a small template; `SoundDeviceOutput` is the PortAudio implementation,
`FakeOutputDevice` records what it was given for tests, `NullOutput` stands in when there is no device
(the panel then says preview is unavailable). sounddevice is optional: without it, or without the PortAudio
library it loads, every output is a NullOutput that says why.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

try:
    import sounddevice
except (ImportError, OSError) as _e:  # not installed, or installed without PortAudio (OSError on import)
    sounddevice = None
    SOUNDDEVICE_MISSING = f"PortAudio is not available ({_e})"
else:
    SOUNDDEVICE_MISSING = ""

log = logging.getLogger(__name__)

OUTPUT_CHANNELS = 2  # we always play stereo (mono material is copied to both sides)
LATENCY = "high"  # PortAudio's suggested latency: robust for previews, not for live playing

Render = Callable[[int], Any]  # frames -> float32 array (frames, channels)


class PreviewUnavailable(RuntimeError):
    """No audio output: PortAudio is missing, there are no output devices, or a device cannot be opened."""


# ------------------------------------------------------------------------------------------ devices


class OutputDevice:
    """Template: an output that pulls `render(frames)` from its own thread once opened."""

    name = "output"
    available = True  # False: nothing will be heard (NullOutput)

    def supports(self, samplerate: int, channels: int) -> bool:
        return True

    def default_samplerate(self) -> int:
        return 48000

    def open(self, samplerate: int, channels: int, render: Render) -> None:
        raise NotImplementedError

    def close(self) -> None:
        raise NotImplementedError

    @property
    def is_open(self) -> bool:
        raise NotImplementedError


class NullOutput(OutputDevice):
    """No sound card: accepts everything, plays nothing. `reason` says why, for the panel."""

    name = "none"
    available = False

    def __init__(self, reason: str = "no audio output device"):
        self.reason = reason
        self._open = False

    def open(self, samplerate: int, channels: int, render: Render) -> None:
        self._open = True

    def close(self) -> None:
        self._open = False

    @property
    def is_open(self) -> bool:
        return self._open


class FakeOutputDevice(OutputDevice):
    """For tests: `pull(frames)` plays like an audio callback would; `played` collects the output."""

    name = "fake"

    def __init__(self, samplerates: tuple[int, ...] | None = None):
        self.samplerates = samplerates  # None: every rate is supported
        self.samplerate = 0
        self.channels = 0
        self.opens: list[tuple[int, int]] = []
        self.played: list[Any] = []
        self._render: Render | None = None

    def supports(self, samplerate: int, channels: int) -> bool:
        return self.samplerates is None or samplerate in self.samplerates

    def default_samplerate(self) -> int:
        return self.samplerates[0] if self.samplerates else 48000

    def open(self, samplerate: int, channels: int, render: Render) -> None:
        self.samplerate, self.channels, self._render = samplerate, channels, render
        self.opens.append((samplerate, channels))

    def close(self) -> None:
        self._render = None

    @property
    def is_open(self) -> bool:
        return self._render is not None

    def pull(self, frames: int) -> Any:
        if self._render is None:
            raise RuntimeError("the device is not open")
        block = self._render(frames)
        self.played.append(block.copy())
        return block

    def output(self) -> Any:
        """Everything played so far as one (frames, channels) array."""
        if not self.played:
            return np.zeros((0, self.channels or OUTPUT_CHANNELS), np.float32)
        return np.concatenate(self.played)


def _sounddevice() -> Any:
    """The sounddevice module, or PreviewUnavailable saying why it could not be imported."""
    if sounddevice is None:
        raise PreviewUnavailable(SOUNDDEVICE_MISSING)
    return sounddevice


@dataclass(frozen=True)
class DeviceInfo:
    index: int
    name: str
    hostapi: str
    default_samplerate: int


def list_output_devices() -> list[DeviceInfo]:
    """Output devices PortAudio knows; PreviewUnavailable when there are none."""
    sd = _sounddevice()
    try:
        devices = sd.query_devices()
        apis = sd.query_hostapis()
    except Exception as e:
        raise PreviewUnavailable(f"cannot list audio devices ({e})") from None
    found = [
        DeviceInfo(i, str(d["name"]), str(apis[d["hostapi"]]["name"]), int(d["default_samplerate"]))
        for i, d in enumerate(devices)
        if d["max_output_channels"] > 0
    ]
    if not found:
        raise PreviewUnavailable("no audio output device found")
    return found


class SoundDeviceOutput(OutputDevice):
    """A PortAudio callback stream (sounddevice). `device`: a name or index; None = the system default."""

    def __init__(self, device: int | str | None = None):
        self._sd = _sounddevice()
        try:
            info = self._sd.query_devices(device, kind="output")
        except Exception as e:
            raise PreviewUnavailable(f"no usable audio output ({e})") from None
        self.device = device
        self.name = str(info["name"])
        self._default_rate = int(info["default_samplerate"]) or 48000
        self._max_channels = int(info["max_output_channels"])
        self._stream: Any = None

    def supports(self, samplerate: int, channels: int) -> bool:
        if channels > self._max_channels:
            return False
        try:
            self._sd.check_output_settings(
                device=self.device, samplerate=samplerate, channels=channels, dtype="float32"
            )
            return True
        except Exception:
            return False

    def default_samplerate(self) -> int:
        return self._default_rate

    def open(self, samplerate: int, channels: int, render: Render) -> None:
        self.close()

        def callback(outdata: Any, frames: int, _time: Any, status: Any) -> None:
            if status:
                log.debug("audio callback status: %s", status)
            outdata[:] = render(frames)

        try:
            self._stream = self._sd.OutputStream(
                samplerate=samplerate,
                channels=min(channels, self._max_channels),
                dtype="float32",
                device=self.device,
                latency=LATENCY,
                callback=callback,
            )
            self._stream.start()
        except Exception as e:
            self._stream = None
            raise PreviewUnavailable(f"cannot open {self.name!r} ({e})") from None

    def close(self) -> None:
        stream, self._stream = self._stream, None
        if stream is not None:
            try:
                stream.stop()
                stream.close()
            except Exception as e:
                log.debug("closing the stream: %s", e)

    @property
    def is_open(self) -> bool:
        return self._stream is not None


def open_output_device(device: int | str | None = None) -> OutputDevice:
    """The chosen (or default) PortAudio output, or a NullOutput carrying the reason there is none."""
    try:
        list_output_devices()
        return SoundDeviceOutput(device)
    except PreviewUnavailable as e:
        if device is not None:
            try:
                return SoundDeviceOutput(None)
            except PreviewUnavailable:
                pass
        log.info("preview unavailable: %s", e)
        return NullOutput(str(e))
