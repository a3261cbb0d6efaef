"""The compact notation: pitches, lengths, chords, rests, dynamics, accents and bar checks."""

import pytest

from scores.notation import ACCENT_STEPS, DYNAMICS, NotationError, Writer, parse_pitch
from scores.score import TICKS_PER_BEAT

Q = TICKS_PER_BEAT


@pytest.mark.parametrize(("text", "key"), [("c4", 60), ("a4", 69), ("f#4", 66), ("bb3", 58), ("eb5", 75),
                                           ("c-1", 0), ("g9", 127), ("B##3", 61)])
def test_pitches_are_named_in_scientific_notation(text, key):
    assert parse_pitch(text) == key


@pytest.mark.parametrize("text", ["h4", "c", "c10", "r4"])
def test_a_token_that_is_not_a_note_is_refused(text):
    with pytest.raises(NotationError):
        parse_pitch(text)


def test_lengths_carry_on_until_changed_and_rests_take_time():
    w = Writer("v").play("d5:1/2 e5 r:1 f5:3/2 g5")
    assert [(n.start, n.duration, n.pitch) for n in w.notes] == [
        (0, Q // 2, 74), (Q // 2, Q // 2, 76), (2 * Q, 3 * Q // 2, 77), (7 * Q // 2, 3 * Q // 2, 79)]
    assert w.position == 5


def test_a_chord_sounds_all_its_notes_together():
    w = Writer("v").play("d4+f4+a4:2")
    assert [(n.start, n.duration, n.pitch) for n in w.notes] == [(0, 2 * Q, 62), (0, 2 * Q, 65), (0, 2 * Q, 69)]


def test_dynamics_accents_and_staccato():
    w = Writer("v").play("pp c4:1 >c4 ff c4' c4")
    assert [n.velocity for n in w.notes] == [DYNAMICS["pp"], DYNAMICS["pp"] + ACCENT_STEPS, DYNAMICS["ff"],
                                             DYNAMICS["ff"]]
    assert [n.duration for n in w.notes] == [Q, Q, Q // 2, Q]


def test_a_bar_line_checks_the_bar_is_full():
    Writer("v", bar_beats=3).play("c4:1 d4 e4 | f4:3 |")
    with pytest.raises(NotationError, match="2 beats into a bar of 3"):
        Writer("v", bar_beats=3).play("c4:1 d4 | e4")


def test_the_writer_starts_where_told_and_transposes():
    w = Writer("v", 12, transpose=-12).play("c5:1")
    assert [(n.start, n.pitch) for n in w.notes] == [(12 * Q, 60)]
    w.at(0).play("c5", transpose=0)
    assert w.notes[-1].start == 0 and w.notes[-1].pitch == 72
