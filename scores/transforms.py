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
"""

from __future__ import annotations

import dataclasses
import random
from bisect import bisect_right
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from operator import attrgetter

import numpy as np

from scores import cards, variation
from scores.analysis import estimate_key, read_sections, section_at
from scores.score import Control, Key, Note, Part, Score
from scores.theory import degree_map
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


# --- mode ---------------------------------------------------------------------------------------------

# Degrees are semitones above the local tonic. Each map sends the notes of the major and minor scales (with
# minor's raised sixth and seventh) onto the target scale and leaves chromatic notes where they are.
_PHRYGIAN = degree_map("phrygian")  # {2: 1, 4: 3, 9: 8, 11: 10}: scale 0 1 3 5 7 8 10
_LOCRIAN = degree_map("locrian")  # {2: 1, 4: 3, 7: 6, 9: 8, 11: 10}: scale 0 1 3 5 6 8 10
_NATURAL_MINOR = degree_map("minor")  # {4: 3, 9: 8, 11: 10}: scale 0 2 3 5 7 8 10, applied where the key is major
_HARMONIC_MINOR = {9: 8, 10: 11}  # the augmented second between the lowered sixth and the leading tone


def _remap_degrees(score: Score, mapping: dict[int, int], roles: Iterable[str], *, only_mode: str | None = None,
                   new_mode: str | None = None) -> Score:
    names = _targets(score, roles) - _targets(score, FIXED_ROLES)  # a ground or an ostinato is never re-pitched
    key_at = _key_finder(score)
    notes = []
    for n in score.notes:
        key = key_at(n.start)
        if n.part in names and (only_mode is None or key.mode == only_mode):
            degree = (n.pitch - key.tonic_pc) % 12
            n = Note(n.start, n.duration, _fold(n.pitch + mapping.get(degree, degree) - degree), n.velocity, n.part)
        notes.append(n)
    keys = score.keys
    if new_mode is not None:
        keys = tuple(Key(k.tick, k.tonic_pc, new_mode) if only_mode in (None, k.mode) else k for k in keys)
    return score.with_notes(notes).replace(keys=keys)


def phrygian(score: Score, *, roles: Sequence[str] = PITCHED_ROLES) -> Score:
    """Every note of the chosen parts onto the Phrygian scale of its local tonic: over D, E becomes E-flat.

    Parts of role "ground" (the Sonnerie's bells) and "ostinato" (the Trionfo's pianos) are never
    re-pitched, by this or any mode change: the ground is the piece's one fixed figure, an ostinato the
    figure a section is built on, and the music above them takes the new mode.

    The second degree is lowered in every key; in a major key the third, sixth and seventh too, and in a
    minor key its raised sixth and seventh, so that the whole scale is Phrygian. Notes outside the key stay;
    moved notes fold by octaves into 0-127. The key map's modes become minor (the nearest signature).
    """
    return _remap_degrees(score, _PHRYGIAN, roles, new_mode="minor")


def locrian(score: Score, *, roles: Sequence[str] = PITCHED_ROLES) -> Score:
    """As phrygian, and the fifth lowered too: over D, A becomes A-flat (scale 0 1 3 5 6 8 10)."""
    return _remap_degrees(score, _LOCRIAN, roles, new_mode="minor")


def major_to_minor(score: Score, *, roles: Sequence[str] = PITCHED_ROLES) -> Score:
    """Major-key passages into the natural minor on the same tonic (third, sixth, seventh lowered).

    Passages already in a minor key are left as they are; the key map's major keys become minor.
    """
    return _remap_degrees(score, _NATURAL_MINOR, roles, only_mode="major", new_mode="minor")


def harmonic_minor(score: Score, *, roles: Sequence[str] = PITCHED_ROLES) -> Score:
    """The harmonic-minor colour: the sixth degree lowered and the seventh raised to a leading tone.

    In a minor key this makes the augmented second of harmonic minor (over D: B-flat to C-sharp); in a
    major key only the sixth is lowered (harmonic major), which gives the same step.
    """
    return _remap_degrees(score, _HARMONIC_MINOR, roles)


def invert(score: Score, *, role: str = "melody") -> Score:
    """A role's notes inverted about the tonic: each interval above the tonic becomes the same below.

    The axis is the local tonic in the octave nearest the role's mean pitch, so the line keeps its register;
    notes pushed outside 0-127 fold by octaves. Other parts are untouched.
    """
    names = _targets(score, (role,))
    chosen = [n for n in score.notes if n.part in names]
    if not chosen:
        return score
    centre = sum(n.pitch for n in chosen) / len(chosen)
    key_at = _key_finder(score)
    notes = []
    for n in score.notes:
        if n.part in names:
            tonic = key_at(n.start).tonic_pc
            axis = tonic + 12 * round((centre - tonic) / 12)
            n = Note(n.start, n.duration, _fold(2 * axis - n.pitch), n.velocity, n.part)
        notes.append(n)
    return score.with_notes(notes)


# --- harmony ------------------------------------------------------------------------------------------


def _shifted_copies(notes: Iterable[Note], interval: int, velocity_scale: float) -> list[Note]:
    return [Note(n.start, n.duration, n.pitch + interval, _velocity(n.velocity * velocity_scale), n.part)
            for n in notes if LOWEST_KEY <= n.pitch + interval <= HIGHEST_KEY]


def tritone_shadow(score: Score, *, interval: int = -6, velocity_scale: float = 0.45,
                   roles: Sequence[str] = ("melody",), program: int | None = None, top_only: bool = True,
                   max_voices: int | None = CMI_VOICES) -> Score:
    """A soft copy of the chosen parts a tritone away (+-6 semitones) on a new part of role "shadow".

    With `top_only` only the highest note of each onset is copied, so a part playing chords gets one shadow
    line. Copies outside 0-127 are dropped, and so are those that would make more than `max_voices` notes
    sound at once (cut short where they would, if an eighth or more is left). The new part takes the first
    source part's program unless `program` is given; with no channel free the shadow notes join the part
    they copy.
    """
    return _parallel(score, interval, velocity_scale, roles, program, top_only, "tritone shadow", max_voices)


def parallel_fifths(score: Score, *, interval: int = -7, velocity_scale: float = 0.6,
                    roles: Sequence[str] = ("melody",), program: int | None = None, top_only: bool = True,
                    max_voices: int | None = CMI_VOICES) -> Score:
    """The archaic organum: the chosen parts doubled a fifth below (interval -7; -5 for fourths) on a new part.

    As tritone_shadow in everything else: top line only by default, copies outside 0-127 or beyond
    `max_voices` dropped, the notes joining their own part when no channel is free.
    """
    return _parallel(score, interval, velocity_scale, roles, program, top_only, "organum", max_voices)


def _parallel(score: Score, interval: int, velocity_scale: float, roles: Sequence[str], program: int | None,
              top_only: bool, name: str, max_voices: int | None) -> Score:
    sources = _heard_in(score, roles, _top_notes if top_only else None)
    return _copy_onto_new_part(score, sources, _shifted_copies(sources, interval, velocity_scale), name, "shadow",
                               program, max_voices=max_voices)


def minor_second_smear(score: Score, *, interval: int = 1, velocity_scale: float = 0.3,
                       roles: Sequence[str] = ("melody",), program: int | None = 48,
                       max_voices: int | None = CMI_VOICES, tie: bool = False,
                       rng: random.Random | None = None) -> Score:
    """A very soft note a minor second from the chosen line, held through each bar, on a new "shadow" part.

    In every bar the note of the line sounding at the bar line (else its first note in the bar) gets a
    neighbour `interval` semitones away, held to the next bar line. With an `rng` the neighbour falls above
    or below at random, bar by bar; with `tie` a smear on the key of the one before it is held on over the
    bar line instead of struck again. Program 48 (strings) by default, for the sustain. Smears outside 0-127
    are dropped; where more than `max_voices` notes would sound the smear stops, and starts again where a
    beat or more of room opens. With no channel free the smear joins the line's part.
    """
    names = _targets(score, roles)
    line = _top_notes(n for n in _heard(score.notes) if n.part in names)
    if not line:
        return score
    starts = [n.start for n in line]
    bars = score.bar_starts()
    sources, copies = [], []
    for i, bar in enumerate(bars):
        stop = bars[i + 1] if i + 1 < len(bars) else score.end
        j = bisect_right(starts, bar) - 1
        if not (j >= 0 and line[j].end > bar):  # nothing sounds at the bar line: the first note in the bar
            j = bisect_right(starts, bar - 1)
            if j >= len(line) or line[j].start >= stop:
                continue
        note = line[j]
        step = interval if rng is None else rng.choice((interval, -interval))
        begin = max(bar, note.start)
        if LOWEST_KEY <= note.pitch + step <= HIGHEST_KEY and stop > begin:
            if tie and copies and copies[-1].pitch == note.pitch + step and copies[-1].end == begin:
                last = copies[-1]
                copies[-1] = Note(last.start, stop - last.start, last.pitch, last.velocity, last.part)
                continue
            sources.append(note)
            copies.append(Note(begin, stop - begin, note.pitch + step, _velocity(note.velocity * velocity_scale),
                               note.part))
    return _copy_onto_new_part(score, sources, copies, "smear", "shadow", program, max_voices=max_voices,
                               split=True)


def clusters(score: Score, *, min_beats: float = 2.0, intervals: Sequence[int] = (1, 2),
             velocity_scale: float = 0.5, roles: Sequence[str] = ("melody", "inner", "bass", "pedal"),
             max_voices: int | None = CMI_VOICES) -> Score:
    """Tone clusters on long notes: each note of at least `min_beats` gains neighbours `intervals` semitones away.

    Only the highest long note of each onset (across the chosen parts) is clustered, so a chord gains two
    notes, not eight; a note counts as long for as long as it is heard (until the next note on its key in
    its part). The added notes join the note's own part, softer by `velocity_scale`; those outside 0-127,
    and those that would make more than `max_voices` notes sound at once, are dropped.
    """
    names = _targets(score, roles)
    heard = _heard(n for n in score.notes if n.part in names)
    long_notes = _top_notes(n for n in heard if n.duration >= score.ticks(min_beats))
    added = [Note(n.start, n.duration, n.pitch + step, _velocity(n.velocity * velocity_scale), n.part)
             for n in long_notes for step in intervals if LOWEST_KEY <= n.pitch + step <= HIGHEST_KEY]
    return score.with_notes([*score.notes, *_fit(score, added, max_voices)])


def bitonality(score: Score, *, interval: int = -6, roles: Sequence[str] = ("melody",), span_bars: int = 0,
               chance: float = 0.5, rng: random.Random | None = None) -> Score:
    """The chosen parts transposed `interval` semitones (a tritone by default) against the accompaniment.

    With `span_bars` > 0 the piece is cut into spans of that many bars and only some spans are transposed:
    each with probability `chance` by the `rng` (every other span, from the second, without one), so the
    second key comes and goes by phrases. Transposed notes fold by octaves into 0-127.
    """
    names = _targets(score, roles)
    if not names:
        return score
    bars = score.bar_starts()
    if span_bars > 0 and bars:
        span_starts = bars[::span_bars]
        chosen = [(i % 2 == 1) if rng is None else rng.random() < chance for i in range(len(span_starts))]

        def moved(tick: int) -> bool:
            return chosen[max(bisect_right(span_starts, tick) - 1, 0)]
    else:

        def moved(tick: int) -> bool:
            return True

    notes = [Note(n.start, n.duration, _fold(n.pitch + interval), n.velocity, n.part)
             if n.part in names and moved(n.start) else n for n in score.notes]
    return score.with_notes(notes)


# --- register and drones ------------------------------------------------------------------------------

_PEDAL_INTERVALS = {"tonic": (0,), "tonic_flat2": (0, 1), "tritone": (0, 6)}
PEDAL_LOW_KEY = 36  # C2: the pedal's tonic is the first one from here up, an organ's 16-foot register


def pedal(score: Score, *, kind: str = "tonic", every_bars: int = 1, velocity: int = 40, program: int = 19,
          low_key: int = PEDAL_LOW_KEY, max_voices: int | None = CMI_VOICES) -> Score:
    """A drone on a new "pedal" part: the local tonic (kind "tonic"), tonic and flat second ("tonic_flat2")
    or tonic and tritone ("tritone"), held and struck again every `every_bars` bars.

    It runs from the bar of the first pitched note to the end, following key changes at each stroke; the
    tonic is the first one at or above `low_key`. Program 19 (church organ) by default. Where more than
    `max_voices` notes would sound the drone stops, and is struck again where a beat or more of room opens.
    With no channel free the drone joins the lowest-sounding pitched part. A score with no pitched notes is
    left as it is.
    """
    if kind not in _PEDAL_INTERVALS:
        raise TransformError(f"unknown pedal kind {kind!r} (kinds: {', '.join(_PEDAL_INTERVALS)})")
    if every_bars < 1:
        raise TransformError(f"a pedal struck every {every_bars} bars")
    pitched = [n for n in score.notes if n.part in _targets(score, PITCHED_ROLES)]
    if not pitched:
        return score
    strokes = _bars_from(score, min(n.start for n in pitched))[::every_bars]
    key_at = _key_finder(score)
    part = _add_part(score, "pedal", program=program, role="pedal", volume=100)
    if part is None:
        by_part: dict[str, list[int]] = defaultdict(list)
        for n in pitched:
            by_part[n.part].append(n.pitch)
        name = min(by_part, key=lambda p: sum(by_part[p]) / len(by_part[p]))
        parts = list(score.parts)
    else:
        name = part.name
        parts = [*score.parts, part]
    drone = []
    for i, start in enumerate(strokes):
        stop = strokes[i + 1] if i + 1 < len(strokes) else score.end
        tonic = low_key + (key_at(start).tonic_pc - low_key) % 12
        for step in _PEDAL_INTERVALS[kind]:
            if stop > start and tonic + step <= HIGHEST_KEY:
                drone.append(Note(start, stop - start, tonic + step, _velocity(velocity), name))
    drone = _fit(score, drone, max_voices, split=True)
    if not drone:
        return score
    return score.with_notes([*score.notes, *drone], parts)


DOUBLING_LOW_KEY = 24  # C1: below it a doubling is felt more than heard (a guess)


def octave_doubling(score: Score, *, octaves: Sequence[int] = (-1,), roles: Sequence[str] = ("bass",),
                    velocity_scale: float = 0.55, bottom_only: bool = True, program: int | None = None,
                    low_key: int = DOUBLING_LOW_KEY, max_voices: int | None = CMI_VOICES) -> Score:
    """The chosen parts doubled one or two octaves down (octaves -1, -2) on a new part of role "bass".

    With `bottom_only` only the lowest note of each onset is doubled. Doublings below `low_key` (C1), or
    that would make more than `max_voices` notes sound, are dropped. With no channel free they join the
    part they double.
    """
    sources = _heard_in(score, roles, _bottom_notes if bottom_only else None)
    copies = [c for octave in octaves for c in _shifted_copies(sources, 12 * octave, velocity_scale)
              if c.pitch >= low_key]
    return _copy_onto_new_part(score, sources, copies, "low doubling", "bass", program, max_voices=max_voices)


def hollow_spacing(score: Score, *, melody_octaves: int = 2, bass_octaves: int = -2, low_key: int = 24,
                   high_key: int = 108) -> Score:
    """Hollow spacing: the melody moved up and the bass down by octaves, leaving the middle empty.

    Notes that would leave `low_key`..`high_key` (C1-C8, the piano's span) fold back by octaves.
    """
    up, down = _targets(score, ("melody",)), _targets(score, ("bass",))

    def moved(n: Note) -> Note:
        shift = 12 * melody_octaves if n.part in up else 12 * bass_octaves if n.part in down else 0
        return Note(n.start, n.duration, _fold(n.pitch + shift, low_key, high_key), n.velocity, n.part) if shift else n

    return score.with_notes(moved(n) for n in score.notes)


# --- time ---------------------------------------------------------------------------------------------


def tempo_scale(score: Score, *, factor: float) -> Score:
    """Every tempo multiplied by `factor` (0.7 = slower, a march's ~1.1 = faster); the notes keep their ticks."""
    if not factor > 0:
        raise TransformError(f"a tempo factor of {factor:g}")
    return score.replace(tempos=tuple((tick, round(bpm * factor, 3)) for tick, bpm in score.tempos))


def augmentation(score: Score, *, role: str = "melody", factor: float = 2.0) -> Score:
    """A role's notes stretched in time by `factor` from the start of the piece (a cantus firmus in long notes).

    The piece keeps its length: stretched notes that would start after its end are dropped, and the last
    one is cut at the end. Other parts are untouched.
    """
    if not factor > 0:
        raise TransformError(f"an augmentation factor of {factor:g}")
    names = _targets(score, (role,))
    notes = []
    for n in score.notes:
        if n.part in names:
            start = round(n.start * factor)
            if start >= score.end:
                continue
            n = Note(start, max(1, min(round(n.duration * factor), score.end - start)), n.pitch, n.velocity, n.part)
        notes.append(n)
    return score.with_notes(notes)


@dataclass(frozen=True)
class _Bar:
    """One bar before and after re-metering, and where its beats land (fractions of the bar)."""

    old_start: int
    old_length: int
    new_start: int
    new_length: int
    numerator: int
    denominator: int
    points: tuple[tuple[float, float], ...] = ((0.0, 0.0), (1.0, 1.0))


class _TimeMap:
    """Old ticks to new ticks, bar by bar, piecewise linear between each bar's beat points."""

    def __init__(self, bars: list[_Bar]) -> None:
        self.bars = bars
        self.starts = [b.old_start for b in bars]

    def __call__(self, tick: int) -> int:
        if not self.bars:
            return tick
        bar = self.bars[max(bisect_right(self.starts, tick) - 1, 0)]
        into = tick - bar.old_start
        if into >= bar.old_length:  # past the last bar: time runs on as before
            return bar.new_start + bar.new_length + into - bar.old_length
        fraction = into / bar.old_length
        for (x0, y0), (x1, y1) in zip(bar.points, bar.points[1:], strict=False):
            if fraction <= x1:
                return bar.new_start + round((y0 + (fraction - x0) / (x1 - x0) * (y1 - y0)) * bar.new_length)
        return bar.new_start + bar.new_length

    def metres(self) -> tuple[tuple[int, int, int], ...]:
        out: list[tuple[int, int, int]] = []
        for b in self.bars:
            if not out or out[-1][1:] != (b.numerator, b.denominator):
                out.append((b.new_start, b.numerator, b.denominator))
        return tuple(out)


def _remeter(score: Score, squeeze: Callable[[int, int, int], tuple[tuple[float, float], ...] | None],
             keep_roles: Sequence[str] = ()) -> Score:
    """Bars of three beats that `squeeze(index, numerator, denominator)` gives beat points for become bars of
    two (the points say where the three beats fall in the new bar); all else moves along with them.

    Notes of the `keep_roles` parts keep their own rhythm: within each section (from a key or metre change
    to the next) they run on from the section's new start at their old spacing, in whole bars of their old
    metre (a ground's figure is never cut in the middle: a bar that no longer fits is left out); in
    sections not re-metered they stay with the rest.
    """
    bars: list[_Bar] = []
    new = 0
    starts = score.bar_starts()
    for i, old in enumerate(starts):
        numerator, denominator = score.metre_at(old)
        length = (starts[i + 1] if i + 1 < len(starts) else old + score.bar_ticks(numerator, denominator)) - old
        points = squeeze(i, numerator, denominator) if numerator == 3 else None
        if points is None:
            bars.append(_Bar(old, length, new, length, numerator, denominator))
        else:
            bars.append(_Bar(old, length, new, length * 2 // 3, 2, denominator, points))
        new += bars[-1].new_length
    remap = _TimeMap(bars)
    kept = _targets(score, keep_roles)
    sections = sorted({0, *(k.tick for k in score.keys), *(m[0] for m in score.metres)})
    notes = []
    for n in score.notes:
        if n.part in kept:
            i = bisect_right(sections, n.start) - 1
            old_stop = sections[i + 1] if i + 1 < len(sections) else score.end
            start = remap(sections[i]) + n.start - sections[i]
            stop = remap(old_stop)
            cycle = score.bar_ticks(*score.metre_at(sections[i]))  # the ground's figure: a bar of its metre
            whole = remap(sections[i]) + ((n.start - sections[i]) // cycle + 1) * cycle
            if start < stop and whole <= stop:
                notes.append(Note(start, min(n.duration, stop - start), n.pitch, n.velocity, n.part))
            continue
        start, end = remap(n.start), remap(n.end)
        notes.append(Note(start, max(1, end - start), n.pitch, n.velocity, n.part))
    return Score(
        title=score.title, parts=score.parts, notes=tuple(notes),
        tempos=tuple(sorted({remap(t): bpm for t, bpm in score.tempos}.items())),
        metres=remap.metres() or score.metres,
        keys=tuple(Key(remap(k.tick), k.tonic_pc, k.mode) for k in score.keys),
        sections=tuple((remap(t), name) for t, name in score.sections),
        controls=tuple(dataclasses.replace(c, tick=remap(c.tick)) for c in score.controls),
        after=score.after, end=remap(score.end),
    )


# Where the three beats of a triple bar fall in the two beats of a march bar, as fractions of the bar.
MARCH_PATTERNS = {
    "even": ((0.0, 0.0), (1 / 3, 1 / 2), (2 / 3, 3 / 4), (1.0, 1.0)),  # beats at 0, 1, 1.5: quarter, two eighths
    "dotted": ((0.0, 0.0), (1 / 3, 3 / 4), (2 / 3, 7 / 8), (1.0, 1.0)),  # 0, 1.5, 1.75: long, short, short
}


def remeter_as_march(score: Score, *, pattern: str = "even", ground_role: str = "ground") -> Score:
    """A triple-metre score as a duple march: every bar of three beats becomes a bar of two.

    Pattern "even" puts the three beats at 0, 1 and 1.5 of the 2/4 bar, "dotted" at 0, 1.5 and 1.75
    (long-short-short); what lies between beats is stretched or squeezed with them, and time signatures,
    tempo changes and keys move to the new bar lines. Bars not in triple metre keep their length. The
    `ground_role` parts are not re-metered: they keep one note per beat as before, each section (from a key
    or metre change to the next) starting where the section now starts and cut where it ends, so a
    three-beat ground runs in polymeter against the march and meets its bar line again every three 2/4
    bars (every 12 beats against 4/4).
    """
    if pattern not in MARCH_PATTERNS:
        raise TransformError(f"unknown march pattern {pattern!r} (patterns: {', '.join(MARCH_PATTERNS)})")
    points = MARCH_PATTERNS[pattern]
    return _remeter(score, lambda i, num, den: points, keep_roles=(ground_role,))


def limping_waltz(score: Score, *, every: int = 4, pattern: str = "even") -> Score:
    """A waltz that limps: every `every`-th bar of three beats loses a beat (3/4 3/4 3/4 2/4 ...).

    The short bar keeps all its notes, its three beats squeezed into two as remeter_as_march's `pattern`
    places them; the time signatures say 3/4 and 2/4 in turn. Every part limps, the ground too.
    """
    if every < 1:
        raise TransformError(f"a limp every {every} bars")
    if pattern not in MARCH_PATTERNS:
        raise TransformError(f"unknown march pattern {pattern!r} (patterns: {', '.join(MARCH_PATTERNS)})")
    points = MARCH_PATTERNS[pattern]
    return _remeter(score, lambda i, num, den: points if i % every == every - 1 else None)


SNARE_KEY = 38  # General MIDI acoustic snare
TIMPANI_PROGRAM = 47  # General MIDI timpani (0-based)
TIMPANI_LOW_KEY = 45  # A2: the timpani's tonic is the first from here up (A2-G#3), its dominant a fourth below
# One 2/4 bar of the snare: a dotted-eighth and sixteenth on each beat, the downbeat accented (beats, velocity).
SNARE_BAR = ((0.0, 1.0), (0.75, 0.55), (1.0, 0.8), (1.75, 0.55))
SNARE_FILL = ((0.0, 1.0), (0.75, 0.55), (1.0, 0.6), (1.25, 0.7), (1.5, 0.8), (1.75, 0.9))  # a bar into the next


def march_ostinato(score: Score, *, snare_velocity: int = 80, timpani_velocity: int = 80, timpani: bool = True,
                   fill_every: int = 4, fill_chance: float = 0.5, max_voices: int | None = CMI_VOICES,
                   rng: random.Random | None = None) -> Score:
    """A march's snare and timpani under the score, from the bar of its first note to its end.

    The snare (key 38 on the drum channel, joining a drum part if the score has one) plays a dotted
    rhythm every two beats, and every `fill_every`-th bar a sixteenth-note fill, chosen by the `rng` with
    probability `fill_chance` (always without one). The timpani (program 47, a new part of role "drums", so
    that no pitch transformation retunes it) strike the local tonic on the bar's first beat and its
    dominant on the second; with no channel free the timpani are left out. Strokes that would make more
    than `max_voices` notes sound at once are left out too.
    """
    drum_parts = [p for p in score.parts if p.channel == DRUM_CHANNEL]
    parts = list(score.parts)
    if drum_parts:
        snare = drum_parts[0].name
    else:
        part = Part(_unique_name(score, "snare"), DRUM_CHANNEL, role="drums", volume=100)
        parts.append(part)
        snare = part.name
    if not score.notes:
        return score
    key_at = _key_finder(score)
    bars = _bars_from(score, min(n.start for n in score.notes))
    timp: Part | None = None
    if timpani:
        channel = score.free_channel()
        if channel is not None:
            timp = Part(_unique_name(score, "timpani"), channel, TIMPANI_PROGRAM, role="drums", volume=100)
            parts.append(timp)
    added: list[Note] = []
    stroke = score.ticks(0.25)  # a sixteenth: the snare's sound is its own decay, whatever the key's length
    for i, bar in enumerate(bars):
        stop = bars[i + 1] if i + 1 < len(bars) else score.end
        fill = fill_every > 0 and i % fill_every == fill_every - 1 and (rng is None or rng.random() < fill_chance)
        for offset in range(bar, stop, score.ticks(2.0)):
            last_pair = offset + score.ticks(2.0) >= stop
            for beats, weight in (SNARE_FILL if fill and last_pair else SNARE_BAR):
                t = offset + score.ticks(beats)
                if t < stop:
                    added.append(Note(t, min(stroke, stop - t), SNARE_KEY, _velocity(snare_velocity * weight), snare))
        if timp is not None:
            tonic = TIMPANI_LOW_KEY + (key_at(bar).tonic_pc - TIMPANI_LOW_KEY) % 12
            for beats, pitch, weight in ((0.0, tonic, 1.0), (1.0, tonic - 5, 0.75)):
                t = bar + score.ticks(beats)
                if t < stop:
                    added.append(Note(t, min(score.ticks(1.0), stop - t), pitch, _velocity(timpani_velocity * weight),
                                      timp.name))
    return score.with_notes([*score.notes, *_fit(score, added, max_voices)], parts)


def canon(score: Score, *, role: str = "melody", interval: int = 6, delay_beats: float = 2.0,
          velocity_scale: float = 0.6, program: int | None = None, max_voices: int | None = CMI_VOICES) -> Score:
    """A canon: the role's line again `delay_beats` later and `interval` semitones away (6 = at the tritone,
    1 = at the minor second), on a new "shadow" part; the piece grows by the delay if the line runs to the end.

    Copies outside 0-127 or beyond `max_voices` are dropped; with no channel free they join the part they
    follow.
    """
    names = _targets(score, (role,))
    sources = _top_notes(n for n in _heard(score.notes) if n.part in names)
    delay = score.ticks(delay_beats)
    copies = [Note(n.start + delay, n.duration, n.pitch, n.velocity, n.part)
              for n in _shifted_copies(sources, interval, velocity_scale)]
    return _copy_onto_new_part(score, sources, copies, "canon", "shadow", program, max_voices=max_voices)


# --- sound --------------------------------------------------------------------------------------------

DETUNE_CENTS = (10.0, 25.0)  # the span of a detuned doubling: beating, not a second pitch


def detuned_doubling(score: Score, *, roles: Sequence[str] = ("melody",), cents: float = 15.0,
                     velocity_scale: float = 0.5, program: int | None = None, top_only: bool = True,
                     max_voices: int | None = CMI_VOICES, rng: random.Random | None = None) -> Score:
    """A soft unison copy of the chosen parts on a new part detuned by `cents` through its pitch wheel.

    With an `rng` the detune is drawn from 10-25 cents, sharp or flat. With `top_only` only the highest
    note of each onset is doubled, and only where no more than `max_voices` notes would sound. A detune
    needs a channel of its own: with none free nothing is added.
    """
    if rng is not None:
        cents = rng.choice((-1, 1)) * round(rng.uniform(*DETUNE_CENTS), 1)
    names = _targets(score, roles)
    sources = [n for n in _heard(score.notes) if n.part in names]
    if top_only:
        sources = _top_notes(sources)
    copies = _shifted_copies(sources, 0, velocity_scale)
    return _copy_onto_new_part(score, sources, copies, "detuned", "shadow", program, bend_cents=cents,
                               max_voices=max_voices)


def dynamics(score: Score, *, scale: float = 0.75, sforzando_chance: float = 0.03, sforzando_velocity: int = 118,
             by_form: float = 0.0, sections=None, rng: random.Random | None = None) -> Score:
    """Softer playing with rare sforzandi: every velocity times `scale`, and some downbeats struck hard.

    Each bar line where notes begin becomes a sforzando with probability `sforzando_chance` (drawn from the
    `rng`; none without one): every pitched note starting there gets `sforzando_velocity`. With `by_form`
    (0-1) the dynamics also follow the form: a note's velocity is further multiplied by
    1 - by_form x (1 - intensity of its section), so quiet sections are quieter still and the climax keeps
    its level.
    """
    if not scale > 0:
        raise TransformError(f"a velocity scale of {scale:g}")
    if not 0 <= by_form <= 1:
        raise TransformError(f"a dynamics by form of {by_form:g} is outside 0-1")
    if by_form and score.notes:
        form = _sections_of(score, sections)
        scaled = [Note(n.start, n.duration, n.pitch,
                       _velocity(n.velocity * (1 - by_form * (1 - section_at(form, n.start).intensity))), n.part)
                  for n in score.notes]
        score = score.with_notes(scaled)
    onsets = {n.start for n in score.notes}
    struck: set[int] = set()
    if rng is not None and sforzando_chance > 0:
        struck = {b for b in score.bar_starts() if b in onsets and rng.random() < sforzando_chance}
    drums = {p.name for p in score.parts if p.channel == DRUM_CHANNEL}
    notes = [Note(n.start, n.duration, n.pitch,
                  _velocity(sforzando_velocity if n.start in struck and n.part not in drums else n.velocity * scale),
                  n.part) for n in score.notes]
    return score.with_notes(notes)


# Voices chosen for dread, by role (General MIDI programs, 0-based): the first is the default; an rng picks.
# A part already on one of them, or on the timpani or tam-tam, keeps its voice.
DREAD_PROGRAMS: dict[str, tuple[int, ...]] = {
    "melody": (52, 19, 11),  # aah choir, church organ, glass
    "inner": (48, 53),  # string ensemble, vox pad
    "bass": (42, 48),  # gamba (cello), string ensemble
    "pedal": (19, 97),  # church organ, saucer drone
    "ground": (14,),  # the bells
    "ostinato": (14,),  # the bells too: the Trionfo's pianos struck as a carillon
    "shadow": (53, 99),  # vox pad, martian choir
}


def dread_voices(score: Score, *, programs: dict[str, Sequence[int]] | None = None,
                 rng: random.Random | None = None) -> Score:
    """Each part's program changed by its role to a voice chosen for dread (DREAD_PROGRAMS by default).

    Without an rng each role takes the first of its choices; with one, one choice per role at random.
    Parts already on a voice of dread (any program of the table, the timpani 47, the tam-tam 119) keep it,
    and so do roles with no choices (the drum kit, parts of role "drums").
    """
    table = DREAD_PROGRAMS if programs is None else programs
    chosen = {role: (choices[0] if rng is None else rng.choice(list(choices)))
              for role, choices in sorted(table.items()) if choices}
    dread = {program for choices in table.values() for program in choices} | {TIMPANI_PROGRAM, 119}
    voice_of: dict[int, int] = {}  # parts sharing a channel (tracks of a file) take the voice of its first part
    for p in score.parts:
        if p.channel not in voice_of:
            keep = p.role not in chosen or p.channel == DRUM_CHANNEL or p.program in dread
            voice_of[p.channel] = p.program if keep else chosen[p.role]
    parts = [dataclasses.replace(p, program=voice_of[p.channel]) for p in score.parts]
    changed = {p.name for p, q in zip(score.parts, parts, strict=True) if p.program != q.program}
    controls = tuple(c for c in score.controls if not (c.kind == "program" and c.part in changed))
    return score.with_notes(score.notes, parts).replace(controls=controls)


# --- composed layers ---------------------------------------------------------------------------------
# Layers a style adds that follow the form (scores.analysis.read_sections) and the phrase instead of looping:
# each stretch is realised by one of several candidates, the first (in a seeded order that puts the
# section's fitting choices first) whose bars repeat none of the layer's last FRESH_MEMORY_BARS bars.

FRESH_MEMORY_BARS = 16  # a layer's bar is new if no bar of the last 16 had the same notes
CRASH_KEY, BASS_DRUM_KEY, SIDE_STICK_KEY = 49, 36, 37  # General MIDI percussion keys


class _Fresh:
    """Chooses a layer's realisations so that its bars seldom repeat literally: remembers the notes of its
    recent bars (offsets into the bar, lengths, keys) and prefers candidates whose bars are new."""

    def __init__(self, score: Score, memory_bars: int = FRESH_MEMORY_BARS) -> None:
        self.bars = score.bar_starts() or [0]
        self.memory = memory_bars
        self.recent: list[tuple[int, tuple]] = []  # (bar index, pattern)

    def _patterns(self, notes: list[Note]) -> dict[int, tuple]:
        by_bar: dict[int, list] = defaultdict(list)
        for n in notes:
            i = max(bisect_right(self.bars, n.start) - 1, 0)
            by_bar[i].append((n.start - self.bars[i], n.duration, n.pitch))
        return {i: tuple(sorted(p)) for i, p in by_bar.items()}

    def repeats(self, notes: list[Note]) -> int:
        patterns = self._patterns(notes)
        count, seen = 0, []
        for i, p in sorted(patterns.items()):
            window = [q for j, q in self.recent if i - j <= self.memory] + seen
            count += p in window
            seen.append(p)
        return count

    def choose(self, candidates: list[list[Note]]) -> list[Note]:
        """The first candidate that repeats no recent bar, else the one that repeats fewest; remembered."""
        best = min(range(len(candidates)), key=lambda k: (self.repeats(candidates[k]), k))
        chosen = candidates[best]
        self.recent += sorted(self._patterns(chosen).items())
        return chosen


def _sections_of(score: Score, sections) -> list:
    return list(sections) if sections else read_sections(score)


def _phrases_of(score: Score, sections: list, bars_per_phrase: int = 4) -> list[tuple[int, int, object, int]]:
    """(start, stop, section, place) of each phrase of each section; place counts the phrases from 0."""
    bars = score.bar_starts() or [0]
    out = []
    for sec in sections:
        inside = [b for b in bars if sec.start <= b < sec.stop] or [sec.start]
        starts = inside[::bars_per_phrase]
        for k, t in enumerate(starts):
            out.append((t, starts[k + 1] if k + 1 < len(starts) else sec.stop, sec, k))
    return out


def _bass_at(score: Score, tick: int, names: set[str]) -> int | None:
    """The lowest key of the chosen parts sounding at a tick (or starting within the beat after it)."""
    beat = score.ticks(1.0)
    sounding = [n.pitch for n in score.notes if n.part in names and n.start <= tick + beat // 2 and n.end > tick]
    return min(sounding) if sounding else None


def moving_pedal(score: Score, *, velocity: int = 44, program: int = 19, low_key: int = PEDAL_LOW_KEY,
                 added_interval: int = 1, added_from: float = 0.7, max_voices: int | None = CMI_VOICES, sections=None,
                 rng: random.Random | None = None) -> Score:
    """A pedal that moves with the harmony and the form, on a new "pedal" part (church organ by default).

    In the quietest sections (intensity under 0.2) it is one soft held tonic. Elsewhere each phrase (four
    bars) is realised afresh from the local tonic and the bass of its bars (the lowest note of the parts of
    role "bass", else any pitched part but the ground): held through the phrase, moving to the cadence bar's
    bass, re-struck every two bars on the bass, entering late, an octave up, or following the bass bar by bar;
    from `added_from` intensity on, a note `added_interval` semitones above the tonic (1, the flat second;
    6, the tritone) joins it for the phrase's second half. Louder as the section is more
    intense. Where more than `max_voices` notes would sound a note stops (and is left out if that leaves
    less than an eighth). Where the piece's own drone (a part of role "pedal") holds the same key, the note
    moves an octave away. With no channel free nothing is added.
    """
    pitched = [n for n in score.notes if n.part in _targets(score, PITCHED_ROLES)]
    if not pitched:
        return score
    part = _add_part(score, "pedal", program=program, role="pedal", volume=100)
    if part is None:
        return score
    rng = rng or random.Random(0)
    sections = _sections_of(score, sections)
    key_at = _key_finder(score)
    bass_parts = _targets(score, ("bass",)) or (_targets(score, PITCHED_ROLES) - _targets(score, ("ground",)))
    bars = score.bar_starts() or [0]
    first = min(n.start for n in pitched)
    fresh = _Fresh(score)
    drone: list[Note] = []
    own_drones = [n for n in score.notes if n.part in _targets(score, ("pedal",))]  # the piece's own pedal

    def low(pc: int, octave: int = 0) -> int:
        return low_key + (pc - low_key) % 12 + 12 * octave

    def apart(n: Note) -> Note:
        """The note an octave away (down if it can) where the piece's own drone holds the same key."""
        if not any(d.pitch == n.pitch and d.start < n.end and n.start < d.end for d in own_drones):
            return n
        return dataclasses.replace(n, pitch=n.pitch - 12 if n.pitch - 12 >= DOUBLING_LOW_KEY else n.pitch + 12)

    for start, stop, sec, place in _phrases_of(score, sections):
        if stop <= first:
            continue
        start = max(start, first)
        loud = _velocity(velocity * (0.7 + 0.6 * sec.intensity))
        tonic = low(key_at(start).tonic_pc)
        if sec.intensity < 0.2:
            if place == 0:
                drone.append(Note(start, sec.stop - start, tonic, _velocity(loud * 0.8), part.name))
            continue
        inside = [b for b in bars if start <= b < stop] or [start]
        basses = []
        for b in inside:
            p = _bass_at(score, b, bass_parts)
            basses.append(tonic if p is None else low(p % 12))
        cadence = inside[-1]

        def note(t0: int, t1: int, pitch: int, v: int = loud) -> Note:
            return Note(t0, max(t1 - t0, 1), pitch, v, part.name)

        candidates = [
            [note(start, stop, tonic)],
            [note(start, cadence, tonic), note(cadence, stop, basses[-1])] if cadence > start else [],
            [note(b, inside[i + 2] if i + 2 < len(inside) else stop, basses[i]) for i, b in enumerate(inside)
             if i % 2 == 0],
            [note(inside[1] if len(inside) > 1 else start, stop, tonic)],
            [note(start, cadence, tonic + 12 if tonic + 12 <= 60 else tonic), note(cadence, stop, basses[-1])]
            if cadence > start else [],
            [note(b, inside[i + 1] if i + 1 < len(inside) else stop, basses[i]) for i, b in enumerate(inside)],
            [note(start, stop, tonic - 12 if tonic - 12 >= 24 else tonic + 12)],
        ]
        candidates = [c for c in candidates if c]
        order = list(range(len(candidates)))
        rng.shuffle(order)
        if sec.intensity >= 0.6:  # where the piece builds, the pedal moves with the bass first
            order.sort(key=lambda k: k not in (1, 2, 5))
        chosen = fresh.choose([candidates[k] for k in order])
        if sec.intensity >= added_from:
            half = start + (stop - start) // 2
            chosen = [*chosen, note(half, stop, tonic + added_interval, _velocity(loud * 0.7))]
        drone += [apart(n) for n in chosen]
    drone = _fit(score, drone, max_voices)  # cut where it would steal, not struck again in every gap
    if not drone:
        return score
    return score.with_notes([*score.notes, *drone], [*score.parts, part])


# Snare bars of a 2/4 march (beats into the bar, weight of the velocity): the dotted figure and its
# variants; the fills that end a phrase; the key each stroke of a variant plays on (snare, else side stick).
MARCH_FIGURE_BEATS = 2.0  # every figure below fills two beats, a 2/4 bar
MARCH_BARS = (
    ((0.0, 1.0), (0.75, 0.55), (1.0, 0.8), (1.75, 0.55)),
    ((0.0, 1.0), (0.75, 0.55), (1.0, 0.8), (1.5, 0.5), (1.75, 0.55)),
    ((0.0, 1.0), (0.5, 0.4), (0.75, 0.55), (1.0, 0.8), (1.75, 0.55)),
    ((0.0, 1.0), (1.0, 0.8), (1.75, 0.55)),
    ((0.0, 1.0), (0.25, 0.35), (0.75, 0.55), (1.0, 0.8), (1.25, 0.35), (1.75, 0.55)),
    ((0.0, 1.0), (0.75, 0.55), (1.0, 0.8), (1.25, 0.45), (1.75, 0.6)),
    ((0.0, 1.0), (0.5, 0.5), (1.0, 0.8), (1.5, 0.5)),
    ((0.0, 1.0), (0.75, 0.55), (1.5, 0.6), (1.75, 0.7)),
)
MARCH_FILLS = (
    ((0.0, 1.0), (0.75, 0.55), (1.0, 0.6), (1.25, 0.7), (1.5, 0.8), (1.75, 0.9)),
    ((0.0, 1.0), (0.5, 0.6), (0.75, 0.65), (1.0, 0.7), (1.25, 0.75), (1.5, 0.85), (1.75, 0.95)),
    ((0.0, 0.9), (0.25, 0.5), (0.5, 0.6), (0.75, 0.7), (1.0, 0.8), (1.5, 1.0)),
    ((0.0, 1.0), (1.0, 0.7), (1.25, 0.8), (1.5, 0.9), (1.75, 1.0)),
)


def _trio(sections: list) -> object | None:
    """The section a march plays as its trio: one named so, else the quietest of those between the first
    third and the last tenth of the piece, if it is quieter than most sections; None if there is none."""
    named = [s for s in sections if "trio" in s.name.lower()]
    if named:
        return named[0]
    if len(sections) < 3:
        return None
    end = sections[-1].stop
    median = sorted(s.intensity for s in sections)[len(sections) // 2]
    middle = [s for s in sections if s.start >= end / 3 and s.stop <= end * 0.9 and s.intensity < median]
    return min(middle, key=lambda s: s.intensity) if middle else None


def march_drums(score: Score, *, snare_velocity: int = 76, timpani_velocity: int = 78, timpani: bool = True,
                max_voices: int | None = CMI_VOICES, sections=None, rng: random.Random | None = None) -> Score:
    """A march's snare and timpani that follow the phrase and the form, from the bar of the first note on.

    Every four-bar phrase ends in a snare fill and the next begins with a cadence accent (bass drum and,
    where the section is loud, a crash); the bars between play the dotted figure and its variants, chosen
    afresh so that the snare seldom repeats a bar literally; a quiet section (intensity under 0.25) opens
    with the snare dropped out for a phrase, and one bar before some cadences drops out too. The timpani
    (program 47, a new part of role "drums") strike the local tonic and dominant, rolling into the cadence
    and resolving dominant to tonic on it. Louder as the section is more intense. Strokes that would make
    more than `max_voices` notes sound are left out; with no channel free the timpani are left out.

    The trio (a section named so, else the quietest in the middle of the piece: `_trio`) is lighter: the
    snare's bars on the side stick and softer, no crash, the timpani on the downbeat alone.
    """
    if not score.notes:
        return score
    rng = rng or random.Random(0)
    sections = _sections_of(score, sections)
    trio_section = _trio(sections)
    trios = {s.start for s in sections if "trio" in s.name.lower()} or (
        {trio_section.start} if trio_section is not None else set())
    drum_parts = [p for p in score.parts if p.channel == DRUM_CHANNEL]
    parts = list(score.parts)
    if drum_parts:
        kit = drum_parts[0].name
    else:
        kit_part = Part(_unique_name(score, "snare"), DRUM_CHANNEL, role="drums", volume=100)
        parts.append(kit_part)
        kit = kit_part.name
    timp: Part | None = None
    if timpani:
        channel = score.free_channel()
        if channel is not None:
            timp = Part(_unique_name(score, "timpani"), channel, TIMPANI_PROGRAM, role="drums", volume=100)
            parts.append(timp)
    key_at = _key_finder(score)
    drums = {p.name for p in score.parts if p.channel == DRUM_CHANNEL}
    first = min((n.start for n in score.notes if n.part not in drums), default=score.notes[0].start)
    bars = _march_units(score)  # each two-beat unit takes a figure: a 4/4 bar two
    stroke = score.ticks(0.25)
    snare_fresh, timp_fresh = _Fresh(score), _Fresh(score)
    added: list[Note] = []
    for start, stop, sec, place in _phrases_of(score, sections):
        if stop <= first:
            continue
        inside = [b for b in bars if max(start, first) <= b < stop]
        trio = sec.start in trios
        loud = (0.75 + 0.35 * sec.intensity) * (0.7 if trio else 1.0)
        drop_phrase = sec.intensity < 0.25 and place == 0 and not trio
        for i, bar in enumerate(inside):
            end = inside[i + 1] if i + 1 < len(inside) else stop
            last, opening = i == len(inside) - 1, i == 0

            def hits(figure, key=SNARE_KEY, scale=1.0, bar=bar, end=end, loud=loud):
                return [Note(bar + score.ticks(b), min(stroke, end - bar - score.ticks(b)), key,
                             _velocity(snare_velocity * w * loud * scale), kit)
                        for b, w in figure if bar + score.ticks(b) < end]

            if not drop_phrase:
                if last and len(inside) > 1:
                    options = [hits(f, SIDE_STICK_KEY if trio else SNARE_KEY) for f in MARCH_FILLS]
                elif i == len(inside) - 2 and rng.random() < 0.25:
                    options = [[]]  # a bar's breath before the fill
                elif trio:
                    options = [hits(f, SIDE_STICK_KEY, 0.8) for f in MARCH_BARS]
                else:
                    options = [hits(f) for f in MARCH_BARS]
                    options += [hits(f, SIDE_STICK_KEY, 0.8) for f in MARCH_BARS[:4]]
                order = list(range(len(options)))
                rng.shuffle(order)
                added += snare_fresh.choose([options[k] for k in order])
            if opening and bar > first:  # the cadence accent on the phrase's downbeat
                added.append(Note(bar, stroke, BASS_DRUM_KEY, _velocity(snare_velocity * 1.2 * loud), kit))
                if sec.intensity >= 0.5 and not trio:
                    added.append(Note(bar, score.ticks(1.0), CRASH_KEY, _velocity(snare_velocity * loud), kit))
            if timp is not None:
                tonic = TIMPANI_LOW_KEY + (key_at(bar).tonic_pc - TIMPANI_LOW_KEY) % 12
                fifth = tonic - 5
                v = _velocity(timpani_velocity * loud)

                def timp_notes(pattern, bar=bar, end=end, v=v):
                    return [Note(bar + score.ticks(b), min(score.ticks(length), end - bar - score.ticks(b)), p,
                                 _velocity(v * w), timp.name) for b, length, p, w in pattern
                            if bar + score.ticks(b) < end]

                high = tonic + 12 if tonic + 12 <= TIMPANI_LOW_KEY + 12 else tonic
                if trio:
                    options = [timp_notes(((0.0, 1.0, tonic, 0.7),)), timp_notes(((0.0, 2.0, tonic, 0.6),)),
                               timp_notes(((0.0, 1.0, fifth, 0.6),)), []]
                elif last:
                    options = [timp_notes(((0.0, 1.0, fifth, 1.0), (1.0, 0.25, fifth, 0.6), (1.25, 0.25, fifth, 0.7),
                                           (1.5, 0.25, fifth, 0.8), (1.75, 0.25, fifth, 0.9))),
                               timp_notes(((0.0, 1.0, tonic, 0.9), (1.0, 1.0, fifth, 1.0))),
                               timp_notes(((0.0, 0.5, fifth, 0.8), (0.5, 0.5, fifth, 0.9), (1.0, 1.0, fifth, 1.0))),
                               timp_notes(((0.0, 0.25, tonic, 0.6), (0.25, 0.25, tonic, 0.7), (0.5, 0.25, tonic, 0.8),
                                           (0.75, 0.25, tonic, 0.9), (1.0, 1.0, fifth, 1.0))),
                               timp_notes(((1.0, 0.5, fifth, 0.8), (1.5, 0.5, fifth, 1.0)))]
                elif opening:
                    options = [timp_notes(((0.0, 1.0, tonic, 1.0), (1.0, 1.0, fifth, 0.7))),
                               timp_notes(((0.0, 2.0, tonic, 1.0),)),
                               timp_notes(((0.0, 1.0, tonic, 1.0), (1.0, 1.0, high, 0.7))),
                               timp_notes(((0.0, 1.5, tonic, 1.0), (1.5, 0.5, fifth, 0.6)))]
                else:
                    options = [timp_notes(((0.0, 1.0, tonic, 1.0), (1.0, 1.0, fifth, 0.75))),
                               timp_notes(((0.0, 1.0, tonic, 1.0),)),
                               timp_notes(((0.0, 0.5, tonic, 1.0), (0.5, 0.5, tonic, 0.6), (1.0, 1.0, fifth, 0.75))),
                               timp_notes(((0.0, 1.0, tonic, 0.9), (1.0, 0.5, fifth, 0.7), (1.5, 0.5, tonic, 0.6))),
                               timp_notes(((1.0, 1.0, fifth, 0.8),)),
                               timp_notes(((0.0, 1.0, high, 0.8), (1.0, 1.0, tonic, 0.75))),
                               timp_notes(((0.0, 0.5, tonic, 0.9), (1.0, 0.5, fifth, 0.7), (1.5, 0.5, fifth, 0.6))),
                               timp_notes(((0.5, 0.5, fifth, 0.6), (1.0, 1.0, tonic, 0.8)))]
                if not (drop_phrase and not opening):
                    added += timp_fresh.choose(options)
    return score.with_notes([*score.notes, *_fit(score, added, max_voices)], parts)


def _march_units(score: Score) -> list[int]:
    """Where the march's two-beat figures start: on every bar, and in a bar of four beats or more on
    each of its two-beat halves too (a 2/4 bar is one unit, a 4/4 bar two)."""
    figure = score.ticks(MARCH_FIGURE_BEATS)
    starts = score.bar_starts() or [0]
    units = []
    for start, stop in zip(starts, [*starts[1:], max(score.end, starts[-1] + 1)], strict=True):
        units += [start + k * figure for k in range(max(1, (stop - start) // figure))]
    return units


def march_introduction(score: Score, *, bars: int = 4, snare_velocity: int = 76) -> Score:
    """A march's introduction: `bars` bars of the drums alone before the piece, a dotted figure growing from
    p to f and a fill into the first bar; everything else (notes, tempo, metre and key changes, section marks,
    controllers after the start) moves later by those bars. A score that marks its sections gets one more,
    "introduction"; the snare joins the score's drum part, or a new "snare" part on the drum channel.
    """
    if bars < 1 or not score.notes:
        return score
    bar = score.bar_ticks(*score.metre_at(0))
    shift = bars * bar
    drum_parts = [p for p in score.parts if p.channel == DRUM_CHANNEL]
    parts = list(score.parts)
    if drum_parts:
        kit = drum_parts[0].name
    else:
        part = Part(_unique_name(score, "snare"), DRUM_CHANNEL, role="drums", volume=100)
        parts.append(part)
        kit = part.name
    moved = [Note(n.start + shift, n.duration, n.pitch, n.velocity, n.part) for n in score.notes]
    stroke = score.ticks(0.25)
    # The figures span two beats: a longer bar (4/4) plays them one after another, the fill last.
    figure_ticks = score.ticks(MARCH_FIGURE_BEATS)
    per_bar = max(1, bar // figure_ticks)
    for i in range(bars):
        level = 0.45 + 0.55 * i / max(bars - 1, 1)
        for k in range(per_bar):
            last = i == bars - 1 and k == per_bar - 1
            figure = MARCH_FILLS[0] if last else MARCH_BARS[(i * per_bar + k) % 2]
            for beats, weight in figure:
                t = i * bar + k * figure_ticks + score.ticks(beats)
                if t < (i + 1) * bar:
                    moved.append(Note(t, stroke, SNARE_KEY, _velocity(snare_velocity * weight * level), kit))
        moved.append(Note(i * bar, stroke, BASS_DRUM_KEY, _velocity(snare_velocity * level), kit))

    def later(tick: int) -> int:
        return tick + shift if tick > 0 else 0

    sections = score.sections
    if sections:
        sections = ((0, "introduction"), *((t + shift, name) for t, name in sections))
    return Score(
        title=score.title, parts=tuple(parts), notes=tuple(moved),
        tempos=tuple((later(t), bpm) for t, bpm in score.tempos),
        metres=tuple((later(t), num, den) for t, num, den in score.metres),
        keys=tuple(Key(later(k.tick), k.tonic_pc, k.mode) for k in score.keys),
        sections=sections, controls=tuple(dataclasses.replace(c, tick=later(c.tick)) for c in score.controls),
        after=score.after, end=score.end + shift,
    )


def phrase_doubling(score: Score, *, roles: Sequence[str] = ("bass",), velocity_scale: float = 0.55,
                    program: int | None = None, low_key: int = DOUBLING_LOW_KEY, max_voices: int | None = CMI_VOICES,
                    sections=None, rng: random.Random | None = None) -> Score:
    """A low doubling that enters and leaves with the phrases, on a new part of role "bass".

    Each phrase of the chosen parts' lowest line is doubled an octave down, two octaves down, on its
    downbeats only (held through the bar), or not at all, chosen afresh so that the doubling seldom repeats a
    bar literally and rests in a phrase of each quiet section (intensity under 0.3). Doublings below
    `low_key`, or beyond `max_voices`, are dropped; with no channel free they join the part they double.
    """
    sources = _heard_in(score, roles, _bottom_notes)
    if not sources:
        return score
    rng = rng or random.Random(0)
    sections = _sections_of(score, sections)
    bars = score.bar_starts() or [0]
    fresh = _Fresh(score)
    copies: list[Note] = []
    starts = [n.start for n in sources]
    for start, stop, sec, place in _phrases_of(score, sections):
        line = sources[bisect_right(starts, start - 1):bisect_right(starts, stop - 1)]
        if not line:
            continue
        down1 = _shifted_copies(line, -12, velocity_scale)
        down2 = _shifted_copies(line, -24, velocity_scale)
        held = []
        for b in [b for b in bars if start <= b < stop]:
            first = next((n for n in line if n.start >= b), None)
            if first is not None and first.start < b + score.ticks(1.0):
                nxt = next((x for x in bars if x > b), stop)
                held.append(Note(first.start, min(nxt, stop) - first.start, first.pitch - 12,
                                 _velocity(first.velocity * velocity_scale), first.part))
        options = [c for c in (down1, held, down2) if c and all(n.pitch >= low_key for n in c)]
        rng.shuffle(options)
        if sec.intensity < 0.3 and place % 2 == 0:
            continue  # the doubling leaves in a quiet section
        if not options:
            continue
        copies += fresh.choose(options + [[]])
    if not copies:
        return score
    return _copy_onto_new_part(score, sources, copies, "low doubling", "bass", program, max_voices=max_voices)


# Colours by role for an orchestration arc (General MIDI programs, 0-based): for quiet sections, for those
# that build, and for the climax; a section takes one of its level's choices.
ARC_PROGRAMS: dict[str, tuple[tuple[int, ...], tuple[int, ...], tuple[int, ...]]] = {
    "melody": ((11, 53), (19, 48), (52, 61)),  # glass, vox pad; organ, strings; choir, brass section
    "inner": ((53, 89), (48, 42), (19, 49)),  # vox pad, warm pad; strings, cello; organ, slow strings
    "bass": ((42, 89), (43, 48), (19, 58)),  # cello, warm pad; contrabass, strings; organ, tuba
    "pedal": ((89,), (19, 97), (19,)),  # warm pad; organ, saucer drone; organ
    "shadow": ((53,), (99, 53), (99, 55)),  # vox pad; martian choir, vox pad; martian choir, orchestra hit
}
DECAYING_PROGRAMS = frozenset({11})  # the vibraphone's bars die away: no voice for a line of long notes
LONG_NOTE_BEATS = 1.5  # a section whose notes in a part last this long on average is sustained there


def orchestration_arc(score: Score, *, programs: dict[str, Sequence[Sequence[int]]] | None = None,
                      quiet_below: float = 0.45, climax_from: float = 0.8, sections=None,
                      rng: random.Random | None = None) -> Score:
    """The piece re-voiced section by section: each part's voice changes with the form, through program
    changes at the sections' starts (Controls of kind "program").

    A section under `quiet_below` intensity takes the role's quiet colours (ARC_PROGRAMS), one from
    `climax_from` on the climax's, the others those of a section that builds; the rng picks among them
    (the first without one), never the same voice twice running when there is another, and never a voice
    that dies away (DECAYING_PROGRAMS) where the part's notes last LONG_NOTE_BEATS or more on average (a
    slow lament on the vibraphone would be strokes and silence). The ground, the drum kit and parts of
    role "drums" keep their voices; parts that share a channel change together.
    """
    table = ARC_PROGRAMS if programs is None else programs
    sections = _sections_of(score, sections)
    controls = [c for c in score.controls if c.kind != "program"]
    last: dict[int, int] = {}
    seen: set[int] = set()
    for p in score.parts:
        if p.channel in seen or p.channel == DRUM_CHANNEL or p.role not in table:
            seen.add(p.channel)
            continue
        seen.add(p.channel)
        sharing = [q.name for q in score.parts if q.channel == p.channel]
        last[p.channel] = p.program
        for sec in sections:
            level = 0 if sec.intensity < quiet_below else 2 if sec.intensity >= climax_from else 1
            colours = list(table[p.role][level])
            lengths = [n.duration for n in score.notes if n.part in sharing and sec.start <= n.start < sec.stop]
            if lengths and sum(lengths) / len(lengths) >= score.ticks(LONG_NOTE_BEATS):
                colours = [c for c in colours if c not in DECAYING_PROGRAMS] or colours
            choices = [c for c in colours if c != last[p.channel]] or colours
            program = choices[0] if rng is None else rng.choice(choices)
            if program != last[p.channel]:
                controls += [Control(sec.start, name, "program", 0, program) for name in sharing]
                last[p.channel] = program
    return score.replace(controls=tuple(controls))


# --- making room ---------------------------------------------------------------------------------------


def thin(score: Score, *, room: int = 1, max_voices: int = CMI_VOICES) -> Score:
    """Room for what a style adds: inner octave doublings left out where the texture is full.

    A note goes when it is an inner voice (neither the highest nor the lowest key sounding where it starts),
    another note of its pitch class in another octave sounds through the whole of it (so no pitch class is
    lost), and while it sounds `max_voices` - `room` + 1 or more notes sound at once (so that `room` voices
    open for the layers). Grounds, ostinati and the drum kit are never thinned; a score with room already is
    left as it is.
    """
    if room < 1:
        raise TransformError(f"room for {room} voices")
    drums = {p.name for p in score.parts if p.channel == DRUM_CHANNEL}
    keep = drums | _targets(score, FIXED_ROLES)
    heard = _heard(score.notes)
    if not heard:
        return score
    size = max(n.end for n in heard) + 1
    counts = np.zeros(size + 1, dtype=np.int32)
    np.add.at(counts, [n.start for n in heard], 1)
    np.add.at(counts, [n.end for n in heard], -1)
    counts = np.cumsum(counts)
    full = max_voices - room + 1
    by_onset: dict[int, list[Note]] = defaultdict(list)
    for n in heard:
        if n.part not in drums:
            by_onset[n.start].append(n)
    dropped: set[Note] = set()
    active: list[Note] = []
    for onset in sorted(by_onset):
        group = by_onset[onset]
        active = [m for m in active if m.end > onset and m not in dropped] + group
        for n in group:
            if n.part in keep or n in dropped or counts[n.start:n.end].max(initial=0) < full:
                continue
            around = [m for m in active if m is not n and m not in dropped]
            if not around or n.pitch >= max(m.pitch for m in around) or n.pitch <= min(m.pitch for m in around):
                continue
            if any(m.pitch % 12 == n.pitch % 12 and m.pitch != n.pitch and m.start <= n.start and m.end >= n.end
                   for m in around):
                dropped.add(n)
                counts[n.start:n.end] -= 1
    if not dropped:
        return score
    gone = {(n.start, n.pitch, n.part) for n in dropped}
    return score.with_notes(n for n in score.notes if (n.start, n.pitch, n.part) not in gone)


def vary_ostinato(score: Score, *, roles: Sequence[str] | None = None, displace: bool = True,
                  source: Score | None = None, sections=None, rng: random.Random | None = None) -> Score:
    """The piece's own repeated bars re-realised with the form, before a style adds its layers (which then
    follow them): each part of the chosen roles (every part, by default) that repeats more than
    scores.variation.TRIGGER of its bars literally over some passage of 17 bars or more is played bar by
    bar as written where it can afford to repeat, and otherwise varied as its place asks: a change at the
    cadence, a new register where a phrase begins (up at the climax, down where it is quiet), displacement
    between (none without `displace`: a march keeps its grid). An ostinato (a part that repeats most of its
    bars within the 16 before them) also breaks, thins to its downbeats or rests at its cadences; a part on
    the drum channel takes strokes added instead of a new register (scores.variation).

    Never varied: a ground, a held drone, and a drum kit of role "drums" in `source` (the score before the
    style; this score when not given): a file's drums are kept as they came.
    """
    wanted = None if roles is None else set(roles)
    names = [p.name for p in score.parts if wanted is None or p.role in wanted]
    kept = [p.name for p in (source or score).parts if p.role == "drums"]
    return variation.vary(score, names, _sections_of(score, sections), rng or random.Random(0), displace=displace,
                          kept=kept)


def vary_repeats(score: Score, *, roles: Sequence[str] | None = None, displace: bool = True,
                 source: Score | None = None, sections=None, rng: random.Random | None = None) -> Score:
    """As vary_ostinato, once the layers are in: whatever part still repeats its bars (a composed layer over
    a ground whose harmony comes back every bar, a part the style has re-metered) is varied the same way."""
    return vary_ostinato(score, roles=roles, displace=displace, source=source, sections=sections, rng=rng)


def fit_cards(score: Score, *, max_voices: int = CMI_VOICES, source: Score | None = None) -> Score:
    """The arrangement thinned to the cards of the model it is for (`max_voices`, 8 on the IIx), the sustain
    pedal counted, so that the engine steals no note the arrangement could spare (scores.cards.fit): where
    more would sound, unison and octave doublings, masked notes and repeated figuration go first, then the
    other inner notes of the piece, then the notes of the layers a style added (the parts `source`, the
    score before the style, does not have); the melody, the bass, the grounds, the ostinati and the drum
    kit never, nor the file's own pedalling.
    """
    if max_voices < 1:
        raise TransformError(f"{max_voices} voices")
    return cards.fit(score, max_voices, source).score


# --- a film cue ---------------------------------------------------------------------------------------


def condense(score: Score, *, minutes: float = 3.0, tempo_factor: float = 0.6, least_bars: int = 4,
             sections=None) -> Score:
    """The piece condensed toward `minutes` once its tempo is scaled by `tempo_factor`: the opening bars of
    every section, in order, as many as fit (at least `least_bars`, in whole phrases of four where the
    section has them), the rest cut; a piece that fits already is left whole.

    Whole bars are kept, so a ground keeps its cycles; notes held past an excerpt's end are cut there. The
    tempo, metre and key in force at each excerpt go with it, and so do the controllers inside it, each
    part's latest controller values before an excerpt set again at its start, and the section marks.
    """
    if not minutes > 0 or not tempo_factor > 0:
        raise TransformError(f"a cue of {minutes:g} minutes at x{tempo_factor:g}")
    if not score.notes:
        return score
    sections = _sections_of(score, sections)
    fraction = min(1.0, minutes * 60.0 / max(score.duration_s / tempo_factor, 1e-9))
    if fraction >= 1.0:
        return score
    bars = score.bar_starts()
    spans: list[tuple[int, int]] = []
    for sec in sections:
        inside = [b for b in bars if sec.start <= b < sec.stop]
        if not inside:
            continue
        keep = max(least_bars, round(fraction * len(inside) / 4) * 4)
        stop = inside[keep] if keep < len(inside) else sec.stop
        spans.append((inside[0], stop))
    new_start = []
    t = 0
    for a, b in spans:
        new_start.append(t)
        t += b - a
    end = t

    def where(tick: int) -> int | None:
        for (a, b), n in zip(spans, new_start, strict=True):
            if a <= tick < b:
                return n + tick - a
        return None

    notes = []
    for n in score.notes:
        start = where(n.start)
        if start is None:
            continue
        i = next(k for k, (a, b) in enumerate(spans) if a <= n.start < b)
        notes.append(Note(start, min(n.duration, spans[i][1] - n.start), n.pitch, n.velocity, n.part))
    tempos, metres, keys, marks, controls = [], [], [], [], []
    state: dict[tuple[str, str, int], Control] = {}
    pending = sorted(score.controls, key=lambda c: c.tick)
    j = 0
    for (a, b), n in zip(spans, new_start, strict=True):
        while j < len(pending) and pending[j].tick < a:
            c = pending[j]
            state[c.part, c.kind, c.number] = c
            j += 1
        controls += [dataclasses.replace(c, tick=n) for c in state.values()]
        while j < len(pending) and pending[j].tick < b:
            c = pending[j]
            state[c.part, c.kind, c.number] = c
            controls.append(dataclasses.replace(c, tick=n + c.tick - a))
            j += 1
        tempos.append((n, score.tempo_at(a)))
        tempos += [(n + tick - a, bpm) for tick, bpm in score.tempos if a < tick < b]
        metres.append((n, *score.metre_at(a)))
        metres += [(n + tick - a, num, den) for tick, num, den in score.metres if a < tick < b]
        key = score.key_at(a)
        if key is not None:
            keys.append(Key(n, key.tonic_pc, key.mode))
        marks += [(n + tick - a, name) for tick, name in score.sections if a <= tick < b]

    def dedupe(items, same):
        out = []
        for x in items:
            if not out or not same(out[-1], x):
                out.append(x)
        return tuple(out)

    return Score(
        title=score.title, parts=score.parts, notes=tuple(notes),
        tempos=dedupe(tempos, lambda x, y: x[1] == y[1]),
        metres=dedupe(metres, lambda x, y: x[1:] == y[1:]),
        keys=dedupe(keys, lambda x, y: (x.tonic_pc, x.mode) == (y.tonic_pc, y.mode)),
        sections=tuple(marks), controls=tuple(controls), after=score.after, end=end,
    )


SWELL_CONTROL = 11  # expression: a swell rises and falls on it, under the part's volume (controller 7)


def long_notes(score: Score, *, roles: Sequence[str] = ("melody", "inner"), bars: int = 2,
               swell: bool = True, swell_low: int = 40, swell_high: int = 112) -> Score:
    """The chosen parts reduced to long notes: in every span of `bars` bars, the top note sounding at its
    start (else the first to begin in it) held to its end, one note a part; with `swell`, each held note
    swells on the expression controller (from `swell_low` up to `swell_high` two thirds in, and down again).

    Parts of role "ground" and the drum kit are never reduced.
    """
    names = _targets(score, roles) - _targets(score, ("ground",))
    if not names or bars < 1:
        return score
    starts = score.bar_starts()[::bars] or [0]
    kept = [n for n in score.notes if n.part not in names]
    # the reduced parts' own expression gives way to the swells
    controls = [c for c in score.controls if not (swell and c.part in names and c.kind == "control"
                                                  and c.number == SWELL_CONTROL)]
    for name in sorted(names):
        line = _top_notes(n for n in _heard(score.notes) if n.part == name)
        if not line:
            continue
        onsets = [n.start for n in line]
        for i, span in enumerate(starts):
            stop = starts[i + 1] if i + 1 < len(starts) else score.end
            j = bisect_right(onsets, span) - 1
            if not (j >= 0 and line[j].end > span):
                j = bisect_right(onsets, span - 1)
                if j >= len(line) or line[j].start >= stop:
                    continue
            n = line[j]
            begin = max(span, n.start)
            kept.append(Note(begin, stop - begin, n.pitch, n.velocity, name))
            if swell:
                steps = 6
                for k in range(steps + 1):
                    t = begin + (stop - begin) * k // (steps + 1)
                    rise = k / (steps * 2 / 3) if k <= steps * 2 / 3 else (steps - k) / (steps / 3)
                    value = round(swell_low + (swell_high - swell_low) * max(0.0, min(1.0, rise)))
                    controls.append(Control(t, name, "control", SWELL_CONTROL, value))
    return score.with_notes(kept).replace(controls=tuple(controls))


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
