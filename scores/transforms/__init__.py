"""Transformations that turn a score ominous or dissonant: each a small pure function from a Score to a Score.

They run in a fixed order of stages, mode, harmony, register, time, sound (after "form", which
chooses what of the piece is played: a condensed cue, parts reduced to long notes, the piece's repeated bars
varied; and before "finish", which answers for the whole: what still repeats varied, the notes fitted to the
cards). Every one takes the score
first and keyword parameters after it, chooses its parts by role (Part.role), and leaves the drum kit's keys
alone (a part on the drum channel is never re-pitched, whatever roles are asked for). Randomness comes only
from a `random.Random` passed in as `rng`, so a seed gives the same score every time.

Keys stay within 0-127 in two ways, said again where it matters: a note that is moved (a mode change, an
inversion, a transposition) is folded back by octaves, because the note must still sound; a note that is
added (a shadow, a doubling, a cluster) is dropped when it would fall outside, because it only colours.

Added parts take the lowest free channel (Score.free_channel); when all fifteen are taken each function
says what it does instead (most add their notes to the part they copy).

A module a kind of transformation: mode, harmony, register (pedals and doublings), timing, sound, layers
(what a style composes over the piece's phrases and sections), march (its drums and introduction), room
(thinning, varying repeats, fitting the cards) and cue; common holds what they share. This package's
face is every transformation by name and the stages below.
"""

from __future__ import annotations

from collections.abc import Callable

from scores.score import Score
from scores.transforms.common import (
    BASS_DRUM_KEY,
    CMI_VOICES,
    CRASH_KEY,
    FIXED_ROLES,
    HIGHEST_KEY,
    LOWEST_KEY,
    PITCHED_ROLES,
    SIDE_STICK_KEY,
    SNARE_KEY,
    TIMPANI_LOW_KEY,
    TIMPANI_PROGRAM,
    TransformError,
)
from scores.transforms.cue import SWELL_CONTROL, condense, long_notes
from scores.transforms.harmony import bitonality, clusters, minor_second_smear, parallel_fifths, tritone_shadow
from scores.transforms.layers import (
    ARC_PROGRAMS,
    DECAYING_PROGRAMS,
    FRESH_MEMORY_BARS,
    LONG_NOTE_BEATS,
    moving_pedal,
    orchestration_arc,
    phrase_doubling,
)
from scores.transforms.march import MARCH_BARS, MARCH_FIGURE_BEATS, MARCH_FILLS, march_drums, march_introduction
from scores.transforms.mode import harmonic_minor, invert, locrian, major_to_minor, phrygian
from scores.transforms.register import DOUBLING_LOW_KEY, PEDAL_LOW_KEY, hollow_spacing, octave_doubling, pedal
from scores.transforms.room import fit_cards, thin, vary_ostinato, vary_repeats
from scores.transforms.sound import DETUNE_CENTS, DREAD_PROGRAMS, detuned_doubling, dread_voices, dynamics
from scores.transforms.timing import (
    MARCH_PATTERNS,
    SNARE_BAR,
    SNARE_FILL,
    augmentation,
    canon,
    limping_waltz,
    march_ostinato,
    remeter_as_march,
    tempo_scale,
)

# The transformations by stage, in the order the stages are best applied (a style follows it).
STAGES: dict[str, tuple[Callable[..., Score], ...]] = {
    "form": (condense, long_notes, thin, vary_ostinato),  # what of the piece is played, before anything colours it
    "mode": (phrygian, locrian, major_to_minor, harmonic_minor, invert),
    "harmony": (tritone_shadow, parallel_fifths, minor_second_smear, clusters, bitonality),
    "register": (pedal, moving_pedal, octave_doubling, phrase_doubling, hollow_spacing),
    "time": (tempo_scale, augmentation, remeter_as_march, limping_waltz, march_introduction, march_ostinato,
             march_drums, canon),
    "sound": (detuned_doubling, dynamics, dread_voices, orchestration_arc),
    # what the arrangement answers for as a whole: no part repeated bar for bar, no more notes than the cards
    "finish": (vary_repeats, fit_cards),
}
TRANSFORMS: dict[str, Callable[..., Score]] = {f.__name__: f for stage in STAGES.values() for f in stage}
STAGE_OF: dict[str, str] = {f.__name__: stage for stage, fs in STAGES.items() for f in fs}

__all__ = [
    "ARC_PROGRAMS",
    "BASS_DRUM_KEY",
    "CMI_VOICES",
    "CRASH_KEY",
    "DECAYING_PROGRAMS",
    "DETUNE_CENTS",
    "DOUBLING_LOW_KEY",
    "DREAD_PROGRAMS",
    "FIXED_ROLES",
    "FRESH_MEMORY_BARS",
    "HIGHEST_KEY",
    "LONG_NOTE_BEATS",
    "LOWEST_KEY",
    "MARCH_BARS",
    "MARCH_FIGURE_BEATS",
    "MARCH_FILLS",
    "MARCH_PATTERNS",
    "PEDAL_LOW_KEY",
    "PITCHED_ROLES",
    "SIDE_STICK_KEY",
    "SNARE_BAR",
    "SNARE_FILL",
    "SNARE_KEY",
    "STAGES",
    "STAGE_OF",
    "SWELL_CONTROL",
    "TIMPANI_LOW_KEY",
    "TIMPANI_PROGRAM",
    "TRANSFORMS",
    "TransformError",
    "augmentation",
    "bitonality",
    "canon",
    "clusters",
    "condense",
    "detuned_doubling",
    "dread_voices",
    "dynamics",
    "fit_cards",
    "harmonic_minor",
    "hollow_spacing",
    "invert",
    "limping_waltz",
    "locrian",
    "long_notes",
    "major_to_minor",
    "march_drums",
    "march_introduction",
    "march_ostinato",
    "minor_second_smear",
    "moving_pedal",
    "octave_doubling",
    "orchestration_arc",
    "parallel_fifths",
    "pedal",
    "phrase_doubling",
    "phrygian",
    "remeter_as_march",
    "tempo_scale",
    "thin",
    "tritone_shadow",
    "vary_ostinato",
    "vary_repeats",
]
