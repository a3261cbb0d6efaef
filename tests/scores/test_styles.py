"""The named styles: the registry, seeds, titles, and every style on every corpus file."""

import io
from pathlib import Path

import mido
import pytest

from scores.score import DRUM_CHANNEL, Key, Note, Part, Score, from_midi, to_midi
from scores.transforms import BASS_DRUM_KEY, CRASH_KEY, SIDE_STICK_KEY, SNARE_KEY
from scores.styles import STYLES, Step, Style, StyleError, apply_style, get_style, style_names
from scores.transforms import STAGE_OF, STAGES

B = 480
CORPUS = sorted((Path(__file__).parents[1] / "data" / "corpus").glob("*.mid"))
RNG_STYLES = [s.name for s in STYLES.values() if any(step.uses_rng for step in s.steps)]


def _sonnerie_like(bars=24):
    """D minor in 3/4 at 110: a violin line over the D-F-E bells and a viol bass, in bars of three beats."""
    violin = [62, 65, 64, 69, 67, 65, 64, 62, 61, 62, 69, 74]
    notes = [Note(i * B, B, violin[i % len(violin)], 80, "violin") for i in range(3 * bars)]
    notes += [Note(i * B, B, (50, 53, 52)[i % 3], 70, "bells") for i in range(3 * bars)]
    notes += [Note(i * 3 * B, 3 * B, (38, 45)[i % 2], 75, "viol") for i in range(bars)]
    parts = (Part("violin", 0, 40, "melody"), Part("viol", 1, 42, "bass"), Part("bells", 2, 14, "ground"))
    return Score("Sonnerie (after Marais)", parts, tuple(notes), tempos=((0, 110.0),), metres=((0, 3, 4),),
                 keys=(Key(0, 2, "minor"),), after="Marais")


def _midi_bytes(score):
    buffer = io.BytesIO()
    to_midi(score).save(file=buffer)
    return buffer.getvalue()


def test_the_registry_has_the_four_styles_the_project_promises():
    assert style_names()[:4] == ["plain", "ominous", "dissonant", "march"]
    assert all(isinstance(get_style(name), Style) for name in style_names())


def test_an_unknown_style_names_the_styles_there_are():
    with pytest.raises(StyleError) as caught:
        get_style("spooky")
    assert str(caught.value) == f"unknown style 'spooky' (styles: {', '.join(style_names())})"
    assert isinstance(caught.value, ValueError)
    with pytest.raises(StyleError, match="unknown style 'spooky'"):
        apply_style(_sonnerie_like(), "spooky")


def test_a_step_must_name_a_transformation():
    with pytest.raises(StyleError, match="unknown transformation 'reverb'"):
        Step("reverb")
    with pytest.raises(StyleError, match="^pedal: got an unexpected keyword argument 'depth'$"):
        Step("pedal", {"depth": 3})
    with pytest.raises(StyleError, match="^tempo_scale: missing a required argument: 'factor'$"):
        Step("tempo_scale")


@pytest.mark.parametrize("name", style_names())
def test_each_style_follows_the_order_mode_harmony_register_time_sound(name):
    order = list(STAGES)
    stages = [order.index(STAGE_OF[step.name]) for step in get_style(name).steps]
    assert stages == sorted(stages)


def test_plain_is_the_identity():
    score = _sonnerie_like()
    assert apply_style(score, "plain") is score
    assert apply_style(score, "plain", seed=5).title == "Sonnerie (after Marais)"


def test_a_style_appends_its_name_to_the_title():
    assert apply_style(_sonnerie_like(), "ominous").title == "Sonnerie (after Marais), ominous"
    assert apply_style(_sonnerie_like(), "march").after == "Marais"


def test_ominous_is_slower_phrygian_with_a_pedal_a_low_doubling_and_a_detuned_melody():
    score = _sonnerie_like()
    out = apply_style(score, "ominous", seed=0)
    assert out.tempos == ((0, 77.0),)  # 110 x 0.7
    assert sorted({n.pitch for n in out.notes_of("bells")}) == [50, 52, 53]  # the ground is never re-pitched
    assert 38 in {n.pitch for n in out.notes_of("pedal")}  # the tonic, and the bass it moves with
    assert {n.pitch % 12 for n in out.notes_of("pedal")} <= {2, 9, 3}
    assert {n.pitch for n in out.notes_of("low doubling")} <= {26, 33}
    assert 10 <= abs(out.part("detuned").bend_cents) <= 25
    assert out.part("violin").program in (52, 19, 11) and out.part("bells").program == 14
    assert out.part("detuned").program == out.part("violin").program
    # softer by 0.9, and by the form: one section, of middle intensity 0.5, keeps 1 - 0.35 x 0.5 of it
    assert out.notes_of("violin")[0].velocity == round(round(80 * (1 - 0.35 * 0.5)) * 0.9)


def test_dissonant_adds_shadows_and_keeps_the_ground():
    score = _sonnerie_like()
    out = apply_style(score, "dissonant", seed=0)
    shadows = {p.name for p in out.parts_with_role("shadow")}
    assert shadows == {"tritone shadow", "smear"}
    violin = {n.start: n.pitch for n in out.notes_of("violin")}
    shadow = out.notes_of("tritone shadow")
    assert shadow and all(violin[n.start] - n.pitch == 6 for n in shadow)
    assert len(shadow) < len(violin)  # in some phrases, not all: the dial
    assert out.notes_of("bells") == score.notes_of("bells")


def test_march_is_duple_with_snare_and_timpani_and_the_bells_on_their_own_beat():
    out = apply_style(_sonnerie_like(bars=24), "march", seed=0)
    assert {m[1:] for m in out.metres} == {(2, 4)}
    intro = 4 * 2 * B  # four bars of drums alone
    assert out.end == intro + 48 * B  # 24 bars of three beats became 24 bars of two
    assert min(n.start for n in out.notes if n.part != "snare") == intro
    assert out.part("snare").channel == DRUM_CHANNEL
    assert SNARE_KEY in {n.pitch for n in out.notes_of("snare")}
    assert {n.pitch for n in out.notes_of("snare")} <= {SNARE_KEY, SIDE_STICK_KEY, BASS_DRUM_KEY, CRASH_KEY}
    assert {n.pitch for n in out.notes_of("timpani")} == {50, 45}
    bells = out.notes_of("bells")
    assert [n.start for n in bells] == [intro + i * B for i in range(48)]
    assert {n.start % (2 * B) for n in out.notes_of("violin")} <= {0, B, 3 * B // 2}


def test_tempo_scale_multiplies_the_styled_tempo():
    score = _sonnerie_like()
    assert apply_style(score, "plain", tempo_scale=0.5).tempos == ((0, 55.0),)
    assert apply_style(score, "ominous", tempo_scale=0.5).tempos == ((0, 38.5),)
    with pytest.raises(StyleError, match="a tempo scale of -1"):
        apply_style(score, "ominous", tempo_scale=-1)


@pytest.mark.parametrize("name", style_names())
def test_the_same_seed_gives_the_same_score_and_the_same_midi_bytes(name):
    score = _sonnerie_like()
    first, second = apply_style(score, name, seed=7), apply_style(score, name, seed=7)
    assert first == second
    assert _midi_bytes(first) == _midi_bytes(second)


@pytest.mark.parametrize("name", RNG_STYLES)
def test_another_seed_gives_another_arrangement(name):
    score = _sonnerie_like(bars=48)
    assert _midi_bytes(apply_style(score, name, seed=1)) != _midi_bytes(apply_style(score, name, seed=2))


def test_the_styles_that_draw_on_chance_include_the_three_promised():
    assert {"ominous", "dissonant", "march"} <= set(RNG_STYLES)


@pytest.mark.parametrize("name", style_names())
def test_every_style_plays_a_score_with_no_notes(name):
    empty = Score("silence", (Part("violin", 0, 40, "melody"),), ())
    out = apply_style(empty, name)
    assert out.notes == ()
    assert mido.MidiFile(file=io.BytesIO(_midi_bytes(out))).type == 1


@pytest.mark.parametrize("path", CORPUS, ids=lambda p: p.stem)
def test_every_style_arranges_every_corpus_file(path):
    score = from_midi(mido.MidiFile(path))
    for name in style_names():
        out = apply_style(score, name, seed=3)
        data = _midi_bytes(out)
        back = from_midi(mido.MidiFile(file=io.BytesIO(data)))
        if name != "cue":  # the cue condenses the piece by design
            assert len(back.notes) >= len(score.notes) * 0.9, name
        assert all(0 <= n.pitch <= 127 and 1 <= n.velocity <= 127 for n in out.notes)
        drums = {p.name for p in score.parts if p.channel == DRUM_CHANNEL}
        kept = [(n.start, n.pitch) for n in out.notes if n.part in drums]
        if name in ("plain", "ominous", "dissonant"):  # styles that do not move time keep the kit's notes
            assert kept == [(n.start, n.pitch) for n in score.notes if n.part in drums], name
