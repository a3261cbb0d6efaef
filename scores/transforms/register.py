"""Register and drones: pedals under the piece, octave doublings, hollow spacing."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

from scores.score import Note, Score
from scores.transforms.common import (
    CMI_VOICES,
    HIGHEST_KEY,
    PITCHED_ROLES,
    TransformError,
    _add_part,
    _bars_from,
    _bottom_notes,
    _copy_onto_new_part,
    _fit,
    _fold,
    _heard_in,
    _key_finder,
    _shifted_copies,
    _targets,
    _velocity,
)

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
