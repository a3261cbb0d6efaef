"""Arranging: a score or any MIDI file, through a style, to a new MIDI file."""

from __future__ import annotations

from typing import TYPE_CHECKING

import mido

from scores import CATALOGUE, score_info
from scores.score import Score, from_midi, to_midi
from scores.styles import apply_style, get_style
from synth.midifile import read_midi

if TYPE_CHECKING:
    from scores.styles import Style


def score_midi(name: str) -> mido.MidiFile:
    """The packaged MIDI file of one of the scores, as `python -m scores.build` wrote it."""
    return read_midi(score_info(name).midi_path)


def is_score(name: str) -> bool:
    return name in CATALOGUE


def arrange(source: mido.MidiFile | Score, style: str | Style = "plain", *, seed: int = 0,
            tempo_scale: float = 1.0, voices: int | None = None) -> Score:
    """The score of a MIDI file (or a Score) after a style (a name or a Style); its title names the style.

    `voices` is the number of cards of the model it is for (default the IIx's 8): the style fits the
    arrangement within them (scores.styles.apply_style)."""
    chosen = get_style(style) if isinstance(style, str) else style  # an unknown name fails before any reading
    score = source if isinstance(source, Score) else from_midi(source)
    return apply_style(score, chosen, seed=seed, tempo_scale=tempo_scale, voices=voices)


def arrange_midi(source: mido.MidiFile | Score, style: str | Style = "plain", *, seed: int = 0,
                 tempo_scale: float = 1.0, voices: int | None = None) -> mido.MidiFile:
    """As `arrange`, written out as a type-1 MIDI file."""
    return to_midi(arrange(source, style, seed=seed, tempo_scale=tempo_scale, voices=voices))
