"""`--model auto` with several checkpoints cached: the default first, then melody before text-only,
smaller before larger, mono before stereo; nothing cached (or an unreadable cache) means debug."""

from __future__ import annotations

import pytest

from bridge.commands import model
from bridge.engine.archs import ARCHS, DEFAULT_MODEL


def _cache(monkeypatch, cached: set[str], broken: bool = False) -> None:
    def lookup(repo_id: str, filename: str):
        if broken:
            raise OSError("cache unreadable")
        assert filename == "config.json"
        return f"/cache/{repo_id}/config.json" if repo_id in cached else None

    monkeypatch.setattr(model, "try_to_load_from_cache", lookup)


def test_every_release_is_tried_in_the_documented_order():
    names = ("melody", "stereo-melody", "melody-large", "stereo-melody-large", "small", "stereo-small",
             "medium", "stereo-medium", "large", "stereo-large")
    expected = tuple(f"facebook/musicgen-{n}" for n in names)
    assert expected == model.AUTO_PREFERENCE
    assert set(model.AUTO_PREFERENCE) == {a.hub_id for a in ARCHS.values() if a.hub_id}


@pytest.mark.parametrize(
    "cached, chosen",
    [
        ({DEFAULT_MODEL, "facebook/musicgen-stereo-melody", "facebook/musicgen-small"}, DEFAULT_MODEL),
        ({"facebook/musicgen-stereo-melody-large", "facebook/musicgen-stereo-melody"},
         "facebook/musicgen-stereo-melody"),
        ({"facebook/musicgen-stereo-small", "facebook/musicgen-melody-large"}, "facebook/musicgen-melody-large"),
        ({"facebook/musicgen-stereo-large", "facebook/musicgen-medium"}, "facebook/musicgen-medium"),
    ],
)
def test_auto_takes_the_first_cached_release(monkeypatch, capsys, cached, chosen):
    _cache(monkeypatch, cached)
    assert model.resolve_model_name("auto") == chosen
    err = capsys.readouterr().err
    assert (err == "") == (chosen == DEFAULT_MODEL)  # a note only when it is not the default
    if err:
        assert chosen in err and err.count("\n") == 1


@pytest.mark.parametrize("broken", [False, True])
def test_nothing_cached_means_the_debug_model_with_a_warning(monkeypatch, capsys, broken):
    _cache(monkeypatch, set(), broken)
    assert model.resolve_model_name("auto") == "debug"
    assert "random-weight debug model" in capsys.readouterr().err


def test_a_named_model_is_taken_as_given(monkeypatch):
    _cache(monkeypatch, {DEFAULT_MODEL})
    assert model.resolve_model_name("facebook/musicgen-stereo-small") == "facebook/musicgen-stereo-small"
