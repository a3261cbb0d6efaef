"""What can be read off a score's notes: its key, its register, how many notes sound at once."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from scores.score import Key, Score

# Krumhansl and Kessler's key profiles (1982): how well each of the twelve pitch classes fits a major or
# a minor key, from listeners' ratings of probe tones; index 0 is the tonic.
_MAJOR_PROFILE = (6.35, 2.23, 3.48, 2.33, 4.38, 4.09, 2.52, 5.19, 2.39, 3.66, 2.29, 2.88)
_MINOR_PROFILE = (6.33, 2.68, 3.52, 5.38, 2.60, 3.53, 2.54, 4.75, 3.98, 2.69, 3.34, 3.17)


def pitch_class_weights(score: Score, start: int = 0, stop: int | None = None) -> list[float]:
    """Ticks sounded by each pitch class between two ticks, drum kit left out."""
    stop = score.end if stop is None else stop
    drums = {p.name for p in score.parts if p.is_drums}
    weights = [0.0] * 12
    for n in score.notes:
        if n.part in drums:
            continue
        overlap = min(n.end, stop) - max(n.start, start)
        if overlap > 0:
            weights[n.pitch % 12] += overlap
    return weights


def _correlation(a: list[float], b: tuple[float, ...]) -> float:
    mean_a, mean_b = sum(a) / 12, sum(b) / 12
    da = [x - mean_a for x in a]
    db = [y - mean_b for y in b]
    num = sum(x * y for x, y in zip(da, db, strict=True))
    den = (sum(x * x for x in da) * sum(y * y for y in db)) ** 0.5
    return num / den if den else 0.0


def estimate_key(score: Score, start: int = 0, stop: int | None = None) -> Key:
    """The key whose Krumhansl-Kessler profile best matches the notes' durations (C major if none sound).

    The key is placed at `start`. Ties go to the first key in the order C major, C minor, C# major, ...
    """
    from scores.score import Key

    weights = pitch_class_weights(score, start, stop)
    if not any(weights):
        return Key(start, 0, "major")
    best: tuple[float, int, str] | None = None
    for tonic in range(12):
        rotated = weights[tonic:] + weights[:tonic]
        for mode, profile in (("major", _MAJOR_PROFILE), ("minor", _MINOR_PROFILE)):
            r = _correlation(rotated, profile)
            if best is None or r > best[0] + 1e-12:
                best = (r, tonic, mode)
    assert best is not None
    return Key(start, best[1], best[2])


def pitch_range(score: Score, part: str) -> tuple[int, int] | None:
    """The lowest and highest key a part plays, or None if it plays nothing."""
    pitches = [n.pitch for n in score.notes if n.part == part]
    return (min(pitches), max(pitches)) if pitches else None
