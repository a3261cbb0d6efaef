"""Tests for synth.midifile, from Standard MIDI File bytes written out by hand."""

import io
from fractions import Fraction

import mido
import pytest

from synth.midifile import MidiFileError, TimedEvent, describe, read_midi, timed_events

RATE_HZ = 44100

# --- building SMF bytes -------------------------------------------------------------------------


def vlq(n: int) -> bytes:
    """Variable-length quantity: 7 bits per byte, most significant first, high bit set on all but the last."""
    out = [n & 0x7F]
    n >>= 7
    while n:
        out.append(0x80 | (n & 0x7F))
        n >>= 7
    return bytes(reversed(out))


def ticks_per_beat(n: int) -> bytes:
    return n.to_bytes(2, "big")  # top bit clear: metrical time


def header(fmt: int, n_tracks: int, division: bytes) -> bytes:
    # "MThd", length 6, format, number of tracks, time division
    return b"MThd" + (6).to_bytes(4, "big") + fmt.to_bytes(2, "big") + n_tracks.to_bytes(2, "big") + division


def track(*events: bytes) -> bytes:
    body = b"".join(events)
    return b"MTrk" + len(body).to_bytes(4, "big") + body


def ev(delta: int, *data: int) -> bytes:
    """One event: delta-time in ticks as a VLQ, then its bytes as written (status byte or not)."""
    return vlq(delta) + bytes(data)


def tempo(delta: int, us_per_beat: int) -> bytes:
    return ev(delta, 0xFF, 0x51, 0x03, *us_per_beat.to_bytes(3, "big"))  # meta 0x51 set_tempo, 3 bytes


END = ev(0, 0xFF, 0x2F, 0x00)  # meta 0x2F end of track, no data


def frames(events: list[TimedEvent]) -> list[int]:
    return [e.frame for e in events]


def summary(events: list[TimedEvent]) -> list[tuple]:
    """(frame, track, type, note or control) for each event, for compact assertions."""
    out = []
    for e in events:
        m = e.message
        detail = getattr(m, "note", getattr(m, "control", getattr(m, "program", None)))
        kind = "off" if m.type == "note_off" or (m.type == "note_on" and m.velocity == 0) else m.type
        out.append((e.frame, e.track, kind, detail))
    return out


def two_track_song() -> bytes:
    return header(1, 2, ticks_per_beat(480)) + track(
        tempo(0, 500_000),  # 120 BPM
        END,
    ) + track(
        ev(0, 0x90, 60, 100),  # note on C4
        ev(480, 0x80, 60, 64),  # note off one beat later
        END,
    )


# --- timing -------------------------------------------------------------------------------------


def test_type0_note_lands_on_exact_frames():
    data = header(0, 1, ticks_per_beat(480)) + track(
        ev(0, 0x90, 60, 100),  # delta 0, note on ch1 C4 vel 100
        ev(240, 0x80, 60, 0),  # delta 240 = half a beat at the default 120 BPM = 0.25 s
        ev(0x81, 0x90, 62, 90),  # delta 129: one tick more than a VLQ byte holds (81 01)
        END,
    )
    assert vlq(129) == b"\x81\x01"
    events = timed_events(read_midi(data), RATE_HZ)
    # 129 ticks = 129 / 960 s = 5925.9375 frames, rounded to 5926 after the 11025 of the note off
    assert frames(events) == [0, 11025, 11025 + 5926]
    assert [e.message.type for e in events] == ["note_on", "note_off", "note_on"]
    assert [e.track for e in events] == [0, 0, 0]
    assert all(e.message.time == 0 for e in events)


def test_type1_tempo_track_sets_the_time_of_every_track():
    data = header(1, 2, ticks_per_beat(96)) + track(
        tempo(0, 250_000),  # 240 BPM in the conductor track
        END,
    ) + track(
        ev(96, 0x91, 64, 80),  # ch2, one beat in = 0.25 s
        ev(96, 0x81, 64, 0),  # 0.5 s
        END,
    )
    events = timed_events(data, RATE_HZ)
    assert summary(events) == [(11025, 1, "note_on", 64), (22050, 1, "off", 64)]
    assert events[0].message.channel == 1


def test_tempo_change_mid_file_gives_exact_frames():
    tpb = 96
    data = header(1, 2, ticks_per_beat(tpb)) + track(
        tempo(0, 500_000),  # 120 BPM ...
        tempo(192, 400_000),  # ... until tick 192 (1.0 s), then 150 BPM
        END,
    ) + track(
        ev(0, 0x90, 60, 100),  # tick 0
        ev(191, 0x80, 60, 0),  # tick 191: just before the change
        ev(9, 0x90, 62, 100),  # tick 200: 1.0 s + 8 ticks at 150 BPM = 1.0333... s
        ev(800, 0x80, 62, 0),  # tick 1000: 1.0 s + 808 ticks = 4.3666... s
        END,
    )
    events = timed_events(data, RATE_HZ)
    assert frames(events) == [0, round(191 / 192 * RATE_HZ), 45570, 192570]


def test_frames_are_exact_after_many_small_deltas_at_an_awkward_tempo():
    tpb, us = 7, 333_337  # a tempo that has no short binary or decimal expansion per tick
    notes = []
    for k in range(1500):
        notes.append(ev(1, 0x90, 60, 100) if k % 2 == 0 else ev(1, 0x80, 60, 0))
    data = header(0, 1, ticks_per_beat(tpb)) + track(tempo(0, us), *notes, END)
    for rate_hz in (44100, 48000.0, 22050.5):
        events = timed_events(data, rate_hz)
        seconds = [Fraction(tick * us, tpb * 1_000_000) for tick in range(1, 1501)]
        expected = [round(s * Fraction(rate_hz)) for s in seconds]
        # note-offs move ahead of note-ons only at equal frames; these ticks all differ in frame
        assert frames(events) == expected


def test_float_rate_matches_integer_rate():
    data = two_track_song()
    assert frames(timed_events(data, 44100.0)) == frames(timed_events(data, 44100)) == [0, 22050]


def test_running_status_reuses_the_last_channel_status():
    data = header(0, 1, ticks_per_beat(480)) + track(
        ev(0, 0x92, 60, 100),  # note on, ch3: sets running status 0x92
        ev(0, 64, 100),  # running status: note on E4 (no status byte)
        ev(480, 60, 0),  # running status: note on C4 vel 0 (= note off)
        ev(0, 0xFF, 0x01, 0x02, ord("h"), ord("i")),  # a text meta event between ...
        ev(0, 64, 0),  # ... does not end running status (tolerated, as most readers do)
        ev(0, 0xE2, 0x00, 0x40),  # pitch wheel centre, ch3
        ev(10, 0x00, 0x60),  # running status pitch wheel: lsb 0, msb 0x60
        END,
    )
    midi = read_midi(data)
    channel_msgs = [m for m in midi.tracks[0] if not m.is_meta]
    assert [(m.type, getattr(m, "note", None), getattr(m, "velocity", None)) for m in channel_msgs[:4]] == [
        ("note_on", 60, 100),
        ("note_on", 64, 100),
        ("note_on", 60, 0),
        ("note_on", 64, 0),
    ]
    assert all(m.channel == 2 for m in channel_msgs)
    assert [m.pitch for m in channel_msgs[4:]] == [0, (0x60 << 7) - 8192]


def test_note_on_velocity_0_comes_before_a_note_on_at_the_same_frame():
    data = header(1, 2, ticks_per_beat(480)) + track(
        ev(0, 0x90, 60, 100),  # tick 0: C4 on
        ev(480, 0x90, 60, 100),  # tick 480: C4 struck again, written before ...
        ev(0, 0x90, 60, 0),  # ... the velocity-0 note on that ends the first one
        ev(480, 0x80, 60, 0),  # tick 960
        END,
    ) + track(
        ev(0, 0xB1, 7, 100),  # tick 0: ch2 volume; same frame as track 0's note on, so after it
        ev(480, 0x81, 62, 0),  # tick 480: a note off in a later track still goes first
        END,
    )
    events = timed_events(data, RATE_HZ)
    assert summary(events) == [
        (0, 0, "note_on", 60),
        (0, 1, "control_change", 7),
        (22050, 0, "off", 60),
        (22050, 1, "off", 62),
        (22050, 0, "note_on", 60),
        (44100, 0, "off", 60),
    ]


def test_note_off_goes_first_when_different_ticks_round_to_one_frame():
    data = header(0, 1, ticks_per_beat(480)) + track(
        ev(0, 0x90, 60, 100),
        ev(479, 0x90, 62, 100),  # tick 479 = 0.49896 s -> frame 50 at 100 Hz
        ev(1, 0x80, 60, 0),  # tick 480 = 0.5 s -> frame 50 too
        END,
    )
    assert summary(timed_events(data, 100)) == [
        (0, 0, "note_on", 60),
        (50, 0, "off", 60),
        (50, 0, "note_on", 62),
    ]


def test_smpte_division_counts_real_time_and_ignores_tempo():
    data = header(0, 1, bytes([0xE7, 40])) + track(  # 0xE7 = -25: 25 fps, 40 ticks per frame
        tempo(0, 250_000),  # has no effect on SMPTE time
        ev(1000, 0x90, 60, 100),  # 1000 ticks = 1000 / (25 * 40) s = 1.0 s
        ev(1, 0x80, 60, 0),  # + 1 ms = 44.1 frames
        END,
    )
    events = timed_events(data, RATE_HZ)
    assert frames(events) == [44100, 44144]
    info = describe(data, 8)
    assert info["time_division"] == "25 fps x 40"
    assert info["tempo_bpm_first"] is None
    assert info["duration_s"] == pytest.approx(1.001)


def test_smpte_29_is_drop_frame_at_29_97_fps():
    data = header(0, 1, bytes([0xE3, 80])) + track(  # 0xE3 = -29: 30 drop-frame, 80 ticks per frame
        ev(24000, 0x90, 60, 100),  # 24000 ticks = 300 frames = 300 * 1001 / 30000 s = 10.01 s
        END,
    )
    assert frames(timed_events(data, RATE_HZ)) == [441441]
    assert describe(data, 8)["time_division"] == "29.97 fps x 80"


def test_smpte_division_reads_the_same_as_mido():
    data = header(0, 1, bytes([0xE7, 40])) + track(ev(0, 0x90, 60, 1), END)
    assert read_midi(data).ticks_per_beat == mido.MidiFile(file=io.BytesIO(data)).ticks_per_beat == -6360


def test_type2_tracks_keep_their_own_tempo():
    data = header(2, 2, ticks_per_beat(480)) + track(
        tempo(0, 250_000),  # track 0 at 240 BPM
        ev(480, 0x90, 60, 100),  # one beat = 0.25 s
        END,
    ) + track(
        ev(480, 0x90, 64, 100),  # track 1 keeps the default 120 BPM: 0.5 s
        END,
    )
    assert summary(timed_events(data, RATE_HZ)) == [(11025, 0, "note_on", 60), (22050, 1, "note_on", 64)]


def test_meta_and_sysex_are_dropped_but_their_delta_times_count():
    data = header(0, 1, ticks_per_beat(480)) + track(
        ev(100, 0xF0, 0x05, 0x7E, 0x7F, 0x09, 0x01, 0xF7),  # tick 100: sysex GM on, length 5
        ev(100, 0xFF, 0x60, 0x03, 1, 2, 3),  # tick 200: meta type 0x60, which no spec defines
        ev(40, 0xFF, 0x59, 0x02, 10, 0),  # tick 240: key signature of 10 sharps (impossible)
        ev(40, 0xF0, 0x03, 0x41, 0x90, 0xF7),  # tick 280: sysex with a byte > 127 (malformed)
        ev(0, 0xF7, 0x01, 0xF8),  # tick 280: escaped real-time byte
        ev(200, 0x90, 60, 100),  # tick 480 = 0.5 s
        ev(0, 0xC0, 5),  # program change
        ev(0, 0xD0, 30),  # channel pressure
        ev(0, 0xA0, 60, 20),  # key pressure
        END,
    )
    midi = read_midi(data)
    assert [m.type for m in midi.tracks[0]][:3] == ["sysex", "unknown_meta", "unknown_meta"]
    events = timed_events(midi, RATE_HZ)
    assert [e.message.type for e in events] == ["note_on", "program_change", "aftertouch", "polytouch"]
    assert frames(events) == [22050] * 4


def test_unknown_chunk_between_tracks_is_skipped():
    data = two_track_song()
    first_track_end = 14 + 8 + len(tempo(0, 500_000) + END)
    data = data[:first_track_end] + b"XFIH" + (3).to_bytes(4, "big") + b"abc" + data[first_track_end:]
    assert frames(timed_events(data, RATE_HZ)) == [0, 22050]


def test_reading_agrees_with_mido_on_a_file_mido_wrote():
    midi = mido.MidiFile(type=1, ticks_per_beat=384)
    conductor = midi.add_track()
    conductor.append(mido.MetaMessage("set_tempo", tempo=600_000))
    player = midi.add_track()
    player.append(mido.Message("program_change", channel=3, program=19))
    player.append(mido.Message("note_on", channel=3, note=50, velocity=90, time=5))
    player.append(mido.Message("pitchwheel", channel=3, pitch=-300, time=7))
    player.append(mido.Message("control_change", channel=3, control=64, value=127, time=11))
    player.append(mido.Message("note_on", channel=3, note=50, velocity=0, time=384))
    buffer = io.BytesIO()
    midi.save(file=buffer)
    ours = read_midi(buffer.getvalue())
    theirs = mido.MidiFile(file=io.BytesIO(buffer.getvalue()))
    assert ours.type == 1 and ours.ticks_per_beat == 384
    assert [list(t) for t in ours.tracks] == [list(t) for t in theirs.tracks]


def test_open_midi_file_is_returned_as_is(tmp_path):
    path = tmp_path / "song.mid"
    path.write_bytes(two_track_song())
    midi = read_midi(path)
    assert read_midi(midi) is midi
    assert midi.filename == str(path)
    assert frames(timed_events(str(path), RATE_HZ)) == [0, 22050]


# --- errors -------------------------------------------------------------------------------------

GOOD = two_track_song()

BAD_FILES = {
    "empty": (b"", "empty file"),
    "not_midi": (b"RIFX\x00\x00\x00\x06hello world", "not a MIDI file (no MThd header)"),
    "garbage": (bytes(range(7, 200)), "not a MIDI file"),
    "short_header": (b"MThd\x00\x00\x00\x06\x00\x01", "truncated header"),
    "header_length": (b"MThd\x00\x00\x00\x04\x00\x01\x00\x01\x01\xe0", "bad header (length 4, expected 6)"),
    "format_3": (header(3, 1, ticks_per_beat(96)) + track(END), "unknown MIDI format 3"),
    "no_tracks": (header(1, 0, ticks_per_beat(96)), "the header declares no tracks"),
    "missing_track": (GOOD[:-len(track(ev(0, 0x90, 60, 100), ev(480, 0x80, 60, 64), END))],
                      "the header declares 2 tracks but the file holds only 1"),
    "truncated_track_2": (GOOD[:-5], "truncated track 2"),
    "truncated_track_header": (GOOD[:-len(track(ev(0, 0x90, 60, 100), ev(480, 0x80, 60, 64), END)) + 5],
                               "truncated track 2"),
    "garbage_track": (header(0, 1, ticks_per_beat(96)) + b"\x00\xff\x13\x88junkjunk",
                      "garbage where track 1 should start (byte 0xe: 00 ff 13 88)"),
    "chunk_too_short": (header(0, 1, ticks_per_beat(96)) + b"MTrk\x00\x00\x00\x03" + ev(0, 0x90, 60, 100),
                        "truncated track 1"),
    "running_status_at_start": (header(0, 1, ticks_per_beat(96)) + track(ev(0, 60, 100), END),
                                "track 1: running status with no previous status byte at byte 0x17"),
    "data_byte_over_127": (header(0, 1, ticks_per_beat(96)) + track(ev(0, 0x90, 60, 0xC8), END),
                           "track 1: data byte 0xc8 > 127"),
    "undefined_status": (header(0, 1, ticks_per_beat(96)) + track(ev(0, 0xF4), END),
                         "track 1: undefined status byte 0xf4"),
    "zero_division": (header(0, 1, ticks_per_beat(0)) + track(END), "time division of 0 ticks per beat"),
    "bad_smpte_rate": (header(0, 1, bytes([0xE6, 40])) + track(END), "unknown SMPTE frame rate 26"),
    "short_tempo": (header(0, 1, ticks_per_beat(96)) + track(ev(0, 0xFF, 0x51, 0x02, 1, 2), END),
                    "track 1: set_tempo with 2 data bytes"),
}


@pytest.mark.parametrize("case", sorted(BAD_FILES))
def test_bad_file_raises_one_line_naming_the_file(tmp_path, case):
    data, problem = BAD_FILES[case]
    path = tmp_path / "song.mid"
    path.write_bytes(data)
    with pytest.raises(MidiFileError) as caught:
        read_midi(path)
    message = str(caught.value)
    assert message.startswith(f"{path}: {problem}")
    assert "\n" not in message
    assert isinstance(caught.value, ValueError)


def test_missing_file_raises_midi_file_error(tmp_path):
    path = tmp_path / "nowhere.mid"
    with pytest.raises(MidiFileError, match=r"nowhere\.mid: cannot read \(no such file"):
        read_midi(path)


def test_bytes_are_named_in_errors():
    with pytest.raises(MidiFileError, match=r"^<midi bytes>: empty file$"):
        read_midi(b"")
    with pytest.raises(MidiFileError, match=r"^upload\.mid: truncated track 2"):
        read_midi(GOOD[:-5], name="upload.mid")


def test_garbage_after_the_last_track_is_ignored():
    assert frames(timed_events(GOOD + b"\x00\x00junk", RATE_HZ)) == [0, 22050]


# --- describe -----------------------------------------------------------------------------------


def described_song() -> bytes:
    return header(1, 3, ticks_per_beat(480)) + track(
        tempo(0, 600_000),  # 100 BPM: a beat (480 ticks) is 0.6 s
        END,
    ) + track(  # channel 1
        ev(0, 0xC0, 5),  # tick 0: program 5
        ev(0, 0x90, 60, 100),  # tick 0: C4 on
        ev(0, 64, 100),  # tick 0: E4 on (running status)       -> 2 sounding
        ev(240, 0xB0, 64, 127),  # tick 240: sustain pedal down
        ev(240, 0x80, 60, 0),  # tick 480: C4 key up, pedal holds it
        ev(0, 64, 0),  # tick 480: E4 key up, pedal holds it
        ev(0, 0x90, 67, 100),  # tick 480: G4 on                       -> 3 sounding
        ev(240, 72, 100),  # tick 720: C5 on                           -> 4 sounding (the peak)
        ev(240, 0xB0, 64, 0),  # tick 960: pedal up: C4 and E4 end      -> 2 sounding
        ev(240, 0x80, 67, 0),  # tick 1200
        ev(0, 72, 0),  # tick 1200
        ev(720, 0xFF, 0x2F, 0x00),  # end of track at tick 1920, after the last note-off
    ) + track(  # channel 10
        ev(0, 0xC9, 0),  # program 0
        ev(960, 0x99, 36, 100),  # tick 960: kick, after the pedal up of the earlier track -> 3 sounding
        ev(480, 0x89, 36, 0),  # tick 1440 = 3 beats = 1.8 s: the last note-off
        ev(0, 0xC9, 0),  # program 0 again: listed once
        ev(0, 0xC9, 25),  # program 25
        END,
    )


def test_describe_counts_notes_channels_and_programs():
    info = describe(read_midi(described_song()), 8)
    assert info["format"] == 1
    assert info["n_tracks"] == 3
    assert info["channels"] == [1, 10]
    assert info["programs"] == {1: [5], 10: [0, 25]}
    assert info["n_notes"] == 5
    assert info["tempo_bpm_first"] == 100.0
    assert info["time_division"] == "480 ticks per beat"


def test_describe_duration_ends_at_the_last_note_off_not_end_of_track():
    assert describe(described_song(), 8)["duration_s"] == pytest.approx(1.8)


def test_describe_peak_polyphony_counts_notes_held_by_the_sustain_pedal():
    assert describe(described_song(), 8)["peak_polyphony"] == 4


def test_describe_counts_notes_stolen_for_two_voices():
    # Two voices: G4 at tick 480 finds C4 and E4 sustained (steal 1), C5 at 720 finds two
    # sounding (steal 2), the kick at 960 finds G4 and C5 held (steal 3).
    assert describe(described_song(), 2)["notes_stolen"] == 3
    assert describe(described_song(), 4)["notes_stolen"] == 0
    assert describe(described_song(), 3)["notes_stolen"] == 1


def test_describe_note_never_released_lasts_to_the_end_of_the_file():
    data = header(0, 1, ticks_per_beat(480)) + track(
        ev(0, 0x90, 60, 100),
        ev(960, 0xFF, 0x2F, 0x00),  # end of track at 1.0 s, the note still held
    )
    info = describe(data, 8)
    assert info["duration_s"] == pytest.approx(1.0)
    assert info["tempo_bpm_first"] == 120.0


def test_describe_all_notes_off_ends_held_and_sustained_notes():
    data = header(0, 1, ticks_per_beat(480)) + track(
        ev(0, 0xB0, 64, 127),  # pedal down
        ev(0, 0x90, 60, 100),
        ev(0, 0x90, 62, 100),
        ev(240, 0x80, 60, 0),  # sustained
        ev(240, 0xB0, 123, 0),  # tick 480 = 0.5 s: all notes off ends both
        ev(0, 0x90, 64, 100),
        ev(0, 0x90, 65, 100),  # 2 sounding again, not 4
        ev(480, 0x80, 64, 0),
        ev(0, 0x80, 65, 0),  # sustained by the pedal, still down ...
        ev(480, 0xB0, 121, 0),  # ... until reset all controllers at tick 1440 = 1.5 s
        END,
    )
    info = describe(data, 8)
    assert info["peak_polyphony"] == 2
    assert info["duration_s"] == pytest.approx(1.5)
    assert describe(data, 2)["notes_stolen"] == 0


# --- streaming -----------------------------------------------------------------------------------


def test_the_event_stream_gives_the_events_of_timed_events_in_the_same_order():
    from fuzz_tools import seeds

    from synth.midifile import EventStream, pack_events

    for name, data in seeds().items():
        midi = read_midi(data)
        for rate_hz in (44100, 22050.5):
            stream = EventStream(midi, rate_hz)
            listed = timed_events(midi, rate_hz)
            assert [(e.frame, e.track, e.message) for e in stream] == [
                (e.frame, e.track, e.message) for e in listed], name
            assert stream.last_frame == (listed[-1].frame if listed else None), name
            assert bool(stream) == bool(listed)
            packed = pack_events(midi, rate_hz)
            assert [(e.frame, e.track, e.message) for e in packed] == [
                (e.frame, e.track, e.message) for e in listed], name
            assert (len(packed), packed.last_frame, packed.end_frame) == (len(listed), stream.last_frame,
                                                                          stream.end_frame)


def test_packed_events_take_under_15_bytes_an_event():
    import sys

    from synth.midifile import pack_events

    data = header(0, 1, ticks_per_beat(480)) + track(
        *[ev(1, 0x90 | (k % 16), k % 128, 1 + k % 127) for k in range(20_000)], ev(0, 0xC3, 5), END)
    packed = pack_events(data, RATE_HZ)
    assert len(packed) == 20_001
    size = sum(sys.getsizeof(a) for a in (packed._frames, packed._tracks, packed._data))
    assert size < 15 * 20_001
    assert list(packed)[-1].message == mido.Message("program_change", channel=3, program=5)


def test_the_event_stream_sorts_note_offs_first_within_a_frame_across_tracks():
    data = header(1, 2, ticks_per_beat(480)) + track(
        ev(0, 0x90, 60, 100),
        ev(480, 0x90, 62, 100),  # tick 480: an on written before ...
        ev(0, 0x80, 60, 0),  # ... an off at the same tick
        END,
    ) + track(
        ev(480, 0x91, 64, 100),
        ev(0, 0x81, 65, 0),
        END,
    )
    from synth.midifile import EventStream

    assert summary(EventStream(data, RATE_HZ)) == [
        (0, 0, "note_on", 60),
        (22050, 0, "off", 60),
        (22050, 1, "off", 65),
        (22050, 0, "note_on", 62),
        (22050, 1, "note_on", 64),
    ]


def test_the_song_end_is_exact_for_smpte_time_and_none_for_type_2():
    from synth.midifile import end_frame

    smpte = header(0, 1, bytes([0xE7, 40])) + track(ev(0, 0x90, 60, 100), ev(2000, 0xFF, 0x2F, 0x00))
    assert end_frame(smpte, RATE_HZ) == 2 * RATE_HZ  # 2000 ticks at 25 fps x 40 = 2 s
    assert end_frame(described_song(), RATE_HZ) == round(1920 / 480 * 0.6 * RATE_HZ)
    type2 = header(2, 1, ticks_per_beat(480)) + track(ev(0, 0x90, 60, 100), END)
    assert end_frame(type2, RATE_HZ) is None
