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


# Built-in voices for each program, family by family (comments give the GM families).
_DEFAULT_PROGRAMS = (
    # 0-7 piano
    "piano", "piano", "piano", "piano", "epiano", "epiano", "guitar", "guitar",
    # 8-15 chromatic percussion
    "epiano", "bell", "bell", "epiano", "mallet", "mallet", "bell", "guitar",
    # 16-23 organ
    "organ", "organ", "organ", "organ", "organ", "reed", "reed", "reed",
    # 24-31 guitar
    "guitar", "guitar", "guitar", "guitar", "guitar", "lead", "lead", "guitar",
    # 32-39 bass
    "bass", "bass", "bass", "bass", "bass", "bass", "bass", "bass",
    # 40-47 strings
    "strings", "strings", "strings", "strings", "strings", "guitar", "guitar", "tom",
    # 48-55 ensemble
    "strings", "strings", "pad", "pad", "choir", "choir", "choir", "orchhit",
    # 56-63 brass
    "brass", "brass", "brass", "brass", "brass", "brass", "brass", "brass",
    # 64-71 reed
    "reed", "reed", "reed", "reed", "reed", "reed", "reed", "reed",
    # 72-79 pipe
    "flute", "flute", "flute", "flute", "flute", "flute", "flute", "flute",
    # 80-87 synth lead
    "lead", "lead", "flute", "lead", "lead", "choir", "lead", "lead",
    # 88-95 synth pad
    "pad", "pad", "pad", "choir", "strings", "pad", "pad", "pad",
    # 96-103 synth effects
    "pad", "pad", "bell", "pad", "lead", "choir", "pad", "lead",
    # 104-111 ethnic
    "guitar", "guitar", "guitar", "guitar", "mallet", "reed", "strings", "reed",
    # 112-119 percussive
    "bell", "bell", "mallet", "rim", "tom", "tom", "tom", "crash",
    # 120-127 sound effects
    "guitar", "wind", "wind", "flute", "lead", "wind", "wind", "snare",
)

# Drum key -> (voice, note). Toms and hand drums are one tom voice (root A2 = 45) played at
# rising notes; cymbals, wood and bells likewise move around their voices' roots.
_DEFAULT_DRUMS = {
    35: ("kick", 29), 36: ("kick", 31), 37: ("rim", 93), 38: ("snare", 54), 39: ("clap", 60),
    40: ("snare", 57), 41: ("tom", 38), 42: ("closed_hat", 60), 43: ("tom", 40), 44: ("closed_hat", 57),
    45: ("tom", 43), 46: ("open_hat", 60), 47: ("tom", 45), 48: ("tom", 48), 49: ("crash", 60),
    50: ("tom", 50), 51: ("crash", 53), 52: ("crash", 63), 53: ("bell", 84), 54: ("open_hat", 65),
    55: ("crash", 65), 56: ("rim", 86), 57: ("crash", 62), 58: ("open_hat", 53), 59: ("crash", 55),
    60: ("tom", 57), 61: ("tom", 54), 62: ("tom", 53), 63: ("tom", 52), 64: ("tom", 49),
    65: ("tom", 55), 66: ("tom", 51), 67: ("bell", 79), 68: ("bell", 76), 69: ("closed_hat", 67),
    70: ("closed_hat", 70), 71: ("flute", 96), 72: ("flute", 91), 73: ("clap", 65), 74: ("clap", 57),
    75: ("rim", 100), 76: ("rim", 95), 77: ("rim", 90), 78: ("tom", 62), 79: ("tom", 59),
    80: ("bell", 96), 81: ("bell", 91),
}


@cache
def default_voice_set() -> VoiceSet:
    """The built-in voices with every GM program and drum key 35-81 mapped (built once)."""
    return VoiceSet(builtin_voices(), dict(enumerate(_DEFAULT_PROGRAMS)), _DEFAULT_DRUMS)
