"""MIDI files made into songs: the round trips, the grid, repeats, tracks for the busiest channels, chords."""

import mido
import pytest

from pager_songs import BASE
from synth.pager import dumps_song, loads_song, midi_to_song, song_to_midi
from synth.pager.frommidi import import_midi
from synth.pager.sequencer import TICKS_PER_BEAT, played_bars, song_notes

# A song in the form import makes: one grid, patterns numbered by first use, a step for each run of
# repeats, no sections; ties across bar lines, lengths, velocities, two registers on one channel.
CANONICAL = """\
title = "Canonical"
speed = 3490
song = "1x2 2 1"
[registers]
A = { voice = "synth-bass", channel = 3, level = 90 }
B = { voice = "halo-pad", channel = 2, level = 80 }
C = { voice = "halo-pad", channel = 2, level = 80 }
E = { voice = "sonnerie-bells", channel = 5 }
H = { voice = "drums", channel = 10 }
[patterns.1]
A = "D2 - - . | F2:80 . E2/50 . | D2 . . . | . . A1 -"
B = "D3 - - - | - - - - | - - - - | - - - -"
C = "A3:70 - - - | - - - - | Bb3/25 . . . | . . . ."
H = "36 . . . | 38 . 36 36 | 36 . . . | 38 . . ."
[patterns.2]
metre = "3/4"
A = "- - - - | A2 - -/13 . | F2:1 . . ."
E = "D5:127/1 . . . | . . . . | . . . Eb5"
"""


def test_a_song_on_the_grid_comes_back_from_its_midi_file_unchanged():
    song = loads_song(CANONICAL)
    again = midi_to_song(song_to_midi(song))
    assert again == song, dumps_song(again)


def test_a_triplet_song_comes_back_on_its_grid():
    song = loads_song(CANONICAL.replace('song = "1x2 2 1"', 'grid = "1/8T"\nsong = "1"')
                      .split("[patterns.1]")[0] + '[patterns.1]\nA = "D2 - . | F2:80 . E2/34 | . C2 - | - -/50 ."\n')
    assert midi_to_song(song_to_midi(song), grid="1/8T") == song


def _note_list(midi: mido.MidiFile) -> list[tuple[float, float, int, int, int]]:
    """(start beat, end beat, channel, key, velocity) of every note."""
    out, sounding = [], {}
    for track in midi.tracks:
        tick = 0
        for msg in track:
            tick += msg.time
            if msg.type == "note_on" and msg.velocity:
                sounding[msg.channel, msg.note] = (tick, msg.velocity)
            elif msg.type in ("note_on", "note_off") and (msg.channel, msg.note) in sounding:
                start, velocity = sounding.pop((msg.channel, msg.note))
                out.append((start / midi.ticks_per_beat, tick / midi.ticks_per_beat, msg.channel, msg.note, velocity))
    return sorted(out)


def _played_midi(notes, ticks_per_beat=480, tempo=600_000, programs=None):
    """A type-1 file with a track per channel; notes (start beat, length in beats, channel, key, velocity)."""
    midi = mido.MidiFile(type=1, ticks_per_beat=ticks_per_beat)
    midi.tracks.append(mido.MidiTrack([mido.MetaMessage("set_tempo", tempo=tempo)]))
    for channel in sorted({n[2] for n in notes}):
        events = []
        if programs and channel in programs:
            events.append((0, 0, mido.Message("program_change", channel=channel, program=programs[channel])))
        for start, length, ch, key, velocity in notes:
            if ch == channel:
                events.append((round(start * ticks_per_beat), 2, mido.Message("note_on", channel=ch, note=key,
                                                                               velocity=velocity)))
                events.append((round((start + length) * ticks_per_beat), 1, mido.Message("note_off", channel=ch,
                                                                                        note=key)))
        events.sort(key=lambda e: (e[0], e[1]))
        track, now = mido.MidiTrack(), 0
        for tick, _, msg in events:
            track.append(msg.copy(time=tick - now))
            now = tick
        midi.tracks.append(track)
    return midi


def test_a_played_file_comes_back_with_its_notes_on_the_grid():
    # slightly early and late, as played; a sixteenth is 0.25 beat
    played = [(0.02, 0.9, 0, 62, 90), (0.98, 0.4, 0, 65, 70), (1.51, 2.3, 0, 64, 100), (4.24, 0.1, 0, 60, 30),
              (0.0, 3.97, 1, 38, 80), (4.03, 1.0, 1, 43, 80)]
    midi = _played_midi(played)
    back = _note_list(song_to_midi(midi_to_song(midi)))
    expected = sorted((round(s * 4) / 4, round(s * 4) / 4 + length, ch, key, vel) for s, length, ch, key, vel in played)
    assert [(s, ch, key, vel) for s, _, ch, key, vel in back] == [(s, ch, key, vel) for s, _, ch, key, vel in expected]
    for (_, end, *_), (_, want, *_) in zip(back, expected, strict=True):
        assert end == pytest.approx(want, abs=0.25 / 100)  # within a percent of a step
    assert midi_to_song(midi).speed == round(600_000 * 314160 / 60e6)


def test_identical_bars_become_one_pattern_with_repeats():
    bar = [(0, 1, 0, 60, 100), (1, 1, 0, 63, 100), (2, 2, 0, 67, 100)]
    notes = [(start + 4 * b, length, ch, key, vel) for b in range(3) for start, length, ch, key, vel in bar]
    notes.append((12, 4, 0, 55, 100))
    song = midi_to_song(_played_midi(notes))
    assert len(song.patterns) == 2
    assert [(e.pattern, e.repeats) for e in song.song] == [(1, 3), (2, 1)]


def test_tracks_go_to_the_busiest_channels_and_chords_keep_their_highest_notes():
    notes = []
    for ch in range(10):  # channel ch has ch + 1 notes; 0 and 1 are the quietest
        notes += [(i, 0.5, ch, 60 + ch, 100) for i in range(ch + 1)]
    report = import_midi(_played_midi(notes))
    assert report.channels_left_out == (0, 1)
    assert sorted(r.channel for r in report.song.registers) == list(range(2, 10))
    chord = [(0, 2, 0, key, 100) for key in (48, 55, 60, 64)] + [(0, 1, 1, 40, 100)] * 1
    busy = [(t / 2, 0.5, 1, 40, 100) for t in range(1, 20)]  # channel 2 is busier
    report = import_midi(_played_midi(chord + busy))
    song = report.song
    tracks_of_0 = [i for i, r in enumerate(song.registers) if r.channel == 0 and song.track_used(i)]
    assert len(tracks_of_0) == 4  # the chord's channel gets the tracks channel 2 does not need
    keys = sorted(n.key for n in song_notes(song, played_bars(song)) if n.channel == 0)
    assert keys == [48, 55, 60, 64] and report.n_dropped == 0
    crowded = [(0, 2, 0, key, 100) for key in (36, 40, 43, 48, 52, 55, 60, 64, 67)]
    report = import_midi(_played_midi(crowded))
    kept = sorted(n.key for n in song_notes(report.song, played_bars(report.song)))
    assert kept == [40, 43, 48, 52, 55, 60, 64, 67] and report.n_dropped == 1  # the lowest note goes


def test_programs_become_register_voices_and_channel_10_the_kit():
    midi = _played_midi([(0, 1, 0, 60, 100), (0, 1, 9, 36, 100)], programs={0: 40})
    from synth.gm import default_voice_set

    song = midi_to_song(midi)
    by_channel = {r.channel: r.voice for i, r in enumerate(song.registers) if song.track_used(i)}
    assert by_channel == {0: default_voice_set().program_map[40], 9: "drums"}


def test_a_file_without_notes_is_refused():
    with pytest.raises(ValueError, match="no notes"):
        midi_to_song(_played_midi([]))


def test_the_example_base_song_survives_a_second_import():
    first = midi_to_song(song_to_midi(loads_song(BASE)))
    assert midi_to_song(song_to_midi(first)) == first
    assert first.patterns[1].n_steps == 16 and TICKS_PER_BEAT == 1920
