"""MusicGen Bridge: AI-generated, bar-exact loops for your DAW.

Importing `bridge` stays light (no torch): the panel imports `bridge.protocol` and must start fast.
Heavy modules (engine, decoder, streaming, chroma) import torch themselves.
"""

__version__ = "0.1.0"
