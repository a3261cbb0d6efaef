"""Page R, the CMI's Real Time Composer: songs of one-bar patterns on eight tracks, as files and as MIDI.

    from synth.pager import load_song, song_to_midi
    song = load_song("examples/song.toml")
    midi = song_to_midi(song)                       # a mido.MidiFile at the song's speed

The model is synth.pager.song, the file synth.pager.fileformat, the sequencer synth.pager.sequencer
and the import of MIDI files synth.pager.frommidi.
"""

from __future__ import annotations

from synth.pager.fileformat import SongFileError, dumps_song, load_song, loads_song, save_song
from synth.pager.frommidi import import_midi
from synth.pager.sequencer import played_bars, song_channel_voices, song_to_midi, step_start_s
from synth.pager.song import Note, Pattern, Play, Register, Song, SongError, Tie, bpm_to_speed, speed_to_bpm


def midi_to_song(midi, **options) -> Song:
    """A song from a MIDI file (see synth.pager.frommidi.import_midi for the options)."""
    return import_midi(midi, **options).song


__all__ = ["Note", "Pattern", "Play", "Register", "Song", "SongError", "SongFileError", "Tie", "bpm_to_speed",
           "dumps_song", "load_song", "loads_song", "midi_to_song", "played_bars", "save_song",
           "song_channel_voices", "song_to_midi", "speed_to_bpm", "step_start_s"]
