"""The march: its snare and timpani, phrase by phrase (figures, fills, the cadence accents, the lighter
trio), and its introduction of drums alone.
"""

from __future__ import annotations

import dataclasses
import random

from scores.score import Key, Note, Score
from scores.transforms.common import (
    BASS_DRUM_KEY,
    CMI_VOICES,
    CRASH_KEY,
    SIDE_STICK_KEY,
    SNARE_KEY,
    TIMPANI_LOW_KEY,
    TIMPANI_PROGRAM,
    _add_part,
    _drum_kit,
    _fit,
    _key_finder,
    _sections_of,
    _velocity,
)
from scores.transforms.layers import _Fresh, _phrases_of
from synth.midi import DRUM_CHANNEL

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
    kit, parts = _drum_kit(score)
    timp = _add_part(score, "timpani", program=TIMPANI_PROGRAM, role="drums", volume=100) if timpani else None
    if timp is not None:
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
    kit, parts = _drum_kit(score)
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
