"""General MIDI programs and drum keys to built-in voices."""

import pytest

from synth.gm import GM_DRUM_NAMES, GM_PROGRAM_NAMES, VoiceSet, VoiceSetError, default_voice_set
from synth.library.builtin import builtin_voices
from synth.voice import Voice

VOICES = builtin_voices()


def test_every_program_resolves_to_a_voice():
    voices = default_voice_set()
    assert len(GM_PROGRAM_NAMES) == 128
    assert sorted(voices.program_map) == list(range(128))
    for program in range(128):
        assert isinstance(voices.melodic(program), Voice)


@pytest.mark.parametrize(
    "program, name",
    [(0, "piano"), (4, "epiano"), (9, "bell"), (12, "mallet"), (16, "organ"), (24, "guitar"),
     (33, "bass"), (40, "strings"), (52, "choir"), (55, "orchhit"), (56, "brass"), (65, "reed"),
     (73, "flute"), (81, "lead"), (89, "pad"), (122, "wind")],
)
def test_programs_map_by_family(program, name):
    assert default_voice_set().melodic(program).name == name


def test_drum_keys_35_to_81_resolve_and_others_are_silent():
    voices = default_voice_set()
    assert sorted(GM_DRUM_NAMES) == list(range(35, 82))
    for key in range(35, 82):
        voice, note = voices.drum(key)
        assert isinstance(voice, Voice) and 0 <= note <= 127
    assert voices.drum(34) is None
    assert voices.drum(82) is None


def test_bass_drum_and_snare_play_at_their_recorded_pitch():
    voices = default_voice_set()
    for key, name in ((36, "kick"), (38, "snare"), (42, "closed_hat"), (46, "open_hat"), (49, "crash")):
        voice, note = voices.drum(key)
        assert voice.name == name and note == voice.root_key


def test_toms_rise_from_low_floor_to_high_tom():
    voices = default_voice_set()
    notes = [voices.drum(key) for key in (41, 43, 45, 47, 48, 50)]
    assert all(voice.name == "tom" for voice, _ in notes)
    pitches = [note for _, note in notes]
    assert pitches == sorted(pitches) and len(set(pitches)) == 6


def test_unknown_voice_name_lists_near_names_on_one_line():
    with pytest.raises(ValueError) as caught:
        default_voice_set().voice("pian")
    message = str(caught.value)
    assert isinstance(caught.value, VoiceSetError)
    assert "piano" in message and "\n" not in message


def test_voice_set_refuses_maps_naming_unknown_voices():
    with pytest.raises(VoiceSetError, match="sitar"):
        VoiceSet(VOICES, {0: "sitar"}, {})
    with pytest.raises(VoiceSetError, match="gong"):
        VoiceSet(VOICES, {0: "piano"}, {36: ("gong", 60)})
    with pytest.raises(VoiceSetError, match="128"):
        VoiceSet(VOICES, {128: "piano"}, {})


def test_unmapped_program_falls_back_to_its_family_then_program_0():
    voices = VoiceSet(VOICES, {0: "piano", 40: "strings"}, {})
    assert voices.melodic(45).name == "strings"
    assert voices.melodic(73).name == "piano"
    with pytest.raises(VoiceSetError):
        voices.melodic(128)


def test_names_lists_every_voice_and_the_default_set_is_built_once():
    assert default_voice_set() is default_voice_set()
    assert default_voice_set().names() == list(VOICES)
