"""Composed layers: what a style adds that follows the piece's phrases and sections (a pedal that moves with
the bass, doublings that enter and leave, orchestration that changes colour with the form), each bar new
where the music is.
"""

from __future__ import annotations

import dataclasses
import random
from bisect import bisect_right
from collections import defaultdict
from collections.abc import Sequence

from scores.score import Control, Note, Score
from scores.transforms.common import (
    CMI_VOICES,
    PITCHED_ROLES,
    _add_part,
    _bottom_notes,
    _copy_onto_new_part,
    _fit,
    _heard_in,
    _key_finder,
    _sections_of,
    _shifted_copies,
    _targets,
    _velocity,
)
from scores.transforms.register import DOUBLING_LOW_KEY, PEDAL_LOW_KEY
from synth.midi import DRUM_CHANNEL

# --- composed layers ---------------------------------------------------------------------------------
# Layers a style adds that follow the form (scores.analysis.read_sections) and the phrase instead of looping:
# each stretch is realised by one of several candidates, the first (in a seeded order that puts the
# section's fitting choices first) whose bars repeat none of the layer's last FRESH_MEMORY_BARS bars.

FRESH_MEMORY_BARS = 16  # a layer's bar is new if no bar of the last 16 had the same notes


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
