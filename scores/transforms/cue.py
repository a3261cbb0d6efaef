"""A film cue: a piece condensed into a few minutes, its upper parts reduced to long swelling notes."""

from __future__ import annotations

import dataclasses
from bisect import bisect_right
from collections.abc import Sequence

from scores.score import Control, Key, Note, Score
from scores.transforms.common import TransformError, _heard, _sections_of, _targets, _top_notes

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
