"""A checked generate request mapped onto GenerationRequest through the one field table."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from bridge import protocol
from bridge.cli import build_parser, generate_values
from bridge.protocol import parse_request
from bridge.protocol.to_request import to_generation_request
from bridge.request import GenerationRequest

GEN = "/musicgen/generate"


def gen(*args):
    return parse_request(GEN, ["r1", "bpm", 120, "bars", 4, *args])


def test_generate_defaults_and_mapping():
    r = gen("prompt", "dub techno", "reply_port", 9100)
    assert (r.verb, r.request_id, r.reply_port) == ("generate", "r1", 9100)
    kw = protocol.generation_kwargs(r)
    assert kw["bpm"] == 120 and kw["bars"] == 4 and kw["seed"] is None and kw["region"] is None
    assert kw["subtype"] == "PCM_24" and kw["loudness_lufs"] == -14.0 and kw["continue_from"] is None
    req = to_generation_request(r)
    assert req.prompt == "dub techno" and req.sample_rate == 44100 and 0 <= req.seed <= protocol.MAX_SEED


def test_generate_maps_region_continue_seed_and_format(clip):
    path = str(clip(seconds=2.0))
    r = gen(
        "continue",
        path,
        "region_start",
        0.5,
        "region_end",
        1.5,
        "seed",
        11,
        "normalize",
        0,
        "bit_depth",
        16,
        "keep_prompt",
        1,
    )
    req = to_generation_request(r)
    assert req.continue_from == Path(path) and req.region == (0.5, 1.5) and req.seed == 11
    assert req.loudness_lufs is None and req.subtype == "PCM_16" and req.keep_prompt is True


def test_the_field_table_covers_every_generate_key_once_and_only_request_fields():
    keys = [k for f in protocol.REQUEST_FIELDS for k in f.keys]
    table = [f.name for f in protocol.REQUESTS["generate"].fields if f is not protocol.REPLY_PORT]
    assert sorted(keys) == sorted(table)
    names = {f.name for f in dataclasses.fields(GenerationRequest)}
    assert {f.field for f in protocol.REQUEST_FIELDS} <= names


def test_errors_name_the_key_the_client_sent():
    assert protocol.key_of("continue_from") == "continue"
    assert protocol.key_of("region") == "region_start/region_end"
    assert protocol.key_of("loudness_lufs") == "loudness"
    assert protocol.key_of("subtype") == "bit_depth"
    assert protocol.key_of("bpm") == "bpm"
    assert protocol.key_of("peak_dbfs") == "peak_dbfs"  # no key sets it


def test_request_kwargs_read_values_named_by_key():
    values = {f.name: f.default for f in protocol.REQUESTS["generate"].fields}
    values.update(prompt="x", bpm=90.0, bars=2, normalize=False, bit_depth="float", seed=5)
    kw = protocol.request_kwargs(values)
    assert kw["loudness_lufs"] is None and kw["subtype"] == "FLOAT" and kw["seed"] == 5
    assert protocol.request_kwargs({**values, "seed": None})["seed"] is None


def test_the_cli_maps_its_options_through_the_same_table():
    argv = ["generate", "dub", "--bpm", "124", "--bars", "8", "--no-normalize", "--bit-depth", "16"]
    argv += ["--seed", "3", "--top-k", "50", "--region", "0.5", "1.5", "--time-signature", "7/8"]
    cli = protocol.request_kwargs(generate_values(build_parser().parse_args(argv)))
    osc = ["r1", "prompt", "dub", "bpm", 124, "bars", 8, "normalize", 0, "bit_depth", "16", "seed", 3]
    osc += ["top_k", 50, "region_start", 0.5, "region_end", 1.5, "time_signature", "7/8"]
    assert cli == protocol.generation_kwargs(parse_request(GEN, osc))
    assert cli["loudness_lufs"] is None and cli["subtype"] == "PCM_16" and cli["region"] == (0.5, 1.5)


def test_the_cli_defaults_are_the_tables():
    args = build_parser().parse_args(["generate", "x", "--bpm", "120", "--bars", "4"])
    assert protocol.request_kwargs(generate_values(args)) == protocol.generation_kwargs(gen("prompt", "x"))


def test_channels_reach_the_request_and_only_0_1_2_pass():
    assert to_generation_request(gen("prompt", "x")).channels == 0  # absent: the model's
    assert to_generation_request(gen("prompt", "x", "channels", 2)).channels == 2
    assert to_generation_request(gen("prompt", "x", "channels", 1)).channels == 1
    for bad in (3, -1):
        try:
            gen("prompt", "x", "channels", bad)
        except protocol.ProtocolError as e:
            assert e.field == "channels"
        else:
            raise AssertionError(f"channels {bad} was accepted")
