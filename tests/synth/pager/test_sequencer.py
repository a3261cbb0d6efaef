"""The sequencer: notes on exact ticks, sections and repeats at the right times, from a step, a pattern looped."""

import mido
import pytest

from pager_songs import BASE
from synth.pager import loads_song, played_bars, song_channel_voices, song_to_midi, step_start_s
from synth.pager.sequencer import TICKS_PER_BEAT, song_notes

SIXTEENTH = TICKS_PER_BEAT // 4  # 480
BAR = 4 * TICKS_PER_BEAT  # 7680
WALTZ_BAR = 3 * TICKS_PER_BEAT


def notes_of(midi: mido.MidiFile, channel: int) -> list[tuple[int, int, int, int]]:
    """(start, end, key, velocity) of every note on a channel, from the file's own messages."""
    out, sounding = [], {}
    for track in midi.tracks:
        tick = 0
        for msg in track:
            tick += msg.time
            if msg.type == "note_on" and msg.velocity and msg.channel == channel:
                sounding[msg.note] = (tick, msg.velocity)
            elif msg.type in ("note_on", "note_off") and msg.channel == channel and msg.note in sounding:
                start, velocity = sounding.pop(msg.note)
                out.append((start, tick, msg.note, velocity))
    return sorted(out)


def test_ties_join_steps_and_lengths_leave_gaps():
    midi = song_to_midi(loads_song(BASE))
    bass = notes_of(midi, 1)
    # pattern 1: "D2 - - . | F2:80 . E2/50 . | D2 . . . | . . A1 -"
    assert bass[:5] == [
        (0, 3 * SIXTEENTH, 38, 100),
        (4 * SIXTEENTH, 5 * SIXTEENTH, 41, 80),
        (6 * SIXTEENTH, 6 * SIXTEENTH + SIXTEENTH // 2, 40, 100),
        (8 * SIXTEENTH, 9 * SIXTEENTH, 38, 100),
        (14 * SIXTEENTH, 16 * SIXTEENTH, 33, 100),
    ]


def test_sections_and_repeats_play_at_the_right_ticks():
    song = loads_song(BASE)  # song = "1x2 A", A = "2 1", pattern 2 a bar of 3/4
    bars = played_bars(song)
    assert [(b.step, b.pattern, b.start_tick) for b in bars] == [
        (0, 1, 0), (0, 1, BAR), (1, 2, 2 * BAR), (1, 1, 2 * BAR + WALTZ_BAR)]
    midi = song_to_midi(song)
    kicks = [start for start, _, key, _ in notes_of(midi, 9) if key == 36]
    per_bar = [0, 6 * SIXTEENTH, 7 * SIXTEENTH, 8 * SIXTEENTH]
    assert kicks == [*per_bar, *(BAR + t for t in per_bar), *(2 * BAR + WALTZ_BAR + t for t in per_bar)]
    assert midi.length == pytest.approx((3 * 4 + 3) * 0.5)  # 120 BPM: half a second a beat


def test_a_tie_at_a_pattern_start_continues_the_note_across_the_bar_line():
    song = loads_song(BASE)
    bass = notes_of(song_to_midi(song), 1)
    # bar 2 ends on "A1 -", pattern 2 starts "- - - | A2 ..." on a 1/8T grid (640 ticks a step)
    assert (BAR + 14 * SIXTEENTH, 2 * BAR + 3 * 640, 33, 100) in bass
    # played from the section, nothing is held before it: the ties are silent
    alone = notes_of(song_to_midi(song, from_step=1), 1)
    assert alone[0] == (3 * 640, 6 * 640, 45, 100)


def test_the_tempo_is_the_song_speed():
    song = loads_song(BASE.replace("speed = 2618", "speed = 3490"))
    tempos = [m.tempo for m in song_to_midi(song).tracks[0] if m.type == "set_tempo"]
    assert tempos == [round(60_000_000 * 3490 / 314160)]
    assert step_start_s(song) == pytest.approx([0.0, 8 * 60 / (314160 / 3490)])


def test_from_step_starts_at_that_step_at_time_zero():
    song = loads_song(BASE)
    bars = played_bars(song, from_step=1)
    assert [(b.step, b.pattern, b.start_tick) for b in bars] == [(1, 2, 0), (1, 1, WALTZ_BAR)]
    with pytest.raises(ValueError, match="outside the song list"):
        song_to_midi(song, from_step=2)


def test_loop_pattern_plays_one_pattern_n_times():
    song = loads_song(BASE)
    midi = song_to_midi(song, loop_pattern=(1, 3))
    kicks = [start for start, _, key, _ in notes_of(midi, 9) if key == 36]
    assert kicks == [bar * BAR + t for bar in range(3) for t in (0, 6 * SIXTEENTH, 7 * SIXTEENTH, 8 * SIXTEENTH)]
    assert midi.length == pytest.approx(3 * 2.0)
    with pytest.raises(ValueError, match="pattern 7 is not defined"):
        song_to_midi(song, loop_pattern=(7, 1))


def test_each_track_is_a_midi_track_on_its_registers_channel_with_its_level():
    midi = song_to_midi(loads_song(BASE))
    names = [t.name for t in midi.tracks]
    assert names == ["Base", "track A", "track H"]
    volume = [m for m in midi.tracks[1] if m.type == "control_change"]
    assert [(m.channel, m.control, m.value) for m in volume] == [(1, 7, 90)]
    assert all(n.channel == 9 for n in song_notes(loads_song(BASE), played_bars(loads_song(BASE))) if n.track == 7)


def test_song_channel_voices_names_the_melodic_registers():
    assert song_channel_voices(loads_song(BASE)) == {1: "synth-bass"}
