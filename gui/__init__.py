"""The MusicGen Bridge desktop panel (PyQt6). Talks to the daemon over OSC only; never imports torch."""
