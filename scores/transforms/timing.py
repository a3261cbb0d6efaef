"""Time: tempo, augmentation, the metre re-made (a duple march, a limping waltz), a march ostinato, a canon.
"""

from __future__ import annotations

import dataclasses
import random
from bisect import bisect_right
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from scores.score import Key, Note, Score
from scores.transforms.common import (
    CMI_VOICES,
    SNARE_KEY,
    TIMPANI_LOW_KEY,
    TIMPANI_PROGRAM,
    TransformError,
    _add_part,
    _bars_from,
    _copy_onto_new_part,
    _drum_kit,
    _fit,
    _heard,
    _key_finder,
    _shifted_copies,
    _targets,
    _top_notes,
    _velocity,
)

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
    snare, parts = _drum_kit(score)
    if not score.notes:
        return score
    key_at = _key_finder(score)
    bars = _bars_from(score, min(n.start for n in score.notes))
    timp = _add_part(score, "timpani", program=TIMPANI_PROGRAM, role="drums", volume=100) if timpani else None
    if timp is not None:
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
