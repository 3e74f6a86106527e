"""Which files the panel takes as a clip, and plain words for the ones it cannot use.

    clip_verdict("/x/riff.oga")   -> ("/x/riff.oga", "")
    clip_verdict("/x/song.m4a")   -> ("", "song.m4a is AAC (M4A) audio, which the daemon cannot read: ...")
    plain_read_error("Error opening '/x/a.wav': Format not recognised.") -> "it is not audio the daemon can read ..."

The daemon reads clips with libsndfile (bridge/audio/io.py: `sf.info` / `sf.read`), which decodes WAV,
AIFF, FLAC, Ogg Vorbis and Opus (.ogg, .oga, .opus), MP3, CAF, W64, RF64 and AU whatever the name says;
it has no AAC or ALAC decoder, so .m4a/.mp4/.aac files are refused up front, saying why. Pure: no Qt.
"""

from __future__ import annotations

import os
from collections.abc import Iterable

READABLE_EXTENSIONS = (
    ".wav",
    ".wave",
    ".aif",
    ".aiff",
    ".aifc",
    ".flac",
    ".ogg",
    ".oga",
    ".opus",
    ".mp3",
    ".caf",
    ".w64",
    ".rf64",
    ".au",
)
CONVERT_HINT = "Export or convert it to WAV, AIFF, FLAC or MP3 first."
UNREADABLE_KINDS = {  # extension -> what it is, for the refusal
    ".m4a": "AAC (M4A) audio",
    ".mp4": "an MP4 file",
    ".aac": "AAC audio",
    ".alac": "Apple Lossless audio",
    ".wma": "Windows Media audio",
    ".ape": "Monkey's Audio",
    ".mid": "a MIDI file (notes, not audio)",
    ".midi": "a MIDI file (notes, not audio)",
    ".als": "a Live set, not audio",
}
FILE_FILTER = "Audio files (" + " ".join(f"*{e}" for e in READABLE_EXTENSIONS) + ");;All files (*)"
TYPES_TEXT = "WAV, AIFF, FLAC, Ogg/Opus, MP3, CAF"


def is_readable_name(path: str) -> bool:
    return path.lower().endswith(READABLE_EXTENSIONS)


def clip_verdict(path: str) -> tuple[str, str]:
    """(path, '') when `path` can be used as a clip, else ('', why not in plain words)."""
    name = os.path.basename(path) or path
    if not os.path.exists(path):
        return "", f"{name} is not there any more."
    if os.path.isdir(path):
        return "", f"{name} is a folder; drop an audio file."
    ext = os.path.splitext(path)[1].lower()
    if ext in UNREADABLE_KINDS:
        return "", (
            f"{name} is {UNREADABLE_KINDS[ext]}, which the daemon cannot read "
            f"(its audio library, libsndfile, has no decoder for it). {CONVERT_HINT}"
        )
    if not is_readable_name(path):
        return "", f"{name} is not an audio file the daemon can read ({TYPES_TEXT})."
    return os.path.abspath(path), ""


def first_clip(paths: Iterable[str]) -> tuple[str, str]:
    """The first usable clip among dropped paths, or ('', why the first one was refused)."""
    problem = ""
    for path in paths:
        clip, why = clip_verdict(path)
        if clip:
            return clip, ""
        problem = problem or why
    return "", problem or "Only audio files can be dropped here."


def plain_read_error(reason: str) -> str:
    """A reader's error (LibsndfileError, OSError text) as words for the clip box."""
    low = (reason or "").lower()
    if "format not recognised" in low or "format not recognized" in low or "unknown format" in low:
        return f"It is not audio the daemon can read ({TYPES_TEXT})."
    if "permission" in low:
        return "The panel may not open it (permission denied)."
    if "no such file" in low or "does not exist" in low:
        return "The file is not there any more."
    if "too large" in low or "larger than" in low:
        return "It is too large to use as a clip."
    if "empty" in low or "no frames" in low or "0 frames" in low:
        return "It holds no audio."
    return "It could not be read as audio; it may be damaged or an unsupported kind of file."
