"""Bars that do not come back unchanged: a part that repeats its bars, re-realised bar by bar with the form.

A bar that repeats an earlier bar literally is kept as written while the part can afford it, and otherwise
played another way: an octave up or down (the whole bar, half of it, every other stroke, one stroke), with
strokes displaced later on a sixteenth grid, or shorter; a drum part takes, instead of a register, strokes
added (a soft side stick between the written ones, a fill into the cadence, a bass drum on the accents of a
loud section, a crash at the climax). An ostinato (a part that repeats most of its bars within the 16 before them)
may also leave out its last beat or all but its downbeats, or rest at a phrase's end, and changes at every
cadence it would otherwise repeat. What a bar's place asks for comes first: a change at the cadence (the
last bar of a phrase: a break, the downbeats alone, a rest, displacement; a fill on a drum part), a new
register where a phrase begins (up where the piece is loudest, down where it is quiet, either elsewhere),
displacement and a new register between.

Never varied: a ground (the Sonnerie's bells, Marais's D-F-E: the piece's one fixed figure, which every
style keeps as written), a held drone (scores.analysis.is_held_drone), and the parts a caller keeps (a
file's own drum kit). A drum part that is varied (the Trionfo's drum ostinato, a march's added snare) is
varied by strokes displaced, added and, where it is an ostinato, left out.

Every variant keeps its notes' pitch classes and sounds within the time of the bar's strokes (a displaced
stroke within the time before the next), so it adds no clash a note did not make; the strokes a drum part
takes added are short.

The part's budget: in every passage of CHECK_BARS bars or more, and in every passage from the part's first
bar, at most LIMIT of the bars it plays (and one more) repeat an earlier bar of that passage. For passages
of 17 bars or more in which it plays 9 bars or more, that is at most half (scores.analysis.worst_copied_share).
"""

from __future__ import annotations

import random
from bisect import bisect_right
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from itertools import combinations

import numpy as np

from scores.analysis import PHRASE_BARS, Section, bar_patterns, is_held_drone, worst_copied_share
from scores.score import Note, Score
from synth.midi import DRUM_CHANNEL

TRIGGER = 0.45  # a part is re-realised when some passage of 17 bars or more repeats more than this share
LIMIT, SLACK, CHECK_BARS = 0.4, 1, 12  # the budget (see the module's docstring)
OSTINATO = 0.6  # a part that repeats this share of its bars within the 16 before is an ostinato
MEMORY_BARS = 16
LOUD, QUIET = 0.8, 0.3  # section intensities from which a phrase rises or falls an octave first
ACCENTS_FROM = 0.5  # a drum part takes a bass drum added only from this intensity on (a crash from LOUD)
SHORTEST = 120  # ticks (a 16th): a note is never made shorter than this, and displaced on this grid
LOWEST_KEY, HIGHEST_KEY = 21, 108  # a register shift stays on the piano's keys ...
SHIFT_REACH = 12  # ... and within an octave of the part's own compass
CRASH_KEY, BASS_DRUM_KEY, SIDE_STICK_KEY = 49, 36, 37  # General MIDI percussion

PITCHED_MOVES = ("up", "down", "late", "short")
THINNING_MOVES = ("drop_last", "downbeats", "rest")


@dataclass(frozen=True)
class _Bar:
    """A bar of one part: where it lies, its notes as written, and its place in the form."""

    index: int
    start: int
    stop: int
    beat: int
    notes: tuple[Note, ...]
    first: bool  # the first bar of a phrase
    last: bool  # the last bar of a phrase (its cadence)
    intensity: float

    @property
    def onsets(self) -> list[int]:
        return sorted({n.start for n in self.notes})


@dataclass(frozen=True)
class _Part:
    """What a part may do: "kit" (a drum part: no register) or "pitched"; whether it is an ostinato (it may
    thin and rest, and changes at its cadences); whether it may be displaced; its compass for a shift."""

    kind: str
    ostinato: bool
    displace: bool
    low: int = LOWEST_KEY
    high: int = HIGHEST_KEY
    stroke: int = SHORTEST


def _pattern(bar: _Bar, notes: Sequence[Note]) -> tuple | None:
    return tuple(sorted((n.start - bar.start, n.duration, n.pitch) for n in notes)) or None


def _masks(count: int) -> list[frozenset[int]]:
    """The strokes a move may act on: all, either half, every other, each of the first eight; no repeats."""
    everything = range(count)
    masks = [frozenset(everything), frozenset(i for i in everything if i < count / 2),
             frozenset(i for i in everything if i >= count / 2), frozenset(everything[::2]),
             frozenset(everything[1::2]), *(frozenset({i}) for i in range(min(count, 8)))]
    out: list[frozenset[int]] = []
    for m in masks:
        if m and m not in out:
            out.append(m)
    return out


def _apply(moves: Sequence[tuple[str, frozenset[int] | int]], bar: _Bar, part: _Part) -> list[Note] | None:
    """The bar's notes after the moves, or None where a move cannot be made (a shift off the compass)."""
    onsets = bar.onsets
    index = {t: i for i, t in enumerate(onsets)}
    notes = list(bar.notes)
    for kind, mask in moves:
        if kind in ("up", "down"):
            step = 12 if kind == "up" else -12
            out = []
            for n in notes:
                if index.get(n.start, -1) in mask:
                    if not part.low <= n.pitch + step <= part.high:
                        return None
                    n = Note(n.start, n.duration, n.pitch + step, n.velocity, n.part)
                out.append(n)
            notes = out
        elif kind == "short":
            notes = [Note(n.start, n.duration // 2, n.pitch, n.velocity, n.part)
                     if index.get(n.start, -1) in mask and n.duration >= 2 * SHORTEST else n for n in notes]
        elif kind == "late":
            out = []
            for n in notes:
                k = index.get(n.start, -1)
                if k in mask:
                    gap = (onsets[k + 1] if k + 1 < len(onsets) else bar.stop) - onsets[k]
                    delay = gap // 2 // SHORTEST * SHORTEST
                    if delay >= SHORTEST:
                        n = Note(n.start + delay, min(n.duration, gap - delay), n.pitch, n.velocity, n.part)
                out.append(n)
            notes = out
        elif kind == "drop_last":
            notes = [n for n in notes if n.start < bar.stop - bar.beat]
        elif kind == "downbeats":
            notes = [n for n in notes if (n.start - bar.start) % bar.beat == 0]
        elif kind == "rest":
            notes = []
        else:
            notes = _kit_move(kind, mask, bar, part, notes)
    return notes


def _kit_move(kind: str, mask, bar: _Bar, part: _Part, notes: list[Note]) -> list[Note]:
    """Strokes added to a drum bar: a soft side stick on a free sixteenth (the mask-th), a fill over the last
    beat on the bar's own commonest key, a crash on the first stroke or a bass drum under the last."""
    if not bar.notes:
        return notes
    sixteenth = max(bar.beat // 4, 1)
    taken = {n.start for n in notes}
    loud = max(n.velocity for n in bar.notes)
    name = bar.notes[0].part
    if kind == "ghost":
        free = [t for t in range(bar.start, bar.stop, sixteenth) if t not in taken]
        if mask < len(free):
            notes = [*notes, Note(free[mask], part.stroke, SIDE_STICK_KEY, max(1, loud * 2 // 5), name)]
    elif kind == "fill":
        key = Counter(n.pitch for n in bar.notes).most_common(1)[0][0]
        steps = [t for t in range(bar.stop - bar.beat, bar.stop, sixteenth) if t not in taken]
        notes = [*notes, *(Note(t, part.stroke, key, max(1, loud * (5 + k) // 10), name)
                           for k, t in enumerate(steps))]
    elif kind == "crash" and not any(n.pitch == CRASH_KEY and n.start == bar.start for n in notes):
        notes = [*notes, Note(bar.start, max(part.stroke, bar.beat), CRASH_KEY, loud, name)]
    elif kind == "kick" and bar.onsets:
        t = bar.onsets[-1]
        if not any(n.pitch == BASS_DRUM_KEY and n.start == t for n in notes):
            notes = [*notes, Note(t, part.stroke, BASS_DRUM_KEY, loud, name)]
    return notes


def _preferred(bar: _Bar, part: _Part) -> tuple[str, ...]:
    """The moves a bar's place asks for first."""
    if part.kind == "kit":
        return ("fill", "kick", "drop_last") if bar.last else ("crash",) if bar.first else ("ghost", "late")
    if bar.last:
        return ("drop_last", "downbeats", "rest", "late") if part.ostinato else ("late", "down", "up")
    if bar.first:
        return ("up",) if bar.intensity >= LOUD else ("down",) if bar.intensity < QUIET else ("up", "down")
    return ("late", "up", "down")


def _allowed(kind: str, bar: _Bar, part: _Part) -> bool:
    """Whether a move may be made on this bar of this part."""
    if kind == "late":
        return part.displace
    if kind in THINNING_MOVES:
        return part.ostinato and (kind != "rest" or bar.last)
    if kind == "fill":
        return bar.last
    if kind == "crash":
        return bar.intensity >= LOUD
    if kind == "kick":
        return bar.intensity >= ACCENTS_FROM
    return True


def _candidates(bar: _Bar, part: _Part, rng: random.Random) -> Iterator[list[tuple]]:
    """Lists of moves to try on a bar, simplest first (one move on a broad mask, then on a finer one, then
    two moves), the moves its place prefers first within each, in a seeded order otherwise; for a pitched
    part then every stroke's register, length and place its own."""
    count = len(bar.onsets)
    masks = _masks(count)
    broad, fine = masks[:3], masks[3:]
    whole = frozenset(range(count))
    if part.kind == "kit":
        free = (bar.stop - bar.start) // max(bar.beat // 4, 1) - count  # sixteenths with no stroke
        coarse = [(k, whole) for k in THINNING_MOVES] + [("late", m) for m in broad]
        coarse += [("fill", 0), ("crash", 0), ("kick", 0)] + [("ghost", k) for k in range(min(free, 4))]
        finer = [("late", m) for m in fine] + [("ghost", k) for k in range(4, min(free, 16))]
    else:
        coarse = [(k, m) for k in PITCHED_MOVES for m in broad] + [(k, whole) for k in THINNING_MOVES]
        finer = [(k, m) for k in PITCHED_MOVES for m in fine]
    coarse = [m for m in coarse if _allowed(m[0], bar, part)]
    finer = [m for m in finer if _allowed(m[0], bar, part)]

    def differ(a, b) -> bool:
        return a[0] != b[0] or (a[0] == "ghost" and a[1] != b[1]) or (
            isinstance(a[1], frozenset) and not a[1] & b[1])

    tiers = [[[m] for m in coarse], [[m] for m in finer],
             [[a, b] for a, b in combinations(coarse, 2) if differ(a, b)],
             [[a, b] for a in coarse for b in finer if differ(a, b)],
             [[a, b] for a, b in combinations(finer, 2) if differ(a, b)]]
    wanted = _preferred(bar, part)
    for tier in tiers:
        rng.shuffle(tier)
        tier.sort(key=lambda moves: min((wanted.index(k) for k, _ in moves if k in wanted), default=len(wanted)))
        yield from tier
    if part.kind == "pitched":
        shapes = [k for k in ("short", "late") if _allowed(k, bar, part)]
        for reg in ("up", "down"):
            for m1 in masks:
                for m2 in masks:
                    for m3 in masks:
                        yield [(reg, m1), *((k, m) for k, m in zip(shapes, (m2, m3), strict=False))]


class _Budget:
    """The copies a part's passages hold so far (see the module's docstring), bar by bar."""

    def __init__(self, n_bars: int) -> None:
        self.by_previous = np.zeros(n_bars + 1, dtype=np.int64)  # decided bars, counted by their earlier twin
        self.played = [0]  # bars with notes before each bar
        self.last: dict[tuple, int] = {}
        self.at_least: np.ndarray | None = None

    def begin(self) -> None:
        """Before a bar's candidates: the copies of every passage so far, by its first bar."""
        self.at_least = np.cumsum(self.by_previous[::-1])[::-1]

    def previous(self, pattern: tuple | None) -> int:
        return -1 if pattern is None else self.last.get(pattern, -1)

    def allows(self, i: int, pattern: tuple | None) -> bool:
        assert self.at_least is not None
        firsts = np.arange(0, max(i - CHECK_BARS + 2, 1))
        before = self.previous(pattern)
        copies = self.at_least[firsts] + (before >= firsts)
        played = self.played[i] - np.asarray(self.played)[firsts] + (pattern is not None)
        return bool(np.all(copies <= LIMIT * played + SLACK))

    def add(self, i: int, pattern: tuple | None) -> None:
        before = self.previous(pattern)
        if before >= 0:
            self.by_previous[before] += 1
        if pattern is not None:
            self.last[pattern] = i
        self.played.append(self.played[-1] + (pattern is not None))


def _bars(score: Score, name: str, sections: Sequence[Section]) -> list[_Bar]:
    starts = score.bar_starts() or [0]
    by_bar: dict[int, list[Note]] = {}
    for n in score.notes_of(name):
        by_bar.setdefault(max(bisect_right(starts, n.start) - 1, 0), []).append(n)
    place: dict[int, tuple[bool, bool, float]] = {}
    section_starts = [s.start for s in sections]
    for sec in sections:
        inside = [i for i, b in enumerate(starts) if sec.start <= b < sec.stop]
        for k, i in enumerate(inside):
            k_in = k % PHRASE_BARS
            place[i] = (k_in == 0, k_in == PHRASE_BARS - 1 or k == len(inside) - 1, sec.intensity)
    out = []
    for i, b in enumerate(starts):
        stop = starts[i + 1] if i + 1 < len(starts) else max(score.end, b + 1)
        num, den = score.metre_at(b)
        if i not in place:
            sec = sections[max(bisect_right(section_starts, b) - 1, 0)] if sections else None
            place[i] = (False, False, sec.intensity if sec else 0.5)
        first, last, intensity = place[i]
        out.append(_Bar(i, b, stop, score.ticks(4 / den), tuple(by_bar.get(i, ())), first, last, intensity))
    return out


def _local_share(patterns: list[tuple | None]) -> float:
    """The share of the bars a part plays that repeat one of the MEMORY_BARS bars before them."""
    played = copied = 0
    for i, p in enumerate(patterns):
        if p is not None:
            played += 1
            copied += p in patterns[max(i - MEMORY_BARS, 0):i]
    return copied / played if played else 0.0


def _describe(score: Score, name: str, displace: bool) -> _Part:
    part = score.part(name)
    own = score.notes_of(name)
    ostinato = _local_share(bar_patterns(score, name)) >= OSTINATO
    if part.channel == DRUM_CHANNEL:
        return _Part("kit", ostinato, displace, stroke=max(1, min(n.duration for n in own)))
    low, high = min(n.pitch for n in own), max(n.pitch for n in own)
    return _Part("pitched", ostinato, displace, max(LOWEST_KEY, low - SHIFT_REACH),
                 min(HIGHEST_KEY, high + SHIFT_REACH))


def vary_part(score: Score, name: str, sections: Sequence[Section], rng: random.Random,
              displace: bool = True) -> list[Note]:
    """The part's notes re-realised bar by bar within its budget (see the module's docstring)."""
    part = _describe(score, name, displace)
    bars = _bars(score, name, sections)
    budget = _Budget(len(bars))
    notes: list[Note] = []
    for bar in bars:
        written = _pattern(bar, bar.notes)
        budget.begin()
        chosen: list[Note] | None = None
        fresh_cadence = part.ostinato and bar.last and budget.previous(written) >= 0
        if budget.previous(written) < 0 or (not fresh_cadence and budget.allows(bar.index, written)):
            chosen = list(bar.notes)
        else:
            fallback: list[Note] | None = None
            tried: set = {written}
            for moves in _candidates(bar, part, rng):
                varied = _apply(moves, bar, part)
                if varied is None:
                    continue
                pattern = _pattern(bar, varied)
                if pattern in tried:
                    continue
                tried.add(pattern)
                if budget.previous(pattern) < 0:
                    chosen = varied
                    break
                if fallback is None and budget.allows(bar.index, pattern):
                    fallback = varied
                if len(tried) > 4000:
                    break
            if chosen is None:
                chosen = fallback if fallback is not None else list(bar.notes)
        budget.add(bar.index, _pattern(bar, chosen))
        notes += chosen
    return notes


def needs_varying(score: Score, name: str, kept: Iterable[str] = ()) -> bool:
    """A part with notes that repeats more than TRIGGER of its bars in some passage of 17 bars or more, and
    is neither a ground, a held drone nor one of the `kept` parts."""
    if name in set(kept) or score.part(name).role == "ground":
        return False
    patterns = bar_patterns(score, name)
    return any(patterns) and not is_held_drone(score, name) and worst_copied_share(patterns) > TRIGGER


def vary(score: Score, names: Sequence[str], sections: Sequence[Section], rng: random.Random, *,
         displace: bool = True, kept: Iterable[str] = ()) -> Score:
    """The score with each of the named parts that needs it (`needs_varying`) re-realised (`vary_part`);
    without `displace`, no stroke moves from its place (a march keeps its grid)."""
    kept = set(kept)
    chosen = [name for name in names if needs_varying(score, name, kept)]
    if not chosen:
        return score
    out = [n for n in score.notes if n.part not in chosen]
    for name in chosen:
        out += vary_part(score, name, sections, rng, displace)
    return score.with_notes(out)
