"""Laurel Waltz (after Heinrich): an original parlour waltz for piano in the manner of the 1840s.

No score of Anthony Philip Heinrich's Laurel Waltz (c. 1840) is available to us, so every note here is
original: a waltz as an American parlour pianist of the 1840s would have bought it, in 8- and 16-bar periods
with a trio in the subdominant and a coda.

Key B-flat major (a common key of parlour dances, and one that keeps the left hand's bass in the warm
octave of A1 to A-flat 2); the trio in E-flat major. 3/4 throughout, a quarter at 168 (a dotted half of 56:
one beat in a bar felt), the trio a little calmer at 160, a ritardando over the coda's last six bars:
136 bars in about 2 minutes 29 seconds.

Form (bars counted from 1):

    bars   1-8    Introduction       B-flat  f   block chords I-IV-V7-I, then a soft lead-in through
                                                 Gm, Cm and C7 to F7
    bars   9-24   Waltz A            B-flat  p   8 + 8: half cadence on F (bar 16), perfect cadence (bar 24)
    bars  25-40   Waltz A, varied    B-flat  mf  the written-out repeat: the tune in thirds and sixths, with
                                                 a grace note and a turn
    bars  41-56   Waltz B            B-flat  mf  to the dominant (perfect cadence in F, bar 48), then back
                                                 through G7, Cm and E diminished 7 to F7 (half cadence)
    bars  57-72   Waltz A            B-flat  p
    bars  73-88   Trio I             E-flat  p   dolce, the tune in sixths; half cadence (bar 80), perfect
                                                 cadence (bar 88)
    bars  89-104  Trio II            E-flat  mp  C minor, back through F minor (ii of E-flat) to B-flat 7,
                                                 then the trio's second phrase again, with a grace
                                                 note (perfect cadence)
    bars 105-120  Waltz A da capo    B-flat  f   the varied version, written out
    bars 121-136  Coda               B-flat  f   I-IV-I6/4-V7 twice, I-V7 echoes, I-IV-V7-I, a final chord

The key map holds the key of each strain as the printed key signatures of the time would: B, which visits
F major and comes back within its 16 bars, keeps B-flat (F major appears through its accidentals); the trio
has its own signature, E-flat.

Piano solo, written as a piano score is: two parts on two channels, General MIDI program 0 (the CMI piano).
The right hand ("melody") sings the tune, a third or a sixth below it on the longer notes of the varied
strains and the trio. The left hand ("bass") plays the oom-pah-pah: a single bass note on beat 1 (held, as
the pedal would hold it), a close chord of three notes on beats 2 and 3. When a chord lasts two bars the
second bar's bass is its fifth, as waltz players alternated them. The left hand's loudness follows the tune's
dynamic, softer than it. Ranges: the right hand within C4-C7, the left hand within F1-C4, as parlour
writing kept them; at most seven keys sound at once, so the piece plays on an eight-voice CMI unstolen.
The written dynamics are played with a narrower touch (TOUCH_FLOOR, TOUCH_SLOPE) because the CMI's loudness
follows velocity squared.

Harmony is written per bar as chord symbols (I, IV, V7, ii, secondary dominants at the cadences, a minor iv
and a diminished seventh for colour); the left hand's voicings and the right hand's added thirds and sixths
are derived from those symbols, spelled, so that a C7 brings its E natural into the right hand's thirds.
Nothing is random: the build is the same every time.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction
from itertools import combinations

from scores import CATALOGUE
from scores.notation import Writer
from scores.score import TICKS_PER_BEAT, Key, Note, Part, Score
from scores.theory import Chord, chord, spell, spelled_scale

INFO = CATALOGUE["laurel"]

BAR_BEATS = 3
BAR_TICKS = BAR_BEATS * TICKS_PER_BEAT

# --- tempo ---------------------------------------------------------------------------------------------

TEMPO_BPM = 168.0  # a quarter at 168: a dotted half of 56, one beat felt in each bar
TRIO_TEMPO_BPM = 160.0  # poco meno mosso for the gentler trio
# The coda's last six bars, one tempo a bar: a slight ritardando into the final chord.
CODA_RITARDANDO_BPM = (162.0, 156.0, 148.0, 138.0, 126.0, 112.0)

# --- instruments and ranges ----------------------------------------------------------------------------

PIANO_PROGRAM = 0  # General MIDI acoustic grand: the CMI emulation's factory piano
PIANO_RANGE = (21, 108)  # A0-C8, the 88 keys of a modern piano
# Where parlour writing of the period keeps each hand (a guess from the printed music of the time):
RIGHT_HAND_RANGE = (60, 96)  # C4-C7
LEFT_HAND_RANGE = (29, 60)  # F1-C4
BASS_WINDOW = (33, 44)  # A1-G#2: where the left hand's beat-1 bass notes are placed
CHORD_WINDOW = (48, 60)  # C3-C4: where the left hand's chords on beats 2 and 3 are voiced

RIGHT = Part("right hand", channel=0, program=PIANO_PROGRAM, role="melody", volume=127, pan=72)
LEFT = Part("left hand", channel=1, program=PIANO_PROGRAM, role="bass", volume=124, pan=56)

# The CMI's cards scale loudness by velocity squared (synth.engine.velocity_to_volume), so the notation's
# dynamics, p = 46 to ff = 108, would span 17 dB and sink the piano passages near silence. The waltz's
# touch narrows them to about 9 dB: velocity = TOUCH_FLOOR + TOUCH_SLOPE * written velocity, so that
# p plays at 72, mf at 94 and ff at 118.
TOUCH_FLOOR = 38
TOUCH_SLOPE = 0.74

# The left hand under the tune: velocity steps below the tune's current dynamic.
BASS_BELOW_TUNE = 6
CHORDS_BELOW_TUNE = 20
LOWER_VOICE_BELOW_TUNE = 12  # the right hand's added third or sixth, so that the tune stays on top
BASS_HOLD_TICKS = BAR_TICKS - TICKS_PER_BEAT // 8  # held through the bar, released just before the next
CHORD_HOLD_TICKS = TICKS_PER_BEAT * 3 // 4  # the "pah"s lightly detached


# --- the plan ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Section:
    """One strain of the waltz: its bars, key, harmony (a chord symbol a bar) and right-hand tune."""

    name: str
    key: str  # tonic of the key signature, major
    harmony: tuple[str, ...]
    tune: tuple[str, ...]  # one bar of notation each
    lower_voice: str | None = None  # "third" or "sixth": the interval the right hand adds below the tune
    waltz: bool = True  # a strain of the dance proper (not the introduction or the coda)

    @property
    def bars(self) -> int:
        return len(self.harmony)


INTRO_HARMONY = ("Bb", "Eb", "F7", "Bb", "Gm", "Cm", "C7", "F7")
INTRO_TUNE = (
    "f bb4+d5+f5:1 r:1 d5:1/2 f5:1/2",
    "g5+bb5+eb6:1 r:1 eb5:1/2 g5:1/2",
    "a5+c6+eb6:1 r:1 c6:1/2 a5:1/2",
    "f5+bb5+d6:2 r:1",
    "p d6:1 bb5 g5",
    "eb6:1 c6 g5",
    "e5:1 g5 bb5",
    "a5:1 c6 eb5",  # the seventh, eb, falls to the waltz's first note, d
)

# Waltz A: a parallel period. Bars 1-4 and 9-12 open alike; appoggiaturas (c over B-flat, e-flat over B-flat,
# b-flat over F7, e-flat over G7) lean on the downbeats; bar 8 a half cadence on F after its own dominant C7,
# bars 13-16 ii - I6/4 - V7 - I.
A_HARMONY = ("Bb", "Bb", "Eb", "Bb", "F7", "F7", "C7", "F",
             "Bb", "Bb7", "Eb", "G7", "Cm", "Bb/F", "F7", "Bb")
A_TUNE = (
    "d5:1 f5 bb5", "c6:2 bb5:1", "g5:1 bb5 eb6", "eb6:2 d6:1",
    "c6:1 a5 f5", "bb5:2 a5:1", "e5:1 g5 bb5", "a5:2 c5:1",
    "d5:1 f5 bb5", "d6:2 ab5:1", "g5:1 bb5 eb6", "eb6:2 d6:1",
    "c6:2 eb6:1", "d6:2 bb5:1", "c6:2 a5:1", "bb5:2 r:1",
)
# The varied repeat: the same tune with an acciaccatura (bars 4 and 13) and a turn (bar 5).
A_VARIED_TUNE = (
    "d5:1 f5 bb5", "c6:2 bb5:1", "g5:1 bb5 eb6", "f6:1/8 eb6:15/8 d6:1",
    "d6:1/4 c6:1/4 bb5:1/4 c6:1/4 a5:1 f5:1", "bb5:2 a5:1", "e5:1 g5 bb5", "a5:2 c5:1",
    "d5:1 f5 bb5", "d6:2 ab5:1", "g5:1 bb5 eb6", "eb6:2 d6:1",
    "d6:1/8 c6:15/8 eb6:1", "d6:2 bb5:1", "c6:2 a5:1", "bb5:2 r:1",
)

# Waltz B: to the dominant, F (perfect cadence at bar 8), then back by the circle G7 - Cm and a diminished
# seventh on E to the cadential 6/4 and F7, a half cadence that leads into A again.
B_HARMONY = ("C7", "F", "C7", "F", "Dm", "G7", "C7", "F",
             "F7", "Bb", "G7", "Cm", "Eb", "Edim7", "Bb/F", "F7")
B_TUNE = (
    "mf bb5:2 g5:1", "a5:1 g5:1/2 a5:1/2 c6:1", "bb5:2 e5:1", "f5:2 c5:1",
    "f5:1 a5 d6", "d6:1/2 e6:1/2 d6:1 b5:1", "c6:1 g5 e5", "f5:2 r:1",
    "f f5:1 a5 eb6", "d6:2 bb5:1", "b5:1 d6 f6", "eb6:2 c6:1",
    "g6:2 eb6:1", "db6:2 bb5:1", "mf d6:2 bb5:1", "c6:1 a5 eb5",
)

# Trio I in E-flat: longer notes, the tune in sixths; a minor iv (A-flat minor, bar 12) for colour.
TRIO_I_HARMONY = ("Eb", "Eb", "Ab", "Eb", "Fm", "Bb7", "F7", "Bb",
                  "Eb", "Eb7", "Ab", "Abm", "Fm", "Eb/Bb", "Bb7", "Eb")
TRIO_I_TUNE = (
    "p bb4:1 eb5 g5", "bb5:2 g5:1", "c6:2 ab5:1", "g5:2 eb5:1",
    "f5:1 ab5 c6", "d6:2 ab5:1", "a5:2 eb5:1", "d5:2 r:1",
    "bb4:1 eb5 g5", "db6:2 bb5:1", "c6:2 ab5:1", "cb6:2 ab5:1",
    "c6:1 ab5 f5", "g5:2 bb5:1", "ab5:1 f5 d5", "eb5:2 r:1",
)
# Trio II: eight bars in C minor that slip through F minor (ii of E-flat) to B-flat 7, then the trio's
# second phrase again, a little louder and with a grace note, then dying away to its cadence.
TRIO_II_HARMONY = ("Cm", "Cm", "G7", "G7", "Ab", "Fm", "Bb7", "Bb7",
                   "Eb", "Eb7", "Ab", "Abm", "Fm", "Eb/Bb", "Bb7", "Eb")
TRIO_II_TUNE = (
    "mp eb5:1 g5 c6", "eb6:2 c6:1", "ab5:2 g5:1", "f5:1 d5 b4",
    "c5:1 eb5 ab5", "c6:2 ab5:1", "d6:2 c6:1", "bb5:1 f5 d5",
    "mf bb4:1 eb5 g5", "c6:1/8 db6:15/8 bb5:1", "c6:2 ab5:1", "cb6:2 ab5:1",
    "p c6:1 ab5 f5", "g5:2 bb5:1", "ab5:1 f5 d5", "eb5:2 r:1",
)

# Coda: I-IV-I6/4-V7 twice (the second time an octave up and louder), echoes of I-V7, then the waltz's own
# opening figure over I-IV-V7 and the final chord.
CODA_HARMONY = ("Bb", "Eb", "Bb/F", "F7", "Bb", "Eb", "Bb/F", "F7",
                "Bb", "F7", "Bb", "F7", "Bb", "Eb", "F7", "Bb")
CODA_TUNE = (
    "f d6:2 bb5:1", "c6:1 eb6 g6", "f6:2 d6:1", "c6:1 eb6 a5",
    "ff bb5:1 d6 f6", "g6:2 eb6:1", "d6:1 f6 bb6", "a6:2 c6:1",
    "mf bb5:2 f5:1", "c6:2 a5:1", "p bb5:2 d5:1", "eb5:2 c5:1",
    "mf d5:1 f5 bb5", "g5:1 bb5 eb6", "f c6:2 a5:1", "bb4+d5+f5+bb5:3",
)
FINAL_LEFT_HAND = "bb1+f2+d3"  # the coda's last bar: the tonic in open spacing, held

SECTIONS: tuple[Section, ...] = (
    Section("introduction", "Bb", INTRO_HARMONY, INTRO_TUNE, waltz=False),
    Section("waltz A", "Bb", A_HARMONY, ("p " + A_TUNE[0], *A_TUNE[1:])),
    Section("waltz A varied", "Bb", A_HARMONY, ("mf " + A_VARIED_TUNE[0], *A_VARIED_TUNE[1:]), "third"),
    Section("waltz B", "Bb", B_HARMONY, B_TUNE),
    Section("waltz A again", "Bb", A_HARMONY, ("p " + A_TUNE[0], *A_TUNE[1:])),
    Section("trio I", "Eb", TRIO_I_HARMONY, TRIO_I_TUNE, "sixth"),
    Section("trio II", "Eb", TRIO_II_HARMONY, TRIO_II_TUNE, "sixth"),
    Section("waltz A da capo", "Bb", A_HARMONY, ("f " + A_VARIED_TUNE[0], *A_VARIED_TUNE[1:]), "third"),
    Section("coda", "Bb", CODA_HARMONY, CODA_TUNE, waltz=False),
)
TRIO_SECTIONS = ("trio I", "trio II")


def section_starts() -> dict[str, int]:
    """The bar (counted from 0) where each section begins."""
    starts, bar = {}, 0
    for section in SECTIONS:
        starts[section.name] = bar
        bar += section.bars
    return starts


# --- spelled pitches and chords ------------------------------------------------------------------------

# Spelled tones, chord symbols ('Bb', 'Cm', 'F7', 'Edim7', 'Bb/F') and the key's scale come from scores.theory.


def major_scale(tonic: str) -> dict[int, int]:
    """Letter -> pitch class of a major key's scale."""
    return spelled_scale(tonic, "major")


def local_scale(key: str, harmony: Chord) -> dict[int, int]:
    """The key's scale with the chord's own spellings in it: over C7 in B-flat, E natural replaces E-flat."""
    scale = major_scale(key)
    for tone in harmony.tones:
        scale[tone.letter] = tone.pc
    return scale


# --- figurations ---------------------------------------------------------------------------------------


def place(pc: int, low: int, high: int) -> int:
    """The lowest key of a pitch class within [low, high]."""
    pitch = low + (pc - low) % 12
    if pitch > high:
        raise ValueError(f"pitch class {pc} has no key in {low}-{high}")
    return pitch


def bass_notes(harmony: Sequence[Chord]) -> list[int]:
    """The beat-1 bass of each bar: the chord's bass, or its fifth in the second bar of a chord held on."""
    pitches, run = [], 0
    for i, now in enumerate(harmony):
        run = run + 1 if i and now.symbol == harmony[i - 1].symbol else 0
        tone = now.tones[2] if run % 2 and "/" not in now.symbol else now.bass
        pitches.append(place(tone.pc, *BASS_WINDOW))
    return pitches


def voicing(harmony: Chord, previous: tuple[int, ...] | None) -> tuple[int, ...]:
    """A close three-note chord in CHORD_WINDOW holding the third (and seventh), moving least from the last.

    Ties go to the voicing nearest the window's middle, then to the lowest.
    """
    required = {harmony.tones[1].pc} | ({harmony.tones[3].pc} if len(harmony.tones) == 4 else set())
    middle = sum(CHORD_WINDOW) / 2
    candidates = []
    for combo in combinations(range(CHORD_WINDOW[0], CHORD_WINDOW[1] + 1), 3):
        pcs = {p % 12 for p in combo}
        if len(pcs) == 3 and pcs <= harmony.pc_set and required <= pcs and combo[2] - combo[0] <= 9:
            candidates.append(combo)

    def cost(combo: tuple[int, ...]) -> tuple[float, float, tuple[int, ...]]:
        motion = 0 if previous is None else sum(abs(a - b) for a, b in zip(combo, previous, strict=True))
        return motion, abs(sum(combo) / 3 - middle), combo

    return min(candidates, key=cost)


def oom_pah_pah(bar_tick: int, bass: int, chord_keys: Sequence[int], velocity: int) -> list[Note]:
    """One bar of the waltz bass: the bass note on beat 1, the chord on beats 2 and 3."""
    notes = [Note(bar_tick, BASS_HOLD_TICKS, bass, max(1, velocity - BASS_BELOW_TUNE), LEFT.name)]
    for beat in (1, 2):
        notes += [Note(bar_tick + beat * TICKS_PER_BEAT, CHORD_HOLD_TICKS, key,
                       max(1, velocity - CHORDS_BELOW_TUNE), LEFT.name) for key in chord_keys]
    return notes


def lower_voice(tune: Sequence[Note], chord_at: Sequence[Chord], key: str, interval: str,
                first_bar: int) -> list[Note]:
    """A third or sixth under each note of the tune a beat or longer, as a parlour right hand adds them.

    Over a chord tone the added note is a chord tone too: the preferred interval if it gives one, else the
    other. A note foreign to the chord (an appoggiatura) takes the interval its resolution takes, so that
    the pair resolves in parallel. `chord_at` gives each bar's chord from `first_bar` (counted from 0) on.
    """
    order = ("third", "sixth") if interval == "third" else ("sixth", "third")
    added: list[Note] = []
    following = order[0]
    for note in sorted(tune, key=lambda n: n.start, reverse=True):
        if note.duration < TICKS_PER_BEAT:
            continue
        harmony = chord_at[note.start // BAR_TICKS - first_bar]
        scale = local_scale(key, harmony)
        letters = [letter for letter, pc in scale.items() if pc == note.pitch % 12]
        if not letters:
            continue  # a chromatic note outside the local scale stands alone
        below = {"third": scale[(letters[0] - 2) % 7], "sixth": scale[(letters[0] + 2) % 7]}
        if note.pitch % 12 in harmony.pcs:
            fitting = [kind for kind in order if below[kind] in harmony.pcs]
            kind = fitting[0] if fitting else order[0]
        else:
            kind = following
        following = kind
        pitch = note.pitch - (note.pitch - below[kind]) % 12
        if pitch < RIGHT_HAND_RANGE[0]:
            continue
        added.append(Note(note.start, note.duration, pitch, max(1, note.velocity - LOWER_VOICE_BELOW_TUNE),
                          note.part))
    return sorted(added)


def touch(note: Note) -> Note:
    """The note at the waltz's touch: its written dynamic mapped into the narrower range."""
    velocity = min(127, round(TOUCH_FLOOR + TOUCH_SLOPE * note.velocity))
    return Note(note.start, note.duration, note.pitch, velocity, note.part)


def tune_velocity_at(tune: Sequence[Note], tick: int) -> int:
    """The dynamic of the tune in the bar from `tick`: its first note there, else the last note before."""
    in_bar = [n for n in tune if tick <= n.start < tick + BAR_TICKS]
    if in_bar:
        return min(in_bar).velocity
    before = [n for n in tune if n.start < tick]
    return max(before).velocity if before else tune[0].velocity


# --- the piece -----------------------------------------------------------------------------------------


def write_section(section: Section, first_bar: int) -> tuple[list[Note], list[Note]]:
    """The right hand's and left hand's notes of one section starting at a bar (counted from 0)."""
    start_beats = Fraction(first_bar * BAR_BEATS)
    writer = Writer(RIGHT.name, start_beats, bar_beats=BAR_BEATS)
    writer.play(" | ".join(section.tune) + " |")
    if writer.position != start_beats + section.bars * BAR_BEATS:
        raise ValueError(f"{section.name}: the tune has {(writer.position - start_beats) / BAR_BEATS} bars, "
                         f"the harmony {section.bars}")
    tune = [touch(n) for n in writer.notes]
    harmony = [chord(symbol) for symbol in section.harmony]
    right = list(tune)
    if section.lower_voice:
        right += lower_voice(tune, harmony, section.key, section.lower_voice, first_bar)

    left: list[Note] = []
    basses = bass_notes(harmony)
    previous = None
    for i, (now, bass) in enumerate(zip(harmony, basses, strict=True)):
        tick = (first_bar + i) * BAR_TICKS
        velocity = tune_velocity_at(tune, tick)
        if section.name == "coda" and i == section.bars - 1:
            ending = Writer(LEFT.name, Fraction(tick, TICKS_PER_BEAT), velocity=velocity - BASS_BELOW_TUNE)
            left += ending.play(f"{FINAL_LEFT_HAND}:{BAR_BEATS}").notes
            continue
        previous = voicing(now, previous)
        left += oom_pah_pah(tick, bass, previous, velocity)
    return right, left


def tempo_map() -> tuple[tuple[int, float], ...]:
    """(tick, quarters a minute): the waltz's tempo, the calmer trio, the coda's ritardando bar by bar."""
    starts = section_starts()
    bars = {s.name: s.bars for s in SECTIONS}
    tempos = [(0, TEMPO_BPM)]
    trio_end = starts[TRIO_SECTIONS[-1]] + bars[TRIO_SECTIONS[-1]]
    tempos.append((starts[TRIO_SECTIONS[0]] * BAR_TICKS, TRIO_TEMPO_BPM))
    tempos.append((trio_end * BAR_TICKS, TEMPO_BPM))
    first_slow = sum(bars.values()) - len(CODA_RITARDANDO_BPM)
    tempos += [((first_slow + i) * BAR_TICKS, bpm) for i, bpm in enumerate(CODA_RITARDANDO_BPM)]
    return tuple(tempos)


def key_map() -> tuple[Key, ...]:
    """A key at each change of key signature."""
    keys: list[Key] = []
    for section, bar in zip(SECTIONS, section_starts().values(), strict=True):
        tonic = spell(section.key).pc
        if not keys or keys[-1].tonic_pc != tonic:
            keys.append(Key(bar * BAR_TICKS, tonic, "major"))
    return tuple(keys)


def build() -> Score:
    """The whole waltz."""
    notes: list[Note] = []
    for section, bar in zip(SECTIONS, section_starts().values(), strict=True):
        right, left = write_section(section, bar)
        notes += right + left
    total_bars = sum(s.bars for s in SECTIONS)
    return Score(
        title=INFO.title,
        parts=(RIGHT, LEFT),
        notes=tuple(notes),
        tempos=tempo_map(),
        metres=((0, BAR_BEATS, 4),),
        keys=key_map(),
        sections=tuple((bar * BAR_TICKS, name) for name, bar in section_starts().items()),
        after=INFO.after,
        end=total_bars * BAR_TICKS,
    )
