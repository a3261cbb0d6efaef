"""Music theory in one place: pitch classes and their spelling, note and key names, scales and modes, chords.

Every piece and every transformation takes its pitch-class tables from here, so that a note has one name and
a chord symbol one reading across the package. A pitch class is 0-11 with C = 0; a MIDI key is 0-127 with
C4 = 60 (scientific pitch notation).
"""

from __future__ import annotations

from dataclasses import dataclass


class TheoryError(ValueError):
    """A note name, key name, mode or chord symbol that cannot be read."""


LETTERS = "CDEFGAB"
NATURAL_PCS = (0, 2, 4, 5, 7, 9, 11)  # the pitch class of each letter, C to B
# The name of each pitch class as a note is printed: the sharps and flats of the usual keys.
NOTE_NAMES = ("C", "C#", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B")
# Key signatures as MIDI (and mido) spell them: the usual flat or sharp spelling of each tonic.
MAJOR_KEY_NAMES = ("C", "Db", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B")
MINOR_KEY_NAMES = ("C", "C#", "D", "Eb", "E", "F", "F#", "G", "G#", "A", "Bb", "B")

# Intervals in semitones, by name, for the measures and transformations that look for them.
MINOR_SECOND, MAJOR_SEVENTH, TRITONE = 1, 11, 6


# --- spelled pitch classes ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Tone:
    """A spelled pitch class: a letter (0 = C ... 6 = B) and the pitch class it stands for."""

    letter: int
    pc: int

    @property
    def name(self) -> str:
        shift = (self.pc - NATURAL_PCS[self.letter] + 6) % 12 - 6
        return LETTERS[self.letter] + ("#" * shift if shift > 0 else "b" * -shift)


def spell(name: str) -> Tone:
    """The Tone of 'Eb', 'F#', 'Cb', 'd' (any number of sharps or flats)."""
    if not name or name[0].upper() not in LETTERS or set(name[1:]) - {"#", "b"}:
        raise TheoryError(f"{name!r} is not a note name (like C, F# or Bb)")
    letter = LETTERS.index(name[0].upper())
    shift = name[1:].count("#") - name[1:].count("b")
    return Tone(letter, (NATURAL_PCS[letter] + shift) % 12)


def pitch_class(name: str) -> int:
    """0-11 for 'C', 'C#', 'Db', ... 'B'."""
    return spell(name).pc


def pitch_name(pitch: int) -> str:
    """'C4' for 60, as scientific pitch notation names keys."""
    return f"{NOTE_NAMES[pitch % 12]}{pitch // 12 - 1}"


def key_name(tonic_pc: int, mode: str) -> str:
    """'Dm' for (2, 'minor'), 'Eb' for (3, 'major'): a key as a MIDI key signature names it."""
    if mode not in ("major", "minor"):
        raise TheoryError(f"a key signature is major or minor, not {mode!r}")
    names = MAJOR_KEY_NAMES if mode == "major" else MINOR_KEY_NAMES
    return names[tonic_pc % 12] + ("m" if mode == "minor" else "")


def parse_key_name(name: str) -> tuple[int, str]:
    """(tonic pitch class, 'major' or 'minor') of 'Dm', 'Bb', 'F#m'."""
    minor = name.endswith("m")
    return pitch_class(name[:-1] if minor else name), "minor" if minor else "major"


# --- scales and modes -----------------------------------------------------------------------------------

# Semitones above the tonic of each mode's seven degrees.
MODE_STEPS: dict[str, tuple[int, ...]] = {
    "major": (0, 2, 4, 5, 7, 9, 11),
    "ionian": (0, 2, 4, 5, 7, 9, 11),
    "dorian": (0, 2, 3, 5, 7, 9, 10),
    "phrygian": (0, 1, 3, 5, 7, 8, 10),
    "lydian": (0, 2, 4, 6, 7, 9, 11),
    "mixolydian": (0, 2, 4, 5, 7, 9, 10),
    "minor": (0, 2, 3, 5, 7, 8, 10),
    "aeolian": (0, 2, 3, 5, 7, 8, 10),
    "locrian": (0, 1, 3, 5, 6, 8, 10),
    "harmonic minor": (0, 2, 3, 5, 7, 8, 11),
}
# The key signature a MIDI key map can carry for each mode (it knows only major and minor): the minor modes
# are written as their tonic's minor, the major ones as its major.
MODE_KEY = {"major": "major", "ionian": "major", "lydian": "major", "mixolydian": "major", "minor": "minor",
            "aeolian": "minor", "dorian": "minor", "phrygian": "minor", "locrian": "minor",
            "harmonic minor": "minor"}


def mode_steps(mode: str) -> tuple[int, ...]:
    try:
        return MODE_STEPS[mode]
    except KeyError:
        raise TheoryError(f"unknown mode {mode!r} (modes: {', '.join(MODE_STEPS)})") from None


def scale(tonic_pc: int, mode: str) -> tuple[int, ...]:
    """The pitch classes of a mode on a tonic, tonic first: scale(2, 'minor') = (2, 4, 5, 7, 9, 10, 0)."""
    return tuple((tonic_pc + step) % 12 for step in mode_steps(mode))


def spelled_scale(tonic: str, mode: str = "major") -> dict[int, int]:
    """Letter -> pitch class of a mode's scale on a spelled tonic: each letter once, as a key signature has it."""
    first = spell(tonic)
    return {(first.letter + i) % 7: (first.pc + step) % 12 for i, step in enumerate(mode_steps(mode))}


# Each degree (semitones above the tonic) of the major and minor scales, minor's raised sixth and seventh
# included, as the scale step (0 = first ... 6 = seventh) it stands for; the tritone (6) is chromatic.
_DEGREE_STEP = {0: 0, 2: 1, 3: 2, 4: 2, 5: 3, 7: 4, 8: 5, 9: 5, 10: 6, 11: 6}


def degree_map(mode: str) -> dict[int, int]:
    """Where each degree of a major or minor scale goes in another mode, the degrees that move only.

    Each degree takes the same step of the target mode: degree_map('phrygian') lowers the second, the major
    third, the major sixth and the seventh ({2: 1, 4: 3, 9: 8, 11: 10}); chromatic degrees stay where they are.
    """
    target = mode_steps(mode)
    return {degree: target[step] for degree, step in _DEGREE_STEP.items() if target[step] != degree}


# --- chords ---------------------------------------------------------------------------------------------

# Chord qualities: (semitones above the root, letters above the root's letter) of each tone, root first.
QUALITIES: dict[str, tuple[tuple[int, int], ...]] = {
    "": ((0, 0), (4, 2), (7, 4)),
    "m": ((0, 0), (3, 2), (7, 4)),
    "dim": ((0, 0), (3, 2), (6, 4)),
    "sus4": ((0, 0), (5, 3), (7, 4)),
    "7": ((0, 0), (4, 2), (7, 4), (10, 6)),
    "m7": ((0, 0), (3, 2), (7, 4), (10, 6)),
    "maj7": ((0, 0), (4, 2), (7, 4), (11, 6)),
    "dim7": ((0, 0), (3, 2), (6, 4), (9, 6)),
    "m7b5": ((0, 0), (3, 2), (6, 4), (10, 6)),
    "6": ((0, 0), (4, 2), (7, 4), (9, 5)),
    "m6": ((0, 0), (3, 2), (7, 4), (9, 5)),
}


@dataclass(frozen=True)
class Chord:
    """A chord symbol read: its spelled tones from the root (root, third, fifth, ...), and the tone in the bass."""

    symbol: str
    tones: tuple[Tone, ...]
    bass: Tone

    @property
    def root(self) -> Tone:
        return self.tones[0]

    @property
    def root_pc(self) -> int:
        return self.tones[0].pc

    @property
    def bass_pc(self) -> int:
        return self.bass.pc

    @property
    def pcs(self) -> tuple[int, ...]:
        """The pitch classes, root first, in the order of the tones."""
        return tuple(t.pc for t in self.tones)

    @property
    def pc_set(self) -> frozenset[int]:
        return frozenset(t.pc for t in self.tones)

    @property
    def third(self) -> int | None:
        """The pitch class a minor or major third above the root, if the chord has one."""
        return next(((self.root_pc + i) % 12 for i in (3, 4) if (self.root_pc + i) % 12 in self.pcs), None)


def chord(symbol: str) -> Chord:
    """'Dm', 'A/C#', 'Gm7', 'G#dim7/B', 'C7/E', 'Bb/F' read as a Chord (a slash names the bass)."""
    body, _, bass = symbol.partition("/")
    n = 2 if len(body) > 1 and body[1] in "#b" and body[1:] not in QUALITIES else 1
    quality = body[n:]
    if quality not in QUALITIES:
        raise TheoryError(f"{symbol!r}: unknown chord quality {quality!r} (qualities: {', '.join(QUALITIES)})")
    root = spell(body[:n])
    tones = tuple(Tone((root.letter + letters) % 7, (root.pc + semitones) % 12)
                  for semitones, letters in QUALITIES[quality])
    return Chord(symbol, tones, spell(bass) if bass else root)


# --- keys from notes ----------------------------------------------------------------------------------------

# Krumhansl and Kessler's key profiles (1982): how well each of the twelve pitch classes fits a major or
# a minor key, from listeners' ratings of probe tones; index 0 is the tonic.
MAJOR_PROFILE = (6.35, 2.23, 3.48, 2.33, 4.38, 4.09, 2.52, 5.19, 2.39, 3.66, 2.29, 2.88)
MINOR_PROFILE = (6.33, 2.68, 3.52, 5.38, 2.60, 3.53, 2.54, 4.75, 3.98, 2.69, 3.34, 3.17)


def _correlation(a: list[float], b: tuple[float, ...]) -> float:
    mean_a, mean_b = sum(a) / 12, sum(b) / 12
    da = [x - mean_a for x in a]
    db = [y - mean_b for y in b]
    num = sum(x * y for x, y in zip(da, db, strict=True))
    den = (sum(x * x for x in da) * sum(y * y for y in db)) ** 0.5
    return num / den if den else 0.0


def best_key(weights: list[float]) -> tuple[int, str]:
    """(tonic pitch class, mode) whose Krumhansl-Kessler profile best matches twelve pitch-class weights.

    C major if every weight is zero; ties go to the first key in the order C major, C minor, C# major, ...
    """
    if not any(weights):
        return 0, "major"
    best: tuple[float, int, str] | None = None
    for tonic in range(12):
        rotated = list(weights[tonic:]) + list(weights[:tonic])
        for mode, profile in (("major", MAJOR_PROFILE), ("minor", MINOR_PROFILE)):
            r = _correlation(rotated, profile)
            if best is None or r > best[0] + 1e-12:
                best = (r, tonic, mode)
    assert best is not None
    return best[1], best[2]


def pitch_class_weights(spans, start: int = 0, stop: int | None = None) -> list[float]:
    """Ticks sounded by each pitch class between two ticks, from (start, end, pitch) spans."""
    weights = [0.0] * 12
    for begin, end, pitch in spans:
        overlap = (end if stop is None else min(end, stop)) - max(begin, start)
        if overlap > 0:
            weights[pitch % 12] += overlap
    return weights
