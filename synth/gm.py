"""General MIDI to voices: which voice plays each program, and each drum key at which note."""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from functools import cache
from types import MappingProxyType

from synth.library.builtin import builtin_instruments, builtin_voices
from synth.midi import N_PROGRAMS
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

    def melodic(self, program: int, channel: int | None = None) -> Voice:
        """The voice for a melodic channel's program (0-127); this set chooses by program alone,
        whatever the channel."""
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


# Factory voices for each program, family by family (comments give the GM families). Recorded
# instruments (sampled from FluidR3_GM by the build) where a recording exists; the modelled and Page 4
# voices for the synth families, effects, bells and what FluidR3 has no better sound for.
_DEFAULT_PROGRAMS = (
    # 0-7 piano: grand, bright, electric grand, honky-tonk, two electric pianos, harpsichord, clavinet
    "grand-piano-split", "bright-piano", "electric-grand", "honky-tonk", "electric-piano", "fm-piano", "clavecin",
    "harpsichord",
    # 8-15 chromatic percussion: celesta, glockenspiel, music box, vibraphone, marimba, xylophone,
    # tubular bells, dulcimer
    "celesta", "glockenspiel", "music-box", "vibraphone", "marimba", "marimba", "sonnerie-bells", "clavecin",
    # 16-23 organ: drawbar, percussive, rock, church, reed organ, accordion, harmonica, tango accordion
    "drawbar-organ", "rock-organ", "rock-organ", "pipe-organ", "accordion", "accordion", "accordion",
    "accordion",
    # 24-31 guitar: nylon, steel, jazz, clean, muted, overdriven, distortion, harmonics
    "classical-guitar", "steel-guitar", "jazz-guitar", "clean-guitar", "clean-guitar", "overdrive-guitar",
    "distortion-guitar", "clean-guitar",
    # 32-39 bass: acoustic, finger, pick, fretless, two slaps, two synth basses
    "acoustic-bass", "fingered-bass", "picked-bass", "fretless-bass", "slap-bass", "slap-bass", "analog-bass",
    "synth-bass",
    # 40-47 strings: violin, viola, cello, contrabass, tremolo, pizzicato, harp, timpani
    "violin", "viola", "cello", "contrabass", "tremolo-strings", "pizzicato", "harp", "kettle-drum",
    # 48-55 ensemble: two string ensembles, two synth strings, choir aahs, voice oohs, synth voice, orchestra hit
    "string-section", "slow-strings", "warm-pad", "string-ensemble", "choir", "voice-ooh", "vox-pad", "orch-hit",
    # 56-63 brass: trumpet, trombone, tuba, muted trumpet, French horn, section, two synth brasses
    "trumpet", "trombone", "tuba", "muted-trumpet", "french-horn", "brass-section", "brass", "brass",
    # 64-71 reed: four saxophones, oboe, English horn, bassoon, clarinet
    "soprano-sax", "alto-sax", "tenor-sax", "tenor-sax", "oboe", "oboe", "bassoon", "clarinet",
    # 72-79 pipe: piccolo, flute, recorder, pan flute, blown bottle, shakuhachi, whistle, ocarina
    "piccolo", "concert-flute", "recorder", "pan-flute", "calliope", "pan-flute", "piccolo", "recorder",
    # 80-87 synth lead: square, sawtooth, calliope, chiff, charang, voice, fifths, bass + lead
    "square", "saw", "calliope", "flute", "pulse-lead", "vox-pad", "pulse-lead", "synth-bass",
    # 88-95 synth pad: new age, warm, polysynth, choir, bowed, metallic, halo, sweep
    "halo-pad", "warm-pad", "warm-pad", "aah-choir", "string-ensemble", "halo-pad", "halo-pad", "warm-pad",
    # 96-103 synth effects: rain, soundtrack, crystal, atmosphere, brightness, goblins, echoes, sci-fi
    "wind", "saucer-drone", "glass", "martian-choir", "halo-pad", "martian-choir", "saucer-drone", "saucer-drone",
    # 104-111 ethnic: sitar, banjo, shamisen, koto, kalimba, bag pipe, fiddle, shanai
    "steel-guitar", "steel-guitar", "clavecin", "harp", "music-box", "oboe", "violin", "oboe",
    # 112-119 percussive: tinkle bell, agogo, steel drums, woodblock, taiko, melodic tom, synth drum,
    # reverse cymbal
    "celesta", "cowbell", "marimba", "woodblock", "tom-low", "tom-high", "tom", "tam-tam",
    # 120-127 sound effects: fret noise, breath, seashore, bird, telephone, helicopter, applause, gunshot
    "finger-snap", "wind", "wind", "flute", "pulse-lead", "saucer-drone", "wind", "snare",
)

# Drum key -> (voice, note). The recorded GM kit (FluidR3's standard kit, each sample taken at the key
# it is recorded for) plays at its own key; keys with no recording of their own play a near one moved
# around its root, as a CMI owner spread one sample over several keys. Keys 27-34 and 82-87 are the
# GS / GM2 additions, so files written for those play too.
_DEFAULT_DRUMS = {
    27: ("rim-click", 98), 28: ("hand-clap", 41), 29: ("finger-snap", 60), 30: ("finger-snap", 55),
    31: ("side-stick", 39), 32: ("rim-click", 105), 33: ("rim-click", 93), 34: ("ride-bell", 58),
    35: ("deep-kick", 35), 36: ("kick", 36), 37: ("side-stick", 37), 38: ("acoustic-snare", 38),
    39: ("hand-clap", 39), 40: ("electric-snare", 40), 41: ("tom-low", 41), 42: ("hihat-closed", 42),
    43: ("tom-low", 43), 44: ("hihat-pedal", 44), 45: ("tom-low", 45), 46: ("hihat-open", 46),
    47: ("tom-low", 47), 48: ("tom-high", 48), 49: ("crash", 49), 50: ("tom-high", 50), 51: ("ride", 51),
    52: ("china", 52), 53: ("ride-bell", 53), 54: ("tambourine", 54), 55: ("splash", 55), 56: ("cowbell", 56),
    57: ("crash", 51), 58: ("cowbell", 50), 59: ("ride", 49), 60: ("bongo", 60), 61: ("bongo", 57),
    62: ("conga", 64), 63: ("conga", 63), 64: ("conga", 59), 65: ("tom-high", 57), 66: ("tom-high", 53),
    67: ("cowbell", 63), 68: ("cowbell", 60), 69: ("tambourine", 58), 70: ("tambourine", 62),
    71: ("flute", 96), 72: ("flute", 91), 73: ("woodblock", 72), 74: ("woodblock", 68),
    75: ("woodblock", 79), 76: ("woodblock", 76), 77: ("woodblock", 72), 78: ("conga", 68), 79: ("conga", 65),
    80: ("triangle", 84), 81: ("triangle", 81),
    82: ("tambourine", 66), 83: ("ride-bell", 65), 84: ("triangle", 86), 85: ("side-stick", 44),
    86: ("conga", 52), 87: ("conga", 50),
}

# The GS / GM2 names of the keys around General MIDI Level 1's 35-81.
GM_EXTRA_DRUM_NAMES = {
    27: "High Q", 28: "Slap", 29: "Scratch Push", 30: "Scratch Pull", 31: "Sticks", 32: "Square Click",
    33: "Metronome Click", 34: "Metronome Bell",
    82: "Shaker", 83: "Jingle Bell", 84: "Belltree", 85: "Castanets", 86: "Mute Surdo", 87: "Open Surdo",
}


@cache
def default_voice_set() -> VoiceSet:
    """The factory voices and instruments with every GM program and drum keys 27-87 mapped (built once)."""
    return VoiceSet({**builtin_voices(), **builtin_instruments()}, dict(enumerate(_DEFAULT_PROGRAMS)), _DEFAULT_DRUMS)
