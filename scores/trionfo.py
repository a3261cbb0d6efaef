"""Trionfo (after Orff): original music in Orff's manner for choir, piano, timpani, drone, celesta and drums.

Nothing here is Orff's: every figure, chant and block is written for this piece. What it takes from his manner
is the means: short ostinati repeated obsessively, bordun fifths in the bass, one mode per section, syllabic
chant on a reciting tone, choral blocks moving in parallel fourths and fifths, terraced dynamics (a sudden pp
after ff, never a crescendo), and sections that stop dead.

Form (bars counted from 1 within each section; a beat is a quarter note):

  section  bars  metre            tempo  mode        texture
  intro       8  4/4              q=60   E Phrygian  drone E-B and a timpani figure, pp; a choral cry ff (5-6);
                                                     p again; a last ff stroke, then a cut
  chant      16  4/4              q=88   D Dorian    piano ostinato in fifths (16 times), timpani, drone D-A;
                                                     the choir recites on A4 from bar 3 (p, subito f at 11),
                                                     ending on D; cut
  dance      25  5/4 (3+3+2+2)    q=152  F Lydian    piano ostinato (24 times), timpani, drums; choral blocks
                                                     ff (5-12, 17-24), a p terrace with celesta (13-16);
                                                     stops dead; bar 25 is a general pause
  lament     12  3/4 3/4 2/4 4/4  q=50   A Aeolian   the choir alone: two voices in parallel thirds over a
                                                     bordun A3 in the third; mp, subito f (5-8), mp
  chant2     13  4/4              q=92   D Dorian    the chant's ostinato again (12 times), recited on D5,
                                                     drums from bar 7 ff; ends on D; bar 13 a general pause
  climax     16  4/4              q=120  E Phrygian  everything ff: piano in sixteenths (15 times), timpani
                                                     and drums in eighths, cymbals every 4 bars, choral
                                                     blocks up to A5; bar 16 one fff chord and silence

About 3 min 54 s. Keys in the MIDI key map: the modes have no key signature of their own, so a minor mode
(Phrygian, Dorian, Aeolian) is written as its tonic's minor and Lydian as its tonic's major; SECTIONS names
the real mode.

Parts (General MIDI programs as numbered on the wire, 0-127):
  choir    ch 0  GM 52 aah-choir          melody    up to 3 voices (S, A, T/B)
  piano    ch 1  GM 0  piano              ostinato  the ostinati, 2 notes (a fifth or a fourth): one figure a
                                                    section, which styles vary with the form
  timpani  ch 2  GM 47 timpani            bass      1 note
  drone    ch 3  GM 48 string ensemble    pedal     the bordun: an open fifth (2) or its root alone (1)
  celesta  ch 4  GM 8  celesta            inner     1 note, colours where the choir is silent
  drums    ch 9  drum kit                 ostinato  1 note at a time (short strokes): the dance's, the
                                                    chant's and the climax's figures

Voice budget (the CMI IIx has 8): choir 3 + piano 2 + timpani 1 + drums 1 + drone 1 = 8 wherever the
drums play, so the drone is a single note there; without drums the drone holds its fifth (3+2+1+2 = 8); the
celesta plays only where a voice is free: in the intro (no piano, no drums) and in the dance's quiet terrace
(no choir). Mix: the drums' channel volume is near full because the kit's samples are quieter than the
pitched voices (measured on renders of a few bars, part by part).

Choices: the choral blocks are organum-like: the top voice doubled a perfect fourth below and an octave below;
where the fourth below would leave the mode (the one degree whose fourth is augmented) the middle voice takes
the perfect fifth below instead, so the blocks stay modal and never sound a tritone. Notes of the choir at a
section's end are held to the bar line so that every part stops together at the cuts.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from fractions import Fraction
from itertools import accumulate

from scores.notation import Writer, parse_pitch
from scores.score import TICKS_PER_BEAT, Key, Note, Part, Score, ScoreError
from scores.theory import MODE_KEY, MODE_STEPS, pitch_class, pitch_name

TITLE = "Trionfo (after Orff)"
AFTER = "Carl Orff, Trionfo di Afrodite (1951); original music in his manner, none of his"

# --- the plan -------------------------------------------------------------------------------------------------

# The modes' steps (MODE_STEPS) and the key signature a MIDI key map can carry for each (MODE_KEY, major or
# minor only) come from scores.theory.


@dataclass(frozen=True)
class Section:
    """One section of the form: its bars (beats in each), tempo, mode, and what kind of music it is."""

    name: str
    bars: tuple[int, ...]  # quarter-note beats in each bar: 4 is a bar of 4/4, 5 of 5/4
    tempo_bpm: float
    tonic: str  # "E", "D", ...
    mode: str  # a key of MODE_STEPS
    ostinato: bool = False  # the piano repeats one bar-long figure
    reciting_tone: str = ""  # the choir's top voice chants on this pitch ("" for no chant)
    general_pause: bool = False  # the last bar is silent

    @property
    def tonic_pc(self) -> int:
        return pitch_class(self.tonic)

    @property
    def beats(self) -> int:
        return sum(self.bars)

    def pitch_classes(self) -> frozenset[int]:
        return frozenset((self.tonic_pc + step) % 12 for step in MODE_STEPS[self.mode])

    def in_mode(self, pitch: int) -> bool:
        return pitch % 12 in self.pitch_classes()


LAMENT_BARS = (3, 3, 2, 4)  # a limping phrase of 12 beats, three times
SECTIONS: tuple[Section, ...] = (
    Section("intro", (4,) * 8, 60, "E", "phrygian"),
    Section("chant", (4,) * 16, 88, "D", "dorian", ostinato=True, reciting_tone="a4"),
    Section("dance", (5,) * 25, 152, "F", "lydian", ostinato=True, general_pause=True),
    Section("lament", LAMENT_BARS * 3, 50, "A", "aeolian"),
    Section("chant2", (4,) * 13, 92, "D", "dorian", ostinato=True, reciting_tone="d5", general_pause=True),
    Section("climax", (4,) * 16, 120, "E", "phrygian", ostinato=True),
)
SECTION = {s.name: s for s in SECTIONS}
CLIMAX = "climax"
_STARTS = dict(zip(SECTION, accumulate((s.beats for s in SECTIONS), initial=0), strict=False))

# Ranges (lowest, highest MIDI key). The choir as SATB from a bass's G2 to a soprano's A5 (a guess for a
# chorus singing ff without strain); the piano's 88 keys; timpani E2-A3 (a guess for a set of pedal timpani);
# the string drone from a double bass's E1 to the cellos' middle (a guess: a bordun stays low); the celesta's
# written C4-C8 (the factory voice plays it where written); drums: the kit keys the piece uses.
CHOIR_RANGE = (43, 81)
PIANO_RANGE = (21, 108)
TIMPANI_RANGE = (40, 57)
DRONE_RANGE = (28, 60)
CELESTA_RANGE = (60, 108)

# Drum-kit keys (General MIDI percussion map), as the notation names them.
BASS_DRUM = "c2"  # 36
SNARE = "d2"  # 38
CRASH = "c#3"  # 49
DRUM_KEYS = (36, 38, 49)

PARTS = (
    Part("choir", 0, program=52, role="melody", volume=118, pan=64),
    Part("piano", 1, program=0, role="ostinato", volume=108, pan=46),
    Part("timpani", 2, program=47, role="bass", volume=120, pan=72),
    Part("drone", 3, program=48, role="pedal", volume=96, pan=84),
    Part("celesta", 4, program=8, role="inner", volume=88, pan=100),
    Part("drums", 9, program=0, role="ostinato", volume=124, pan=56),
)
RANGES = {"choir": CHOIR_RANGE, "piano": PIANO_RANGE, "timpani": TIMPANI_RANGE, "drone": DRONE_RANGE,
          "celesta": CELESTA_RANGE}
VOICES = {"choir": 3, "piano": 2, "timpani": 1, "drone": 2, "celesta": 1, "drums": 1}  # most notes at once

# --- the figures (each is one bar; accents > make the additive groupings audible) --------------------------------

# D Dorian: fifths rocking on the tonic, the Dorian sixth's fifth (E-B) and a lift to F-C; grouped 3+3+2.
CHANT_OSTINATO = ">d3+a3:1/2' d3+a3' e3+b3' >d3+a3' d3+a3' e3+b3' >f3+c4' e3+b3'"
CHANT_TIMPANI = ">d3:1 r:1/2 a2:1/2 d3:1 r:1"

# F Lydian in 5/4 grouped 3+3+2+2 eighths: fifths climbing to the Lydian B-E and back.
DANCE_OSTINATO = ">f3+c4:1/2' f3+c4' g3+d4' >f3+c4' g3+d4' a3+e4' >b3+e4' a3+e4' >g3+d4' f3+c4'"
DANCE_TIMPANI = ">f2:3/2 >c3:3/2 >f2:1 c3:1/2 c3:1/2"
DANCE_DRUMS = f"{BASS_DRUM}:1/2' r r {SNARE}' r r {BASS_DRUM}' r {SNARE}' {SNARE}'"
DANCE_DRUMS_CRASH = f"{CRASH}:1/2' r r {SNARE}' r r {BASS_DRUM}' r {SNARE}' {SNARE}'"

# E Phrygian in sixteenths: the tonic fifth ground against the Phrygian F-C, accents 3+3+4+2+4.
CLIMAX_OSTINATO = (">e3+b3:1/4 e3+b3 f3+c4 >e3+b3 e3+b3 g3+d4 >f3+c4 e3+b3 "
                   "d3+a3 e3+b3 >f3+c4 e3+b3 >g3+d4 f3+c4 e3+b3 d3+a3")
CLIMAX_TIMPANI = ">e2:1/2 e2 b2 >e2 e2 b2 >f2 e2"
CLIMAX_DRUMS = f"{BASS_DRUM}:1/2' {SNARE}' {BASS_DRUM}' {SNARE}' {BASS_DRUM}' {SNARE}' {BASS_DRUM}' {SNARE}'"
CLIMAX_DRUMS_CRASH = f"{CRASH}:1/2' {SNARE}' {BASS_DRUM}' {SNARE}' {BASS_DRUM}' {SNARE}' {BASS_DRUM}' {SNARE}'"

# E Phrygian timpani for the intro: tonic and fifth, the Phrygian F falling to E at the bar's end.
INTRO_TIMPANI = "e2:1 r:1/2 e2:1/4 e2:1/4 b2:1 r:1/2 f2:1/4 e2:1/4"

# --- the choir's music (the top voice; `organum` adds the two lower voices) --------------------------------------

INTRO_CRY = "ff e5:2 f5:1 e5:1 | d5:1 e5:3 | p b4:4 | b4:3 ff >e5:1 |"

VERSE_BEATS = 8  # a verse of the chant is two bars of 4/4


def recite(tone: str, syllables: int, *, accents: tuple[int, ...] = ()) -> str:
    """Syllables in eighths on one reciting tone; `accents` counts syllables from 1."""
    return " ".join(f"{'>' if i + 1 in accents else ''}{tone}:1/2" for i in range(syllables))


# Verses: the recitation, then a turn to the cadence (the turn's rhythm is in the notation).
CHANT_VERSES = (
    "p " + recite("a4", 10) + " b4:1/2 c5:1/2 b4:1 a4:1",
    recite("a4", 12) + " g4:1/2 f4:1/2 g4:1",
    recite("a4", 8) + " c5:1/2 b4:1/2 a4:1 r:2",
    recite("a4", 10) + " g4:1/2 a4:1/2 e4:1 d4:1",
    "f " + recite("a4", 10, accents=(1, 4, 7)) + " b4:1 a4:1 g4:1/2 a4:1/2",
    recite("a4", 12) + " c5:1 b4:1",
    recite("a4", 6) + " b4:1/2 a4:1/2 g4:1/2 f4:1/2 e4:1 d4:2",
)
CHANT2_VERSES = (
    "mf " + recite("d5", 10) + " e5:1/2 f5:1/2 e5:1 d5:1",
    recite("d5", 12) + " c5:1/2 a4:1/2 c5:1",
    "ff " + recite("d5", 8, accents=(1, 4, 7)) + " e5:1/2 f5:1/2 g5:1 f5:1 e5:1",
    recite("d5", 10) + " c5:1 b4:1/2 c5:1/2 d5:1",
    recite("d5", 6, accents=(1, 2, 3, 4, 5, 6)) + " e5:1/2 f5:1/2 e5:1/2 c5:1/2 d5:3",
)

DANCE_CALL = ("c5:1 c5:1/2 c5:1/2 d5:1 c5:1 b4:1 | c5:3 r:2 | "
              "d5:1 d5:1/2 d5:1/2 e5:1 d5:1 c5:1 | b4:1 a4:1 b4:1 c5:2 |")
DANCE_ANSWER = ("a4:1 a4:1/2 a4:1/2 b4:1 a4:1 g4:1 | a4:3 r:2 | "
                "c5:1 b4:1/2 a4:1/2 g4:1 a4:1 b4:1 | c5:1 b4:1 a4:1 f4:2 |")
DANCE_LAST_ANSWER = ("a4:1 a4:1/2 a4:1/2 b4:1 a4:1 g4:1 | a4:3 r:2 | "
                     "c5:1 d5:1/2 e5:1/2 f5:1 e5:1 d5:1 | >f5:1 >f5:1/2 >f5:1/2 >e5:1 >f5:2 |")

# The lament's melody in A Aeolian (bars of 3, 3, 2 and 4 beats); `gymel` adds a third below.
LAMENT_MELODY = ("mp e5:2 d5:1 | c5:1 b4:1 c5:1 | d5:1 c5:1 | b4:2 a4:2 | "
                 "f a5:2 g5:1 | f5:1 e5:1 f5:1 | g5:1 f5:1 | e5:4 | "
                 "mp e5:2 d5:1 | c5:1 b4:1 c5:1 | b4:1 g4:1 | a4:4 |")
LAMENT_BORDUN = "mp a3:12 | f a3:12 | mp a3:12 |"

CLIMAX_BLOCKS = ("ff e5:1 e5:1 f5:1 e5:1 | d5:1 e5:1/2 e5:1/2 f5:2 | e5:1 d5:1 c5:1 d5:1 | e5:4 | "
                 "g5:1 g5:1 f5:1 g5:1 | a5:2 g5:1 f5:1 | e5:1 f5:1 g5:1 f5:1 | e5:4 | "
                 + recite("e5", 8, accents=(1, 4, 7)) + " | " + recite("e5", 4) + " f5:1/2 e5:1/2 d5:1 | "
                 + recite("e5", 6, accents=(1, 4)) + " f5:1 | g5:2 f5:1 e5:1 | "
                 ">a5:2 g5:1 f5:1 | >g5:2 f5:1 e5:1 | fff >f5:1 >f5:1 >f5:1 >f5:1 | >e5:1 r:3 |")

# --- figurations ----------------------------------------------------------------------------------------------

_NOTE_TOKEN = re.compile(r"(>?)([a-g][#b]*-?\d)((?::[0-9./]+)?'?)$")


def _name(pitch: int) -> str:
    return pitch_name(pitch).lower()


def organum(top: int, section: Section) -> tuple[int, int, int]:
    """A choral block under a top note: a perfect fourth below (a fifth where the fourth leaves the mode),
    and the octave below."""
    if section.in_mode(top - 5):
        middle = top - 5
    elif section.in_mode(top - 7):
        middle = top - 7
    else:
        raise ScoreError(f"{_name(top)} has neither a perfect fourth nor a fifth below it in {section.name}")
    return top, middle, top - 12


def diatonic_below(pitch: int, degrees: int, section: Section) -> int:
    """The pitch `degrees` steps of the section's mode below a pitch of the mode."""
    for _ in range(degrees):
        pitch -= 1
        while not section.in_mode(pitch):
            pitch -= 1
    return pitch


def voiced(text: str, voicing) -> str:
    """A phrase of single notes turned into chords: each note becomes `voicing(key)`, all with its rhythm."""
    out = []
    for token in text.split():
        m = _NOTE_TOKEN.match(token)
        if m is None:
            out.append(token)  # dynamics, rests, bar lines
            continue
        accent, note, rest = m.groups()
        out.append(accent + "+".join(_name(p) for p in voicing(parse_pitch(note))) + rest)
    return " ".join(out)


def blocks(text: str, section: Section) -> str:
    """Homorhythmic choral blocks in parallel fourths (or fifths) and octaves under a melody."""
    return voiced(text, lambda top: organum(top, section))


def gymel(text: str, section: Section) -> str:
    """A melody with a second voice a third below it in the mode (parallel thirds, major or minor)."""
    return voiced(text, lambda top: (top, diatonic_below(top, 2, section)))


def repeat(writer: Writer, figure: str, times: int, terraces: dict[int, str] | None = None) -> Writer:
    """A one-bar figure played `times` bars running; `terraces` sets a new dynamic at some bars (from 1)."""
    for bar in range(1, times + 1):
        if terraces and bar in terraces:
            writer.play(terraces[bar])
        writer.play(figure + " |")
    return writer


def chant(writer: Writer, verses: tuple[str, ...], section: Section) -> Writer:
    """Verses of chant, each two bars, sung in blocks; each verse is checked to fill its two bars."""
    for verse in verses:
        start = writer.position
        writer.play(blocks(verse, section))
        if writer.position - start != VERSE_BEATS:
            raise ScoreError(f"a verse of {section.name} lasts {writer.position - start} beats, "
                             f"not {VERSE_BEATS}: {verse!r}")
    return writer


def held(pitches: str, beats: int, dynamic: str = "") -> str:
    """A drone note or fifth held for a number of beats."""
    return f"{dynamic} {pitches}:{beats} |".strip()


# --- the sections ---------------------------------------------------------------------------------------------


def bar_beat(section: str, bar: int = 1) -> Fraction:
    """The beat (from the start of the piece) where a bar of a section begins; bars count from 1."""
    s = SECTION[section]
    return Fraction(_STARTS[section] + sum(s.bars[:bar - 1]))


def section_ticks(name: str) -> tuple[int, int]:
    """The first tick of a section and the first tick after it."""
    start = _STARTS[name] * TICKS_PER_BEAT
    return start, start + SECTION[name].beats * TICKS_PER_BEAT


def _writer(part: str, section: str, bar: int = 1) -> Writer:
    bars = set(SECTION[section].bars)
    return Writer(part, bar_beat(section, bar), bar_beats=bars.pop() if len(bars) == 1 else None)


def intro() -> list[Writer]:
    s = SECTION["intro"]
    drone = _writer("drone", "intro").play(held("e2+b2", 16, "p") + " " + held("e2+b2", 8, "ff")
                                           + " " + held("e2+b2", 8, "p"))
    timpani = repeat(_writer("timpani", "intro"), INTRO_TIMPANI, 4, {1: "mp"})
    repeat(timpani, INTRO_TIMPANI.replace("e2:1 ", ">e2:1 ", 1), 2, {1: "ff"})
    timpani.play("p " + INTRO_TIMPANI + " | e2:1 r:2 ff >e2:1 |")
    celesta = _writer("celesta", "intro").play("r:4 | r:3 mp f6:1 | r:4 | r:2 c6:1 b5:1 | r:4 | r:4 | r:3 f6:1 |")
    choir = _writer("choir", "intro", 5).play(blocks(INTRO_CRY, s))
    return [drone, timpani, celesta, choir]


def chant_section(name: str, verses: tuple[str, ...], terrace_bar: int, drone_fifth: bool) -> list[Writer]:
    """An ostinato section: the piano's figure, timpani and drone from bar 1, the chant from bar 3."""
    s = SECTION[name]
    n_bars = len(s.bars) - (1 if s.general_pause else 0)
    early, late = ("p", "f") if name == "chant" else ("mf", "ff")
    piano = repeat(_writer("piano", name), CHANT_OSTINATO, n_bars, {1: early, terrace_bar: late})
    timpani = repeat(_writer("timpani", name), CHANT_TIMPANI, n_bars, {1: early, terrace_bar: late})
    drone = _writer("drone", name)
    pitches = "d2+a2" if drone_fifth else "d2"
    for bar in range(1, n_bars + 1, 2):
        drone.play(held(pitches, 8, early if bar == 1 else late if bar == terrace_bar else ""))
    choir = chant(_writer("choir", name, 3), verses, s)
    writers = [piano, timpani, drone, choir]
    if not drone_fifth:  # the drums take the drone's second voice
        drums = _writer("drums", name, terrace_bar)
        repeat(drums, f"{BASS_DRUM}:1' {SNARE}:1/2' {SNARE}' {BASS_DRUM}:1' {SNARE}:1'", n_bars - terrace_bar + 1,
               {1: "f"})
        writers.append(drums)
    return writers


def dance() -> list[Writer]:
    s = SECTION["dance"]
    n_bars = len(s.bars) - 1  # the last is the general pause
    piano = repeat(_writer("piano", "dance"), DANCE_OSTINATO, n_bars, {1: "f", 13: "p", 17: "f"})
    timpani = repeat(_writer("timpani", "dance"), DANCE_TIMPANI, n_bars, {1: "f", 13: "p", 17: "ff"})
    drone = _writer("drone", "dance").play(
        " ".join(held("f2", 20, dynamic) for dynamic in ("mf", "f", "", "p", "f", "")))
    drums = repeat(_writer("drums", "dance", 3), DANCE_DRUMS, 2, {1: "mf"})
    repeat(drums, DANCE_DRUMS_CRASH, 1, {1: "ff"})
    repeat(drums, DANCE_DRUMS, 7)
    repeat(drums, DANCE_DRUMS, 4, {1: "p"})
    for _ in range(2):
        repeat(drums, DANCE_DRUMS_CRASH, 1, {1: "ff"})
        repeat(drums, DANCE_DRUMS, 3)
    choir = _writer("choir", "dance", 5).play(blocks("ff " + DANCE_CALL + " " + DANCE_ANSWER, s))
    choir.at(bar_beat("dance", 17)).play(blocks("ff " + DANCE_CALL + " " + DANCE_LAST_ANSWER, s))
    celesta = _writer("celesta", "dance", 13).play("mf r:1 b5:1/2 c6:1/2 e6:1 r:2 | r:5 | "
                                                   "r:1 b5:1/2 c6:1/2 g6:1 r:2 | r:5 |")
    return [piano, timpani, drone, drums, choir, celesta]


def lament() -> list[Writer]:
    s = SECTION["lament"]
    upper = _writer("choir", "lament").play(gymel(LAMENT_MELODY, s))
    bordun = _writer("choir", "lament").play(LAMENT_BORDUN)
    return [upper, bordun]


def climax() -> list[Writer]:
    s = SECTION["climax"]
    n_bars = len(s.bars) - 1  # the last bar is the final chord
    piano = repeat(_writer("piano", "climax"), CLIMAX_OSTINATO, n_bars, {1: "ff"}).play("fff >e2+b2:1 r:3 |")
    timpani = repeat(_writer("timpani", "climax"), CLIMAX_TIMPANI, n_bars, {1: "ff"}).play("fff >e2:1 r:3 |")
    drums = _writer("drums", "climax")
    for phrase in range(4):
        repeat(drums, CLIMAX_DRUMS_CRASH, 1, {1: "ff"})
        repeat(drums, CLIMAX_DRUMS, 3 if phrase < 3 else 2)
    drums.play(f"fff {CRASH}:1 r:3 |")
    drone = _writer("drone", "climax").play(
        " ".join([held("e2", 16, "ff"), held("e2", 16), held("e2", 16), held("e2", 12), "fff e2:1 r:3 |"]))
    choir = _writer("choir", "climax").play(blocks(CLIMAX_BLOCKS, s))
    return [piano, timpani, drums, drone, choir]


def build() -> Score:
    """The whole piece, composed afresh (deterministic: nothing is random)."""
    writers = [*intro(), *chant_section("chant", CHANT_VERSES, 11, drone_fifth=True), *dance(), *lament(),
               *chant_section("chant2", CHANT2_VERSES, 7, drone_fifth=False), *climax()]
    notes: list[Note] = [n for w in writers for n in w.notes]
    tempos, metres, keys = [], [], []
    for s in SECTIONS:
        start = _STARTS[s.name] * TICKS_PER_BEAT
        tempos.append((start, float(s.tempo_bpm)))
        keys.append(Key(start, s.tonic_pc, MODE_KEY[s.mode]))
        tick = start
        for beats in s.bars:
            if not metres or metres[-1][1] != beats:
                metres.append((tick, beats, 4))
            tick += beats * TICKS_PER_BEAT
    end = sum(s.beats for s in SECTIONS) * TICKS_PER_BEAT
    sections = tuple((_STARTS[s.name] * TICKS_PER_BEAT, s.name) for s in SECTIONS)
    return Score(TITLE, PARTS, tuple(notes), tempos=tuple(tempos), metres=tuple(metres), keys=tuple(keys),
                 sections=sections, after=AFTER, end=end)
