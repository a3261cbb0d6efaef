"""A compact text notation for writing parts by hand: 'mf d5:1 f5 e5 | a4:1/2 bb4 c5:2'.

Tokens, separated by spaces:
  d5  f#4  bb3  eb5    a note: letter, accidentals (# sharp, b flat), octave (C4 = key 60)
  d4+f4+a4             a chord: notes joined by '+', all with the same length
  r                    a rest
  :2  :1/2  :1.5       a length in beats (quarter notes), suffixed to a note, chord or rest; it carries on
                       to the following tokens until another is given
  '                    suffixed (after the length): staccato, the note sounds for half its length
  >                    prefixed: an accent, 24 velocity steps louder
  ppp pp p mp mf f ff fff   a dynamic: the velocity of the notes that follow
  |                    a bar line: checks that the bar so far is full (when bar_beats is set)
"""

from __future__ import annotations

import re
from fractions import Fraction

from scores.score import TICKS_PER_BEAT, Note
from scores.theory import pitch_class

DYNAMICS = {"ppp": 20, "pp": 32, "p": 46, "mp": 60, "mf": 76, "f": 92, "ff": 108, "fff": 122}
ACCENT_STEPS = 24
_NOTE = re.compile(r"([a-g])([#b]*)(-?\d)$")
_EVENT = re.compile(r"(>?)([^:']+)(?::([0-9./]+))?(')?$")


class NotationError(ValueError):
    """A token the notation does not know, or a bar that is not full at a bar line."""


def parse_pitch(text: str) -> int:
    """The MIDI key of 'd5', 'f#4', 'bb3' (C4 = 60)."""
    m = _NOTE.match(text.lower())
    if not m:
        raise NotationError(f"{text!r} is not a note (like d5, f#4 or bb3)")
    letter, accidentals, octave = m.groups()
    natural = pitch_class(letter)
    pitch = 12 * (int(octave) + 1) + natural + accidentals.count("#") - accidentals.count("b")
    if not 0 <= pitch <= 127:
        raise NotationError(f"{text!r} is outside the MIDI keys 0-127")
    return pitch


def _length(text: str) -> Fraction:
    try:
        value = Fraction(text)
    except (ValueError, ZeroDivisionError):
        raise NotationError(f"{text!r} is not a length in beats") from None
    if value <= 0:
        raise NotationError(f"a length of {text} beats")
    return value


class Writer:
    """Writes one part's notes from phrases of the notation, keeping its place in beats.

    `bar_beats` turns on bar-line checks; `transpose` (semitones) shifts every note written.
    """

    def __init__(self, part: str, start_beats: Fraction | int = 0, *, bar_beats: Fraction | int | None = None,
                 velocity: int = DYNAMICS["mf"], transpose: int = 0) -> None:
        self.part = part
        self.position = Fraction(start_beats)
        self.bar_beats = None if bar_beats is None else Fraction(bar_beats)
        self.bar_origin = self.position
        self.velocity = velocity
        self.transpose = transpose
        self.length = Fraction(1)
        self.notes: list[Note] = []

    def at(self, beats: Fraction | int) -> Writer:
        """Move to a place (in beats from the start of the piece) without writing."""
        self.position = Fraction(beats)
        self.bar_origin = self.position
        return self

    def rest(self, beats: Fraction | int) -> Writer:
        self.position += Fraction(beats)
        return self

    def play(self, text: str, *, transpose: int | None = None) -> Writer:
        """Write a phrase at the current place and move past it."""
        shift = self.transpose if transpose is None else transpose
        for token in text.split():
            low = token.lower()
            if low in DYNAMICS:
                self.velocity = DYNAMICS[low]
                continue
            if token == "|":
                self._check_bar(text)
                continue
            m = _EVENT.match(low)
            if not m:
                raise NotationError(f"{token!r} in {text!r}")
            accent, body, length, staccato = m.groups()
            if length:
                self.length = _length(length)
            if body != "r":
                velocity = min(127, self.velocity + (ACCENT_STEPS if accent else 0))
                sounding = self.length / 2 if staccato else self.length
                start = round(self.position * TICKS_PER_BEAT)
                duration = max(1, round(sounding * TICKS_PER_BEAT))
                for name in body.split("+"):
                    try:
                        pitch = parse_pitch(name) + shift
                    except NotationError as e:
                        raise NotationError(f"{e} in {text!r}") from None
                    self.notes.append(Note(start, duration, pitch, velocity, self.part))
            self.position += self.length
        return self

    def _check_bar(self, text: str) -> None:
        if self.bar_beats is None:
            return
        into = (self.position - self.bar_origin) % self.bar_beats
        if into:
            raise NotationError(f"bar line {float(into):g} beats into a bar of {self.bar_beats} in {text!r}")
