"""An arrangement fits the CMI's cards: a dense file thinned so that an eight-voice IIx steals only where a style
accepts it, its melody and bass kept, and plain left as it is. Steals are counted by the engine itself."""

import pytest

from scores import cards
from scores.samples import quartet_midi
from scores.score import Control, Note, Part, Score, from_midi, to_midi
from scores.styles import Style, apply_style, get_style, style_names
from scores.transforms import fit_cards
from synth.engine import Engine
from synth.midifile import EventStream
from synth.offline import render_events

B = 480
STYLES = [s for s in style_names() if s != "plain"]


def engine_steals(score_or_midi, voices=None) -> int:
    """Notes the engine steals playing the file (a low rate: only the cards' books matter here)."""
    midi = to_midi(score_or_midi) if isinstance(score_or_midi, Score) else score_or_midi
    events = EventStream(midi, 8000)
    engine = Engine(rate_hz=8000, n_voices=voices)
    for _ in render_events(events, engine, block_frames=8192, end_frame=events.end_frame):
        pass
    return engine.notes_stolen


@pytest.fixture(scope="module")
def quartet():
    return from_midi(quartet_midi())


def _before_fitting(score, style):
    """The style without its last step, fit_cards."""
    chosen = get_style(style)
    assert chosen.steps[-1].name == "fit_cards"
    return apply_style(score, Style(style, "", chosen.steps[:-1]))


def test_the_dense_quartet_makes_an_eight_voice_cmi_steal_as_written(quartet):
    assert quartet.max_polyphony() >= 8  # keys down at once; with the pedal's notes, more
    assert max(sum(start <= t < end for _, start, end in cards.held_spans(quartet)) for t in range(0, 8 * B, 60)) >= 10
    assert engine_steals(quartet_midi()) >= 40
    assert engine_steals(apply_style(quartet, "plain")) == engine_steals(quartet_midi())


@pytest.mark.parametrize("style", STYLES)
def test_no_style_makes_the_dense_quartet_steal_a_note(quartet, style):
    before = _before_fitting(quartet, style)
    fitted = cards.fit(before, 8, quartet)
    assert fitted.left == 0  # nothing the style accepts to be stolen: the melody and bass fit with the layers
    assert engine_steals(apply_style(quartet, style)) == 0


@pytest.mark.parametrize("style", STYLES)
def test_thinning_keeps_every_note_of_the_melody_and_the_bass_and_what_it_takes_is_least_important(quartet, style):
    before = _before_fitting(quartet, style)
    after = apply_style(quartet, style)
    kept = set(after.notes)
    protected = cards.protected_notes(before, quartet)
    assert {n for n in before.notes if n.part in ("violin 1", "cello")} & protected
    assert protected <= kept
    fitted = cards.fit(before, 8, quartet)
    assert fitted.score.notes == after.notes
    taken = sum(fitted.dropped.values()) + sum(fitted.cut.values())
    cheap = sum(fitted.dropped.get(k, 0) + fitted.cut.get(k, 0) for k in cards.TIERS[:cards.INNER])
    assert cheap >= 0.8 * taken  # doublings, masked notes and figuration first
    assert taken or style == "cue"  # the cue is sparse: it needs no room


def test_plain_gives_back_the_dense_quartet_and_fits_nothing(quartet):
    assert apply_style(quartet, "plain") is quartet
    assert to_midi(apply_style(quartet, "plain")).tracks == to_midi(quartet).tracks


def test_a_style_fits_the_cards_of_the_model_it_is_for(quartet):
    sixteen = apply_style(quartet, "dissonant", voices=16)
    eight = apply_style(quartet, "dissonant")
    assert len(sixteen.notes) > len(eight.notes)  # a Series III keeps what a IIx has no room for
    assert engine_steals(sixteen, voices=16) == 0
    assert engine_steals(apply_style(quartet, "dissonant", voices=6), voices=6) == 0


# --- scores.cards on small scores ----------------------------------------------------------------------------


def _score(notes, parts=None, controls=()):
    parts = parts or (Part("top", 0, 0, "melody"), Part("mid", 1, 0, "inner"), Part("low", 2, 0, "bass"))
    return Score("t", tuple(parts), tuple(notes), controls=tuple(controls))


def test_a_card_is_held_while_the_pedal_holds_the_note():
    parts = (Part("piano", 0, 0, "melody"),)
    notes = [Note(0, B // 8, 60, 80, "piano"), Note(B, B // 2, 64, 80, "piano"), Note(4 * B, B, 67, 80, "piano")]
    pedal = [Control(B // 4, "piano", "control", 64, 127), Control(3 * B, "piano", "control", 64, 0)]
    spans = {n.pitch: (start, end) for n, start, end in cards.held_spans(_score(notes, parts, pedal))}
    assert spans[60] == (0, B // 8)  # its key came up before the pedal went down
    assert spans[64] == (B, 3 * B + 1)  # held until the pedal comes up (a tick more: see scores.cards)
    assert spans[67] == (4 * B, 5 * B)


def test_fitting_takes_an_inner_octave_doubling_before_a_layer_and_never_the_melody_or_the_bass():
    source = _score([Note(0, 4 * B, 72, 90, "top"), Note(0, 4 * B, 60, 60, "mid"), Note(0, 4 * B, 64, 60, "mid"),
                     Note(0, 4 * B, 48, 90, "low")])
    layer = Part("pedal", 3, 19, "pedal")
    arranged = source.with_notes([*source.notes, Note(0, 4 * B, 36, 40, "pedal")], [*source.parts, layer])
    out = fit_cards(arranged, max_voices=4, source=source)
    assert len(out.notes) == 4
    assert Note(0, 4 * B, 60, 60, "mid") not in out.notes  # C4 doubles the bass's C3: it goes
    assert {72, 48, 36} <= {n.pitch for n in out.notes}
    three = fit_cards(arranged, max_voices=3, source=source)
    assert {n.pitch for n in three.notes} == {72, 48, 36}  # then the other inner note, before the layer


def test_where_the_melody_and_bass_alone_need_more_cards_fitting_leaves_them_to_the_engine():
    source = _score([Note(0, 4 * B, p, 90, "top") for p in (72, 76, 79)] + [Note(0, 4 * B, 48, 90, "low")])
    fitted = cards.fit(source, 1, source)
    assert fitted.score.notes == source.notes
    assert fitted.left == 1


def test_fitting_keeps_the_files_pedal_and_takes_no_voice_for_what_it_holds():
    parts = (Part("piano", 0, 0, "melody"), Part("pad", 1, 89, "inner"))
    pedal = [Control(B // 8, "piano", "control", 64, 127), Control(8 * B - 10, "piano", "control", 64, 0)]
    notes = [Note(i * B, B // 2, 60 + 2 * i, 80, "piano") for i in range(8)] + [Note(0, 8 * B, 40, 50, "pad")]
    score = _score(notes, parts, pedal)
    out = fit_cards(score, max_voices=4, source=score)
    assert out.controls == score.controls
    assert out.notes_of("pad") == score.notes_of("pad")  # not silenced for the pedal's tails: stolen instead
