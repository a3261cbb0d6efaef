"""Voices by name, program map files and voices per channel."""

from __future__ import annotations

import mido
import numpy as np
import pytest

from synth.engine import Engine
from synth.gm import default_voice_set
from synth import catalog
from synth.library import user
from synth.library.builtin import builtin_voices
from synth.catalog import CatalogError, parse_channel_voice, read_program_map, voice_set
from synth.voice import sampled_voice
from synth.voicefile import save_voice

FACTORY = builtin_voices()
GM = default_voice_set()
# The tests name voices through the General MIDI map and the factory list, not by hard-coded names,
# so that they hold whatever the factory library holds.
PROGRAM_1 = GM.melodic(0).name
PROGRAM_41 = GM.melodic(40).name
A, B = [name for name in FACTORY if name not in (PROGRAM_1, PROGRAM_41)][:2]
MISSPELT = PROGRAM_1[:-1] + ("x" if PROGRAM_1[-1] != "x" else "y")


@pytest.fixture(autouse=True)
def user_folder(tmp_path, monkeypatch):
    path = tmp_path / "voices"
    monkeypatch.setenv(user.ENV_VAR, str(path))
    return path


def _map(tmp_path, text: str):
    path = tmp_path / "map.toml"
    path.write_text(text)
    return path


def _error(call) -> str:
    with pytest.raises(CatalogError) as caught:
        call()
    message = str(caught.value)
    assert "\n" not in message
    return message


def test_nothing_asked_gives_the_general_midi_set_itself():
    assert voice_set() is default_voice_set()


def test_map_replaces_only_the_programs_it_names(tmp_path):
    path = _map(tmp_path, f'[programs]\n1 = "{A}"\n41 = "{B}"\n')
    voices = voice_set(program_map_path=path)
    assert voices.melodic(0).name == A
    assert voices.melodic(40).name == B
    for program in (1, 41, 127):
        assert voices.melodic(program).name == GM.melodic(program).name


def test_map_drum_keys_play_at_the_root_or_the_given_note(tmp_path):
    path = _map(tmp_path, f'[drums]\n36 = "{A}"\n38 = {{ voice = "{B}", note = 72 }}\n')
    voices = voice_set(program_map_path=path)
    assert voices.drum(36) == (FACTORY[A], FACTORY[A].root_key)
    assert voices.drum(38) == (FACTORY[B], 72)
    assert voices.drum(42) == GM.drum(42)


def test_map_channels_section_gives_one_channel_a_voice(tmp_path):
    path = _map(tmp_path, f'[channels]\n3 = "{A}"\n')
    voices = voice_set(program_map_path=path)
    assert voices.melodic(0, channel=2).name == A
    assert voices.melodic(0, channel=1).name == PROGRAM_1
    assert voices.melodic(0).name == PROGRAM_1


def test_unknown_voice_in_a_map_names_the_file_and_a_near_name(tmp_path):
    path = _map(tmp_path, f'[programs]\n1 = "{MISSPELT}"\n')
    message = _error(lambda: voice_set(program_map_path=path))
    assert message.startswith(f"{path}: unknown voice '{MISSPELT}'")
    assert f"did you mean {PROGRAM_1}" in message


@pytest.mark.parametrize(
    "text, problem",
    [
        ('[programs]\n0 = "piano"\n', "program 0 is outside 1-128"),
        ('[programs]\n129 = "piano"\n', "program 129 is outside 1-128"),
        ('[programs]\nfirst = "piano"\n', "program 'first' is not a number"),
        ('[programs]\n1 = 5\n', "program 1 must name a voice"),
        ('[drums]\n128 = "kick"\n', "drum key 128 is outside 0-127"),
        ('[drums]\n36 = { voice = "kick", note = 200 }\n', "note must be 0-127"),
        ('[drums]\n36 = { sound = "kick" }\n', "drum key 36 takes"),
        ('[channels]\n10 = "piano"\n', "channel 10 plays drums"),
        ('[channels]\n17 = "piano"\n', "channel 17 is outside 1-16"),
        ('[voices]\n1 = "piano"\n', "unknown section [voices]"),
        ('[programs\n1 = "piano"\n', "not a valid TOML file"),
    ],
)
def test_bad_maps_fail_with_one_line_naming_the_file(tmp_path, text, problem):
    path = _map(tmp_path, text)
    message = _error(lambda: read_program_map(path))
    assert message.startswith(f"{path}: ") and problem in message


def test_missing_map_file_is_one_line(tmp_path):
    assert "no such file" in _error(lambda: read_program_map(tmp_path / "absent.toml"))


def test_one_voice_for_every_melodic_channel_leaves_the_drums(tmp_path):
    voices = voice_set(voice=A)
    for channel in range(16):
        if channel != 9:
            assert voices.melodic(57, channel=channel).name == A
    assert voices.drum(36) == GM.drum(36)


def test_a_channel_voice_overrides_the_voice_for_all(tmp_path):
    voices = voice_set(voice=A, channel_voices={1: B})
    assert voices.melodic(0, channel=1).name == B
    assert voices.melodic(0, channel=0).name == A


@pytest.mark.parametrize(
    "text, expected", [("piano", (None, "piano")), ("3=bell", (2, "bell")), ("16 = pad", (15, "pad"))]
)
def test_voice_option_text_parses_as_musicians_count_channels(text, expected):
    assert parse_channel_voice(text) == expected


@pytest.mark.parametrize(
    "text, problem",
    [("0=piano", "outside 1-16"), ("17=piano", "outside 1-16"), ("ten=piano", "not a number"),
     ("10=piano", "channel 10 plays drums"), ("3=", "no voice name")],
)
def test_bad_voice_options_are_one_line(text, problem):
    assert problem in _error(lambda: parse_channel_voice(text))


def test_unknown_voice_option_suggests_a_near_name():
    message = _error(lambda: voice_set(voice=MISSPELT))
    assert message.startswith(f"--voice {MISSPELT}: unknown voice '{MISSPELT}'") and PROGRAM_1 in message


def test_user_voices_are_found_by_name_after_the_factory_ones(user_folder):
    mine = sampled_voice("my-hum", 0.5 * np.sin(np.arange(4000) / 10.0))
    user.save_user_voice(mine)
    user.save_user_voice(sampled_voice(PROGRAM_1, np.zeros(10)))  # hidden by the factory voice
    names = catalog.voice_names()
    n_factory = len(FACTORY) + len(catalog.factory_instruments())
    assert names[:n_factory] == [*FACTORY, *catalog.factory_instruments()]
    assert names[n_factory:] == ["my-hum"]
    assert catalog.find_voice(PROGRAM_1) is {**FACTORY, **catalog.factory_instruments()}[PROGRAM_1]
    assert np.array_equal(voice_set(channel_voices={4: "my-hum"}).melodic(0, channel=4).wave, mine.wave)


def test_a_voice_file_path_works_as_a_name(tmp_path):
    path = save_voice(sampled_voice("loose", np.full(300, 0.25)), tmp_path / "loose.cmv")
    voices = voice_set(voice=str(path))
    assert int(voices.melodic(0, channel=0).wave[0]) == 32


def test_engine_plays_a_channel_voice_only_on_that_channel():
    voices = voice_set(channel_voices={2: A})
    engine = Engine(rate_hz=22050, voices=voices)
    engine.handle(mido.Message("note_on", channel=2, note=60, velocity=100))
    engine.handle(mido.Message("note_on", channel=0, note=64, velocity=100))
    names = sorted(note.voice.name for note in engine._card_notes if note is not None)
    program_1 = GM.melodic(0)
    assert names == sorted([A, program_1.voice_for_key(64).name if hasattr(program_1, "voice_for_key") else PROGRAM_1])


def test_the_readme_map_example_reads_as_documented(tmp_path):
    from pathlib import Path

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    text = next(block.split("```", 1)[0] for block in readme.split("```toml\n")[1:] if "[programs]" in block)
    user.save_user_voice(sampled_voice("hum", np.full(500, 0.5)))
    voices = voice_set(program_map_path=_map(tmp_path, text))
    assert voices.melodic(40).name == "hum" and voices.melodic(0).name == "piano"
    assert voices.drum(45) == (FACTORY["tom"], 43)
    assert voices.drum(38) == (FACTORY["snare"], FACTORY["snare"].root_key)
    assert voices.melodic(0, channel=2).name == "flute"
