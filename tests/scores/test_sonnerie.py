"""Sonnerie (after Marais): the bell ground in every bar, the key plan, the form, the ranges and the texture."""

from __future__ import annotations

import pytest

from scores import sonnerie
from scores.score import TICKS_PER_BEAT, to_midi

BAR_TICKS = 3 * TICKS_PER_BEAT
RANGES = {"violin": (55, 86), "viol": (33, 74), "harpsichord": (29, 89), "bells": (48, 96)}


@pytest.fixture(scope="module")
def score():
    return sonnerie.build()


def bar_of(tick: int) -> int:
    return tick // BAR_TICKS + 1


def test_the_score_has_302_bars_of_three_four(score):
    assert score.metres == ((0, 3, 4),)
    assert len(score.bar_starts()) == 302
    assert score.end == 302 * BAR_TICKS


def test_every_bar_rings_d_f_e_on_its_three_beats_in_the_bells(score):
    bells = score.notes_of("bells")
    by_beat = {(n.start // TICKS_PER_BEAT): n for n in bells}
    assert len(bells) == 302 * 3
    for bar in range(1, 303):
        starts = [((bar - 1) * 3 + b) * TICKS_PER_BEAT for b in range(3)]
        assert [by_beat[s // TICKS_PER_BEAT].start for s in starts] == starts
        assert [by_beat[s // TICKS_PER_BEAT].pitch % 12 for s in starts] == [2, 5, 4], f"bar {bar}"


def test_the_bells_are_the_ground_on_the_tubular_bells_program(score):
    bells = score.part("bells")
    assert (bells.role, bells.program) == ("ground", 14)


def test_the_parts_are_violin_viol_and_harpsichord_with_distinct_roles(score):
    roles = {p.name: (p.program, p.role) for p in score.parts}
    assert roles == {"bells": (14, "ground"), "violin": (40, "melody"), "viol": (42, "inner"),
                     "harpsichord": (6, "bass")}


def test_the_piece_lasts_about_eight_minutes(score):
    assert score.tempos == ((0, 113.0),)
    assert 7.5 * 60 <= score.duration_s <= 9 * 60


def test_the_key_map_is_the_reported_plan(score):
    keys = [(bar_of(k.tick), k.tick % BAR_TICKS, k.name) for k in score.keys]
    assert keys == [(1, 0, "Dm"), (171, 0, "Am"), (208, 0, "F"), (253, 0, "Dm")]


def test_the_bells_open_alone_for_four_bars_and_the_violin_enters_at_bar_5(score):
    others = [n for n in score.notes if n.part != "bells"]
    assert min(n.start for n in others) == 4 * BAR_TICKS
    assert bar_of(min(n.start for n in score.notes_of("violin"))) == 5
    assert min(n.start for n in score.notes_of("viol")) >= 4 * BAR_TICKS


def test_the_bells_end_alone_for_the_last_three_bars(score):
    others = [n for n in score.notes if n.part != "bells"]
    assert max(n.end for n in others) <= 299 * BAR_TICKS
    assert max(n.end for n in others) > 298 * BAR_TICKS  # the ensemble's last chord is in bar 299


@pytest.mark.parametrize("part", ["violin", "viol", "harpsichord", "bells"])
def test_each_part_stays_in_its_instruments_range(score, part):
    low, high = RANGES[part]
    pitches = [n.pitch for n in score.notes_of(part)]
    assert low <= min(pitches) and max(pitches) <= high


def test_the_ranges_stated_in_the_source_are_the_ones_tested():
    stated = (sonnerie.VIOLIN_RANGE, sonnerie.VIOL_RANGE, sonnerie.HARPSICHORD_RANGE, sonnerie.BELLS_RANGE)
    assert stated == (RANGES["violin"], RANGES["viol"], RANGES["harpsichord"], RANGES["bells"])


def test_at_most_eight_notes_sound_at_once(score):
    assert score.max_polyphony() <= 8


def test_velocities_are_valid_midi_velocities(score):
    assert all(1 <= n.velocity <= 127 for n in score.notes)


def test_the_upper_parts_grow_denser_from_the_first_quarter_to_the_last(score):
    def notes_per_bar(first: int, last: int) -> float:
        upper = [n for n in score.notes if n.part in ("violin", "viol") and first <= bar_of(n.start) <= last]
        return len(upper) / (last - first + 1)

    first_quarter, last_quarter = notes_per_bar(1, 75), notes_per_bar(228, 302)
    assert last_quarter > 1.5 * first_quarter


def test_the_climax_is_in_the_last_d_minor_section(score):
    upper = [n for n in score.notes if n.part in ("violin", "viol")]
    loudest = max(n.velocity for n in upper)
    assert all(bar_of(n.start) >= 253 for n in upper if n.velocity == loudest)
    assert bar_of(max(upper, key=lambda n: n.pitch).start) >= 253


def test_the_f_major_section_is_quieter_than_the_sections_around_it(score):
    def mean_velocity(first: int, last: int) -> float:
        upper = [n.velocity for n in score.notes if n.part in ("violin", "viol") and first <= bar_of(n.start) <= last]
        return sum(upper) / len(upper)

    quiet = mean_velocity(208, 231)
    assert quiet < mean_velocity(171, 207) - 15
    assert quiet < mean_velocity(253, 290) - 15


def test_every_chord_of_the_plan_holds_the_bell_of_its_beat():
    plan = sonnerie.harmony_plan()
    for bar, chords in plan.items():
        for beat, c in enumerate(chords):
            if bar != sonnerie.LAST_CHORD_BAR:
                assert sonnerie.BELLS[beat] % 12 in c.pcs, f"bar {bar} beat {beat + 1}: {c.symbol}"


def test_the_variations_cover_bars_5_to_298_in_order_without_gaps():
    bars = [bar for v in sonnerie.VARIATIONS for bar in range(v.first_bar, v.last_bar + 1)]
    assert bars == list(range(5, 299))
    assert all(v.n_bars in (1, 2, 4, 6, 8) for v in sonnerie.VARIATIONS)


def test_the_harpsichord_plays_a_bass_on_every_beat_from_bar_5(score):
    lowest = {}
    for n in score.notes_of("harpsichord"):
        lowest[n.start] = min(lowest.get(n.start, 128), n.pitch)
    bass_onsets = {t for t, p in lowest.items() if p <= 52}
    for bar in (5, 100, 200, 298):
        assert (bar - 1) * BAR_TICKS in bass_onsets


def test_the_viol_plays_double_stops(score):
    starts = [n.start for n in score.notes_of("viol")]
    doubled = {t for t in starts if starts.count(t) == 2}
    assert len(doubled) >= 40


def test_the_chord_reader_spells_slash_chords_and_sevenths():
    c = sonnerie.chord("G#dim7/B")
    assert (c.root_pc, c.pcs, c.bass_pc) == (8, (8, 11, 2, 5), 11)
    assert sonnerie.chord("Bb").pcs == (10, 2, 5)


def test_the_scale_over_the_dominant_in_d_minor_raises_the_sixth_and_seventh():
    assert sonnerie.scale_for("Dm", sonnerie.chord("A")) == (1, 2, 4, 5, 7, 9, 11)


def test_a_run_fills_the_steps_between_two_notes():
    d_minor = sonnerie.scale_for("Dm", sonnerie.chord("Dm"))
    assert sonnerie.run(62, 69, 3, d_minor) == [64, 65, 67]  # D4 to A4 through E, F, G
    assert sonnerie.run(62, 62, 3, d_minor) == [64, 65, 64]  # D4 to D4: a turn above


def test_two_builds_are_identical(score):
    again = sonnerie.build()
    assert again == score
    assert to_midi(again).tracks == to_midi(score).tracks
