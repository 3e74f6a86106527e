"""MusicGen architectures as data, used to build random-weight models offline.

No torch import here: the table is plain data; `bridge.engine.loading` turns an entry into transformers configs.
Real checkpoints are loaded with `from_pretrained`; these builds exist for tests (`debug`) and for
benchmarks at real size, where speed does not depend on weight values.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace


@dataclass(frozen=True)
class TextEncoderArch:
    d_model: int = 768
    num_layers: int = 12
    num_heads: int = 12
    d_ff: int = 3072
    d_kv: int = 64
    vocab_size: int = 32128


@dataclass(frozen=True)
class CodecArch:
    """EnCodec 32 kHz: hop 8*5*4*4 = 640 samples => 50 frames/s, 4 codebooks of 2048 at 2.2 kbps."""

    num_filters: int = 64
    hidden_size: int = 128
    codebook_dim: int = 128
    num_lstm_layers: int = 2
    upsampling_ratios: tuple[int, ...] = (8, 5, 4, 4)


@dataclass(frozen=True)
class Arch:
    name: str
    hidden_size: int
    num_layers: int
    num_heads: int
    melody: bool  # True: chroma + text prefix (MusicGen-Melody); False: cross-attention to text
    text: TextEncoderArch = field(default_factory=TextEncoderArch)
    codec: CodecArch = field(default_factory=CodecArch)
    num_codebooks: int = 4  # stereo: 8, the two channels' 4 codebooks interleaved [L0, R0, L1, R1, ...]
    vocab_size: int = 2048  # codes per codebook; the pad/BOS id is vocab_size
    ffn_mult: int = 4
    hub_id: str | None = None
    audio_channels: int = 1  # 2: a stereo release (each channel's codes through the mono EnCodec)

    @property
    def ffn_dim(self) -> int:
        return self.ffn_mult * self.hidden_size


def stereo(arch: Arch, name: str, hub_id: str | None = None) -> Arch:
    """The stereo release of `arch`: the same decoder with 2 x 4 interleaved codebooks (8 embeddings and
    8 heads), the same mono 32 kHz EnCodec applied to each channel."""
    return replace(arch, name=name, hub_id=hub_id, audio_channels=2, num_codebooks=2 * arch.num_codebooks)


# A tiny model: real classes, random weights, seconds on a CPU. The codec keeps the real hop (640) and
# frame rate (50 Hz) so every piece of tempo and length math runs exactly as with real weights.
DEBUG = Arch(
    name="debug",
    hidden_size=32,
    num_layers=2,
    num_heads=2,
    melody=True,
    text=TextEncoderArch(d_model=32, num_layers=1, num_heads=2, d_ff=64, d_kv=16, vocab_size=260),
    codec=CodecArch(num_filters=2, hidden_size=16, codebook_dim=16, num_lstm_layers=1),
)

DEBUG_STEREO = stereo(DEBUG, "debug-stereo")  # the tiny model in stereo (melody-conditioned, like debug)

_MONO = (
    Arch("small", 1024, 24, 16, melody=False, hub_id="facebook/musicgen-small"),
    Arch("medium", 1536, 48, 24, melody=False, hub_id="facebook/musicgen-medium"),
    Arch("melody", 1536, 48, 24, melody=True, hub_id="facebook/musicgen-melody"),
    Arch("large", 2048, 48, 32, melody=False, hub_id="facebook/musicgen-large"),
    Arch("melody-large", 2048, 48, 32, melody=True, hub_id="facebook/musicgen-melody-large"),
)
# every mono release has a stereo twin of the same size: facebook/musicgen-stereo-<name>
_STEREO = tuple(stereo(a, f"stereo-{a.name}", f"facebook/musicgen-stereo-{a.name}") for a in _MONO)

ARCHS: dict[str, Arch] = {a.name: a for a in (DEBUG, DEBUG_STEREO, *_MONO, *_STEREO)}
RANDOM_BUILDS = ("debug", "debug-stereo")  # built in-process with random weights by name alone

DEFAULT_MODEL = "facebook/musicgen-melody"
