"""Where the MIDI mapping file lives and how it is read and written.

    explicit path | the user's MIDI-learn file | the packaged default ─> resolve_mapping_path ─> load_mapping
    new text ─> write_text_atomic ─> the file (readers see the old or the new file, never half of one)

The user's file sits in the platform's per-user config folder; the daemon watches the resolved path and
reloads it when MIDI learn (`bridge.midi.learn`) rewrites it.
"""

from __future__ import annotations

import contextlib
import os
import sys
import tempfile
from importlib import resources
from pathlib import Path

from bridge.midi.mapping import Mapping, MidiMapError, parse_mapping

DEFAULT_FILE = "midi_default.toml"  # package data, the format's documentation
USER_FILE = "midi.toml"  # the user's own copy, written by MIDI learn
APP_DIR = "musicgen-bridge"


def default_mapping_text() -> str:
    """The packaged default mapping (its comments document the format)."""
    return resources.files("bridge.midi").joinpath(DEFAULT_FILE).read_text(encoding="utf-8")


def user_mapping_path() -> Path:
    """Where MIDI learn keeps the user's mapping: the platform's per-user config folder."""
    if sys.platform == "win32":
        base = Path(os.environ.get("APPDATA") or Path.home() / "AppData" / "Roaming")
    elif sys.platform == "darwin":
        base = Path.home() / "Library" / "Application Support"
    else:
        base = Path(os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config")
    return base / APP_DIR / USER_FILE


def resolve_mapping_path(explicit: Path | None = None) -> Path | None:
    """The file in use: `explicit` if given, else the user's file if it exists, else None (the default)."""
    if explicit is not None:
        return Path(explicit).expanduser()
    user = user_mapping_path()
    return user if user.is_file() else None


def load_mapping(path: Path | None = None) -> Mapping:
    """Read and validate a mapping file; None reads the packaged default."""
    if path is None:
        return parse_mapping(default_mapping_text(), DEFAULT_FILE)
    path = Path(path).expanduser()
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise MidiMapError(str(path), None, "no such file") from None
    except (OSError, UnicodeDecodeError) as e:
        raise MidiMapError(str(path), None, f"cannot read it: {e}") from None
    return parse_mapping(text, str(path))


def write_text_atomic(path: Path, text: str) -> None:
    """Write beside the target, fsync, then rename over it: readers see the old or the new file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
