"""Arrangements that change colour with the form, and never ask a IIx for more than its eight voices."""

import pytest

from scores.analysis import orchestration, read_sections
from scores.styles import style_names

SCORES = ("sonnerie", "trionfo", "laurel")


@pytest.mark.parametrize("style", ["ominous", "nightmare"])
@pytest.mark.parametrize("piece", SCORES)
def test_most_sections_of_an_ominous_or_nightmare_arrangement_change_orchestration(piece, style, arrange_piece):
    styled = arrange_piece(piece, style)
    sections = read_sections(styled)
    colours = [orchestration(styled, s.start, s.stop) for s in sections]
    changes = sum(a != b for a, b in zip(colours, colours[1:], strict=False))
    assert changes >= (len(sections) - 1) * 0.7


def _program_at(styled, part, tick):
    program = styled.part(part).program
    for c in styled.controls:
        if c.part == part and c.kind == "program" and c.tick <= tick:
            program = c.value
    return program


def test_the_ominous_sonnerie_sings_its_climax_and_whispers_its_quiet_passage(arrange_piece):
    styled = arrange_piece("sonnerie", "ominous")
    sections = {s.name: s for s in read_sections(styled)}
    climax, quiet = sections["D minor: the climax"], sections["F major: the quiet passage"]
    assert _program_at(styled, "violin", climax.start) in (52, 61)  # choir or brass
    assert _program_at(styled, "violin", quiet.start) in (11, 53)  # glass or vox pad
    assert styled.part("bells").program == 14 and not [c for c in styled.controls if c.part == "bells"]


@pytest.mark.parametrize("style", style_names())
@pytest.mark.parametrize("piece", SCORES)
def test_no_style_makes_a_score_sound_more_than_eight_notes_at_once(piece, style, arrange_piece):
    assert arrange_piece(piece, style).max_polyphony() <= 8


@pytest.mark.parametrize("piece", SCORES)
def test_the_cue_condenses_a_score_into_two_to_four_minutes(piece, arrange_piece, source_piece):
    cue = arrange_piece(piece, "cue")
    assert 120 <= cue.duration_s <= 240
    assert len(cue.bar_starts()) < len(source_piece(piece).bar_starts())  # fewer bars, played slower
    assert [name for _, name in cue.sections] == [name for _, name in source_piece(piece).sections]


def test_the_cue_holds_the_sonnerie_melody_in_long_swelling_notes_over_a_drone(arrange_piece):
    cue = arrange_piece("sonnerie", "cue")
    bar = 3 * 480
    violin = cue.notes_of("violin")
    assert violin and min(n.duration for n in violin) >= bar // 2
    assert sum(n.duration for n in violin) / len(violin) >= 1.5 * bar
    swells = [c.value for c in cue.controls if c.part == "violin" and c.kind == "control" and c.number == 11]
    assert max(swells) - min(swells) >= 50
    assert max(n.duration for n in cue.notes_of("pedal")) >= 4 * bar
    assert cue.max_polyphony() <= 6  # sparse


def test_the_march_opens_with_four_bars_of_drums_alone(arrange_piece):
    march = arrange_piece("sonnerie", "march")
    intro = 4 * march.bar_ticks(2, 4)
    drums = {p.name for p in march.parts if p.is_drums}
    assert min(n.start for n in march.notes if n.part not in drums) == intro
    assert sum(1 for n in march.notes if n.part in drums and n.start < intro) >= 12
    assert march.sections[0] == (0, "introduction")


@pytest.mark.parametrize("style", ["march", "nightmare"])
@pytest.mark.parametrize("piece", SCORES)
def test_the_march_drums_strike_every_beat_of_the_introduction_and_nine_in_ten_after_it(piece, style, arrange_piece):
    # The snare's figures fill two beats: a 4/4 bar (the Trionfo's) takes two of them, not one and a
    # half bar of silence.
    march = arrange_piece(piece, style)
    beat = march.ticks(1.0)
    drums = {p.name for p in march.parts if p.is_drums}
    struck = {n.start // beat for n in march.notes if n.part in drums}
    intro = min(n.start for n in march.notes if n.part not in drums) // beat
    assert intro >= 8 and all(b in struck for b in range(intro))
    body = range(intro, march.end // beat)
    assert sum(b in struck for b in body) >= 0.9 * len(body)


@pytest.mark.parametrize("piece", ["sonnerie", "laurel"])
def test_the_march_plays_its_trio_lighter_on_the_side_stick_without_crashes(piece, arrange_piece):
    from scores.transforms import CRASH_KEY, SIDE_STICK_KEY, SNARE_KEY

    march = arrange_piece(piece, "march")
    sections = read_sections(march)
    trio = next(s for s in sections if "trio" in s.name.lower() or s.name.startswith("F major"))
    kit = next(p.name for p in march.parts if p.is_drums)
    inside = [n for n in march.notes_of(kit) if trio.start <= n.start < trio.stop]
    assert inside and not [n for n in inside if n.pitch in (SNARE_KEY, CRASH_KEY)]
    assert sum(n.pitch == SIDE_STICK_KEY for n in inside) >= len(inside) * 0.6
    elsewhere = [n.velocity for n in march.notes_of(kit) if not trio.start <= n.start < trio.stop]
    assert sum(n.velocity for n in inside) / len(inside) < sum(elsewhere) / len(elsewhere)


def test_the_ominous_dynamics_follow_the_form_quieter_in_the_quiet_passage_than_at_the_climax(
        arrange_piece, source_piece):
    plain, styled = source_piece("sonnerie"), arrange_piece("sonnerie", "ominous")
    sections = {s.name: s for s in read_sections(plain)}

    def ratio(name):
        s = sections[name]

        def mean(score):
            v = [n.velocity for n in score.notes_of("violin") if s.start <= n.start < s.stop]
            return sum(v) / len(v)

        return mean(styled) / mean(plain)

    assert ratio("F major: the quiet passage") < ratio("D minor: the climax") - 0.15


def test_a_slow_line_of_long_notes_is_never_given_a_voice_that_dies_away(arrange_piece):
    from scores.transforms import DECAYING_PROGRAMS

    styled = arrange_piece("trionfo", "ominous")
    lament = next(s for s in read_sections(styled) if s.name == "lament")
    assert _program_at(styled, "choir", lament.start) not in DECAYING_PROGRAMS
