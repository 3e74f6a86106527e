"""Preview playback: streamed chunks while a loop is generated, and play/stop/loop of finished files.

    player = PreviewPlayer(open_output_device())    # SoundDeviceOutput, or NullOutput when none exists
    player.start_stream("r1")
    player.add_chunk_file("r1", 1, "/out/.jobs/j/chunk-0001.wav", 0.5)   # held until chunk 0 arrives
    player.add_chunk_file("r1", 0, "/out/.jobs/j/chunk-0000.wav", 0.0)   # now 0 then 1 play
    player.end_stream("r1")                         # play what is buffered, then stop
    player.play_file("/out/loop.wav", loop=True)

The output device (`gui.output`) pulls audio through a callback (`render(frames)`) from its own thread,
like a PortAudio callback stream: everything the callback touches sits behind one lock, and the GUI
thread only appends blocks.
"""

from __future__ import annotations

import logging
import threading
from collections import deque
from collections.abc import Callable
from typing import Any

import numpy as np
import soundfile

from bridge.limits import MODEL_SAMPLE_RATE
from gui.output import OUTPUT_CHANNELS, NullOutput, OutputDevice

log = logging.getLogger(__name__)

CHUNK_SAMPLE_RATE = MODEL_SAMPLE_RATE  # Hz: the daemon writes preview chunks at the model's native rate
DEFAULT_VOLUME = 0.8  # 0..1, mapped to gain = volume**2 (a rough loudness-linear fader)
MAX_QUEUED_SECONDS = 600.0  # a stream buffers at most this much before old blocks are dropped


# ------------------------------------------------------------------------------------------ dsp


class LinearResampler:
    """Streaming linear-interpolation resampler that carries its phase across blocks (no seams).
    Good enough for previews; the files themselves are written by the daemon at the chosen rate."""

    def __init__(self, rate_in: int, rate_out: int, channels: int):
        self.step = rate_in / rate_out  # input samples per output sample
        self._prev = np.zeros((1, channels), np.float32)
        self._pos = 1.0  # position of the next output sample in [prev, block...] coordinates

    def process(self, block: Any) -> Any:
        x = np.concatenate([self._prev, block])
        n = len(x)
        if n < 2:
            return np.zeros((0, x.shape[1]), np.float32)
        count = max(0, int(np.floor((n - 1 - self._pos) / self.step)) + 1)
        t = self._pos + self.step * np.arange(count)
        i = np.minimum(t.astype(np.int64), n - 2)
        frac = (t - i)[:, None].astype(np.float32)
        out = x[i] * (1.0 - frac) + x[i + 1] * frac
        self._pos = (self._pos + self.step * count) - (n - 1)
        self._prev = x[-1:].copy()
        return out.astype(np.float32)


def _as_frames(audio: Any, channels: int) -> Any:
    """(frames,), (frames, ch) or (ch, frames) float audio -> float32 (frames, channels)."""
    a = np.asarray(audio, dtype=np.float32)
    if a.ndim == 1:
        a = a[:, None]
    elif a.shape[0] <= 8 and a.shape[1] > a.shape[0]:
        a = a.T  # channels first
    if a.shape[1] == channels:
        return np.ascontiguousarray(a)
    if a.shape[1] == 1:
        return np.repeat(a, channels, axis=1)
    mono = a.mean(axis=1, keepdims=True)
    return np.repeat(mono, channels, axis=1) if channels > 1 else mono


def _empty_frames() -> Any:
    return np.zeros((0, OUTPUT_CHANNELS), np.float32)


# ------------------------------------------------------------------------------------------ player


class PreviewPlayer:
    """Plays one thing at a time: a stream of chunks (in index order) or a file (optionally looped).

    States: 'idle', 'streaming' (chunks of a job), 'playing' (a file). All public methods are called
    from the GUI thread; `render` runs on the device's thread.
    """

    def __init__(self, device: OutputDevice | None = None):
        self.device: OutputDevice = device if device is not None else NullOutput()
        self._lock = threading.Lock()
        self.volume = DEFAULT_VOLUME
        self._gain = DEFAULT_VOLUME**2
        self._reset_locked()
        self.on_finished: Callable[[str], None] | None = None  # called from the GUI thread (poll)

    # ------------------------------------------------------------------ info

    @property
    def available(self) -> bool:
        return self.device.available

    @property
    def unavailable_reason(self) -> str:
        return getattr(self.device, "reason", "")

    @property
    def state(self) -> str:
        return self._state

    @property
    def stream_key(self) -> str:
        return self._key

    @property
    def current_path(self) -> str:
        return self._path

    @property
    def looping(self) -> bool:
        return self._loop

    def position_seconds(self) -> float:
        with self._lock:
            return self._played / self._rate if self._rate else 0.0

    def duration_seconds(self) -> float:
        with self._lock:
            if self._state == "playing" and self._file is not None:
                return len(self._file) / self._rate
            return self._queued_total / self._rate if self._rate else 0.0

    def played_chunks(self) -> list[int]:
        """Chunk indices handed to the output so far, in the order they were queued."""
        with self._lock:
            return list(self._order)

    # ------------------------------------------------------------------ controls

    def set_device(self, device: OutputDevice) -> None:
        self.stop()
        self.device.close()
        self.device = device

    def set_volume(self, volume: float) -> None:
        self.volume = min(max(float(volume), 0.0), 1.0)
        with self._lock:
            self._gain = self.volume**2

    def set_loop(self, loop: bool) -> None:
        with self._lock:
            self._loop = bool(loop)

    def stop(self) -> None:
        with self._lock:
            self._reset_locked()
        self.device.close()

    def start_stream(self, key: str) -> None:
        """Begin previewing a job's chunks (stops whatever played before)."""
        self.stop()
        with self._lock:
            self._state, self._key, self._rate = "streaming", key, CHUNK_SAMPLE_RATE

    def add_chunk_file(self, key: str, index: int, path: str, start_seconds: float | None = None) -> bool:
        """Read one chunk WAV and queue it; False if it belongs to another stream or cannot be read."""
        if key != self._key or self._state != "streaming":
            return False
        try:
            audio, rate = soundfile.read(path, dtype="float32", always_2d=True)
        except Exception as e:
            log.warning("cannot read preview chunk %s: %s", path, e)
            return False
        return self.add_chunk(key, index, audio, start_seconds, rate)

    def add_chunk(
        self,
        key: str,
        index: int,
        audio: Any,
        start_seconds: float | None = None,
        rate: int = CHUNK_SAMPLE_RATE,
    ) -> bool:
        """Queue chunk `index` of stream `key`. Chunks play in index order: a chunk that arrives early
        waits for the ones before it; a duplicate is ignored."""
        if key != self._key or self._state != "streaming":
            return False
        frames = _as_frames(audio, OUTPUT_CHANNELS)
        with self._lock:
            if index < self._next_index or index in self._pending:
                return False
            if rate != self._rate and not self._order and not self._pending:
                self._rate = int(rate)
            self._pending[index] = (frames, start_seconds)
            self._release_locked()
        self._ensure_open()
        return True

    def end_stream(self, key: str) -> None:
        """No more chunks will come for `key`: play what is buffered (skipping any lost chunk), then idle."""
        with self._lock:
            if key == self._key and self._state == "streaming":
                self._ended = True
                self._release_locked(skip_gaps=True)

    def play_file(self, path: str, loop: bool = False, start: float = 0.0) -> None:
        """Play a finished loop from `start` seconds (its start by default); PreviewUnavailable or
        OSError-like errors propagate."""
        audio, rate = soundfile.read(path, dtype="float32", always_2d=True)
        self.stop()
        with self._lock:
            self._state, self._path, self._loop = "playing", str(path), bool(loop)
            self._file, self._rate = _as_frames(audio, OUTPUT_CHANNELS), int(rate)
            self._seek_locked(start)
        self._ensure_open()

    def seek(self, seconds: float) -> bool:
        """Move the playing file's playhead to `seconds` (clamped to the file); False when no file plays."""
        with self._lock:
            if self._state != "playing" or self._file is None:
                return False
            self._seek_locked(seconds)
            self._carry = None  # resampled output of the old position is dropped
            return True

    def _seek_locked(self, seconds: float) -> None:
        total = len(self._file) if self._file is not None else 0
        frame = min(max(int(round(float(seconds) * self._rate)), 0), max(total - 1, 0))
        self._file_pos = frame
        self._played = frame  # position_seconds() then reads the new place

    def poll(self) -> None:
        """Call from a GUI timer: turns a drained stream or a finished file into 'idle'."""
        finished = ""
        with self._lock:
            if self._drained:
                finished = self._key or self._path
                self._reset_locked()
        if finished:
            self.device.close()
            if self.on_finished is not None:
                self.on_finished(finished)

    # ------------------------------------------------------------------ internals

    def _reset_locked(self) -> None:
        self._state = "idle"
        self._key = ""
        self._path = ""
        self._loop = False
        self._file: Any = None
        self._file_pos = 0
        self._rate = CHUNK_SAMPLE_RATE
        self._pending: dict[int, tuple[Any, float | None]] = {}
        self._queue: deque[Any] = deque()
        self._queue_offset = 0
        self._queued_total = 0  # frames ever queued in this stream (at the material's rate)
        self._next_index = 0
        self._expected_start = 0.0  # seconds where the next chunk should start
        self._order: list[int] = []
        self._ended = False
        self._drained = False
        self._played = 0  # material frames handed to the device
        self._resampler: LinearResampler | None = None
        self._carry: Any = None  # resampled output not yet handed to the device
        self._device_rate = 0

    def _release_locked(self, skip_gaps: bool = False) -> None:
        """Move pending chunks that are next in line into the play queue. With skip_gaps, a missing chunk
        (the daemon may fail to write one) is replaced by silence of its length."""
        while self._pending:
            if self._next_index not in self._pending:
                if not skip_gaps:
                    return
                first = min(self._pending)
                _, start = self._pending[first]
                gap = 0 if start is None else int(round((start - self._expected_start) * self._rate))
                if gap > 0:
                    self._push_locked(np.zeros((gap, OUTPUT_CHANNELS), np.float32))
                log.info("preview chunk(s) %d..%d never came; skipped", self._next_index, first - 1)
                self._next_index = first
            frames, start = self._pending.pop(self._next_index)
            self._push_locked(frames)
            self._order.append(self._next_index)
            base = self._expected_start if start is None else start
            self._expected_start = base + len(frames) / self._rate
            self._next_index += 1

    def _push_locked(self, frames: Any) -> None:
        self._queue.append(frames)
        self._queued_total += len(frames)
        limit = int(MAX_QUEUED_SECONDS * self._rate)
        while sum(len(b) for b in self._queue) - self._queue_offset > limit and len(self._queue) > 1:
            self._queue.popleft()
            self._queue_offset = 0

    def _ensure_open(self) -> None:
        """Open the device at the material's rate when it supports it, else at its own rate, resampling."""
        with self._lock:
            rate = self._rate
            if self.device.is_open and self._device_rate:
                return
        device_rate = (
            rate if self.device.supports(rate, OUTPUT_CHANNELS) else self.device.default_samplerate()
        )
        with self._lock:
            self._device_rate = device_rate
            self._resampler = (
                None if device_rate == rate else LinearResampler(rate, device_rate, OUTPUT_CHANNELS)
            )
        self.device.open(device_rate, OUTPUT_CHANNELS, self.render)

    def _take_locked(self, frames: int) -> Any:
        """Up to `frames` material frames from the stream queue or the file (looping)."""
        out = np.zeros((frames, OUTPUT_CHANNELS), np.float32)
        filled = 0
        if self._state == "streaming":
            while filled < frames and self._queue:
                block = self._queue[0]
                n = min(frames - filled, len(block) - self._queue_offset)
                out[filled : filled + n] = block[self._queue_offset : self._queue_offset + n]
                filled += n
                self._queue_offset += n
                if self._queue_offset >= len(block):
                    self._queue.popleft()
                    self._queue_offset = 0
            if not self._queue and self._ended and not self._pending:
                self._drained = True
        elif self._state == "playing" and self._file is not None:
            total = len(self._file)
            while filled < frames and total:
                n = min(frames - filled, total - self._file_pos)
                out[filled : filled + n] = self._file[self._file_pos : self._file_pos + n]
                filled += n
                self._file_pos += n
                if self._file_pos >= total:
                    if not self._loop:
                        self._drained = True
                        break
                    self._file_pos = 0
        self._played += filled
        return out[:filled]

    def render(self, frames: int) -> Any:
        """The device callback: `frames` output frames (silence where nothing is queued)."""
        out = np.zeros((frames, OUTPUT_CHANNELS), np.float32)
        with self._lock:
            if self._state == "idle":
                return out
            gain = self._gain
            resampler = self._resampler
            if resampler is None:
                block = self._take_locked(frames)
                out[: len(block)] = block
            else:
                carry = self._carry if self._carry is not None else _empty_frames()
                while len(carry) < frames:
                    taken = self._take_locked(max(1, int(np.ceil((frames - len(carry)) * resampler.step))))
                    if not len(taken):
                        break
                    carry = np.concatenate([carry, resampler.process(taken)])
                out[: min(frames, len(carry))] = carry[:frames]
                self._carry = carry[frames:]
        out *= gain
        return out
