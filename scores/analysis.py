"""What can be read off a score's notes: its key, its register, how many notes sound at once."""

from __future__ import annotations

import math
from bisect import bisect_right
from dataclasses import dataclass

import numpy as np

from scores import theory
from scores.score import Key, Note, Score


def pitch_class_weights(score: Score, start: int = 0, stop: int | None = None) -> list[float]:
    """Ticks sounded by each pitch class between two ticks, drum kit left out."""
    stop = score.end if stop is None else stop
    drums = {p.name for p in score.parts if p.is_drums}
    return theory.pitch_class_weights(((n.start, n.end, n.pitch) for n in score.notes if n.part not in drums),
                                      start, stop)


def estimate_key(score: Score, start: int = 0, stop: int | None = None) -> Key:
    """The key whose Krumhansl-Kessler profile best matches the notes' durations (C major if none sound).

    The key is placed at `start`. Ties go to the first key in the order C major, C minor, C# major, ...
    (scores.theory.best_key).
    """
    return Key(start, *theory.best_key(pitch_class_weights(score, start, stop)))


def pitch_range(score: Score, part: str) -> tuple[int, int] | None:
    """The lowest and highest key a part plays, or None if it plays nothing."""
    pitches = [n.pitch for n in score.notes if n.part == part]
    return (min(pitches), max(pitches)) if pitches else None


# --- measures of an arrangement --------------------------------------------------------------------------

CLASH_INTERVALS = (theory.MINOR_SECOND, theory.TRITONE, theory.MAJOR_SEVENTH)  # as pitch-class distances


def _pitched(score: Score) -> list[Note]:
    drums = {p.name for p in score.parts if p.is_drums}
    return [n for n in score.notes if n.part not in drums]


def clashing(score: Score, start: int = 0, stop: int | None = None) -> tuple[int, int]:
    """(clashing, all) pitched notes starting between two ticks: a note clashes when another pitched note
    sounds with it (for a tick or more) a minor second, a tritone or a major seventh away, octaves folded.

    The drum kit is left out; two notes on one key are a unison, not a clash.
    """
    stop = score.end + 1 if stop is None else stop
    notes = sorted(_pitched(score), key=lambda n: (n.start, n.pitch))
    clash = [False] * len(notes)
    active: list[int] = []
    for i, n in enumerate(notes):
        active = [j for j in active if notes[j].end > n.start]
        for j in active:
            if (n.pitch - notes[j].pitch) % 12 in CLASH_INTERVALS:
                clash[i] = clash[j] = True
        active.append(i)
    chosen = [c for n, c in zip(notes, clash, strict=True) if start <= n.start < stop]
    return sum(chosen), len(chosen)


def clash_share(score: Score, start: int = 0, stop: int | None = None) -> float:
    """The share of pitched notes starting between two ticks that clash (see `clashing`); 0 with none."""
    hit, total = clashing(score, start, stop)
    return hit / total if total else 0.0


def bar_patterns(score: Score, part: str) -> list[tuple | None]:
    """Each bar's notes of a part, as (ticks into the bar, duration, key) of the notes starting in it; None
    for a bar where none start (a rest, or a note held over from before)."""
    bars = score.bar_starts()
    patterns: list[list] = [[] for _ in bars]
    for n in score.notes_of(part):
        i = bisect_right(bars, n.start) - 1
        if i >= 0:
            patterns[i].append((n.start - bars[i], n.duration, n.pitch))
    return [tuple(sorted(p)) if p else None for p in patterns]


def copied_share(patterns: list[tuple | None]) -> float:
    """The share of a part's bars (with notes starting in them) that repeat an earlier bar literally."""
    seen: set = set()
    copied = played = 0
    for p in patterns:
        if p is None:
            continue
        played += 1
        copied += p in seen
        seen.add(p)
    return copied / played if played else 0.0


def worst_copied_share(patterns: list[tuple | None], window_bars: int = 17, least_bars: int = 9) -> float:
    """The largest copied share (see `copied_share`) over every passage of `window_bars` bars or more (the
    whole part included) in which the part starts notes in at least `least_bars` bars; 0 when no passage has
    that many. A bar counts as copied in a passage when it repeats an earlier bar of that passage."""
    played = np.array([p is not None for p in patterns], dtype=bool)
    if not played.any():
        return 0.0
    last: dict[tuple, int] = {}
    previous = np.full(len(patterns), -1, dtype=np.int64)  # the latest earlier bar with the same notes
    for i, p in enumerate(patterns):
        if p is not None:
            previous[i] = last.get(p, -1)
            last[p] = i
    worst = 0.0
    for first in range(max(len(patterns) - window_bars + 1, 0)):
        counted = np.cumsum(played[first:])
        copied = np.cumsum(played[first:] & (previous[first:] >= first))
        ok = counted >= least_bars
        ok[:window_bars - 1] = False
        if ok.any():
            worst = max(worst, float((copied[ok] / counted[ok]).max()))
    return worst


def is_held_drone(score: Score, part: str) -> bool:
    """A part that holds one pitch (or one chord) at a time: a drone, held rather than played.

    Every note lasts two bars or more (bars of the metre it starts in), and the part keeps the same keys
    from one stroke to the next except where the key or the section changes between them: a drone is
    struck again, and moves with the key, but never plays a figure. A melody in long notes is not a drone.
    """
    notes = score.notes_of(part)
    if not notes:
        return False
    if any(n.duration < 2 * score.bar_ticks(*score.metre_at(n.start)) for n in notes):
        return False
    strokes: dict[int, set[int]] = {}
    for n in notes:
        strokes.setdefault(n.start, set()).add(n.pitch)
    cuts = sorted({k.tick for k in score.keys} | {s.start for s in read_sections(score)})
    ticks = sorted(strokes)
    for before, after in zip(ticks, ticks[1:], strict=False):
        moved = strokes[before] != strokes[after]
        if moved and bisect_right(cuts, after) == bisect_right(cuts, before):
            return False  # a change of keys with no change of key or section between: a figure
    return True


def ground_cycles(score: Score, part: str, figure: tuple[int, ...] = (2, 5, 4)) -> tuple[int, int]:
    """(kept, all): a ground part's notes taken in groups of len(figure) in time order (one group a cycle:
    D-F-E for the Sonnerie's bells), and how many groups sound the figure's pitch classes in order.

    A group is the part's onsets in time order, chords counted by their lowest note, so a bell doubled at
    the octave in its own part still counts once.
    """
    lowest: dict[int, int] = {}
    for n in score.notes_of(part):
        lowest[n.start] = min(lowest.get(n.start, 128), n.pitch)
    line = [lowest[t] % 12 for t in sorted(lowest)]
    size = len(figure)
    groups = [tuple(line[i:i + size]) for i in range(0, len(line) - size + 1, size)]
    return sum(g == figure for g in groups), len(groups)


def orchestration(score: Score, start: int, stop: int) -> frozenset[tuple[str, int]]:
    """(part, program) of the parts that start notes between two ticks, with the program in effect where each
    part's first note there begins (a program change among the score's controls counts from its tick)."""
    changes: dict[str, list[tuple[int, int]]] = {}
    for c in score.controls:
        if c.kind == "program":
            changes.setdefault(c.part, []).append((c.tick, c.value))
    firsts: dict[str, int] = {}
    for n in score.notes:
        if start <= n.start < stop:
            firsts.setdefault(n.part, n.start)
    out = set()
    for p in score.parts:
        if p.name in firsts:
            program = p.program
            for tick, value in changes.get(p.name, ()):
                if tick <= firsts[p.name]:
                    program = value
            out.add((p.name, -1 if p.is_drums else program))
    return frozenset(out)


# --- the form -------------------------------------------------------------------------------------------

PHRASE_BARS = 4  # a phrase, where a score says nothing else: four bars
SECTION_LEAST_BARS = 8  # a section found from the notes lasts two phrases at least
TEXTURE_CHANGE_OCTAVES = 0.6  # a phrase this much denser or sparser (log2 of the ratio) begins a section ...
LOUDNESS_CHANGE = 14  # ... and so does one this many velocity steps louder or softer
TEMPO_CHANGE = 0.08  # a tempo change of 8 % or more begins a section (less is a ritardando)


@dataclass(frozen=True)
class Section:
    """A section of the form: its ticks, its name, and how loud, dense and intense it is against the others."""

    start: int
    stop: int
    name: str
    loudness: float  # mean velocity of its pitched notes
    density: float  # pitched notes begun a beat
    intensity: float  # 0 for the quietest section, 1 for the climax (loudness times the root of density)


def _texture(score: Score, pitched: list[Note], start: int, stop: int) -> tuple[float, float]:
    inside = [n for n in pitched if start <= n.start < stop]
    beats = max(score.beats(stop - start), 1e-9)
    loud = sum(n.velocity for n in inside) / len(inside) if inside else 0.0
    return loud, len(inside) / beats


def _texture_changes(score: Score, pitched: list[Note], bars: list[int], first: int, last: int) -> list[int]:
    """Bar lines between two ticks where the texture changes: a phrase much denser, sparser, louder or softer
    than the section so far (which has two phrases at least)."""
    inside = [b for b in bars if first <= b < last]
    phrases = inside[::PHRASE_BARS]
    cuts: list[int] = []
    since = first
    for i, begin in enumerate(phrases):
        stop = phrases[i + 1] if i + 1 < len(phrases) else last
        so_far = [b for b in inside if since <= b < begin]
        if len(so_far) < SECTION_LEAST_BARS or last - begin < score.ticks(4.0) * 2:
            continue
        loud_before, dense_before = _texture(score, pitched, since, begin)
        loud, dense = _texture(score, pitched, begin, stop)
        ratio = math.log2((dense + 0.05) / (dense_before + 0.05))
        if abs(ratio) >= TEXTURE_CHANGE_OCTAVES or abs(loud - loud_before) >= LOUDNESS_CHANGE:
            cuts.append(begin)
            since = begin
    return cuts


def read_sections(score: Score) -> list[Section]:
    """The sections of a piece: as its source marks them (Score.sections, MIDI markers), else where its key,
    tempo or metre changes and where its texture changes (a phrase much denser, sparser, louder or softer).

    Sections found from the notes last SECTION_LEAST_BARS bars at least; each section's intensity places it
    between the quietest (0) and the climax (1). A score without notes is one section.
    """
    pitched = _pitched(score)
    bars = score.bar_starts() or [0]
    end = max(score.end, 1)
    if score.sections:
        cuts = sorted({t for t, _ in score.sections if 0 < t < end})
        names = dict(score.sections)
    else:
        cuts_set = {k.tick for k in score.keys}
        for (_, before), (tick, bpm) in zip(score.tempos, score.tempos[1:], strict=False):
            if abs(bpm / before - 1) >= TEMPO_CHANGE:
                cuts_set.add(tick)
        for i, (tick, num, den) in enumerate(score.metres):
            stop = score.metres[i + 1][0] if i + 1 < len(score.metres) else end
            if stop - tick >= SECTION_LEAST_BARS * score.bar_ticks(num, den):
                cuts_set.add(tick)
        cuts = sorted(t for t in cuts_set if 0 < t < end)
        edges = [0, *cuts, end]
        found = []
        for first, last in zip(edges, edges[1:], strict=False):
            found += _texture_changes(score, pitched, bars, first, last)
        least = SECTION_LEAST_BARS * score.bar_ticks(*score.metre_at(0))
        merged: list[int] = []
        for t in sorted({*cuts, *found}):
            if t - (merged[-1] if merged else 0) >= least // 2 and end - t >= least // 2:
                merged.append(t)
        cuts = merged
        names = {}
    edges = [0, *cuts, end]
    raw = []
    for i, (first, last) in enumerate(zip(edges, edges[1:], strict=False)):
        loud, dense = _texture(score, pitched, first, last)
        raw.append((first, last, names.get(first, f"section {i + 1}"), loud, dense, loud * math.sqrt(dense)))
    energies = [r[5] for r in raw]
    low, high = min(energies), max(energies)
    return [Section(first, last, name, loud, dense, (e - low) / (high - low) if high > low else 0.5)
            for first, last, name, loud, dense, e in raw]


def section_at(sections: list[Section], tick: int) -> Section:
    """The section holding a tick (the last one past the end)."""
    i = bisect_right([s.start for s in sections], tick) - 1
    return sections[max(i, 0)]
