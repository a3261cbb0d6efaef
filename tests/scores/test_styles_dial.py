"""The dissonance dial: more clashes from plain to ominous to dissonant to nightmare, and by the form."""

import numpy as np
import pytest

from scores.analysis import clash_share, read_sections
from scores.styles import Step, StyleError, dial_spans

PIECES = ("sonnerie", "trionfo", "laurel", "chorale", "piano")  # the scores and the sample files

DIAL = ("plain", "ominous", "dissonant", "nightmare")


@pytest.mark.parametrize("piece", PIECES)
def test_the_clash_share_rises_from_plain_to_ominous_to_dissonant_to_nightmare_by_a_real_step(piece, arrange_piece):
    shares = [clash_share(arrange_piece(piece, style)) for style in DIAL]
    assert all(a + 0.04 <= b for a, b in zip(shares, shares[1:], strict=False)), dict(zip(DIAL, shares, strict=True))


def test_the_ominous_trionfo_sits_in_the_middle_third_between_plain_and_dissonant(arrange_piece):
    plain, ominous, dissonant = (clash_share(arrange_piece("trionfo", style)) for style in DIAL[:3])
    assert plain + (dissonant - plain) / 3 <= ominous <= dissonant - (dissonant - plain) / 3


@pytest.mark.parametrize("piece", PIECES)
@pytest.mark.parametrize("style", ["dissonant"])
def test_a_dissonant_style_adds_clashes_with_the_intensity_of_the_form_and_none_in_the_quietest_section(
        piece, style, arrange_piece, source_piece):
    plain, styled = source_piece(piece), arrange_piece(piece, style)
    sections = read_sections(plain)
    climax = max(sections, key=lambda s: s.intensity)
    quiet = min(sections, key=lambda s: s.intensity)

    def added(s):
        return clash_share(styled, s.start, s.stop) - clash_share(plain, s.start, s.stop)

    assert added(climax) >= 0.08
    assert added(quiet) <= 0.02
    follows = np.corrcoef([added(s) for s in sections], [s.intensity for s in sections])[0, 1]
    assert follows >= 0.5


@pytest.mark.parametrize("piece", PIECES)
def test_the_dissonance_is_not_a_flat_level_across_the_sections(piece, arrange_piece):
    styled = arrange_piece(piece, "dissonant")
    shares = [clash_share(styled, s.start, s.stop) for s in read_sections(styled)]
    assert max(shares) - min(shares) >= 0.3


def test_the_trionfo_chant_keeps_its_mode_in_ominous_and_the_loud_chant_takes_the_phrygian(
        arrange_piece, source_piece):
    plain, styled = source_piece("trionfo"), arrange_piece("trionfo", "ominous")
    sections = {s.name: s for s in read_sections(plain)}

    def choir(score, name):
        s = sections[name]
        return {(n.start, n.pitch) for n in score.notes_of("choir") if s.start <= n.start < s.stop}

    # every note the choir still sings (some octave doublings make room for the pedal) is as written
    assert choir(styled, "chant") <= choir(plain, "chant")  # A-E-A stays A-E-A
    assert len(choir(styled, "chant")) >= 0.8 * len(choir(plain, "chant"))
    assert choir(styled, "lament") == choir(plain, "lament")
    assert not choir(styled, "chant2") <= choir(plain, "chant2")
    chant = sections["chant"]
    assert clash_share(styled, chant.start, chant.stop) < 0.1


def test_ominous_darkens_the_sonnerie_where_it_builds_and_leaves_the_quiet_f_major_passage(
        arrange_piece, source_piece):
    plain, styled = source_piece("sonnerie"), arrange_piece("sonnerie", "ominous")
    sections = {s.name: s for s in read_sections(plain)}

    def violin(score, name):
        s = sections[name]
        return [n.pitch for n in score.notes_of("violin") if s.start <= n.start < s.stop]

    assert violin(styled, "F major: the quiet passage") == violin(plain, "F major: the quiet passage")
    assert violin(styled, "D minor: the climax") != violin(plain, "D minor: the climax")


def test_a_higher_dial_acts_on_the_same_phrases_and_more(source_piece):
    score = source_piece("sonnerie")
    sections = read_sections(score)
    low = set(dial_spans(Step("tritone_shadow", {}, 0.3), score, sections))
    high = set(dial_spans(Step("tritone_shadow", {}, 0.8), score, sections))
    assert low < high


def test_a_step_that_moves_time_cannot_be_dialled():
    with pytest.raises(StyleError, match="cannot be dialled"):
        Step("remeter_as_march", {}, 0.5)
    with pytest.raises(StyleError, match="outside 0-1"):
        Step("clusters", {}, 1.5)
