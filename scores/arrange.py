"""Arranging: a score or any MIDI file, through a style, to a new MIDI file."""

from __future__ import annotations

import mido

from scores import CATALOGUE, score_info
from scores.score import Score, from_midi, to_midi


def score_midi(name: str) -> mido.MidiFile:
    """The packaged MIDI file of one of the scores, as `python -m scores.build` wrote it."""
    from synth.midifile import read_midi

    return read_midi(score_info(name).midi_path)


def is_score(name: str) -> bool:
    return name in CATALOGUE


def arrange(source: mido.MidiFile | Score, style: str = "plain", *, seed: int = 0,
            tempo_scale: float = 1.0) -> Score:
    """The score of a MIDI file (or a Score) after a style; its title names the style unless plain."""
    from scores.styles import apply_style, get_style

    chosen = get_style(style)  # an unknown style fails before the file is read
    score = source if isinstance(source, Score) else from_midi(source)
    return apply_style(score, chosen, seed=seed, tempo_scale=tempo_scale)


def arrange_midi(source: mido.MidiFile | Score, style: str = "plain", *, seed: int = 0,
                 tempo_scale: float = 1.0) -> mido.MidiFile:
    """As `arrange`, written out as a type-1 MIDI file."""
    return to_midi(arrange(source, style, seed=seed, tempo_scale=tempo_scale))
