"""The layers a style adds are composed: they follow the harmony, the phrase and the form instead of looping; and
no part of the scores, in any style but plain, comes back bar for bar."""

import pytest

from scores.analysis import bar_patterns, copied_share, is_held_drone, read_sections, worst_copied_share
from scores.styles import style_names
from scores.transforms import BASS_DRUM_KEY, SNARE_KEY

PIECES = ("sonnerie", "trionfo", "laurel", "chorale", "piano")  # the scores and the sample files
SCORES = ("sonnerie", "trionfo", "laurel")
FIVE = ("ominous", "dissonant", "nightmare", "march", "cue")


@pytest.mark.parametrize("style", style_names())
@pytest.mark.parametrize("piece", PIECES)
def test_no_added_layer_repeats_more_than_half_its_bars_over_any_passage_of_17_bars(
        piece, style, arrange_piece, source_piece):
    styled = arrange_piece(piece, style)
    original = {p.name for p in source_piece(piece).parts}
    for part in styled.parts:
        if part.name in original or is_held_drone(styled, part.name):
            continue
        worst = worst_copied_share(bar_patterns(styled, part.name))
        assert worst <= 0.5, f"{part.name}: {worst:.2f}"


@pytest.mark.parametrize("style", FIVE)
@pytest.mark.parametrize("piece", SCORES)
def test_no_part_or_layer_of_the_scores_repeats_more_than_half_its_bars_over_any_passage_of_17_bars_or_more(
        piece, style, arrange_piece):
    styled = arrange_piece(piece, style)
    checked = 0
    for part in styled.parts:
        # the ground (the Sonnerie's bells, Marais's D-F-E) is kept as written; a held drone holds, it is no figure
        if part.role == "ground" or is_held_drone(styled, part.name):
            continue
        patterns = bar_patterns(styled, part.name)
        if any(patterns):
            checked += 1
            worst = worst_copied_share(patterns)
            assert worst <= 0.5, f"{part.name}: {worst:.2f}"
    assert checked >= 2


def test_the_sonnerie_ominous_pedal_moves_and_repeats_at_most_half_its_bars_over_the_whole_piece(arrange_piece):
    styled = arrange_piece("sonnerie", "ominous")
    assert not is_held_drone(styled, "pedal")  # it moves with the bass: a figure, measured as one
    assert copied_share(bar_patterns(styled, "pedal")) <= 0.5


@pytest.mark.parametrize("style", ["ominous", "dissonant"])
def test_the_trionfo_ostinati_follow_the_form_and_stay_recognisable(style, arrange_piece, source_piece):
    plain, styled = source_piece("trionfo"), arrange_piece("trionfo", style)
    bars = plain.bar_starts()
    for part in ("piano", "timpani"):
        written, varied = bar_patterns(plain, part), bar_patterns(styled, part)
        played = [i for i, p in enumerate(written) if p is not None]
        kept = sum(written[i] == varied[i] for i in played)
        assert 0.25 * len(played) <= kept <= 0.75 * len(played), part  # the figure, and its variations

        def octave_away(i, written=written, varied=varied):
            a, b = written[i], varied[i]
            return b is not None and a != b and [x[:2] for x in a] == [x[:2] for x in b] and all(
                (y[2] - x[2]) % 12 == 0 for x, y in zip(a, b, strict=True))

        cadences, changed, shifted = 0, 0, 0
        for sec in read_sections(plain):
            inside = [i for i, b in enumerate(bars) if sec.start <= b < sec.stop and written[i] is not None]
            for k in range(0, len(inside) - 3, 4):  # the phrases of four bars
                cadences += 1
                changed += varied[inside[k + 3]] != written[inside[k + 3]]
                shifted += any(octave_away(i) for i in inside[k:k + 4])
        assert changed >= 0.7 * cadences, part  # a change at the cadence
        assert shifted >= 0.3 * cadences, part  # a new register within the phrase
        for i in played:  # never a pitch class the bar as written does not play
            assert {x[2] % 12 for x in varied[i] or ()} <= {x[2] % 12 for x in written[i]}, (part, i)


def test_the_ominous_pedal_moves_with_the_bass_and_the_sections(arrange_piece):
    styled = arrange_piece("sonnerie", "ominous")
    pedal = styled.notes_of("pedal")
    assert len({n.pitch % 12 for n in pedal}) >= 4
    for section in read_sections(styled):
        inside = [n for n in pedal if section.start <= n.start < section.stop]
        if section.intensity >= 0.6:  # where the piece builds it moves within the section
            assert len({n.pitch for n in inside}) >= 3, section.name


def test_the_ominous_pedal_is_louder_at_the_climax_than_in_the_quiet_passage(arrange_piece):
    styled = arrange_piece("sonnerie", "ominous")
    sections = {s.name: s for s in read_sections(styled)}

    def mean_velocity(name):
        s = sections[name]
        inside = [n.velocity for n in styled.notes_of("pedal") if s.start <= n.start < s.stop]
        return sum(inside) / len(inside)

    assert mean_velocity("D minor: the climax") > mean_velocity("F major: the quiet passage") + 5


def _snare_by_bar(styled, kit="snare"):
    bars = styled.bar_starts()
    counts = [0] * len(bars)
    kicks = set()
    for n in styled.notes_of(kit):
        i = max(i for i, b in enumerate(bars) if b <= n.start)
        if n.pitch == SNARE_KEY:
            counts[i] += 1
        if n.pitch == BASS_DRUM_KEY and n.start == bars[i]:
            kicks.add(i)
    return bars, counts, kicks


def test_the_march_drums_fill_at_phrase_ends_accent_the_next_downbeat_and_drop_out(arrange_piece):
    styled = arrange_piece("sonnerie", "march")
    bars, counts, kicks = _snare_by_bar(styled)
    played = [c for c in counts if c]
    assert max(played) >= 6 and min(played) <= 3  # fills and plain bars
    assert len(kicks) >= 40  # cadence accents
    fills = [i for i, c in enumerate(counts) if c >= 6]
    assert sum((i + 1) in kicks for i in fills) >= len(fills) * 0.7  # a fill leads into an accented downbeat
    first = min(i for i, c in enumerate(counts) if c)
    assert any(c == 0 for c in counts[first:-4])  # drop-outs within the piece


def test_the_low_doubling_enters_and_leaves_with_the_phrases(arrange_piece):
    styled = arrange_piece("sonnerie", "ominous")
    patterns = bar_patterns(styled, "low doubling")
    played = sum(p is not None for p in patterns) / len(patterns)
    assert 0.2 <= played <= 0.9


def test_the_detuned_double_comes_and_goes_more_often_toward_the_climax(arrange_piece):
    styled = arrange_piece("sonnerie", "ominous")
    sections = {s.name: s for s in read_sections(styled)}

    def share(name):
        s = sections[name]
        bars = [b for b in styled.bar_starts() if s.start <= b < s.stop]
        heard = {b for b in bars for n in styled.notes_of("detuned") if b <= n.start < b + 3 * 480}
        return len(heard) / len(bars)

    assert share("D minor: the climax") > share("F major: the quiet passage")


def test_ominous_makes_room_for_its_pedal_in_the_full_texture_of_the_trionfo(arrange_piece):
    styled = arrange_piece("trionfo", "ominous")
    bars = styled.bar_starts()
    pedal = styled.notes_of("pedal")
    heard = sum(1 for i, b in enumerate(bars)
                if any(n.start < (bars[i + 1] if i + 1 < len(bars) else styled.end) and n.end > b for n in pedal))
    assert heard >= 0.8 * len(bars)
    assert styled.max_polyphony() <= 8
