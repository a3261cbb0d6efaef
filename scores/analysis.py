"""What can be read off a score's notes: its key, its register, how many notes sound at once."""

from __future__ import annotations

from scores import theory
from scores.score import Key, Score


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
