"""Each transformation alone, on tiny scores written by hand."""

import random

import pytest

from scores import transforms as T
from scores.score import DRUM_CHANNEL, Key, Note, Part, Score

B = 480  # ticks per beat
D4, E4, F4, A4, C5 = 62, 64, 65, 69, 72
D_MINOR = (Key(0, 2, "minor"),)


def _score(notes, parts=None, *, keys=D_MINOR, metres=((0, 3, 4),), tempos=((0, 100.0),)):
    """D minor in 3/4 unless told: a melody, a bass, a bell ground and a drum kit."""
    parts = parts or (
        Part("violin", 0, 40, "melody"),
        Part("viol", 1, 42, "bass"),
        Part("bells", 2, 14, "ground"),
        Part("kit", DRUM_CHANNEL, 0, "drums"),
    )
    return Score("test", tuple(parts), tuple(notes), tempos=tempos, metres=metres, keys=keys)


def _line(part, pitches, beats=1, start=0, velocity=80):
    return [Note(start + i * beats * B, beats * B, p, velocity, part) for i, p in enumerate(pitches)]


def _pitches(score, part):
    return [n.pitch for n in score.notes_of(part)]


def _bells(bars):
    """The D-F-E ground, one bell a beat."""
    return _line("bells", [D4 - 12, F4 - 12, E4 - 12] * bars)


# --- mode ---


def test_phrygian_turns_e_over_a_d_tonic_into_e_flat_and_leaves_d_and_f():
    score = _score(_line("violin", [D4, F4, E4]))
    assert _pitches(T.phrygian(score), "violin") == [D4, F4, E4 - 1]


def test_phrygian_in_a_major_key_lowers_the_second_third_sixth_and_seventh():
    c_major = _score(_line("violin", [60, 62, 64, 65, 67, 69, 71, 72]), keys=(Key(0, 0, "major"),))
    out = T.phrygian(c_major)
    assert _pitches(out, "violin") == [60, 61, 63, 65, 67, 68, 70, 72]
    assert out.keys == (Key(0, 0, "minor"),)


def test_phrygian_follows_the_local_tonic_at_a_key_change():
    # E in D minor (degree 2) is lowered; E in A minor is the fifth and stays; B in A minor is lowered
    score = _score(_line("violin", [E4, E4, 71]), keys=(Key(0, 2, "minor"), Key(B, 9, "minor")))
    assert _pitches(T.phrygian(score), "violin") == [E4 - 1, E4, 70]


def test_locrian_lowers_a_to_a_flat_over_d():
    score = _score(_line("violin", [D4, E4, F4, A4]))
    assert _pitches(T.locrian(score), "violin") == [D4, E4 - 1, F4, A4 - 1]


def test_major_to_minor_changes_only_major_passages():
    score = _score(_line("violin", [64, 69, 71, 64]), keys=(Key(0, 0, "major"), Key(3 * B, 4, "minor")))
    out = T.major_to_minor(score)
    assert _pitches(out, "violin") == [63, 68, 70, 64]  # E, A, B lowered in C major; E minor's tonic kept
    assert [k.mode for k in out.keys] == ["minor", "minor"]


def test_harmonic_minor_raises_the_seventh_to_a_leading_tone():
    score = _score(_line("violin", [D4, 72, 71]))  # D, C, B natural in D minor
    assert _pitches(T.harmonic_minor(score), "violin") == [D4, 73, 70]


def test_invert_mirrors_the_melody_about_the_tonic_and_leaves_the_bass():
    score = _score(_line("violin", [D4, F4, A4, E4]) + _line("viol", [50, 53]))
    out = T.invert(score, role="melody")
    assert _pitches(out, "violin") == [D4, D4 - 3, D4 - 7, D4 - 2]
    assert _pitches(out, "viol") == [50, 53]


def test_pitch_transformations_never_touch_the_drum_kit():
    kit = _line("kit", [38, 42, 36])
    score = _score(_line("violin", [E4, A4, E4]) + kit)
    for transform in (T.phrygian, T.locrian, T.harmonic_minor, T.bitonality, T.hollow_spacing):
        assert _pitches(transform(score), "kit") == [38, 42, 36], transform.__name__
    assert _pitches(T.phrygian(score, roles=("drums", "melody")), "kit") == [38, 42, 36]


def test_moved_notes_fold_by_octaves_into_the_midi_keys():
    score = _score(_line("violin", [125, 3]))
    assert _pitches(T.bitonality(score, interval=6), "violin") == [119, 9]
    assert _pitches(T.bitonality(score, interval=-6), "violin") == [119, 9]
    assert _pitches(T.hollow_spacing(score, melody_octaves=2), "violin") == [101, 27]  # C1-C8 by default


# --- harmony ---


def test_tritone_shadow_adds_a_softer_note_six_semitones_from_each_melody_note_on_a_new_part():
    score = _score(_line("violin", [D4, F4, E4], velocity=90) + _line("viol", [50]))
    out = T.tritone_shadow(score)
    shadow = out.parts_with_role("shadow")
    assert len(shadow) == 1 and shadow[0].channel == 3 and shadow[0].program == 40
    copies = out.notes_of(shadow[0].name)
    assert [n.pitch for n in copies] == [D4 - 6, F4 - 6, E4 - 6]
    assert [(n.start, n.duration) for n in copies] == [(0, B), (B, B), (2 * B, B)]
    assert {n.velocity for n in copies} == {round(90 * 0.45)}
    assert out.notes_of("violin") == score.notes_of("violin") and out.notes_of("viol") == score.notes_of("viol")


def test_tritone_shadow_upwards_and_on_a_chosen_role():
    score = _score(_line("violin", [D4]) + _line("viol", [50, 45]))
    out = T.tritone_shadow(score, interval=6, roles=("bass",))
    assert _pitches(out, out.parts_with_role("shadow")[0].name) == [56, 51]


def test_a_shadow_with_no_channel_free_joins_the_part_it_copies():
    parts = [Part(f"p{c}", c, 0, "melody" if c == 0 else "inner") for c in range(16)]
    score = _score(_line("p0", [D4]), parts)
    out = T.tritone_shadow(score)
    assert out.parts == score.parts
    assert sorted(_pitches(out, "p0")) == [D4 - 6, D4]


def test_added_notes_outside_the_midi_keys_are_dropped():
    score = _score(_line("violin", [3, 40]) + _line("viol", [5, 30]))
    shadow = T.tritone_shadow(score, interval=-6)
    assert _pitches(shadow, "tritone shadow") == [34]
    low = T.octave_doubling(score, octaves=(-1, -2), low_key=0)
    assert sorted(_pitches(low, "low doubling")) == [6, 18]


def _held_chord(n_notes, start, beats):
    return [Note(start, beats * B, 40 + 3 * i, 60, "viol") for i in range(n_notes)]


def test_added_notes_never_make_more_than_eight_sound_at_once():
    # seven notes held through beats 2-3: a shadow fits on beat 1 only, once the violin is the eighth voice
    score = _score(_line("violin", [D4, F4, E4, A4]) + _held_chord(7, B, 2))
    out = T.tritone_shadow(score)
    assert [n.start for n in out.notes_of("tritone shadow")] == [0, 3 * B]
    assert len(T.tritone_shadow(score, max_voices=None).notes_of("tritone shadow")) == 4
    assert len(T.clusters(_score(_line("violin", [D4], beats=3) + _held_chord(6, 0, 3))).notes) == 6 + 1 + 1


def test_a_drone_stops_where_the_voices_are_full_and_is_struck_again_after():
    score = _score(_line("violin", [D4] * 12) + _held_chord(7, 3 * B, 3))  # full through bar 2
    pedal = T.pedal(score, every_bars=4).notes_of("pedal")
    assert [(n.start, n.duration) for n in pedal] == [(0, 3 * B), (6 * B, 6 * B)]


def test_minor_second_smear_holds_a_soft_neighbour_through_each_bar():
    score = _score(_line("violin", [D4, F4, E4, A4, A4, A4], velocity=80))
    out = T.minor_second_smear(score, interval=1, velocity_scale=0.25)
    smear = out.notes_of("smear")
    assert [(n.start, n.duration, n.pitch, n.velocity) for n in smear] == [(0, 3 * B, D4 + 1, 20),
                                                                          (3 * B, 3 * B, A4 + 1, 20)]
    assert out.part("smear").role == "shadow"


def test_minor_second_smear_goes_up_or_down_as_the_rng_says():
    score = _score(_line("violin", [A4] * 60))
    steps = {n.pitch - A4 for n in T.minor_second_smear(score, rng=random.Random(1)).notes_of("smear")}
    assert steps == {-1, 1}


def test_clusters_go_on_long_notes_only():
    score = _score(_line("violin", [D4], beats=3) + _line("viol", [50, 52], beats=1))
    out = T.clusters(score, min_beats=2, intervals=(1, 2), velocity_scale=0.5)
    assert sorted((n.pitch, n.duration, n.velocity) for n in out.notes_of("violin")) == [
        (D4, 3 * B, 80), (D4 + 1, 3 * B, 40), (D4 + 2, 3 * B, 40)]
    assert out.notes_of("viol") == score.notes_of("viol")


def test_bitonality_puts_the_melody_a_tritone_from_the_accompaniment():
    score = _score(_line("violin", [D4, F4]) + _line("viol", [50, 53]))
    out = T.bitonality(score)
    assert _pitches(out, "violin") == [D4 - 6, F4 - 6]
    assert _pitches(out, "viol") == [50, 53]


def test_bitonality_by_spans_moves_every_other_span_without_an_rng():
    score = _score(_line("violin", [D4] * 12, beats=3))  # twelve bars
    out = T.bitonality(score, span_bars=4)
    assert _pitches(out, "violin") == [D4] * 4 + [D4 - 6] * 4 + [D4] * 4


def test_parallel_fifths_double_the_melody_a_fifth_below():
    score = _score(_line("violin", [D4, F4]))
    out = T.parallel_fifths(score)
    assert _pitches(out, "organum") == [D4 - 7, F4 - 7]
    assert _pitches(T.parallel_fifths(score, interval=-5), "organum") == [D4 - 5, F4 - 5]


# --- register and drones ---


def test_tonic_pedal_is_struck_each_bar_on_the_local_tonic():
    score = _score(_line("violin", [D4] * 9), keys=(Key(0, 2, "minor"), Key(6 * B, 9, "minor")))
    out = T.pedal(score, velocity=40)
    pedal = out.notes_of("pedal")
    assert [(n.start, n.duration, n.pitch, n.velocity) for n in pedal] == [
        (0, 3 * B, 38, 40), (3 * B, 3 * B, 38, 40), (6 * B, 3 * B, 45, 40)]  # D2, D2, then A2
    assert out.part("pedal").role == "pedal" and out.part("pedal").program == 19


def test_pedal_kinds_and_strokes_every_n_bars():
    score = _score(_line("violin", [D4] * 12))
    flat2 = T.pedal(score, kind="tonic_flat2", every_bars=2).notes_of("pedal")
    assert [(n.start, n.pitch) for n in flat2] == [(0, 38), (0, 39), (6 * B, 38), (6 * B, 39)]
    tritone = T.pedal(score, kind="tritone", every_bars=4).notes_of("pedal")
    assert [(n.start, n.duration, n.pitch) for n in tritone] == [(0, 12 * B, 38), (0, 12 * B, 44)]
    with pytest.raises(T.TransformError, match="unknown pedal kind 'fifth'"):
        T.pedal(score, kind="fifth")


def test_octave_doubling_copies_the_lowest_bass_note_an_octave_down():
    score = _score([Note(0, B, 50, 80, "viol"), Note(0, B, 57, 80, "viol"), Note(B, B, 48, 80, "viol")])
    out = T.octave_doubling(score, octaves=(-1,), velocity_scale=0.5)
    assert [(n.start, n.pitch, n.velocity) for n in out.notes_of("low doubling")] == [(0, 38, 40), (B, 36, 40)]
    assert out.part("low doubling").program == 42


def test_hollow_spacing_moves_melody_up_and_bass_down():
    score = _score(_line("violin", [D4]) + _line("viol", [50]) + _bells(1))
    out = T.hollow_spacing(score, melody_octaves=1, bass_octaves=-1)
    assert _pitches(out, "violin") == [D4 + 12] and _pitches(out, "viol") == [38]
    assert _pitches(out, "bells") == _pitches(score, "bells")


# --- time ---


def test_tempo_scale_halves_every_tempo_and_keeps_the_ticks():
    score = _score(_line("violin", [D4, F4]), tempos=((0, 100.0), (B, 120.0)))
    out = T.tempo_scale(score, factor=0.5)
    assert out.tempos == ((0, 50.0), (B, 60.0))
    assert out.notes == score.notes
    assert out.duration_s == pytest.approx(2 * score.duration_s)
    with pytest.raises(T.TransformError, match="a tempo factor of 0"):
        T.tempo_scale(score, factor=0)


def test_augmentation_stretches_one_role_within_the_piece():
    score = _score(_line("violin", [D4, F4, E4, A4]) + _line("viol", [50], beats=4))
    out = T.augmentation(score, role="melody", factor=2)
    assert [(n.start, n.duration, n.pitch) for n in out.notes_of("violin")] == [(0, 2 * B, D4), (2 * B, 2 * B, F4)]
    assert out.notes_of("viol") == score.notes_of("viol") and out.end == score.end


def test_march_turns_three_four_bars_into_two_four_with_beats_at_0_1_and_1_5():
    score = _score(_line("violin", [D4, F4, E4] * 2))
    out = T.remeter_as_march(score, pattern="even")
    assert out.metres == ((0, 2, 4),)
    assert [n.start for n in out.notes_of("violin")] == [0, B, 3 * B // 2, 2 * B, 3 * B, 7 * B // 2]
    assert [n.duration for n in out.notes_of("violin")] == [B, B // 2, B // 2] * 2
    assert out.end == 4 * B


def test_dotted_march_puts_the_beats_long_short_short():
    out = T.remeter_as_march(_score(_line("violin", [D4, F4, E4])), pattern="dotted")
    assert [(n.start, n.duration) for n in out.notes_of("violin")] == [(0, 720), (720, 120), (840, 120)]


def test_march_onsets_fall_on_the_duple_grid_and_the_ground_keeps_one_bell_a_beat():
    score = _score(_line("violin", [D4, F4, E4, A4, C5, A4, D4, F4, E4] * 2) + _bells(6))
    out = T.remeter_as_march(score)
    assert {m[1:] for m in out.metres} == {(2, 4)}
    bar = 2 * B
    assert {n.start % bar for n in out.notes_of("violin")} == {0, B, 3 * B // 2}
    bells = out.notes_of("bells")
    assert [n.start for n in bells] == [i * B for i in range(len(bells))]
    assert {n.duration for n in bells} == {B}
    # six bars of 3/4 (18 beats) become 12 beats of march: twelve bells sound, D-F-E from the start
    assert out.end == 12 * B and len(bells) == 12
    assert [n.pitch for n in bells[:6]] == [50, 53, 52, 50, 53, 52]
    # polymeter: the ground's D falls on a march downbeat only every six beats (three bars of 2/4)
    assert [n.start // bar for n in bells if n.pitch == 50 and n.start % bar == 0] == [0, 3]


def test_march_starts_each_key_section_of_the_ground_where_the_section_now_starts():
    keys = (Key(0, 2, "minor"), Key(6 * B, 9, "minor"))
    score = _score(_line("violin", [D4] * 12) + _bells(2) + _line("bells", [45, 48, 47] * 2, start=6 * B), keys=keys)
    out = T.remeter_as_march(score)
    assert out.keys == (Key(0, 2, "minor"), Key(4 * B, 9, "minor"))
    assert [(n.start, n.pitch) for n in out.notes_of("bells")] == [
        (0, 50), (B, 53), (2 * B, 52), (4 * B, 45), (5 * B, 48), (6 * B, 47)]  # whole cycles only


def test_march_keeps_the_ground_with_the_rest_where_the_metre_is_already_duple():
    score = _score(_line("violin", [D4] * 10) + _line("bells", [50] * 10), metres=((0, 3, 4), (6 * B, 4, 4)))
    out = T.remeter_as_march(score)
    assert [n.start for n in out.notes_of("bells")] == [0, B, 2 * B, 4 * B, 5 * B, 6 * B, 7 * B]
    assert [n.start for n in out.notes_of("violin")][-4:] == [4 * B, 5 * B, 6 * B, 7 * B]


def test_march_leaves_duple_bars_alone_and_moves_them_along():
    score = _score(_line("violin", [D4] * 7), metres=((0, 3, 4), (3 * B, 4, 4)))
    out = T.remeter_as_march(score)
    assert out.metres == ((0, 2, 4), (2 * B, 4, 4))
    assert [n.start for n in out.notes_of("violin")] == [0, B, 3 * B // 2, 2 * B, 3 * B, 4 * B, 5 * B]


def test_march_ostinato_adds_a_dotted_snare_on_the_drum_channel_and_timpani_on_tonic_and_dominant():
    no_kit = (Part("violin", 0, 40, "melody"),)
    score = T.remeter_as_march(_score(_line("violin", [D4, F4, E4] * 2), no_kit))
    out = T.march_ostinato(score, snare_velocity=80, fill_every=0)
    snare = out.part("snare")
    assert snare.channel == DRUM_CHANNEL and snare.role == "drums"
    assert [(n.start, n.pitch) for n in out.notes_of("snare")] == [
        (t, 38) for bar in (0, 2 * B) for t in (bar, bar + 360, bar + B, bar + 840)]
    assert [n.velocity for n in out.notes_of("snare")][:4] == [80, 44, 64, 44]
    timpani = out.part("timpani")
    assert timpani.program == 47 and timpani.role == "drums" and timpani.channel != DRUM_CHANNEL
    assert [(n.start, n.pitch) for n in out.notes_of("timpani")] == [(0, 50), (B, 45), (2 * B, 50), (3 * B, 45)]


def test_march_ostinato_joins_an_existing_kit_and_fills_when_the_rng_says():
    score = _score(_line("violin", [D4] * 16) + _line("kit", [42]), metres=((0, 2, 4),))
    out = T.march_ostinato(score, fill_every=2, fill_chance=1.0, rng=random.Random(0))
    assert [p.name for p in out.parts if p.channel == DRUM_CHANNEL] == ["kit"]
    second_bar = [n.start - 2 * B for n in out.notes_of("kit") if 2 * B <= n.start < 4 * B]
    assert second_bar == [0, 360, 480, 600, 720, 840]  # the fill: sixteenths through the second beat
    never = T.march_ostinato(score, fill_every=2, fill_chance=0.0, rng=random.Random(0))
    assert len(never.notes_of("kit")) == 1 + 4 * 8


def test_limping_waltz_drops_a_beat_every_fourth_bar():
    score = _score(_line("violin", [D4] * 24))  # eight bars of 3/4
    out = T.limping_waltz(score, every=4)
    assert out.metres == ((0, 3, 4), (9 * B, 2, 4), (11 * B, 3, 4), (20 * B, 2, 4))
    assert out.end == 22 * B and len(out.notes) == 24
    assert [n.start for n in out.notes][9:12] == [9 * B, 10 * B, 21 * B // 2]


def test_canon_at_the_tritone_follows_two_beats_later():
    score = _score(_line("violin", [D4, F4, E4], velocity=100))
    out = T.canon(score, interval=6, delay_beats=2, velocity_scale=0.5)
    assert [(n.start, n.pitch, n.velocity) for n in out.notes_of("canon")] == [
        (2 * B, D4 + 6, 50), (3 * B, F4 + 6, 50), (4 * B, E4 + 6, 50)]
    assert out.end == 5 * B


# --- sound ---


def test_detuned_doubling_copies_the_melody_onto_a_bent_part():
    score = _score(_line("violin", [D4, F4], velocity=100))
    out = T.detuned_doubling(score, cents=-20, velocity_scale=0.5)
    part = out.part("detuned")
    assert part.bend_cents == -20 and part.program == 40 and part.role == "shadow"
    assert [(n.pitch, n.velocity) for n in out.notes_of("detuned")] == [(D4, 50), (F4, 50)]
    drawn = {abs(T.detuned_doubling(score, rng=random.Random(s)).part("detuned").bend_cents) for s in range(20)}
    assert all(10 <= c <= 25 for c in drawn) and len(drawn) > 1


def test_detuned_doubling_with_no_channel_free_adds_nothing():
    parts = [Part(f"p{c}", c, 0, "melody" if c == 0 else "inner") for c in range(16)]
    score = _score(_line("p0", [D4]), parts)
    assert T.detuned_doubling(score) == score


def test_dynamics_soften_and_the_rng_strikes_rare_sforzandi_on_downbeats():
    score = _score(_line("violin", [D4] * 300, velocity=100) + _line("kit", [38] * 300, velocity=100))
    soft = T.dynamics(score, scale=0.5)
    assert {n.velocity for n in soft.notes} == {50}
    out = T.dynamics(score, scale=0.5, sforzando_chance=0.1, sforzando_velocity=120, rng=random.Random(3))
    loud = [n for n in out.notes_of("violin") if n.velocity == 120]
    assert 0 < len(loud) < 30 and all(n.start % (3 * B) == 0 for n in loud)
    assert {n.velocity for n in out.notes_of("kit")} == {50}


def test_dread_voices_change_programs_by_role_and_leave_the_kit():
    score = _score(_line("violin", [D4]))
    out = T.dread_voices(score)
    assert [(p.name, p.program) for p in out.parts] == [("violin", 52), ("viol", 42), ("bells", 14), ("kit", 0)]
    choices = {T.dread_voices(score, rng=random.Random(s)).part("violin").program for s in range(30)}
    assert choices == {52, 19, 11}


def test_dread_voices_keep_a_part_already_on_a_voice_of_dread():
    parts = (Part("choir", 0, 52, "melody"), Part("timpani", 1, 47, "bass"), Part("harpsichord", 2, 6, "bass"))
    out = T.dread_voices(_score(_line("choir", [D4]), parts), rng=random.Random(0))
    assert [p.program for p in out.parts][:2] == [52, 47]
    assert out.part("harpsichord").program in (42, 48)


# --- every transformation ---


ALL_DEFAULTS = {name: {} for name in T.TRANSFORMS}
ALL_DEFAULTS["tempo_scale"] = {"factor": 0.7}


@pytest.mark.parametrize("name", list(T.TRANSFORMS))
def test_every_transformation_leaves_an_empty_score_empty(name):
    empty = Score("empty", (Part("violin", 0, 40, "melody"),), ())
    out = T.TRANSFORMS[name](empty, **ALL_DEFAULTS[name])
    assert out.notes == ()


@pytest.mark.parametrize("name", list(T.TRANSFORMS))
def test_every_transformation_is_pure_and_keeps_keys_and_velocities_in_range(name):
    score = _score(_line("violin", [0, 127, 1, 126] * 3, velocity=127) + _line("viol", [0, 5, 120], beats=4)
                   + _bells(4) + _line("kit", [38] * 12, velocity=1))
    before = (score.notes, score.parts, score.tempos)
    params = dict(ALL_DEFAULTS[name])
    out = T.TRANSFORMS[name](score, **params)
    assert (score.notes, score.parts, score.tempos) == before
    assert all(0 <= n.pitch <= 127 and 1 <= n.velocity <= 127 for n in out.notes)
    # the kit's own strokes keep their key; a march's drums may add a bass drum, side stick and crash
    assert {n.pitch for n in out.notes_of("kit")} <= {38, T.BASS_DRUM_KEY, T.SIDE_STICK_KEY, T.CRASH_KEY}


def test_thin_leaves_out_inner_octave_doublings_only_where_the_texture_is_full():
    from scores import build_score

    trionfo = build_score("trionfo")
    out = T.thin(trionfo, room=1)
    assert len(out.notes) < len(trionfo.notes)
    assert out.notes_of("piano") == trionfo.notes_of("piano")  # a ground is never thinned
    assert out.notes_of("drums") == trionfo.notes_of("drums")

    def sounding_classes(score, tick):
        return {n.pitch % 12 for n in score.notes if n.start <= tick < n.end and n.part != "drums"}

    gone = sorted(set(trionfo.notes) - set(out.notes), key=lambda n: n.start)
    for n in gone[::7]:
        assert sounding_classes(out, n.start) == sounding_classes(trionfo, n.start)
    assert T.thin(_score(_line("violin", [D4, F4, A4])), room=1).notes == _score(_line("violin", [D4, F4, A4])).notes
