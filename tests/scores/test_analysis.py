"""Reading a score's notes: the key estimate and the range of a part."""

import pytest

from scores.analysis import estimate_key, pitch_class_weights, pitch_range
from scores.score import TICKS_PER_BEAT, Note, Part, Score

Q = TICKS_PER_BEAT


def scale_score(pitches, drums=()):
    parts = (Part("m", 0), Part("kit", 9, role="drums"))
    notes = [Note(i * Q, Q, p, 80, "m") for i, p in enumerate(pitches)]
    notes += [Note(i * Q, Q, p, 80, "kit") for i, p in enumerate(drums)]
    return Score("s", parts, tuple(notes))


@pytest.mark.parametrize(("pitches", "name"), [
    ((62, 64, 65, 67, 69, 70, 73, 74, 69, 62, 65, 69), "Dm"),  # D harmonic minor, tonic triad stressed
    ((67, 69, 71, 72, 74, 76, 78, 79, 74, 71, 67), "G"),
    ((70, 72, 74, 75, 77, 79, 81, 82, 77, 74, 70), "Bb"),
])
def test_the_key_of_a_scale_with_its_tonic_triad_is_found(pitches, name):
    assert estimate_key(scale_score(pitches)).name == name


def test_the_drum_kit_does_not_count_towards_the_key():
    weights = pitch_class_weights(scale_score((60, 64, 67), drums=(38, 38, 38)))
    assert weights[38 % 12] == 0
    assert sum(weights) == 3 * Q


def test_a_score_with_no_notes_is_in_c_major():
    assert estimate_key(scale_score(())).name == "C"


def test_the_range_of_a_part():
    score = scale_score((62, 50, 81))
    assert pitch_range(score, "m") == (50, 81)
    assert pitch_range(score, "kit") is None
