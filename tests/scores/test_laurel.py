"""Laurel Waltz: the parlour waltz's form, keys, oom-pah-pah, cadences, ranges and length, read off its notes."""

import io

import numpy as np
import pytest

from scores import laurel
from scores.score import TICKS_PER_BEAT, Key, to_midi

BEAT = TICKS_PER_BEAT
BAR = 3 * BEAT
B_FLAT, E_FLAT, F, C, G, D, A_FLAT = 10, 3, 5, 0, 7, 2, 8

# (name, bars) as planned: every section a whole number of 8-bar phrases.
PLAN = [("introduction", 8), ("waltz A", 16), ("waltz A varied", 16), ("waltz B", 16), ("waltz A again", 16),
        ("trio I", 16), ("trio II", 16), ("waltz A da capo", 16), ("coda", 16)]
PIANO_KEYS = (21, 108)  # A0-C8
WALTZ_SECTIONS = [name for name, _ in PLAN if name not in ("introduction", "coda")]


@pytest.fixture(scope="module")
def score():
    return laurel.build()


def first_bar(name):
    return sum(bars for n, bars in PLAN[:[n for n, _ in PLAN].index(name)])


def onsets(score, part, bar, beat):
    tick = bar * BAR + beat * BEAT
    return sorted(n.pitch for n in score.notes_of(part) if n.start == tick)


def bass_pc(score, bar):
    return min(onsets(score, "left hand", bar, 0)) % 12


def test_the_waltz_is_in_three_four_in_every_one_of_its_136_bars(score):
    assert score.metres == ((0, 3, 4),)
    assert score.end == 136 * BAR
    starts = score.bar_starts()
    assert len(starts) == 136
    assert all(b - a == BAR for a, b in zip(starts, starts[1:], strict=False))
    assert all(score.metre_at(t) == (3, 4) for t in starts)


def test_sections_have_their_planned_bars_in_phrases_of_eight(score):
    assert [(s.name, s.bars) for s in laurel.SECTIONS] == PLAN
    assert all(bars % 8 == 0 for _, bars in PLAN)
    assert [len(s.tune) for s in laurel.SECTIONS] == [bars for _, bars in PLAN]
    assert laurel.section_starts() == {name: first_bar(name) for name, _ in PLAN}


def test_the_key_map_is_b_flat_then_the_trio_in_the_subdominant_then_b_flat_again(score):
    assert score.keys == (Key(0, B_FLAT, "major"), Key(first_bar("trio I") * BAR, E_FLAT, "major"),
                          Key(first_bar("waltz A da capo") * BAR, B_FLAT, "major"))
    assert (score.keys[1].tonic_pc - score.keys[0].tonic_pc) % 12 == 5
    assert [k.name for k in score.keys] == ["Bb", "Eb", "Bb"]


@pytest.mark.parametrize("name", WALTZ_SECTIONS)
def test_the_left_hand_plays_oom_pah_pah_in_every_waltz_strain(score, name):
    start = first_bar(name)
    good = 0
    for bar in range(start, start + 16):
        one, two, three = (onsets(score, "left hand", bar, beat) for beat in range(3))
        if len(one) == 1 and len(two) >= 2 and len(three) >= 2 and one[0] < min(two + three):
            good += 1
    assert good / 16 >= 0.8
    assert good == 16  # as written, every bar of the dance proper


def test_the_left_hand_sounds_a_triad_or_seventh_chord_with_its_third_in_every_bar(score):
    # major, minor, dominant seventh, diminished seventh: the notes of a bar all belong to one of them
    shapes = [{0, 4, 7}, {0, 3, 7}, {0, 4, 7, 10}, {0, 3, 6, 9}]

    def is_chord(pcs):
        return any(pcs <= {(root + i) % 12 for i in shape} and {(root + 3) % 12, (root + 4) % 12} & pcs
                   for root in pcs for shape in shapes)

    for bar in range(136):
        pcs = {p % 12 for beat in range(3) for p in onsets(score, "left hand", bar, beat)}
        assert len(pcs) >= 3 and is_chord(pcs), f"bar {bar + 1}: {sorted(pcs)}"
    assert not is_chord({B_FLAT, D, F, E_FLAT + 1})  # an E natural under B-flat would fail


@pytest.mark.parametrize(("name", "cadences"), [
    # (bar of the section counted from 1, the bass before, the bass on it): half cadences on V, perfect on I
    ("introduction", [(8, C, F)]),
    ("waltz A", [(8, C, F), (16, F, B_FLAT)]),
    ("waltz A varied", [(8, C, F), (16, F, B_FLAT)]),
    ("waltz B", [(8, C, F), (16, F, F)]),
    ("waltz A again", [(8, C, F), (16, F, B_FLAT)]),
    ("trio I", [(8, F, B_FLAT), (16, B_FLAT, E_FLAT)]),
    ("trio II", [(8, B_FLAT, F), (16, B_FLAT, E_FLAT)]),
    ("waltz A da capo", [(8, C, F), (16, F, B_FLAT)]),
    ("coda", [(8, F, F), (16, F, B_FLAT)]),
])
def test_each_period_ends_on_a_cadence(score, name, cadences):
    start = first_bar(name)
    for bar, before, on in cadences:
        assert (bass_pc(score, start + bar - 2), bass_pc(score, start + bar - 1)) == (before, on), (name, bar)


def test_the_a_strain_closes_on_the_tonic_after_the_dominant(score):
    for name in ("waltz A", "waltz A varied", "waltz A again", "waltz A da capo"):
        last = first_bar(name) + 15
        assert bass_pc(score, last - 1) == F and bass_pc(score, last) == B_FLAT
        # and the tune lands on the tonic over it
        assert max(onsets(score, "right hand", last, 0)) % 12 == B_FLAT


def test_the_piece_ends_on_a_b_flat_major_chord_in_both_hands(score):
    last = 135 * BAR
    final = [n for n in score.notes if n.end > last]
    assert all(n.start == last for n in final)
    assert {n.pitch % 12 for n in final} == {B_FLAT, D, F}
    assert min(n.pitch for n in final) % 12 == B_FLAT
    assert max(n.pitch for n in final) % 12 == B_FLAT
    assert final[0].start + max(n.duration for n in final) == score.end


def test_it_lasts_between_two_and_three_minutes_and_slows_only_in_the_coda(score):
    assert 140.0 < score.duration_s < 160.0
    assert all(160.0 <= bpm <= 180.0 for tick, bpm in score.tempos if tick < first_bar("coda") * BAR)
    coda = [bpm for tick, bpm in score.tempos if tick >= first_bar("coda") * BAR]
    assert len(coda) == 6
    assert all(a > b for a, b in zip(coda, coda[1:], strict=False))
    assert coda[-1] >= 0.6 * laurel.TEMPO_BPM
    assert score.tempo_at(first_bar("trio I") * BAR) == laurel.TRIO_TEMPO_BPM


def test_each_hand_stays_in_its_parlour_range_on_the_piano(score):
    for part, (low, high) in (("right hand", (60, 96)), ("left hand", (29, 60))):
        pitches = [n.pitch for n in score.notes_of(part)]
        assert low <= min(pitches) and max(pitches) <= high, part
        assert PIANO_KEYS[0] <= min(pitches) and max(pitches) <= PIANO_KEYS[1]


def test_at_most_eight_notes_sound_at_once(score):
    assert 6 <= score.max_polyphony() <= 8


def test_the_parts_are_two_hands_of_a_piano_on_their_own_channels(score):
    assert [(p.name, p.channel, p.program, p.role) for p in score.parts] == [
        ("right hand", 0, 0, "melody"), ("left hand", 1, 0, "bass")]
    assert score.title == "Laurel Waltz (after Heinrich)"
    assert score.after.startswith("Anthony Philip Heinrich")


def test_the_tune_has_thirds_and_sixths_grace_notes_and_a_turn(score):
    by_start = {}
    for n in score.notes_of("right hand"):
        by_start.setdefault(n.start, []).append(n.pitch)
    dyads = [max(ps) - min(ps) for ps in by_start.values() if len(ps) == 2]
    assert sum(1 for i in dyads if i in (3, 4)) >= 40
    assert sum(1 for i in dyads if i in (8, 9)) >= 40
    short = [n for n in score.notes_of("right hand") if n.duration <= BEAT // 8]
    # the acciaccaturas of bars 4 and 13 in the varied A and its da capo, and of bar 10 of trio II
    assert [n.start // BAR + 1 for n in short] == [28, 37, 98, 108, 117]
    turns = [n for n in score.notes_of("right hand") if n.duration == BEAT // 4]
    assert len(turns) == 8  # four sixteenths, twice


def test_the_dynamics_shape_the_form(score):
    def loudness(name):
        start = first_bar(name) * BAR
        tune = [n.velocity for n in score.notes_of("right hand") if start <= n.start < start + 8 * BAR]
        return max(tune)

    assert loudness("waltz A") < loudness("waltz A varied") < loudness("waltz A da capo")
    assert loudness("trio I") < loudness("waltz B")
    assert all(1 <= n.velocity <= 127 for n in score.notes)
    tune = {n.start: n.velocity for n in score.notes_of("right hand")}
    for bar in range(135):
        hand = [n for n in score.notes_of("left hand") if bar * BAR <= n.start < (bar + 1) * BAR]
        assert max(n.velocity for n in hand) < max(v for t, v in tune.items() if t < (bar + 1) * BAR)


def test_two_builds_are_identical_to_the_byte():
    first, second = laurel.build(), laurel.build()
    assert first == second
    a, b = io.BytesIO(), io.BytesIO()
    to_midi(first).save(file=a)
    to_midi(second).save(file=b)
    assert a.getvalue() == b.getvalue()


def test_the_opening_bars_render_loud_enough_and_unclipped(score):
    import synth

    eight_bars = score.with_notes([n for n in score.notes if n.end <= 8 * BAR]).replace(end=8 * BAR)
    audio, _ = synth.render(to_midi(eight_bars))
    peak_db = 20 * np.log10(np.max(np.abs(audio)))
    rms_db = 20 * np.log10(np.sqrt(np.mean(audio.astype(np.float64) ** 2)))
    # The recorded grand piano (FluidR3, its attack at full scale, velocity squared as the card scales
    # it) peaks about 13.5 dB under full scale in these bars; the modelled piano was a little louder.
    assert -15.0 < peak_db < 0.0
    assert rms_db > -40.0
