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


def _two(pitches, start_b=0, beats=2.0):
    parts = (Part("a", 0, role="melody"), Part("b", 1, role="bass"))
    notes = [Note(start_b * Q, int(beats * Q), p, 80, name) for p, name in zip(pitches, ("a", "b"), strict=False)]
    return Score("t", parts, tuple(notes), metres=((0, 4, 4),))


def test_a_minor_second_a_tritone_and_a_major_seventh_clash_and_a_fifth_does_not():
    from scores.analysis import clash_share

    assert clash_share(_two((61, 60))) == 1.0
    assert clash_share(_two((66, 60))) == 1.0
    assert clash_share(_two((71 + 12, 60))) == 1.0
    assert clash_share(_two((67, 60))) == 0.0
    assert clash_share(_two((60, 60))) == 0.0  # a unison is no clash


def test_a_bar_repeated_literally_counts_as_copied_and_a_varied_one_does_not():
    from scores.analysis import copied_share, worst_copied_share

    a, b = ((0, 480, 60),), ((0, 480, 62),)
    assert copied_share([a, a, a, b]) == 0.5
    assert copied_share([a, None, b]) == 0.0
    assert worst_copied_share([a, b] * 10) > 0.8 and worst_copied_share([a, b]) == 0.0


def test_the_worst_copied_share_takes_every_passage_of_17_bars_or_more_the_whole_part_included():
    from scores.analysis import worst_copied_share

    twenty = [((0, 480, 40 + i),) for i in range(20)]
    assert worst_copied_share(twenty + twenty) == 0.5  # no 17 bars repeat, the whole piece does
    assert worst_copied_share(twenty + twenty[:17]) == 17 / 37
    assert worst_copied_share(twenty) == 0.0


def _drone(strokes, metre=(3, 4), keys=()):
    parts = (Part("drone", 0, 19, "pedal"),)
    notes = [Note(start * Q, beats * Q, p, 60, "drone") for start, beats, p in strokes]
    return Score("d", parts, tuple(notes), metres=((0, *metre),), keys=tuple(keys))


def test_a_held_drone_holds_one_pitch_and_moves_only_with_the_key():
    from scores.analysis import is_held_drone
    from scores.score import Key

    assert is_held_drone(_drone([(0, 6, 38), (6, 6, 38), (12, 12, 38)]), "drone")  # struck again: still a drone
    modulating = _drone([(0, 12, 38), (12, 12, 45)], keys=(Key(0, 2, "minor"), Key(12 * Q, 9, "minor")))
    assert is_held_drone(modulating, "drone")
    assert not is_held_drone(_drone([(0, 6, 38), (6, 6, 41), (12, 6, 40)]), "drone")  # a melody in long notes
    assert not is_held_drone(_drone([(0, 6, 38), (6, 3, 38)]), "drone")  # a note of one bar is played, not held


def test_the_sections_of_the_scores_are_those_their_sources_mark():
    from scores import build_score
    from scores.analysis import read_sections

    trionfo = read_sections(build_score("trionfo"))
    assert [s.name for s in trionfo] == ["intro", "chant", "dance", "lament", "chant2", "climax"]
    assert max(trionfo, key=lambda s: s.intensity).name == "climax"
    assert min(trionfo, key=lambda s: s.intensity).name == "lament"


def test_a_file_without_marks_is_cut_where_its_texture_changes():
    from scores.analysis import read_sections
    from scores.samples import chorale_midi, piano_midi
    from scores.score import from_midi

    chorale = read_sections(from_midi(chorale_midi()))
    assert [s.start // (4 * Q) for s in chorale] == [0, 8, 16]
    assert max(chorale, key=lambda s: s.intensity) is chorale[1]
    piano = read_sections(from_midi(piano_midi()))
    assert len(piano) >= 3 and max(piano, key=lambda s: s.intensity).start == 16 * 3 * Q


def test_the_sonnerie_rings_its_bells_d_f_e_in_every_bar():
    from scores import build_score
    from scores.analysis import ground_cycles

    assert ground_cycles(build_score("sonnerie"), "bells") == (302, 302)
