"""Sonnerie (after Marais): original variations for violin and viol over the bells of Sainte-Genevieve.

Only the ground is Marais's: the bells ring D - F - E, one note a beat, in every one of the 302 bars of 3/4.
Every other note here is original. Quarter = 113, so 906 beats last 8 minutes 1 second.

Instruments (General MIDI programs, counted from 0):
  bells        14  sonnerie-bells    role "ground"  D4 F4 E4 in every bar
  violin       40  baroque-violin    role "melody"  G3-D6 (55-86)
  viol         42  gamba             role "inner"   A1-D5 (33-74): the virtuoso part
  harpsichord   6  harpsichord       role "bass"    F1-F6 (29-89): a bass line and a light right hand

Form (bars):
  1-4      the bells alone
  5-170    D minor: the violin enters at bar 5; violin and viol take turns, sometimes together, in
           variations of 4 and 8 bars; the figures quicken from long values to eighths, dotted rhythms,
           broken chords, triplets and sixteenths; bars 169-170 turn towards A minor
  171-207  A minor: sixteenths and double stops; bar 207 turns towards F major
  208-252  F major: the quiet, reflective passage (long values, a duet in sixths, echoes);
           bar 252 turns back to D minor
  253-298  D minor: the climax (sixteenths in both parts, the widest range, ff), then a falling away
  299      the last chord on D
  300-302  the bells alone

Choice: the bells keep D - F - E throughout, because bells are cast at fixed pitches; the music above
them is reharmonised in each key. In D minor D-F-E is heard mostly as i - III/iv7 - V, in A minor as
iv - VI - V (the tonic A arrives on the third beat, over the bell's E), in F major as vi - I - vii/iii
(or I6 - IV - V with the bell's D as the added sixth). Every chord of the plan contains its beat's bell.

The variations are generated from the harmonic plan below by named figures (`FIGURES`); there is no
randomness. The violin's entry (bars 5-12), the F major theme (bars 208-215) and the close (bars 297-298)
are written out in the notation of scores.notation. Where the viol breaks chords across its strings it
starts from the chord's bass, and so at times doubles the continuo's bass line, as gamba parts do.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction
from itertools import combinations

from scores.notation import DYNAMICS, Writer
from scores.score import TICKS_PER_BEAT, Key, Note, Part, Score
from scores.theory import Chord, chord, parse_key_name, scale

TITLE = "Sonnerie (after Marais)"
AFTER = "Marin Marais, La Sonnerie de Sainte-Genevieve du Mont-de-Paris (1723)"
TEMPO_BPM = 113.0  # 906 beats in 8.0 minutes; the repertoire notes give 8-9 minutes for the piece
BAR_BEATS = 3
BARS = 302
BAR_TICKS = BAR_BEATS * TICKS_PER_BEAT

# The authentic ground: D, F, E on the three beats of every bar. Pitched in the tenor, where the bells
# voice (range 48-96, root C5) is clear and the violin's line sits above it.
BELLS = (62, 65, 64)  # D4, F4, E4

# Ranges, as MIDI keys. The violin: G3 (open G string) to D6 (fourth position on the E string), the
# compass of French violin parts of the 1720s (a guess from period parts). The viol: the seven-string bass
# viol's low A1 (Sainte-Colombe's added string) to D5, the top of Marais's writing (a guess from his books).
# The harpsichord: a French double of the period, FF to f''' (F1-F6).
VIOLIN_RANGE = (55, 86)
VIOL_RANGE = (33, 74)
HARPSICHORD_RANGE = (29, 89)
BELLS_RANGE = (48, 96)  # the sonnerie-bells voice's own range (liquidsky voice info sonnerie-bells)

PARTS = (
    Part("bells", channel=0, program=14, role="ground", volume=100, pan=64),
    Part("violin", channel=1, program=40, role="melody", volume=127, pan=84),
    Part("viol", channel=2, program=42, role="inner", volume=120, pan=46),
    Part("harpsichord", channel=3, program=6, role="bass", volume=112, pan=58),
)
# The strings play above the notation's dynamic levels by this many velocity steps, so that the mix peaks
# a few dB under full scale at the climax (measured on a render: -11 dBFS without it).
STRINGS_LIFT = 12

# The reported key plan: (first bar, key).
KEY_PLAN = ((1, "Dm"), (171, "Am"), (208, "F"), (253, "Dm"))

# --- chords --------------------------------------------------------------------------------------------

# Chord symbols ('Dm', 'A/C#', 'Gm7', 'G#dim7/B', 'C7/E') are read by scores.theory.chord.


# --- the harmonic plan ---------------------------------------------------------------------------------

# One bar of harmony: a chord for each beat, over the bells' D, F and E. The names are the degrees.
BAR_HARMONY = {
    # D minor
    "i i V6": ("Dm", "Dm", "A/C#"),
    "i i V": ("Dm", "Dm", "A"),
    "i iv7 V": ("Dm", "Gm7", "A"),
    "i6 iv7 V": ("Dm/F", "Gm7", "A"),
    "VI i64 V": ("Bb", "Dm/A", "A"),
    "iv i64 V": ("Gm", "Dm/A", "A"),
    "VI iv7 V": ("Bb", "Gm7", "A"),
    "i VII7 III": ("Dm", "G7/B", "C"),
    "lament": ("Dm", "F/C", "Gm6/Bb"),  # the bass falls D C Bb ...
    "i64 V": ("Dm/A", "Dm/A", "A"),  # ... to A
    "V pedal": ("Asus4", "Dm/A", "A"),
    # A minor (the tonic arrives on the third beat)
    "iv VI V6": ("Dm", "F/A", "E/G#"),
    "iv6 iv V": ("Dm/F", "Dm", "E"),
    "iv ii V": ("Dm", "Bdim", "E"),
    "iv vii7 i6": ("Dm", "G#dim7/B", "Am/C"),
    "V42 vii7 i6": ("E7/D", "G#dim7/D", "Am/C"),
    "iv6 iv i": ("Dm/F", "Dm", "Am"),
    "V7/III III": ("G", "G7", "C"),
    # F major
    "I6 IV V": ("F6", "Bb", "C"),
    "vi IV V": ("Dm", "Bb", "C"),
    "IV I6 V64": ("Bb", "F/A", "C/G"),
    "vi ii7 V7": ("Dm", "Gm7", "C7"),
    "vi I V65": ("Dm", "F/A", "C7/E"),
    "IV ii7 V": ("Bb", "Gm7", "C"),
    "ii ii7 V": ("Gm", "Gm7", "C"),
    "vi I iii": ("Dm", "F/A", "Am"),
    # links between the keys
    "to F": ("Dm", "Gm7", "C7"),
    "to Dm": ("Bb", "Gm7", "A7"),
}

# Phrases of four bars (echo phrases are two bars played twice, so their harmony repeats).
PHRASES = {
    "D opening": ("i i V6", "i6 iv7 V", "i iv7 V", "VI i64 V"),
    "D answer": ("i i V6", "VI iv7 V", "lament", "i64 V"),
    "D turn": ("i iv7 V", "VI iv7 V", "i i V6", "iv i64 V"),
    "D sequence": ("i VII7 III", "i6 iv7 V", "i i V", "VI i64 V"),
    "D lament": ("lament", "i64 V", "lament", "i64 V"),
    "D pedal": ("V pedal", "V pedal", "i iv7 V", "VI i64 V"),
    "D echo": ("i i V6", "VI i64 V", "i i V6", "VI i64 V"),
    "D echo 2": ("i iv7 V", "iv i64 V", "i iv7 V", "iv i64 V"),
    "to Am": ("i i V", "VI iv7 V", "iv6 iv V", "iv vii7 i6"),
    "A opening": ("iv VI V6", "V42 vii7 i6", "iv ii V", "iv vii7 i6"),
    "A turn": ("V7/III III", "iv6 iv V", "iv VI V6", "iv6 iv i"),
    "A echo": ("iv6 iv V", "iv vii7 i6", "iv6 iv V", "iv vii7 i6"),
    "F opening": ("I6 IV V", "vi ii7 V7", "IV I6 V64", "I6 IV V"),
    "F answer": ("vi I V65", "I6 IV V", "IV ii7 V", "ii ii7 V"),
    "F echo": ("I6 IV V", "vi I V65", "I6 IV V", "vi I V65"),
    "F turn": ("vi I iii", "IV I6 V64", "I6 IV V", "ii ii7 V"),
    "D close": ("i iv7 V", "VI i64 V"),
    "to F": ("to F",),  # one-bar links
    "to Dm": ("to Dm",),
}


@dataclass(frozen=True)
class Variation:
    """A variation: its bars, who plays, the figure of each player, the dynamics and the harmony."""

    first_bar: int
    n_bars: int
    figures: tuple[tuple[str, str], ...]  # (part, figure name); one or two players
    dynamics: tuple[str, str]  # at its start and at its end
    phrases: tuple[str, ...]  # four-bar phrases of PHRASES; a shorter variation uses their first bars
    echo: bool = False  # bars 3-4 of each phrase repeat bars 1-2 softer
    dialogue: bool = False  # two players alternate every two bars instead of playing together

    @property
    def last_bar(self) -> int:
        return self.first_bar + self.n_bars - 1


V, G = "violin", "viol"
VARIATIONS = (
    # D minor: from long values to sixteenths
    Variation(5, 8, ((V, "written"),), ("p", "mp"), ("D opening", "D answer")),
    Variation(13, 8, ((V, "long"),), ("mp", "mp"), ("D turn", "D sequence")),
    Variation(21, 8, ((G, "quarters"),), ("mp", "mf"), ("D opening", "D lament")),
    Variation(29, 8, ((G, "quarters"),), ("mf", "mp"), ("D echo", "D echo 2"), echo=True),
    Variation(37, 8, ((V, "eighths"),), ("mp", "mf"), ("D echo", "D echo 2"), echo=True),
    Variation(45, 8, ((G, "eighths"),), ("mf", "mf"), ("D turn", "D answer")),
    Variation(53, 8, ((V, "long"), (G, "eighths")), ("mf", "mf"), ("D sequence", "D opening")),
    Variation(61, 8, ((V, "eighths"), (G, "double stops")), ("mf", "f"), ("D pedal", "D answer")),
    Variation(69, 8, ((V, "dotted"),), ("mf", "mf"), ("D opening", "D turn")),
    Variation(77, 8, ((G, "dotted"),), ("mf", "f"), ("D sequence", "D lament")),
    Variation(85, 8, ((V, "broken eighths"),), ("mf", "mf"), ("D echo", "D echo 2"), echo=True),
    Variation(93, 8, ((G, "broken eighths"),), ("mf", "f"), ("D answer", "D opening")),
    Variation(101, 8, ((V, "eighths"), (G, "eighths")), ("f", "f"), ("D turn", "D pedal"), dialogue=True),
    Variation(109, 8, ((V, "long"), (G, "double stops")), ("p", "mp"), ("D echo", "D lament"), echo=True),
    Variation(117, 8, ((V, "triplets"),), ("mp", "mf"), ("D opening", "D sequence")),
    Variation(125, 8, ((G, "triplet arpeggios"),), ("mf", "f"), ("D answer", "D turn")),
    Variation(133, 8, ((V, "triplets"), (G, "triplet arpeggios")), ("f", "f"), ("D lament", "D pedal"),
              dialogue=True),
    Variation(141, 8, ((V, "sixteenths"),), ("mf", "f"), ("D opening", "D answer")),
    Variation(149, 8, ((G, "arpeggios"),), ("f", "f"), ("D sequence", "D turn")),
    Variation(157, 8, ((V, "dotted"), (G, "sixteenths")), ("f", "f"), ("D pedal", "D opening")),
    Variation(165, 6, ((V, "eighths"), (G, "quarters")), ("mf", "mf"), ("D echo", "to Am"), echo=True),
    # A minor: sixteenths and double stops
    Variation(171, 8, ((V, "sixteenths"),), ("f", "f"), ("A opening", "A turn")),
    Variation(179, 8, ((G, "arpeggios"), (V, "long")), ("f", "f"), ("A turn", "A opening")),
    Variation(187, 8, ((V, "dotted"), (G, "double stops")), ("mf", "mf"), ("A echo", "A echo"), echo=True),
    Variation(195, 8, ((V, "triplets"), (G, "triplet arpeggios")), ("f", "f"), ("A opening", "A turn"),
              dialogue=True),
    Variation(203, 4, ((G, "sixteenths"), (V, "long")), ("f", "mf"), ("A opening",)),
    Variation(207, 1, ((V, "quarters"), (G, "quarters")), ("mf", "mp"), ("to F",)),
    # F major: the quiet passage
    Variation(208, 8, ((V, "written"),), ("p", "p"), ("F opening", "F answer")),
    Variation(216, 8, ((G, "long"),), ("p", "mp"), ("F echo", "F echo"), echo=True),
    Variation(224, 8, ((V, "long"), (G, "sixths below")), ("p", "mp"), ("F opening", "F turn")),
    Variation(232, 8, ((V, "eighths"),), ("p", "mp"), ("F answer", "F opening")),
    Variation(240, 8, ((G, "broken eighths"),), ("mp", "mf"), ("F turn", "F answer")),
    Variation(248, 4, ((V, "eighths"), (G, "eighths")), ("mf", "f"), ("F opening",)),
    Variation(252, 1, ((V, "quarters"), (G, "quarters")), ("f", "f"), ("to Dm",)),
    # D minor: the climax and the falling away
    Variation(253, 8, ((V, "sixteenths"), (G, "quarters")), ("f", "f"), ("D opening", "D turn")),
    Variation(261, 8, ((G, "arpeggios"), (V, "long")), ("f", "ff"), ("D sequence", "D answer")),
    Variation(269, 8, ((V, "triplets"), (G, "sixteenths")), ("f", "ff"), ("D pedal", "D opening")),
    Variation(277, 8, ((V, "sixteenths"), (G, "double stops")), ("ff", "ff"), ("D turn", "D pedal")),
    Variation(285, 8, ((V, "sixteenths"), (G, "arpeggios")), ("ff", "fff"), ("D lament", "D pedal")),
    Variation(293, 4, ((V, "long"), (G, "eighths")), ("f", "mp"), ("D answer",)),
    Variation(297, 2, ((V, "written"), (G, "written")), ("mp", "p"), ("D close",)),
)
LAST_CHORD_BAR = 299  # the ensemble's final chord on D; the bells ring on alone after it
# The form as the score marks it for the styles (first bar, name): the key plan, with the long D minor
# part cut where its figures quicken, and the climax apart from its falling away.
FORM = ((1, "bells alone"), (5, "D minor: long values"), (53, "D minor: eighths and dotted rhythms"),
        (101, "D minor: triplets and sixteenths"), (171, "A minor"), (208, "F major: the quiet passage"),
        (253, "D minor: the climax"), (293, "the falling away"))

# Where each player's line moves, as (low, high) of its contour at the start and at the end of each
# section: the band climbs and widens through the piece, narrows in the quiet F major, is widest at the end.
VIOLIN_BAND = {"D minor": ((65, 74), (69, 81)), "A minor": ((70, 80), (69, 82)), "F major": ((67, 76), (69, 79))}
VIOL_BAND = {"D minor": ((50, 58), (45, 64)), "A minor": ((47, 64), (45, 65)), "F major": ((50, 59), (48, 62))}
SECTION_BARS = {"D minor": (5, 170), "A minor": (171, 207), "F major": (208, 252), "D climax": (253, 298)}


def section_of(bar: int) -> str:
    if bar < 171:
        return "D minor"
    if bar < 208:
        return "A minor"
    if bar < 253:
        return "F major"
    return "D climax"


def key_of(bar: int) -> str:
    return next(k for first, k in reversed(KEY_PLAN) if bar >= first)


def harmony_plan() -> dict[int, tuple[Chord, Chord, Chord]]:
    """The chord of each beat of each bar from the variations' phrases, and the last chord."""
    plan: dict[int, tuple[Chord, Chord, Chord]] = {}
    for v in VARIATIONS:
        names = [bar for phrase in v.phrases for bar in PHRASES[phrase]]
        if v.n_bars == 6:  # a short variation: its first phrase and the second's last two bars
            names = names[:4] + names[-2:]
        for i in range(v.n_bars):
            plan[v.first_bar + i] = tuple(chord(s) for s in BAR_HARMONY[names[i]])
    plan[LAST_CHORD_BAR] = (chord("Dm"), chord("Dm"), chord("Dm"))
    return plan


# --- scales and lines ----------------------------------------------------------------------------------

_KEY_SCALES = {name: scale(*parse_key_name(name)) for name in ("Dm", "Am", "F")}  # tonic first


def scale_for(key: str, c: Chord) -> tuple[int, ...]:
    """The key's scale bent to the chord: its accidentals replace the notes a semitone away, and over a
    raised leading tone in minor the sixth is raised too (melodic minor), unless the chord holds it."""
    scale = list(_KEY_SCALES[key])
    for pc in c.pcs:
        if pc not in scale:  # a sharpened note replaces the one below it, a flattened one the one above
            lower, upper = (pc - 1) % 12, (pc + 1) % 12
            replaced = lower if lower in scale and lower not in c.pcs else upper
            if replaced in scale:
                scale[scale.index(replaced)] = pc
    if key.endswith("m"):
        tonic = scale[0]
        sixth = (tonic + 8) % 12
        if (tonic + 11) % 12 in scale and sixth in scale and sixth not in c.pcs:
            scale[scale.index(sixth)] = (tonic + 9) % 12
    return tuple(sorted(scale))


def scale_pitches(scale: tuple[int, ...], low: int, high: int) -> list[int]:
    return [p for p in range(low, high + 1) if p % 12 in scale]


def step(pitch: int, steps: int, scale: tuple[int, ...]) -> int:
    """The note `steps` scale degrees from `pitch` (a pitch off the scale counts from its neighbour)."""
    ladder = scale_pitches(scale, pitch - 30, pitch + 30)
    here = min(range(len(ladder)), key=lambda i: abs(ladder[i] - pitch))
    return ladder[max(0, min(len(ladder) - 1, here + steps))]


def degrees_between(a: int, b: int, scale: tuple[int, ...]) -> int:
    lo, hi = min(a, b), max(a, b)
    n = len([p for p in range(lo + 1, hi + 1) if p % 12 in scale])
    return n if b >= a else -n


def run(a: int, b: int, k: int, scale: tuple[int, ...], upper_first: bool = True) -> list[int]:
    """k notes of a line from a to b (neither included), by step where it can: a straight run when the
    distance fits, a turn or a neighbour first when there is time to spare, skips when there is not."""
    d = degrees_between(a, b, scale)
    moves = k + 1
    if abs(d) >= moves:
        return [step(a, round(d * j / moves), scale) for j in range(1, k + 1)]
    x, w = 0, (1 if upper_first else -1)
    offsets = []
    for j in range(1, k + 1):
        left = moves - j  # moves still to come after this one
        options = [w, -w, 2 * w, -2 * w, 0]
        feasible = [m for m in options if abs(d - (x + m)) <= left + 1]
        if left == 1:
            feasible = [m for m in feasible if abs(d - (x + m)) == 1] or feasible
        m = feasible[0] if feasible else (1 if d > x else -1)
        if m != w:
            w = (1 if m > 0 else -1) if m else w
        x += m
        offsets.append(x)
    return [step(a, o, scale) for o in offsets]


# --- figures: what a player does with each beat --------------------------------------------------------


def _parallel(prev_a: int | None, a: int, prev_b: int | None, b: int) -> bool:
    """Consecutive fifths or octaves between two voices moving the same way."""
    if prev_a is None or prev_b is None or prev_a == a or prev_b == b:
        return False
    same_way = (a - prev_a) * (b - prev_b) > 0
    return same_way and (a - b) % 12 in (0, 7) and (prev_a - prev_b) % 12 in (0, 7)


def choose_tone(pcs: tuple[int, ...], target: float, last: int, low: int, high: int,
                against: list[tuple[int | None, int]]) -> int:
    """The chord tone nearest the contour's target and the line's last note, avoiding fifths and octaves
    in parallel with the voices given as (their previous note, their note now)."""
    best, best_cost = low, math.inf
    for p in range(low, high + 1):
        if p % 12 not in pcs:
            continue
        cost = abs(p - target) + 0.6 * abs(p - last) + (6 if abs(p - last) > 9 else 0) + (3 if p == last else 0)
        cost += sum(20 for prev_other, other in against if _parallel(last, p, prev_other, other))
        cost += sum(4 for _, other in against if p == other)  # a unison with another voice
        if cost < best_cost:
            best, best_cost = p, cost
    return best


def contour(pos: float, phrase_pos: float, shape: str) -> float:
    """A line's height between -1 and 1, over the variation (`pos`, 0-1) and its phrase (`phrase_pos`)."""
    arch = math.sin(math.pi * phrase_pos)
    if shape == "rise":
        return -0.9 + 1.5 * pos + 0.4 * arch
    if shape == "fall":
        return 0.9 - 1.5 * pos + 0.4 * arch
    return 2 * arch - 1  # "arch": each phrase climbs and comes down to its cadence


def arpeggio(c: Chord, lowest: int, pattern: tuple[int, ...], high: int) -> list[int]:
    """A broken chord across the strings: the chord's tones from `lowest` up, picked by `pattern`
    (0 = the lowest), spread wide (every other chord tone) as the bow crosses three or four strings."""
    tones = [p for p in range(lowest, high + 1) if p % 12 in c.pcs]
    spread = tones[::2] if len(tones) >= 6 else tones
    return [spread[min(i, len(spread) - 1)] for i in pattern]


def double_stop(c: Chord, top: int, low: int) -> tuple[int, ...]:
    """The line's note with a chord tone a sixth, third or octave under it, as the viol stops two
    adjacent strings."""
    for gap in (9, 8, 4, 3, 12):
        if top - gap >= low and (top - gap) % 12 in c.pcs:
            return top - gap, top
    return (top,)


# Each figure: the rhythm of one beat, and how the beat is filled from its structural tone.
#   scale: stepwise towards the next beat's tone; chord: by the chord's tones; arpeggio: a wide broken
#   chord; double: two notes at once; hold: long values, a half note where the harmony allows.
FIGURES: dict[str, tuple[tuple[Fraction, ...], str]] = {
    "long": ((Fraction(1),), "hold"),
    "sixths below": ((Fraction(1),), "hold"),
    "quarters": ((Fraction(1),), "scale"),
    "eighths": ((Fraction(1, 2),) * 2, "scale"),
    "broken eighths": ((Fraction(1, 2),) * 2, "chord"),
    "dotted": ((Fraction(3, 4), Fraction(1, 4)), "scale"),
    "triplets": ((Fraction(1, 3),) * 3, "scale"),
    "triplet arpeggios": ((Fraction(1, 3),) * 3, "arpeggio"),
    "sixteenths": ((Fraction(1, 4),) * 4, "scale"),
    "arpeggios": ((Fraction(1, 4),) * 4, "arpeggio"),
    "double stops": ((Fraction(1),), "double"),
}
# How each figure's structural tones move within a bar, in semitones added to the contour on the three
# beats: running figures sweep up a bar and down the next (scales across the bar), the slower ones lean.
SWEEPS = {"sixteenths": ((-5, 0, 5), (5, 0, -5)), "triplets": ((-4, 0, 4), (4, 0, -4)),
          "eighths": ((-3, 2, 4), (4, 0, -3)), "dotted": ((4, 0, -3), (-2, 3, 0)), "quarters": ((0, 3, 0), (2, -2, 0))}
# The shape of the line in each figure: slow figures arch with their phrases; running figures climb.
SHAPES = {"long": "arch", "sixths below": "arch", "quarters": "arch", "eighths": "rise", "broken eighths": "arch",
          "dotted": "fall", "triplets": "rise", "triplet arpeggios": "arch", "sixteenths": "rise",
          "arpeggios": "arch", "double stops": "arch"}


@dataclass(frozen=True)
class Event:
    """A note or a double stop of a solo part, in beats from the start of the piece."""

    beat: Fraction
    length: Fraction
    pitches: tuple[int, ...]
    velocity: int


def bar_beat(bar: int, beat: int | Fraction = 0) -> Fraction:
    """Where a beat of a bar falls, in beats from the start (bar 1, beat 0 is 0)."""
    return Fraction((bar - 1) * BAR_BEATS) + beat


def _velocity(v: Variation, bar: int) -> int:
    start, end = (DYNAMICS[d] for d in v.dynamics)
    t = (bar - v.first_bar) / max(1, v.n_bars - 1)
    return round(start + (end - start) * t) + STRINGS_LIFT


def register(part: str, bar: int) -> tuple[int, int, int, int]:
    """The lowest and highest notes a part's line may use, and the low and high of its centre."""
    section = section_of(bar)
    first, last = SECTION_BARS[section]
    t = (bar - first) / (last - first)
    if section == "D climax":
        # the band widens to the climax at bar 289, then falls to the close
        start, peak, close = ((69, 83), (74, 86), (62, 74)) if part == V else ((45, 66), (43, 68), (45, 57))
        if bar <= 289:
            t = (bar - first) / (289 - first)
            band = [a + (b - a) * t for a, b in zip(start, peak, strict=True)]
        else:
            t = (bar - 289) / (last - 289)
            band = [a + (b - a) * t for a, b in zip(peak, close, strict=True)]
    else:
        (a0, a1), (b0, b1) = (VIOLIN_BAND if part == V else VIOL_BAND)[section]
        band = [a0 + (b0 - a0) * t, a1 + (b1 - a1) * t]
    if part == V:
        return VIOLIN_RANGE[0] + 2, VIOLIN_RANGE[1] if section == "D climax" else 84, band[0], band[1]
    return 38, VIOL_RANGE[1], band[0], band[1]


def structural_tones(part: str, figure: str, v: Variation, bars: list[int], plan, bass: dict[Fraction, int],
                     other: dict[Fraction, int], last: int) -> list[int]:
    """A chord tone on every beat, following the figure's contour, led smoothly from the last note and
    clear of parallel fifths and octaves with the bass and with the other player."""
    tones: list[int] = []
    prev_bass: int | None = None
    prev_other: int | None = None
    for bar in bars:
        low, high, low_c, high_c = register(part, bar)
        for b in range(BAR_BEATS):
            when = bar_beat(bar, b)
            pos = (bar - v.first_bar + b / BAR_BEATS) / v.n_bars
            phrase_pos = ((bar - v.first_bar) % 4 + b / BAR_BEATS) / 4
            height = contour(pos, phrase_pos, SHAPES[figure])
            target = (low_c + high_c) / 2 + height * (high_c - low_c) / 2
            if figure in SWEEPS:
                target += SWEEPS[figure][((bar - v.first_bar) // 2) % 2][b]
            against = [(prev_bass, bass[when])] + ([(prev_other, other[when])] if when in other else [])
            last = choose_tone(plan[bar][b].pcs, target, last, low, high, against)
            tones.append(last)
            prev_bass, prev_other = bass[when], other.get(when)
    return tones


def solo_line(part: str, figure: str, v: Variation, bars: list[int], plan, bass: dict[Fraction, int],
              other: dict[Fraction, int], last: int) -> list[Event]:
    """One player's notes over some bars of a variation: structural tones, then the figure around them."""
    rhythm, kind = FIGURES[figure]
    tones = structural_tones(part, figure, v, bars, plan, bass, other, last)
    events: list[Event] = []
    for i, tone in enumerate(tones):
        bar, b = bars[i // BAR_BEATS], i % BAR_BEATS
        c = plan[bar][b]
        when = bar_beat(bar, b)
        low, high, _, _ = register(part, bar)
        velocity = _velocity(v, bar)
        nxt = tones[i + 1] if i + 1 < len(tones) else tone
        cadence = (bar - v.first_bar) % 4 == 3 or bar == v.last_bar
        if kind == "hold":
            if figure == "sixths below" and when in other:
                tone = next((other[when] - g for g in (9, 8, 4, 3)
                             if (other[when] - g) % 12 in c.pcs and other[when] - g >= low), tone)
            if b == 1 and events and events[-1].beat == bar_beat(bar) and events[-1].length == 2:
                continue  # the half note of the first beat holds on
            holds = b == 0 and tone % 12 in plan[bar][1].pcs and not (bar % 2 and figure == "long")
            events.append(Event(when, Fraction(2 if holds else 1), (tone,), velocity))
            continue
        if kind == "double":
            events.append(Event(when, Fraction(1), double_stop(c, tone, low), velocity + (6 if b == 0 else 0)))
            continue
        if cadence and b == 2:
            events.append(Event(when, Fraction(1), (tone,), velocity))  # the phrase breathes at its end
            continue
        if kind == "arpeggio":
            n = len(rhythm)
            unit = ((bar - v.first_bar) // 2) % 2
            pattern = ((0, 1, 2, 1), (0, 2, 1, 2))[unit] if n == 4 else ((0, 1, 2), (2, 1, 0))[(unit + b) % 2]
            under = [p for p in range(low, tone - 6) if p % 12 == c.bass_pc]
            notes = arpeggio(c, under[-1] if under else max(low, tone - 12), pattern, high)
        else:
            scale = scale_for(key_of(bar), c)
            notes = fill_beat(len(rhythm), tone, nxt, c, scale, kind, upper_first=(bar + b) % 2 == 0)
            after = plan[bar + (b == 2)][(b + 1) % 3] if bar + (b == 2) in plan else c
            next_scale = scale_for(key_of(bar), after)
            if kind == "scale" and len(notes) > 1 and abs(nxt - notes[-1]) == 3 and nxt % 12 not in scale:
                notes[-1] = lead_in(notes[-1], nxt, c, next_scale)
        t = when
        for length, p in zip(rhythm, notes, strict=True):
            accent = 8 if (t == when and b == 0) else 0
            events.append(Event(t, length, (fold(p, low, high),), min(127, velocity + accent)))
            t += length
    return events


def lead_in(note: int, nxt: int, c: Chord, next_scale: tuple[int, ...]) -> int:
    """The note before a raised leading tone, without the augmented second (not A-Bb-C#): the next beat's
    scale step below it (A-B-C#), or above it when that step would rub a semitone against the chord."""
    below = step(nxt, -1 if nxt > note else 1, next_scale)
    if all((below - p) % 12 not in (1, 11) for p in c.pcs):
        return below
    return step(nxt, 1 if nxt > note else -1, next_scale)


def fold(pitch: int, low: int, high: int) -> int:
    """A note beyond a line's compass turned back into it, as a run turns at the top of the fingerboard."""
    if pitch > high:
        return max(low, 2 * high - pitch - 1)
    if pitch < low:
        return min(high, 2 * low - pitch + 1)
    return pitch


def fill_beat(n: int, first: int, nxt: int, c: Chord, scale: tuple[int, ...], kind: str,
              upper_first: bool) -> list[int]:
    """n notes for one beat starting on `first` and leading to `nxt`: by step, or by the chord's tones."""
    if n == 1:
        return [first]
    if kind == "scale":
        return [first, *run(first, nxt, n - 1, scale, upper_first)]
    tones = sorted(p for p in range(first - 12, first + 13) if p % 12 in c.pcs)
    i = tones.index(first)
    direction = (1 if nxt >= first else -1) * (1 if upper_first else -1)
    out = [first]
    for _ in range(n - 1):
        i = max(0, min(len(tones) - 1, i + direction))
        out.append(tones[i])
    return out


# --- written phrases -----------------------------------------------------------------------------------

# The violin's entry, bars 5-12, over "D opening" and "D answer".
VIOLIN_ENTRY = """
    p a4:2 e5:1 | f5:1.5 e5:1/2 c#5:1 | f5:1 g5:1 e5:1 | d5:1.5 e5:1/2 d5:1/2 c#5:1/2 |
    mp f5:2 e5:1 | f5:1 g5:1 e5:1 | f5:1 a5:1 g5:1/2 e5:1/2 | d5:1.5 e5:1/2 c#5:1 |
"""
# The F major theme, bars 208-215, over "F opening" and "F answer": quiet, in long values.
F_MAJOR_THEME = """
    p a5:1 bb5:1 g5:1 | f5:2 e5:1 | d5:1 f5:1 e5:1 | c5:1 d5:1 e5:1 |
    f5:1 a5:1 g5:1 | c6:1 bb5:1 g5:1 | bb5:1.5 a5:1/2 g5:1 | pp g5:1 f5:1 e5:1 |
"""
# The close, bars 297-298, over "D close": the violin's suspension and the viol's last broken chords.
VIOLIN_CLOSE = "mp f5:1 g5:1 e5:1 | p d5:1.5 e5:1/2 d5:1/2 c#5:1/2 |"
VIOL_CLOSE = "mp a3:1/2 f3 d3 bb3 a3 c#4 | p d4 f4 a3 f3 e3:1 |"
WRITTEN = {(5, V): VIOLIN_ENTRY, (208, V): F_MAJOR_THEME, (297, V): VIOLIN_CLOSE, (297, G): VIOL_CLOSE}


def written_events(first_bar: int, text: str, part: str) -> list[Event]:
    w = Writer(part, bar_beat(first_bar), bar_beats=BAR_BEATS).play(text)
    return [Event(Fraction(n.start, TICKS_PER_BEAT), Fraction(n.duration, TICKS_PER_BEAT), (n.pitch,),
                  n.velocity + STRINGS_LIFT) for n in w.notes]


# --- the continuo ----------------------------------------------------------------------------------------

HARPSICHORD_BASS = (36, 52)  # C2-E3: where the bass line moves
HARPSICHORD_RIGHT = (53, 72)  # F3-C5: the right hand's chords, under the violin


def bass_line(plan) -> dict[Fraction, int]:
    """The continuo's bass note on every beat: each chord's bass, the octave nearest the last note."""
    notes: dict[Fraction, int] = {}
    last = 50
    for bar in sorted(plan):
        for b in range(BAR_BEATS):
            pc = plan[bar][b].bass_pc
            options = [p for p in range(*HARPSICHORD_BASS) if p % 12 == pc]
            last = min(options, key=lambda p: (abs(p - last), -p))
            notes[bar_beat(bar, b)] = last
    return notes


def voicing(c: Chord, size: int, previous: tuple[int, ...]) -> tuple[int, ...]:
    """The right hand's chord: `size` of the chord's tones, with its third (and seventh), spanning no more
    than an octave, moved as little as possible from the last chord."""
    low, high = HARPSICHORD_RIGHT
    pitches = [p for p in range(low, high + 1) if p % 12 in c.pcs]
    must = {pc for pc in (c.third, c.pcs[3] if len(c.pcs) > 3 else None) if pc is not None}
    best, best_cost = tuple(pitches[:size]), math.inf
    for combo in combinations(pitches, size):
        if combo[-1] - combo[0] > 12 or len({p % 12 for p in combo}) < size or not must <= {p % 12 for p in combo}:
            continue
        cost = sum(min(abs(p - q) for q in previous) for p in combo) if previous else abs(combo[0] - 62)
        if cost < best_cost:
            best, best_cost = combo, cost
    return best


def continuo(plan, bass: dict[Fraction, int], thin_bars: set[int]) -> list[Note]:
    """The harpsichord: the bass on each beat (a repeated bass held over), and the right hand's chord
    wherever the harmony changes, three notes, two where the texture is thin or full."""
    notes: list[Note] = []
    beats = sorted(bass)
    previous: tuple[int, ...] = ()
    for i, when in enumerate(beats):
        bar, b = int(when // BAR_BEATS) + 1, int(when % BAR_BEATS)
        c = plan[bar][b]
        velocity = 84 if bar in thin_bars else 94
        if i == 0 or bass[beats[i - 1]] != bass[when] or b == 0:
            span = 1
            while i + span < len(beats) and bass[beats[i + span]] == bass[when] and (when + span) % BAR_BEATS:
                span += 1
            notes.append(_note(when, Fraction(span), bass[when], velocity + 6, "harpsichord"))
        if i == 0 or plan_chord(plan, beats[i - 1]).symbol != c.symbol or b == 0:
            span = 1
            while i + span < len(beats) and plan_chord(plan, beats[i + span]).symbol == c.symbol and \
                    (when + span) % BAR_BEATS:
                span += 1
            size = 2 if bar in thin_bars else 3
            previous = voicing(c, size, previous)
            for p in previous:
                notes.append(_note(when, Fraction(span), p, velocity, "harpsichord"))
    return notes


def plan_chord(plan, when: Fraction) -> Chord:
    return plan[int(when // BAR_BEATS) + 1][int(when % BAR_BEATS)]


def _note(beat: Fraction, length: Fraction, pitch: int, velocity: int, part: str) -> Note:
    return Note(round(beat * TICKS_PER_BEAT), max(1, round(length * TICKS_PER_BEAT)), pitch,
                max(1, min(127, velocity)), part)


# --- the piece -------------------------------------------------------------------------------------------


# How hard the bells are struck in each section (the downbeat a little harder): they give way to the
# quiet F major and ring out at the climax.
BELL_VELOCITY = {"D minor": 96, "A minor": 96, "F major": 72, "D climax": 104}


def bells() -> list[Note]:
    """The ground: D, F, E, a beat each, in every bar."""
    return [_note(bar_beat(bar, b), Fraction(1), BELLS[b], BELL_VELOCITY[section_of(bar)] + (10 if b == 0 else 0),
                  "bells") for bar in range(1, BARS + 1) for b in range(BAR_BEATS)]


def solo_parts(plan, bass: dict[Fraction, int]) -> list[Note]:
    """The violin and the viol, variation by variation."""
    notes: list[Note] = []
    last = {V: 69, G: 57}
    for v in VARIATIONS:
        sounding: dict[Fraction, int] = {}  # the first player's structural notes, for the second to avoid
        for index, (part, figure) in enumerate(v.figures):
            bars = list(range(v.first_bar, v.last_bar + 1))
            if v.dialogue:  # two bars each, the first player first
                bars = [bar for bar in bars if ((bar - v.first_bar) // 2) % 2 == index]
            if figure == "written":
                events = written_events(v.first_bar, WRITTEN[v.first_bar, part], part)
            elif v.echo:
                events = []
                for start in range(v.first_bar, v.last_bar + 1, 4):
                    if start + 3 > v.last_bar:  # a phrase too short to echo is played once
                        events += solo_line(part, figure, v, list(range(start, v.last_bar + 1)), plan, bass,
                                            sounding, last[part])
                        continue
                    motif = solo_line(part, figure, v, [start, start + 1], plan, bass, sounding, last[part])
                    echo = [Event(e.beat + 2 * BAR_BEATS, e.length, e.pitches, max(1, e.velocity - 26))
                            for e in motif]
                    events += motif + echo
                    last[part] = motif[-1].pitches[-1]
            else:
                events = solo_line(part, figure, v, bars, plan, bass, sounding, last[part])
            if events:
                last[part] = events[-1].pitches[-1]
            for e in events:
                sounding.setdefault(e.beat, e.pitches[-1])
                gap = Fraction(1, 16) if e.length <= Fraction(1, 2) else Fraction(1, 8)
                for p in e.pitches:
                    notes.append(_note(e.beat, e.length - gap, p, e.velocity, part))
    return notes


def last_chord() -> list[Note]:
    """Bar 299: the ensemble's final D minor chord, held two beats, after which the bells ring alone."""
    when, hold = bar_beat(LAST_CHORD_BAR), Fraction(2)
    velocity = DYNAMICS["p"]
    chord_notes = [(V, 74), (G, 50), (G, 57), ("harpsichord", 38), ("harpsichord", 62), ("harpsichord", 65),
                   ("harpsichord", 69)]
    return [_note(when, hold, p, velocity, part) for part, p in chord_notes]


def build() -> Score:
    """The whole piece, as a Score."""
    plan = harmony_plan()
    bass = bass_line(plan)
    thin = {bar for v in VARIATIONS if section_of(v.first_bar) == "F major" or len(v.figures) > 1
            for bar in range(v.first_bar, v.last_bar + 1)}
    continuo_plan = {bar: chords for bar, chords in plan.items() if bar < LAST_CHORD_BAR}
    continuo_bass = {t: p for t, p in bass.items() if t < bar_beat(LAST_CHORD_BAR)}
    notes = bells() + solo_parts(plan, bass) + continuo(continuo_plan, continuo_bass, thin) + last_chord()
    keys = tuple(Key(round(bar_beat(first) * TICKS_PER_BEAT), *parse_key_name(name)) for first, name in KEY_PLAN)
    sections = tuple((round(bar_beat(first) * TICKS_PER_BEAT), name) for first, name in FORM)
    return Score(TITLE, PARTS, tuple(notes), tempos=((0, TEMPO_BPM),), metres=((0, BAR_BEATS, 4),), keys=keys,
                 sections=sections, after=AFTER, end=BARS * BAR_TICKS)

