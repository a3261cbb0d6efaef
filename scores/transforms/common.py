"""What the transformations share: the roles they choose parts by, and small helpers (folding keys into
range, velocities, new parts, the notes that are heard, fitting added notes to the cards).
"""

from __future__ import annotations

from bisect import bisect_right
from collections import defaultdict
from collections.abc import Callable, Iterable
from operator import attrgetter

import numpy as np

from scores import cards
from scores.analysis import estimate_key, read_sections
from scores.score import Key, Note, Part, Score
from synth.hardware import DEFAULT_PROFILE, PROFILES
from synth.midi import DRUM_CHANNEL

PITCHED_ROLES = ("ground", "ostinato", "melody", "inner", "bass", "pedal", "shadow")  # every role but "drums"
FIXED_ROLES = ("ground", "ostinato")  # never re-pitched by a mode change, never thinned
LOWEST_KEY, HIGHEST_KEY = 0, 127
# Added notes fit within the cards of the default model (the IIx's eight), so that they never make it steal.
CMI_VOICES = PROFILES[DEFAULT_PROFILE].n_voices
# Notes in the order their dataclass compares them, as a key: many times faster than comparing Notes.
_IN_ORDER = attrgetter("start", "duration", "pitch", "velocity", "part")


class TransformError(ValueError):
    """A transformation given parameters it cannot use: a factor of zero, an unknown pedal kind."""


# --- helpers ------------------------------------------------------------------------------------------


def _fold(pitch: int, low: int = LOWEST_KEY, high: int = HIGHEST_KEY) -> int:
    """The pitch moved by octaves into low..high (a span of at least an octave)."""
    while pitch < low:
        pitch += 12
    while pitch > high:
        pitch -= 12
    return pitch


def _velocity(velocity: float) -> int:
    return max(1, min(127, round(velocity)))


def _targets(score: Score, roles: Iterable[str]) -> set[str]:
    """Names of the parts with these roles, never the drum kit."""
    wanted = set(roles)
    return {p.name for p in score.parts if p.role in wanted and p.channel != DRUM_CHANNEL}


def _key_finder(score: Score) -> Callable[[int], Key]:
    """Key at a tick; a score without a key map gets one key estimated from its notes."""
    if score.keys:
        return lambda tick: score.key_at(tick)
    estimated = estimate_key(score)
    return lambda tick: estimated


def _unique_name(score: Score, name: str) -> str:
    taken = {p.name for p in score.parts}
    if name not in taken:
        return name
    n = 2
    while f"{name} {n}" in taken:
        n += 1
    return f"{name} {n}"


def _add_part(score: Score, name: str, **fields) -> Part | None:
    """A new part on the lowest free channel, or None when every channel is taken."""
    channel = score.free_channel()
    if channel is None:
        return None
    return Part(_unique_name(score, name), channel, **fields)


def _drum_kit(score: Score) -> tuple[str, list[Part]]:
    """The part a style's drums join, and the parts with it: the score's first drum part, else a new
    "snare" part on the drum channel."""
    parts = list(score.parts)
    drum_parts = [p for p in parts if p.channel == DRUM_CHANNEL]
    if drum_parts:
        return drum_parts[0].name, parts
    part = Part(_unique_name(score, "snare"), DRUM_CHANNEL, role="drums", volume=100)
    return part.name, [*parts, part]


def _bars_from(score: Score, tick: int) -> list[int]:
    """The bar lines from the bar holding `tick` to the end."""
    bars = score.bar_starts()
    return bars[max(bisect_right(bars, tick) - 1, 0):]


def _outer_line(notes: Iterable[Note], top: bool = True) -> list[Note]:
    """One note at a time along the top (or bottom) of some notes: the highest (lowest) note of each
    onset, cut where the next onset begins, so that a copy of it never adds more than one voice.
    """
    sign = 1 if top else -1
    first: dict[int, Note] = {}
    for n in notes:
        if n.start not in first or sign * n.pitch > sign * first[n.start].pitch:
            first[n.start] = n
    starts = sorted(first)
    line = []
    for t, later in zip(starts, [*starts[1:], None], strict=False):
        n = first[t]
        if later is not None and n.end > later:
            n = Note(n.start, later - n.start, n.pitch, n.velocity, n.part)
        line.append(n)
    return line


def _top_notes(notes: Iterable[Note]) -> list[Note]:
    return _outer_line(notes, top=True)


def _bottom_notes(notes: Iterable[Note]) -> list[Note]:
    return _outer_line(notes, top=False)


def _heard_in(score: Score, roles: Iterable[str], outer: Callable[[Iterable[Note]], list[Note]] | None = None
              ) -> list[Note]:
    """The heard notes of the parts with these roles; with `outer` (_top_notes or _bottom_notes), only
    that outer line of each part, in time order."""
    names = _targets(score, roles)
    heard = [n for n in _heard(score.notes) if n.part in names]
    if outer is None:
        return heard
    by_part: dict[str, list[Note]] = defaultdict(list)
    for n in heard:
        by_part[n.part].append(n)
    return sorted((n for ns in by_part.values() for n in outer(ns)), key=_IN_ORDER)


def _heard(notes: Iterable[Note]) -> list[Note]:
    """The notes as a MIDI file plays them: each cut where the next note on its key and part begins."""
    by_key: dict[tuple[str, int], list[Note]] = defaultdict(list)
    for n in notes:
        by_key[n.part, n.pitch].append(n)
    heard = []
    for same in by_key.values():
        same.sort(key=_IN_ORDER)
        for n, later in zip(same, [*same[1:], None], strict=True):
            if later is not None and n.start < later.start < n.end:
                n = Note(n.start, later.start - n.start, n.pitch, n.velocity, n.part)
            heard.append(n)
    return sorted(heard, key=_IN_ORDER)


def _fit(score: Score, added: Iterable[Note], max_voices: int | None, *, split: bool = False) -> list[Note]:
    """The added notes that fit, in order, with the score's notes and each other, within `max_voices`.

    A note is kept from its onset to the first tick where it would make more than `max_voices` notes
    sound (the CMI would then steal a card; the score's notes count as long as the sustain pedal holds
    them: scores.cards), and dropped if that leaves less than an eighth (or less than
    itself, if it is shorter). With `split`, a held note (a drone) also sounds again, struck anew,
    wherever a beat or more of room opens later within its length. None means no limit.
    """
    added = sorted(added, key=_IN_ORDER)
    if max_voices is None or not added:
        return added
    spans = cards.held_spans(score)
    size = max(max(n.end for n in added), score.end, max((end for _, _, end in spans), default=0)) + 1
    counts = np.zeros(size + 1, dtype=np.int32)
    np.add.at(counts, [start for _, start, _ in spans], 1)
    np.add.at(counts, [end for _, _, end in spans], -1)
    counts = np.cumsum(counts)
    shortest, beat = score.ticks(0.5), score.ticks(1.0)
    kept = []
    for n in added:
        room = np.concatenate(([False], counts[n.start:n.end] < max_voices, [False])).astype(np.int8)
        edges = np.diff(room)
        runs = list(zip(np.flatnonzero(edges == 1), np.flatnonzero(edges == -1), strict=True))
        for begin, stop in runs:
            at_onset = begin == 0 and stop - begin >= min(shortest, n.duration)
            if at_onset or (split and stop - begin >= beat):
                piece = Note(n.start + int(begin), int(stop - begin), n.pitch, n.velocity, n.part)
                counts[piece.start:piece.end] += 1
                kept.append(piece)
            if not split:
                break
    return kept


def _copy_onto_new_part(score: Score, sources: list[Note], copies: list[Note], name: str, role: str,
                        program: int | None, volume: int | None = None, bend_cents: float = 0.0,
                        max_voices: int | None = CMI_VOICES, split: bool = False) -> Score:
    """Put copies of some notes on a new part (program and volume of the first source part unless given),
    those that fit within `max_voices` (see _fit).

    With no channel free the copies join the part of the note they copy, unless they are detuned (a bend
    would detune the whole part): then they are left out.
    """
    copies = _fit(score, copies, max_voices, split=split)
    if not copies:
        return score
    first = score.part(sources[0].part)
    part = _add_part(score, name, program=first.program if program is None else program, role=role,
                     volume=first.volume if volume is None else volume, pan=first.pan, bend_cents=bend_cents)
    if part is None:
        if bend_cents:
            return score
        return score.with_notes([*score.notes, *copies])
    moved = [Note(c.start, c.duration, c.pitch, c.velocity, part.name) for c in copies]
    return score.with_notes([*score.notes, *moved], [*score.parts, part])


def _shifted_copies(notes: Iterable[Note], interval: int, velocity_scale: float) -> list[Note]:
    return [Note(n.start, n.duration, n.pitch + interval, _velocity(n.velocity * velocity_scale), n.part)
            for n in notes if LOWEST_KEY <= n.pitch + interval <= HIGHEST_KEY]


def _sections_of(score: Score, sections) -> list:
    return list(sections) if sections else read_sections(score)


# General MIDI keys and programs the styles' drums play.
SNARE_KEY = 38  # General MIDI acoustic snare
TIMPANI_PROGRAM = 47  # General MIDI timpani (0-based)
TIMPANI_LOW_KEY = 45  # A2: the timpani's tonic is the first from here up (A2-G#3), its dominant a fourth below
CRASH_KEY, BASS_DRUM_KEY, SIDE_STICK_KEY = 49, 36, 37  # General MIDI percussion keys
