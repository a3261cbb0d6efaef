"""General MIDI programs and drum keys to factory voices."""

import pytest

from synth.gm import GM_DRUM_NAMES, GM_EXTRA_DRUM_NAMES, GM_PROGRAM_NAMES, VoiceSet, VoiceSetError, default_voice_set
from synth.instrument import Instrument
from synth.library.builtin import builtin_instruments, builtin_voices
from synth.voice import Voice

VOICES = builtin_voices()


def test_every_program_resolves_to_a_voice():
    voices = default_voice_set()
    assert len(GM_PROGRAM_NAMES) == 128
    assert sorted(voices.program_map) == list(range(128))
    for program in range(128):
        sound = voices.melodic(program)
        assert isinstance(sound, Voice) or all(isinstance(v, Voice) for v in sound.voices)


@pytest.mark.parametrize(
    "program, name",
    [(0, "grand-piano-split"), (4, "electric-piano"), (6, "clavecin"), (8, "celesta"), (10, "music-box"),
     (12, "marimba"), (14, "sonnerie-bells"), (16, "drawbar-organ"), (19, "pipe-organ"), (24, "classical-guitar"),
     (33, "fingered-bass"), (38, "analog-bass"), (39, "synth-bass"), (40, "violin"), (42, "cello"),
     (47, "kettle-drum"), (48, "string-section"), (52, "choir"), (55, "orch-hit"), (56, "trumpet"), (62, "brass"),
     (65, "alto-sax"), (73, "concert-flute"), (76, "calliope"), (80, "square"), (89, "warm-pad"), (98, "glass"),
     (99, "martian-choir"), (119, "tam-tam"), (122, "wind")],
)
def test_programs_map_by_family(program, name):
    assert default_voice_set().melodic(program).name == name


def test_drum_keys_27_to_87_resolve_and_others_are_silent():
    voices = default_voice_set()
    assert sorted(GM_DRUM_NAMES) == list(range(35, 82))
    assert sorted([*GM_DRUM_NAMES, *GM_EXTRA_DRUM_NAMES]) == list(range(27, 88))
    for key in range(27, 88):
        voice, note = voices.drum(key)
        assert isinstance(voice, Voice) and 0 <= note <= 127
    assert voices.drum(26) is None
    assert voices.drum(88) is None


def test_every_recorded_voice_is_reachable_from_general_midi_and_the_rest_are_modelled():
    voices = default_voice_set()
    reached = set(voices.program_map.values()) | {name for name, _ in voices.drum_map.values()}
    for name in list(reached):  # an instrument reaches its splits' voices
        sound = voices.voice(name)
        if isinstance(sound, Instrument):
            reached |= {v.name for v in sound.voices}
    voice_names = [n for n in voices.names() if isinstance(voices.voice(n), Voice)]
    recorded = {n for n in voice_names if voices.voice(n).meta["method"] == "soundfont"}
    assert len(recorded) >= 40 and recorded <= reached
    # the modelled voices a recording replaced stay playable by name (--voice, the scores)
    assert all(voices.voice(n).meta["method"] != "soundfont" for n in set(voice_names) - reached)


def test_bass_drum_and_snare_play_at_their_recorded_pitch():
    voices = default_voice_set()
    for key, name in ((36, "kick"), (38, "acoustic-snare"), (42, "hihat-closed"), (46, "hihat-open"), (49, "crash")):
        voice, note = voices.drum(key)
        assert voice.name == name and note == voice.root_key


def test_toms_rise_from_low_floor_to_high_tom():
    # two recorded toms, each moved around its root: heard pitch = the recording's key + (note - root)
    voices = default_voice_set()
    notes = [voices.drum(key) for key in (41, 43, 45, 47, 48, 50)]
    assert [voice.name for voice, _ in notes] == ["tom-low"] * 4 + ["tom-high"] * 2
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
    voices = VoiceSet(VOICES, {0: "piano", 40: "gamba"}, {})
    assert voices.melodic(45).name == "gamba"
    assert voices.melodic(73).name == "piano"
    with pytest.raises(VoiceSetError):
        voices.melodic(128)


def test_names_lists_every_voice_and_the_default_set_is_built_once():
    assert default_voice_set() is default_voice_set()
    assert default_voice_set().names() == [*VOICES, *builtin_instruments()]
