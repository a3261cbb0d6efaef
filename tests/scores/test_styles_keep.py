"""What every style keeps: the Sonnerie's bells, and a foreign file's tracks, drums, pedal and controllers."""

import mido
import pytest

from scores import build_score
from scores.analysis import ground_cycles
from scores.arrange import arrange, arrange_midi
from scores.samples import SAMPLES, control_counts, note_count
from scores.score import DRUM_CHANNEL, to_midi
from scores.styles import style_names


@pytest.fixture(scope="module")
def samples():
    return {name: make() for name, make in SAMPLES.items()}


@pytest.fixture(scope="module")
def sonnerie():
    return build_score("sonnerie")


def _notes(midi: mido.MidiFile) -> list[tuple]:
    """(track name, channel, start, key, velocity, length at least one tick) of every note, in order."""
    out = []
    for track in midi.tracks:
        name, now, open_ = "", 0, {}
        for msg in track:
            now += msg.time
            if msg.type == "track_name":
                name = msg.name
            elif msg.type == "note_on" and msg.velocity:
                open_.setdefault((msg.channel, msg.note), []).append((now, msg.velocity))
            elif msg.type in ("note_on", "note_off") and open_.get((msg.channel, msg.note)):
                start, velocity = open_[msg.channel, msg.note].pop(0)
                out.append((name, msg.channel, start, msg.note, velocity, max(now - start, 1)))
    return sorted(out)


@pytest.mark.parametrize("sample", list(SAMPLES))
def test_plain_gives_back_every_track_and_every_note_of_a_foreign_file(samples, sample):
    source = samples[sample]
    arranged = arrange_midi(source, "plain")
    assert _notes(arranged) == _notes(source)
    named = {t.name for t in source.tracks if any(m.type == "note_on" for m in t)}
    assert named <= {t.name for t in arranged.tracks}


@pytest.mark.parametrize("sample", list(SAMPLES))
def test_plain_keeps_every_controller_event_where_the_file_had_it(samples, sample):
    def events(midi):
        out = []
        for track in midi.tracks:
            now = 0
            for msg in track:
                now += msg.time
                if msg.type in ("control_change", "pitchwheel"):
                    out.append((now, msg.dict().get("control", -1), msg.dict().get("value", msg.dict().get("pitch"))))
        return sorted(out)

    assert set(events(samples[sample])) <= set(events(arrange_midi(samples[sample], "plain")))


@pytest.mark.parametrize("style", style_names())
@pytest.mark.parametrize("sample", list(SAMPLES))
def test_every_style_keeps_the_drums_the_pedal_and_every_controller_of_a_foreign_file(samples, sample, style):
    source = samples[sample]
    arranged = arrange_midi(source, style)
    assert note_count(arranged, DRUM_CHANNEL) >= note_count(source, DRUM_CHANNEL)
    before, after = control_counts(source), control_counts(arranged)
    assert all(after.get(key, 0) >= count for key, count in before.items()), (before, after)


@pytest.mark.parametrize("style", style_names())
def test_every_style_rings_the_sonnerie_bells_d_f_e_in_every_cycle(sonnerie, style):
    kept, cycles = ground_cycles(arrange(sonnerie, style), "bells")
    assert kept == cycles
    # the march keeps two thirds of the bars' length, in whole cycles; the cue a few minutes of the piece
    assert cycles >= (60 if style == "cue" else 200)


@pytest.mark.parametrize("style", ["ominous", "dissonant"])
def test_the_sonnerie_bells_are_kept_as_written_where_the_style_keeps_time(sonnerie, style):
    def written(score):  # the strokes: when, how long and which bell (the dynamics may change how hard)
        return [(n.start, n.duration, n.pitch) for n in score.notes_of("bells")]

    assert written(arrange(sonnerie, style)) == written(sonnerie)


def test_a_styled_render_reads_the_file_with_its_drums_and_pedal(tmp_path, samples):
    from synth.app.sources import open_source

    path = tmp_path / "chorale.mid"
    samples["chorale"].save(path)
    _, midi = open_source(path, "ominous")
    assert note_count(midi, DRUM_CHANNEL) == note_count(samples["chorale"], DRUM_CHANNEL)
    assert control_counts(midi).get((1, "cc64")) == control_counts(samples["chorale"])[1, "cc64"]


def test_the_scores_keep_their_own_midi_file_through_plain(sonnerie):
    assert to_midi(arrange(sonnerie, "plain")).tracks == to_midi(sonnerie).tracks
