"""General MIDI to voices: which voice plays each program, and each drum key at which note."""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from functools import cache
from types import MappingProxyType

from synth.library.builtin import builtin_voices
from synth.voice import Voice

# General MIDI Level 1 program names, 0-based (the spec numbers them 1-128).
GM_PROGRAM_NAMES = (
    "Acoustic Grand Piano", "Bright Acoustic Piano", "Electric Grand Piano", "Honky-tonk Piano",
    "Electric Piano 1", "Electric Piano 2", "Harpsichord", "Clavinet",
    "Celesta", "Glockenspiel", "Music Box", "Vibraphone", "Marimba", "Xylophone", "Tubular Bells",
    "Dulcimer",
    "Drawbar Organ", "Percussive Organ", "Rock Organ", "Church Organ", "Reed Organ", "Accordion", "Harmonica",
    "Tango Accordion",
    "Acoustic Guitar (nylon)", "Acoustic Guitar (steel)", "Electric Guitar (jazz)", "Electric Guitar (clean)",
    "Electric Guitar (muted)", "Overdriven Guitar", "Distortion Guitar", "Guitar Harmonics",
    "Acoustic Bass", "Electric Bass (finger)", "Electric Bass (pick)", "Fretless Bass", "Slap Bass 1",
    "Slap Bass 2", "Synth Bass 1", "Synth Bass 2",
    "Violin", "Viola", "Cello", "Contrabass", "Tremolo Strings", "Pizzicato Strings",
    "Orchestral Harp", "Timpani",
    "String Ensemble 1", "String Ensemble 2", "Synth Strings 1", "Synth Strings 2", "Choir Aahs",
    "Voice Oohs", "Synth Voice", "Orchestra Hit",
    "Trumpet", "Trombone", "Tuba", "Muted Trumpet", "French Horn", "Brass Section", "Synth Brass 1",
    "Synth Brass 2",
    "Soprano Sax", "Alto Sax", "Tenor Sax", "Baritone Sax", "Oboe", "English Horn", "Bassoon", "Clarinet",
    "Piccolo", "Flute", "Recorder", "Pan Flute", "Blown Bottle", "Shakuhachi", "Whistle", "Ocarina",
    "Lead 1 (square)", "Lead 2 (sawtooth)", "Lead 3 (calliope)", "Lead 4 (chiff)", "Lead 5 (charang)",
    "Lead 6 (voice)", "Lead 7 (fifths)", "Lead 8 (bass + lead)",
    "Pad 1 (new age)", "Pad 2 (warm)", "Pad 3 (polysynth)", "Pad 4 (choir)", "Pad 5 (bowed)",
    "Pad 6 (metallic)",
    "Pad 7 (halo)", "Pad 8 (sweep)",
    "FX 1 (rain)", "FX 2 (soundtrack)", "FX 3 (crystal)", "FX 4 (atmosphere)", "FX 5 (brightness)",
    "FX 6 (goblins)", "FX 7 (echoes)", "FX 8 (sci-fi)",
    "Sitar", "Banjo", "Shamisen", "Koto", "Kalimba", "Bag pipe", "Fiddle", "Shanai",
    "Tinkle Bell", "Agogo", "Steel Drums", "Woodblock", "Taiko Drum", "Melodic Tom", "Synth Drum",
    "Reverse Cymbal",
    "Guitar Fret Noise", "Breath Noise", "Seashore", "Bird Tweet", "Telephone Ring", "Helicopter", "Applause",
    "Gunshot",
)

# General MIDI Level 1 percussion keys (channel 10).
GM_DRUM_NAMES = {
    35: "Acoustic Bass Drum", 36: "Bass Drum 1", 37: "Side Stick", 38: "Acoustic Snare", 39: "Hand Clap",
    40: "Electric Snare", 41: "Low Floor Tom", 42: "Closed Hi-Hat", 43: "High Floor Tom", 44: "Pedal Hi-Hat",
    45: "Low Tom", 46: "Open Hi-Hat", 47: "Low-Mid Tom", 48: "Hi-Mid Tom", 49: "Crash Cymbal 1",
    50: "High Tom",
    51: "Ride Cymbal 1", 52: "Chinese Cymbal", 53: "Ride Bell", 54: "Tambourine", 55: "Splash Cymbal",
    56: "Cowbell", 57: "Crash Cymbal 2", 58: "Vibraslap", 59: "Ride Cymbal 2", 60: "Hi Bongo",
    61: "Low Bongo",
    62: "Mute Hi Conga", 63: "Open Hi Conga", 64: "Low Conga", 65: "High Timbale", 66: "Low Timbale",
    67: "High Agogo", 68: "Low Agogo", 69: "Cabasa", 70: "Maracas", 71: "Short Whistle", 72: "Long Whistle",
    73: "Short Guiro", 74: "Long Guiro", 75: "Claves", 76: "Hi Wood Block", 77: "Low Wood Block",
    78: "Mute Cuica", 79: "Open Cuica", 80: "Mute Triangle", 81: "Open Triangle",
}

N_PROGRAMS = 128


class VoiceSetError(ValueError):
    """A voice name, program or key that a voice set cannot resolve."""


class VoiceSet:
    """Voices by name, and the General MIDI programs and drum keys that select them.

    `program_map` maps programs 0-127 to voice names; a program it leaves out plays the voice of
    the first program of its family of eight, else that of program 0, so every program sounds.
    `drum_map` maps a key to (voice name, note the voice plays at): a Mode 4 sample then runs at
    recording_rate * 2**((note - root_key) / 12), as the card clock would move it. Keys it leaves
    out are silent.
    """

    def __init__(
        self,
        voices: Mapping[str, Voice],
        program_map: Mapping[int, str],
        drum_map: Mapping[int, tuple[str, int]],
    ) -> None:
        if not voices:
            raise VoiceSetError("a voice set needs at least one voice")
        self._voices = dict(voices)
        for program, name in program_map.items():
            if not 0 <= program < N_PROGRAMS:
                raise VoiceSetError(f"program {program} outside 0..127 in the program map")
            self.voice(name)
        for key, (name, note) in drum_map.items():
            if not 0 <= key <= 127 or not 0 <= note <= 127:
                raise VoiceSetError(f"drum key {key} -> note {note}: both must be 0..127")
            self.voice(name)
        self._programs = dict(program_map)
        self._drums = {key: (name, note) for key, (name, note) in drum_map.items()}

    @property
    def program_map(self) -> Mapping[int, str]:
        return MappingProxyType(self._programs)

    @property
    def drum_map(self) -> Mapping[int, tuple[str, int]]:
        return MappingProxyType(self._drums)

    def names(self) -> list[str]:
        """The names of all voices in the set, in the order given."""
        return list(self._voices)

    def voice(self, name: str) -> Voice:
        """The voice called `name`; an unknown name raises VoiceSetError naming close ones."""
        try:
            return self._voices[name]
        except KeyError:
            near = difflib.get_close_matches(str(name), self._voices, n=4, cutoff=0.5)
            hint = f"did you mean {', '.join(near)}?" if near else f"known: {', '.join(self._voices)}"
            raise VoiceSetError(f"unknown voice {name!r}: {hint}") from None

    def melodic(self, program: int) -> Voice:
        """The voice for a melodic channel's program (0-127)."""
        if not 0 <= program < N_PROGRAMS:
            raise VoiceSetError(f"program {program} outside 0..127")
        for candidate in (program, program - program % 8, 0):
            if candidate in self._programs:
                return self._voices[self._programs[candidate]]
        return next(iter(self._voices.values()))

    def drum(self, key: int) -> tuple[Voice, int] | None:
        """(voice, note to play it at) for a drum key, or None for a key that stays silent."""
        entry = self._drums.get(key)
        if entry is None:
            return None
        name, note = entry
        return self._voices[name], note


# Factory voices for each program, family by family (comments give the GM families).
_DEFAULT_PROGRAMS = (
    # 0-7 piano: grand, bright, electric grand, honky-tonk, two electric pianos, harpsichord, clavinet
    "piano", "piano", "piano", "piano", "tine-piano", "tine-piano", "harpsichord", "harpsichord",
    # 8-15 chromatic percussion: celesta, glockenspiel, music box, vibraphone, marimba, xylophone,
    # tubular bells, dulcimer
    "celesta", "celesta", "music-box", "glass", "marimba", "marimba", "sonnerie-bells", "harpsichord",
    # 16-23 organ: drawbar, percussive, rock, church, reed organ, accordion, harmonica, tango accordion
    "drawbar-organ", "drawbar-organ", "drawbar-organ", "church-organ", "church-organ", "reed", "reed", "reed",
    # 24-31 guitar: nylon, steel, jazz, clean, muted, overdriven, distortion, harmonics
    "nylon-guitar", "nylon-guitar", "nylon-guitar", "nylon-guitar", "nylon-guitar", "pulse-lead", "pulse-lead",
    "celesta",
    # 32-39 bass: acoustic, finger, pick, fretless, two slaps, two synth basses
    "finger-bass", "finger-bass", "finger-bass", "finger-bass", "finger-bass", "finger-bass", "synth-bass",
    "synth-bass",
    # 40-47 strings: violin, viola, cello, contrabass, tremolo, pizzicato, harp, timpani
    "baroque-violin", "gamba", "gamba", "gamba", "string-ensemble", "nylon-guitar", "nylon-guitar", "timpani",
    # 48-55 ensemble: two string ensembles, two synth strings, choir aahs, voice oohs, synth voice, orchestra hit
    "string-ensemble", "string-ensemble", "warm-pad", "warm-pad", "aah-choir", "vox-pad", "vox-pad",
    "orchestra-hit",
    # 56-63 brass
    "brass", "brass", "brass", "brass", "brass", "brass", "brass", "brass",
    # 64-71 reed
    "reed", "reed", "reed", "reed", "reed", "reed", "reed", "reed",
    # 72-79 pipe: piccolo, flute, recorder, pan flute, blown bottle, shakuhachi, whistle, ocarina
    "flute", "flute", "flute", "calliope", "calliope", "calliope", "flute", "flute",
    # 80-87 synth lead: square, sawtooth, calliope, chiff, charang, voice, fifths, bass + lead
    "square", "saw", "calliope", "flute", "pulse-lead", "vox-pad", "pulse-lead", "synth-bass",
    # 88-95 synth pad: new age, warm, polysynth, choir, bowed, metallic, halo, sweep
    "halo-pad", "warm-pad", "warm-pad", "aah-choir", "string-ensemble", "halo-pad", "halo-pad", "warm-pad",
    # 96-103 synth effects: rain, soundtrack, crystal, atmosphere, brightness, goblins, echoes, sci-fi
    "wind", "saucer-drone", "glass", "martian-choir", "halo-pad", "martian-choir", "saucer-drone", "saucer-drone",
    # 104-111 ethnic: sitar, banjo, shamisen, koto, kalimba, bag pipe, fiddle, shanai
    "harpsichord", "nylon-guitar", "nylon-guitar", "nylon-guitar", "music-box", "reed", "baroque-violin", "reed",
    # 112-119 percussive: tinkle bell, agogo, steel drums, woodblock, taiko, melodic tom, synth drum,
    # reverse cymbal
    "celesta", "glass", "marimba", "rim-click", "tom", "tom", "tom", "tam-tam",
    # 120-127 sound effects: fret noise, breath, seashore, bird, telephone, helicopter, applause, gunshot
    "finger-snap", "wind", "wind", "flute", "pulse-lead", "saucer-drone", "wind", "snare",
)

# Drum key -> (voice, note). Toms and hand drums are one tom voice (root A2 = 45) played at
# rising notes; cymbals, wood and bells likewise move around their voices' roots. Keys 27-34 and
# 82-87 are the GS / GM2 additions, so files written for those play too.
_DEFAULT_DRUMS = {
    27: ("rim-click", 98), 28: ("clap", 67), 29: ("finger-snap", 60), 30: ("finger-snap", 55),
    31: ("rim-click", 100), 32: ("rim-click", 105), 33: ("rim-click", 93), 34: ("glass", 96),
    35: ("bass-drum", 29), 36: ("bass-drum", 31), 37: ("rim-click", 93), 38: ("snare", 54), 39: ("clap", 60),
    40: ("snare", 57), 41: ("tom", 38), 42: ("closed-hat", 60), 43: ("tom", 40), 44: ("closed-hat", 57),
    45: ("tom", 43), 46: ("open-hat", 60), 47: ("tom", 45), 48: ("tom", 48), 49: ("cymbal", 60),
    50: ("tom", 50), 51: ("cymbal", 55), 52: ("cymbal", 64), 53: ("glass", 88), 54: ("open-hat", 65),
    55: ("cymbal", 67), 56: ("rim-click", 81), 57: ("cymbal", 62), 58: ("open-hat", 53), 59: ("cymbal", 57),
    60: ("tom", 57), 61: ("tom", 54), 62: ("tom", 53), 63: ("tom", 52), 64: ("tom", 49),
    65: ("tom", 55), 66: ("tom", 51), 67: ("glass", 79), 68: ("glass", 76), 69: ("closed-hat", 67),
    70: ("closed-hat", 70), 71: ("flute", 96), 72: ("flute", 91), 73: ("clap", 65), 74: ("clap", 57),
    75: ("rim-click", 100), 76: ("rim-click", 95), 77: ("rim-click", 90), 78: ("tom", 62), 79: ("tom", 59),
    80: ("glass", 96), 81: ("glass", 91),
    82: ("closed-hat", 64), 83: ("open-hat", 70), 84: ("glass", 98), 85: ("rim-click", 88), 86: ("tom", 36),
    87: ("tom", 34),
}

# The GS / GM2 names of the keys around General MIDI Level 1's 35-81.
GM_EXTRA_DRUM_NAMES = {
    27: "High Q", 28: "Slap", 29: "Scratch Push", 30: "Scratch Pull", 31: "Sticks", 32: "Square Click",
    33: "Metronome Click", 34: "Metronome Bell",
    82: "Shaker", 83: "Jingle Bell", 84: "Belltree", 85: "Castanets", 86: "Mute Surdo", 87: "Open Surdo",
}


@cache
def default_voice_set() -> VoiceSet:
    """The factory voices with every GM program and drum keys 27-87 mapped (built once)."""
    return VoiceSet(builtin_voices(), dict(enumerate(_DEFAULT_PROGRAMS)), _DEFAULT_DRUMS)
