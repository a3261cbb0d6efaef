"""Harmony: shadows a tritone or a fifth away, minor-second smears, clusters, a melody in another key."""

from __future__ import annotations

import random
from bisect import bisect_right
from collections.abc import Sequence

from scores.score import Note, Score
from scores.transforms.common import (
    CMI_VOICES,
    HIGHEST_KEY,
    LOWEST_KEY,
    _copy_onto_new_part,
    _fit,
    _fold,
    _heard,
    _heard_in,
    _shifted_copies,
    _targets,
    _top_notes,
    _velocity,
)

# --- harmony ------------------------------------------------------------------------------------------


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
