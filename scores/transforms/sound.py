"""Sound: detuned doublings, dynamics with rare sforzandi, the voices of dread."""

from __future__ import annotations

import dataclasses
import random
from collections.abc import Sequence

from scores.analysis import section_at
from scores.score import Note, Score
from scores.transforms.common import (
    CMI_VOICES,
    TIMPANI_PROGRAM,
    TransformError,
    _copy_onto_new_part,
    _heard,
    _sections_of,
    _shifted_copies,
    _targets,
    _top_notes,
    _velocity,
)
from synth.midi import DRUM_CHANNEL

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
