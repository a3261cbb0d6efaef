"""The Score model: its invariants, its maps, and its round trip through a MIDI file."""

import io

import mido
import pytest

from scores.score import (
    DRUM_CHANNEL,
    TICKS_PER_BEAT,
    Key,
    Note,
    Part,
    Score,
    ScoreError,
    from_midi,
    key_from_name,
    pitch_name,
    to_midi,
)

Q = TICKS_PER_BEAT


def two_part_score(**changes) -> Score:
    parts = (Part("bells", 0, 14, "ground"), Part("violin", 1, 40, "melody", volume=90, pan=40, bend_cents=-15.0))
    notes = [Note(i * Q, Q, (62, 65, 64)[i % 3], 80, "bells") for i in range(12)]
    notes += [Note(12 * Q + i * Q // 2, Q // 2, 69 + i, 70, "violin") for i in range(6)]
    fields = dict(title="Test", parts=parts, notes=tuple(notes), tempos=((0, 110.0), (6 * Q, 90.0)),
                  metres=((0, 3, 4),), keys=(Key(0, 2, "minor"), Key(6 * Q, 9, "minor")), after="Nobody")
    fields.update(changes)
    return Score(**fields)


def midi_bytes(midi: mido.MidiFile) -> bytes:
    buffer = io.BytesIO()
    midi.save(file=buffer)
    return buffer.getvalue()


def test_notes_are_kept_sorted_by_start_then_part_then_key():
    score = Score("s", (Part("a", 0), Part("b", 1)), (Note(Q, Q, 60, 64, "b"), Note(0, Q, 64, 64, "b"),
                                                     Note(Q, Q, 62, 64, "a")))
    assert [(n.start, n.part, n.pitch) for n in score.notes] == [(0, "b", 64), (Q, "a", 62), (Q, "b", 60)]


def test_the_end_is_at_least_the_last_note_off_and_a_longer_end_is_kept():
    assert two_part_score().end == 15 * Q
    assert two_part_score(end=40 * Q).end == 40 * Q


@pytest.mark.parametrize("note", [Note(0, Q, 128, 64, "a"), Note(0, 0, 60, 64, "a"), Note(0, Q, 60, 0, "a"),
                                  Note(0, Q, 60, 64, "nobody")])
def test_a_note_out_of_range_or_on_no_part_is_refused(note):
    with pytest.raises(ScoreError):
        Score("s", (Part("a", 0),), (note,))


def test_two_parts_on_one_channel_with_different_programs_are_refused():
    with pytest.raises(ScoreError, match="channel"):
        Score("s", (Part("a", 3, program=1), Part("b", 3, program=2)), ())


def test_a_bend_beyond_the_wheel_range_is_refused():
    with pytest.raises(ScoreError, match="200 cents"):
        Part("a", 0, bend_cents=250)


def test_bar_starts_follow_metre_changes():
    score = Score("s", (Part("a", 0),), (Note(0, 20 * Q, 60, 64, "a"),), metres=((0, 3, 4), (6 * Q, 2, 4)))
    assert score.bar_starts() == [0, 3 * Q, 6 * Q, 8 * Q, 10 * Q, 12 * Q, 14 * Q, 16 * Q, 18 * Q]
    assert score.metre_at(7 * Q) == (2, 4)


def test_seconds_follow_the_tempo_map():
    score = two_part_score()
    # six beats at 110 BPM, then three at 90
    assert score.seconds(9 * Q) == pytest.approx(6 * 60 / 110 + 3 * 60 / 90)


def test_key_at_follows_the_key_map():
    score = two_part_score()
    assert score.key_at(0).name == "Dm"
    assert score.key_at(6 * Q).name == "Am"


def test_max_polyphony_counts_overlaps_but_not_notes_that_touch():
    notes = (Note(0, Q, 60, 64, "a"), Note(Q, Q, 62, 64, "a"), Note(Q // 2, Q, 67, 64, "a"))
    assert Score("s", (Part("a", 0),), notes).max_polyphony() == 2


def test_free_channel_skips_the_drum_channel():
    parts = tuple(Part(f"p{c}", c) for c in range(9))
    assert Score("s", parts, ()).free_channel() == 10
    every = tuple(Part(f"p{c}", c) for c in range(16))
    assert Score("s", every, ()).free_channel() is None


def test_a_score_survives_a_round_trip_through_a_midi_file():
    score = two_part_score()
    back = from_midi(mido.MidiFile(file=io.BytesIO(midi_bytes(to_midi(score)))))
    assert back.notes == score.notes
    assert back.parts == score.parts
    assert back.tempos == score.tempos
    assert back.metres == score.metres
    assert back.keys == score.keys
    assert (back.title, back.after, back.end) == (score.title, score.after, score.end)


def test_the_midi_file_sets_bend_range_and_detune_before_the_first_note():
    track = to_midi(two_part_score()).tracks[2]
    kinds = [m.type for m in track]
    first_note = kinds.index("note_on")
    wheel = next(m for m in track if m.type == "pitchwheel")
    assert kinds.index("pitchwheel") < first_note
    assert wheel.pitch == round(-15 / 200 * 8191)
    rpn = [(m.control, m.value) for m in track if m.type == "control_change" and m.control in (101, 100, 6)]
    assert rpn[:3] == [(101, 0), (100, 0), (6, 2)]


def test_a_repeated_key_cuts_the_earlier_note_and_note_offs_come_first():
    score = Score("s", (Part("a", 0),), (Note(0, 2 * Q, 60, 64, "a"), Note(Q, Q, 60, 64, "a")))
    track = to_midi(score).tracks[1]
    tick, events = 0, []
    for m in track:
        tick += m.time
        if m.type in ("note_on", "note_off"):
            events.append((tick, m.type))
    assert events == [(0, "note_on"), (Q, "note_off"), (Q, "note_on"), (2 * Q, "note_off")]


def test_drum_parts_carry_no_program_change():
    score = Score("s", (Part("kit", DRUM_CHANNEL, role="drums"),), (Note(0, Q, 38, 90, "kit"),))
    assert not any(m.type == "program_change" for m in to_midi(score).tracks[1])


def test_from_midi_rescales_ticks_to_480_a_beat_and_guesses_roles():
    midi = mido.MidiFile(ticks_per_beat=96)
    for channel, pitches in ((0, (72, 74)), (1, (40, 43)), (9, (36, 38))):
        track = mido.MidiTrack()
        for p in pitches:
            track.append(mido.Message("note_on", channel=channel, note=p, velocity=90, time=0))
            track.append(mido.Message("note_off", channel=channel, note=p, velocity=0, time=96))
        midi.tracks.append(track)
    score = from_midi(midi)
    assert [n.start for n in score.notes_of("channel 1")] == [0, Q]
    assert {p.name: p.role for p in score.parts} == {"channel 1": "melody", "channel 2": "bass",
                                                     "channel 10": "drums"}


def test_from_midi_estimates_a_key_when_the_file_has_none():
    score = two_part_score(keys=())
    midi = to_midi(score)
    assert from_midi(midi).keys == (Key(0, 2, "minor"),)


def test_a_note_never_released_ends_with_the_file():
    midi = mido.MidiFile(ticks_per_beat=480)
    track = mido.MidiTrack([mido.Message("note_on", note=60, velocity=90, time=0),
                            mido.MetaMessage("end_of_track", time=4 * Q)])
    midi.tracks.append(track)
    (note,) = from_midi(midi).notes
    assert (note.start, note.duration) == (0, 4 * Q)


def test_smpte_timing_keeps_seconds_at_120_beats_a_minute():
    midi = mido.MidiFile()
    midi.ticks_per_beat = (0xE7 << 8 | 40) - 0x10000  # signed division word: -25 fps, 40 ticks a frame
    track = mido.MidiTrack([mido.Message("note_on", note=60, velocity=90, time=1000),
                            mido.Message("note_off", note=60, velocity=0, time=1000)])
    midi.tracks.append(track)
    score = from_midi(midi)
    (note,) = score.notes
    assert score.seconds(note.start) == pytest.approx(1.0)  # 1000 ticks of 1/1000 s


def test_names_of_pitches_and_keys():
    assert pitch_name(60) == "C4"
    assert pitch_name(63) == "Eb4"
    assert key_from_name("Bbm", 5) == Key(5, 10, "minor")
    assert Key(0, 10, "major").name == "Bb"
    with pytest.raises(ScoreError):
        key_from_name("H")


def test_until_cuts_the_score_at_a_tick():
    cut = two_part_score().until(13 * Q)
    assert cut.end == 13 * Q
    assert max(n.end for n in cut.notes) == 13 * Q
    assert len(cut.notes) == 12 + 2  # the bells, and the violin's first two eighths
    assert cut.tempos == two_part_score().tempos and cut.keys == two_part_score().keys


def test_tick_at_inverts_seconds():
    score = two_part_score()
    for tick in (0, 3 * Q, 6 * Q, 9 * Q + 17):
        assert score.tick_at(score.seconds(tick)) == tick


def test_all_notes_off_ends_the_channels_sounding_notes_where_it_comes_and_is_kept():
    midi = mido.MidiFile(ticks_per_beat=480)
    track = mido.MidiTrack()
    midi.tracks.append(track)
    track.append(mido.Message("note_on", channel=0, note=60, velocity=90, time=0))
    track.append(mido.Message("note_on", channel=1, note=64, velocity=90, time=0))
    track.append(mido.Message("control_change", channel=0, control=123, value=0, time=480))
    track.append(mido.Message("note_off", channel=1, note=64, time=480))
    track.append(mido.Message("note_off", channel=0, note=60, time=0))
    score = from_midi(midi)
    lengths = {n.pitch: n.duration for n in score.notes}
    assert lengths == {60: 480, 64: 960}
    assert [(c.tick, c.number) for c in score.controls if c.kind == "control"] == [(480, 123)]
