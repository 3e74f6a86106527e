"""Tests for bridge.engine.archs: every MusicGen release as data, the stereo ones included."""

from __future__ import annotations

import pytest
import transformers as tf

from bridge.engine.archs import ARCHS, DEBUG, RANDOM_BUILDS
from bridge.engine.loading import build_config

STEREO = ("stereo-small", "stereo-medium", "stereo-large", "stereo-melody", "stereo-melody-large")


@pytest.mark.parametrize("name", STEREO)
def test_stereo_releases_are_their_mono_twin_with_interleaved_codebooks(name):
    arch, mono = ARCHS[name], ARCHS[name.removeprefix("stereo-")]
    assert arch.hub_id == f"facebook/musicgen-{name}"
    assert (arch.audio_channels, arch.num_codebooks) == (2, 8)  # [L0, R0, L1, R1, L2, R2, L3, R3]
    assert (arch.hidden_size, arch.num_layers, arch.num_heads, arch.melody) == (
        mono.hidden_size, mono.num_layers, mono.num_heads, mono.melody
    )
    assert (mono.audio_channels, mono.num_codebooks) == (1, 4)


def test_debug_stereo_is_debug_in_stereo():
    arch = ARCHS["debug-stereo"]
    assert "debug-stereo" in RANDOM_BUILDS and arch.hub_id is None and arch.melody == DEBUG.melody
    assert (arch.hidden_size, arch.text, arch.codec) == (DEBUG.hidden_size, DEBUG.text, DEBUG.codec)
    assert (arch.audio_channels, arch.num_codebooks) == (2, 8)


@pytest.mark.parametrize("name,cls", [("debug-stereo", tf.MusicgenMelodyConfig), ("stereo-small", tf.MusicgenConfig)])
def test_stereo_builds_carry_the_channels_to_transformers(name, cls):
    config = build_config(ARCHS[name])
    assert isinstance(config, cls)
    assert (config.decoder.audio_channels, config.decoder.num_codebooks) == (2, 8)
    assert config.audio_encoder.audio_channels == 1  # one mono codec, run once per channel
