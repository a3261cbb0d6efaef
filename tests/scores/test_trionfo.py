"""Trionfo (after Orff): its form, modes, ostinati, chant, choral blocks, cuts, climax, ranges and voice count."""

from collections import Counter

import numpy as np
import pytest

from scores import CATALOGUE
from scores.score import TICKS_PER_BEAT, Score, to_midi
from scores.trionfo import (
    CLIMAX,
    DRUM_KEYS,
    RANGES,
    SECTION,
    SECTIONS,
    VOICES,
    build,
    organum,
    section_ticks,
)


@pytest.fixture(scope="module")
def score():
    return build()


def notes_in(score, name, part=None):
    start, stop = section_ticks(name)
    return [n for n in score.notes if start <= n.start < stop and (part is None or n.part == part)]


def onsets(notes):
    """The notes grouped by start tick, in order."""
    groups = {}
    for n in notes:
        groups.setdefault(n.start, []).append(n)
    return [groups[t] for t in sorted(groups)]


def sounding_parts(score, start, stop):
    return {n.part for n in score.notes if n.start < stop and n.end > start}


def texture(score, start, stop):
    """Which parts sound in a stretch, and how many strokes a beat each makes."""
    beats = (stop - start) / TICKS_PER_BEAT
    strokes = Counter(n.part for n in {(n.part, n.start): n for n in score.notes if start <= n.start < stop}.values())
    return {part: round(strokes[part] / beats, 2) for part in sounding_parts(score, start, stop)}


def test_the_score_carries_the_catalogue_title_and_credit(score):
    assert score.title == CATALOGUE["trionfo"].title == "Trionfo (after Orff)"
    assert score.after == CATALOGUE["trionfo"].after


def test_the_piece_lasts_between_three_and_five_minutes(score):
    assert 180 <= score.duration_s <= 300
    assert score.duration_s == pytest.approx(234.1, abs=0.5)


def test_the_bars_follow_the_plan_with_their_metres(score):
    planned = [beats for s in SECTIONS for beats in s.bars]
    starts = score.bar_starts()
    assert len(starts) == len(planned) == 90
    assert [score.metre_at(t) for t in starts] == [(beats, 4) for beats in planned]
    assert set(SECTION["dance"].bars) == {5}
    assert SECTION["lament"].bars == (3, 3, 2, 4) * 3


def test_six_sections_change_mode_or_tempo_at_each_boundary(score):
    seen = set()
    for before, after in zip(SECTIONS, SECTIONS[1:], strict=False):
        start, _ = section_ticks(after.name)
        assert (score.tempo_at(start), after.mode) != (score.tempo_at(start - 1), before.mode)
    for s in SECTIONS:
        start, _ = section_ticks(s.name)
        seen.add((s.tonic, s.mode, score.tempo_at(start)))
    assert len(seen) == 6
    assert len({(s.tonic, s.mode) for s in SECTIONS}) == 4
    assert [score.tempo_at(section_ticks(s.name)[0]) for s in SECTIONS] == [60, 88, 152, 50, 92, 120]


def test_the_key_map_names_each_sections_tonic(score):
    assert [(k.tick, k.name) for k in score.keys] == [
        (section_ticks(s.name)[0], name) for s, name in zip(SECTIONS, ["Em", "Dm", "F", "Am", "Dm", "Em"],
                                                              strict=True)]


def test_every_pitched_note_stays_in_its_sections_mode(score):
    for s in SECTIONS:
        strays = [n for n in notes_in(score, s.name) if n.part != "drums" and not s.in_mode(n.pitch)]
        assert strays == [], s.name


def test_the_piano_ostinato_repeats_exactly_at_least_eight_bars_running(score):
    for s in SECTIONS:
        if not s.ostinato:
            continue
        start, _ = section_ticks(s.name)
        shapes = []
        for i, beats in enumerate(s.bars):
            bar_start = start + sum(s.bars[:i]) * TICKS_PER_BEAT
            bar = [n for n in notes_in(score, s.name, "piano")
                   if bar_start <= n.start < bar_start + beats * TICKS_PER_BEAT]
            first = bar[0].pitch if bar else 0
            shapes.append(tuple((n.start - bar_start, n.duration, n.pitch - first) for n in bar))
        longest = run = 1
        for a, b in zip(shapes, shapes[1:], strict=False):
            run = run + 1 if a == b and a else 1
            longest = max(longest, run)
        assert longest >= 8, s.name
        assert len(shapes[0]) >= 8  # a figure of at least eight strokes, not a held note
    assert [s.name for s in SECTIONS if s.ostinato] == ["chant", "dance", "chant2", "climax"]


def test_chant_sections_recite_most_of_the_top_voice_on_one_pitch(score):
    chants = [s for s in SECTIONS if s.reciting_tone]
    assert len(chants) == 2
    for s in chants:
        tops = [max(group, key=lambda n: n.pitch).pitch for group in onsets(notes_in(score, s.name, "choir"))]
        pitch, count = Counter(tops).most_common(1)[0]
        assert pitch == {"a4": 69, "d5": 74}[s.reciting_tone]
        assert count / len(tops) >= 0.6, s.name
        assert len(tops) >= 60


def test_choral_blocks_move_in_fourths_or_fifths_over_the_octave(score):
    for name in ("intro", "chant", "dance", "chant2", "climax"):
        for group in onsets(notes_in(score, name, "choir")):
            pitches = sorted((n.pitch for n in group), reverse=True)
            assert len(pitches) == 3 and len({n.duration for n in group}) == 1
            top, middle, low = pitches
            assert top - middle in (5, 7) and top - low == 12, (name, pitches)


def test_the_lament_sings_in_thirds_over_a_bordun(score):
    choir = notes_in(score, "lament", "choir")
    bordun = [n for n in choir if n.pitch == 57]
    assert [n.duration for n in bordun] == [12 * TICKS_PER_BEAT] * 3
    for group in onsets([n for n in choir if n.pitch != 57]):
        top, lower = sorted((n.pitch for n in group), reverse=True)
        assert top - lower in (3, 4)
    assert sounding_parts(score, *section_ticks("lament")) == {"choir"}


def test_organum_takes_the_fifth_where_the_fourth_would_leave_the_mode():
    assert organum(69, SECTION["chant"]) == (69, 64, 57)  # A over E and A in D Dorian
    assert organum(71, SECTION["chant"]) == (71, 64, 59)  # B: F# is not Dorian, so E


def test_at_least_two_sections_stop_dead_into_a_new_texture(score):
    cuts = []
    for before, after in zip(SECTIONS, SECTIONS[1:], strict=False):
        boundary, _ = section_ticks(after.name)
        assert not [n for n in score.notes if n.start < boundary < n.end], after.name
        stop = max(n.end for n in score.notes if n.start < boundary)
        stopping = {n.part for n in score.notes if n.end > stop - TICKS_PER_BEAT and n.end <= stop}
        last_bar = texture(score, stop - before.bars[-1] * TICKS_PER_BEAT, stop)
        first_bar = texture(score, boundary, boundary + after.bars[0] * TICKS_PER_BEAT)
        if len(stopping) >= 2 and first_bar != last_bar:
            cuts.append((after.name, boundary - stop))
    assert [name for name, _ in cuts] == ["chant", "dance", "lament", "climax"]
    # two of them leave a bar of silence before the new section
    assert sum(1 for _, silence in cuts if silence >= 4 * TICKS_PER_BEAT) == 2


def test_the_climax_is_the_loudest_and_busiest_section(score):
    def loudness_and_density(name):
        notes = notes_in(score, name)
        start, stop = section_ticks(name)
        return (sum(n.velocity for n in notes) / len(notes),
                len(notes) / (score.seconds(stop) - score.seconds(start)))

    measures = {s.name: loudness_and_density(s.name) for s in SECTIONS}
    loudest = max(measures, key=lambda name: measures[name][0])
    busiest = max(measures, key=lambda name: measures[name][1])
    assert loudest == busiest == CLIMAX
    assert measures[CLIMAX][0] >= 105  # ff on average
    assert all(notes_in(score, CLIMAX, part) for part in ("choir", "piano", "timpani", "drone", "drums"))


def test_the_piece_ends_on_one_abrupt_chord(score):
    last = max(n.start for n in score.notes)
    final = [n for n in score.notes if n.start == last]
    assert {n.part for n in final} == {"choir", "piano", "timpani", "drone", "drums"}
    assert all(n.duration == TICKS_PER_BEAT and n.velocity >= 122 for n in final)
    assert {n.pitch % 12 for n in final if n.part != "drums"} == {4, 11}  # E and B, an open fifth
    assert score.end - last == 4 * TICKS_PER_BEAT


def test_terraced_dynamics_jump_between_bars(score):
    # the piano's velocity between consecutive bars of the dance: f, then subito p at 13, then f at 17
    dance = notes_in(score, "dance", "piano")
    start, _ = section_ticks("dance")
    bar_ticks = 5 * TICKS_PER_BEAT
    loudest = {bar: max(n.velocity for n in dance if (n.start - start) // bar_ticks == bar - 1)
               for bar in (12, 13, 16, 17)}
    assert loudest[12] - loudest[13] >= 40 and loudest[17] - loudest[16] >= 40
    assert loudest[13] == loudest[16]


def test_no_more_than_eight_notes_sound_at_once(score):
    assert score.max_polyphony() <= 8
    for part, most in VOICES.items():
        assert score.with_notes(score.notes_of(part)).max_polyphony() == most, part


def test_each_part_stays_in_its_range(score):
    for part, (low, high) in RANGES.items():
        pitches = [n.pitch for n in score.notes_of(part)]
        assert pitches and low <= min(pitches) and max(pitches) <= high, part
    assert {n.pitch for n in score.notes_of("drums")} <= set(DRUM_KEYS)
    assert all(1 <= n.velocity <= 127 for n in score.notes)


def test_parts_have_their_programs_channels_and_roles(score):
    assert {(p.name, p.channel, p.program, p.role) for p in score.parts} == {
        ("choir", 0, 52, "melody"), ("piano", 1, 0, "ostinato"), ("timpani", 2, 47, "bass"),
        ("drone", 3, 48, "pedal"), ("celesta", 4, 8, "inner"), ("drums", 9, 0, "ostinato")}


def test_two_builds_are_identical(score):
    again = build()
    assert again == score
    assert to_midi(again).tracks == to_midi(score).tracks


def test_the_last_bars_of_the_climax_render_loud_without_clipping(score):
    import synth

    start = section_ticks(CLIMAX)[1] - 4 * TICKS_PER_BEAT * 3  # the last three bars, final chord included
    notes = [n.__class__(n.start - start, n.duration, n.pitch, n.velocity, n.part)
             for n in score.notes if n.start >= start]
    excerpt = Score(score.title, score.parts, tuple(notes), tempos=((0, 120.0),))
    audio, _ = synth.render(to_midi(excerpt))
    peak_db = 20 * np.log10(np.abs(audio).max())
    assert -12 < peak_db < 0
