"""Making room: thinning, varying what repeats bar for bar, and fitting the arrangement to the cards."""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Sequence

import numpy as np

from scores import cards, variation
from scores.score import Note, Score
from scores.transforms.common import CMI_VOICES, FIXED_ROLES, TransformError, _heard, _sections_of, _targets
from synth.midi import DRUM_CHANNEL

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
