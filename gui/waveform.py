"""Waveform thumbnails: min/max per pixel column, read off the GUI thread, drawn as a filled envelope.

    thumb = read_thumbnail("/out/loop.wav")              # in a worker (ThumbnailLoader does this)
    pixmap = waveform_pixmap(thumb.mins, thumb.maxs, 240, 48, QColor("#ff9f43"))
    paint_thumbnail(painter, x, y, width, height, thumb, color)   # a stereo file: left above right

The same read also returns the WAV's metadata (the daemon writes the prompt as `title` and
"bpm=124 bars=8 time_signature=4/4 seed=7 model=..." as `comment`), so a result is described by its
own file even after a daemon restart.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import soundfile
from PyQt6.QtCore import QObject, QPointF, QRunnable, Qt, QThreadPool, pyqtSignal
from PyQt6.QtGui import QColor, QPainter, QPainterPath, QPixmap

log = logging.getLogger(__name__)

THUMB_COLUMNS = 256  # peaks per thumbnail; drawing scales them to any width
MAX_THUMB_BYTES = 2 << 30  # refuse to read files larger than this for a thumbnail


@dataclass(frozen=True)
class Thumbnail:
    path: str
    mins: tuple[float, ...]
    maxs: tuple[float, ...]
    duration: float = 0.0  # seconds
    samplerate: int = 0
    channels: int = 0
    metadata: dict[str, str] = field(default_factory=dict)
    # a stereo file's own (mins, maxs) per channel, left then right ('()' for mono: mins/maxs say it all)
    lanes: tuple[tuple[tuple[float, ...], tuple[float, ...]], ...] = ()


def compute_peaks(audio: Any, columns: int = THUMB_COLUMNS) -> tuple[Any, Any]:
    """(frames,) or (frames, channels) audio -> (mins, maxs), `columns` values each, over all channels."""
    a = np.asarray(audio, dtype=np.float32)
    if a.ndim == 2:
        lo, hi = a.min(axis=1), a.max(axis=1)
    else:
        lo = hi = a
    n = len(lo)
    if n == 0 or columns <= 0:
        zeros = np.zeros(max(columns, 0), np.float32)
        return zeros, zeros.copy()
    starts = (np.arange(columns, dtype=np.int64) * n) // columns
    mins = np.minimum.reduceat(lo, starts)
    maxs = np.maximum.reduceat(hi, starts)
    return np.clip(mins, -1.0, 1.0), np.clip(maxs, -1.0, 1.0)


def channel_peaks(audio: Any, columns: int = THUMB_COLUMNS) -> list[tuple[Any, Any]]:
    """(frames, channels) audio -> [(mins, maxs)] per channel, `columns` values each."""
    a = np.asarray(audio, dtype=np.float32)
    if a.ndim == 1:
        a = a[:, None]
    return [compute_peaks(a[:, c], columns) for c in range(a.shape[1])]


def _floats(values: Any) -> tuple[float, ...]:
    return tuple(float(v) for v in values)


def read_thumbnail(path: str, columns: int = THUMB_COLUMNS) -> Thumbnail:
    """Peaks, duration and metadata of an audio file (OSError/RuntimeError if it cannot be read)."""
    size = os.path.getsize(path)
    if size > MAX_THUMB_BYTES:
        raise OSError(f"{path} is too large for a thumbnail ({size} bytes)")
    with soundfile.SoundFile(path) as f:
        metadata = {k: str(v) for k, v in f.copy_metadata().items()}
        audio = f.read(dtype="float32", always_2d=True)
        rate, channels = f.samplerate, f.channels
    mins, maxs = compute_peaks(audio, columns)
    lanes = (
        tuple((_floats(lo), _floats(hi)) for lo, hi in channel_peaks(audio, columns)) if channels == 2 else ()
    )
    return Thumbnail(
        path=str(path),
        mins=tuple(float(v) for v in mins),
        maxs=tuple(float(v) for v in maxs),
        duration=len(audio) / rate if rate else 0.0,
        samplerate=int(rate),
        channels=int(channels),
        metadata=metadata,
        lanes=lanes,
    )


def paint_waveform(
    painter: QPainter, x: float, y: float, width: float, height: float, mins: Any, maxs: Any, color: QColor
) -> None:
    """A filled min/max envelope inside the rectangle, with a faint centre line."""
    mid = y + height / 2.0
    half = height / 2.0 * 0.92
    painter.save()
    painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
    centre = QColor(color)
    centre.setAlpha(70)
    painter.setPen(centre)
    painter.drawLine(QPointF(x, mid), QPointF(x + width, mid))
    n = len(maxs)
    if n:
        step = width / max(n - 1, 1)
        path = QPainterPath()
        path.moveTo(x, mid - max(maxs[0], 0.0) * half)
        for i in range(1, n):
            path.lineTo(x + i * step, mid - max(maxs[i], 0.004) * half)
        for i in range(n - 1, -1, -1):
            path.lineTo(x + i * step, mid - min(mins[i], -0.004) * half)
        path.closeSubpath()
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(color)
        painter.drawPath(path)
    painter.restore()


STEREO_GAP = 2.0  # px between the left and the right lane


def paint_thumbnail(
    painter: QPainter, x: float, y: float, width: float, height: float, thumb: Thumbnail, color: QColor
) -> None:
    """A thumbnail's waveform: one envelope for a mono file, two lanes (left above right) for a stereo one,
    so a stereo loop's image shows (a hard-panned part sits in one lane only)."""
    if len(thumb.lanes) == 2 and height >= 2 * STEREO_GAP + 8:
        lane = (height - STEREO_GAP) / 2.0
        for i, (mins, maxs) in enumerate(thumb.lanes):
            paint_waveform(painter, x, y + i * (lane + STEREO_GAP), width, lane, mins, maxs, color)
        return
    paint_waveform(painter, x, y, width, height, thumb.mins, thumb.maxs, color)


def waveform_pixmap(
    mins: Any, maxs: Any, width: int, height: int, color: QColor, background: QColor | None = None
) -> QPixmap:
    pixmap = QPixmap(max(int(width), 1), max(int(height), 1))
    pixmap.fill(background if background is not None else QColor(0, 0, 0, 0))
    painter = QPainter(pixmap)
    paint_waveform(painter, 0.0, 0.0, float(width), float(height), mins, maxs, color)
    painter.end()
    return pixmap


# ------------------------------------------------------------------------------------------ loading


class _Job(QRunnable):
    def __init__(self, loader: ThumbnailLoader, path: str, columns: int):
        super().__init__()
        self.loader, self.path, self.columns = loader, path, columns

    def run(self) -> None:
        try:
            thumb = read_thumbnail(self.path, self.columns)
        except Exception as e:
            self.loader._finished.emit(self.path, None, f"{type(e).__name__}: {e}")
            return
        self.loader._finished.emit(self.path, thumb, "")


class ThumbnailLoader(QObject):
    """Reads thumbnails on the global thread pool; results arrive in the GUI thread as signals.
    Cached by (path, mtime, size): a file that changes on disk is read again."""

    loaded = pyqtSignal(str, object)  # path, Thumbnail
    failed = pyqtSignal(str, str)  # path, reason
    _finished = pyqtSignal(str, object, str)

    def __init__(self, columns: int = THUMB_COLUMNS, parent: QObject | None = None):
        super().__init__(parent)
        self.columns = columns
        self._cache: dict[str, tuple[tuple[float, int], Thumbnail]] = {}
        self._busy: set[str] = set()
        self._finished.connect(self._on_finished)

    @staticmethod
    def _stamp(path: str) -> tuple[float, int] | None:
        try:
            st = os.stat(path)
        except OSError:
            return None
        return st.st_mtime, st.st_size

    def cached(self, path: str) -> Thumbnail | None:
        hit = self._cache.get(path)
        return hit[1] if hit is not None and hit[0] == self._stamp(path) else None

    def request(self, path: str) -> None:
        thumb = self.cached(path)
        if thumb is not None:
            self.loaded.emit(path, thumb)
            return
        if self._stamp(path) is None:
            self.failed.emit(path, "the file is missing")
            return
        if path not in self._busy:
            self._busy.add(path)
            QThreadPool.globalInstance().start(_Job(self, path, self.columns))

    def _on_finished(self, path: str, thumb: Thumbnail | None, reason: str) -> None:
        self._busy.discard(path)
        if thumb is None:
            log.info("no thumbnail for %s: %s", path, reason)
            self.failed.emit(path, reason)
            return
        stamp = self._stamp(path)
        if stamp is not None:
            self._cache[path] = (stamp, thumb)
        self.loaded.emit(path, thumb)
