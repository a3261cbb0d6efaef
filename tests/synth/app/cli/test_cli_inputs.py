"""MIDI files from anywhere through `liquidsky render` and `info`: a clear error or a correct render.

Damaged files end in one line naming the file (exit 2) and write nothing; odd but valid ones and
pathological ones render, in bounded time and size, ending when the last release has died away.
"""

from __future__ import annotations

import os

import pytest
import soundfile as sf
from test_midifile import BAD_FILES, END, ev, header, tempo, ticks_per_beat, track, vlq

from synth.app.cli.main import main
from synth.offline import TAIL_GRID_FRAMES

RATE_HZ = 8000
# The longest a note's release (with the engine's latency and the silence grid) adds to a render.
RELEASE_MAX_S = 3.0


def _write(tmp_path, data: bytes, name: str = "song.mid") -> str:
    path = tmp_path / name
    path.write_bytes(data)
    return os.fspath(path)


def _render(tmp_path, song: str, *options: str) -> tuple[int, str]:
    out = tmp_path / "out.wav"
    code = main(["render", song, "-o", os.fspath(out), "--rate", str(RATE_HZ), *options])
    return code, os.fspath(out)


def _seconds(path: str) -> float:
    info = sf.info(path)
    return info.frames / info.samplerate


@pytest.mark.parametrize("case", sorted(BAD_FILES))
def test_a_damaged_midi_file_is_one_line_naming_it_and_writes_nothing(tmp_path, capsys, case):
    data, problem = BAD_FILES[case]
    song = _write(tmp_path, data)
    for command in (["render", song, "-o", os.fspath(tmp_path / "out.wav")], ["info", song]):
        assert main(command) == 2
        captured = capsys.readouterr()
        lines = captured.err.strip().splitlines()
        assert len(lines) == 1 and "Traceback" not in captured.err
        assert lines[0].startswith(f"liquidsky: error: {song}: {problem}")
        assert captured.out == ""
    assert os.listdir(tmp_path) == ["song.mid"]


NOTE = (ev(0, 0x90, 60, 100), ev(480, 0x80, 60, 0))  # one beat: 0.5 s at 120 BPM


@pytest.mark.parametrize("name, data, seconds", [
    ("unknown meta and sysex", header(0, 1, ticks_per_beat(480)) + track(
        ev(0, 0xFF, 0x7F, 0x03, 0x00, 0x00, 0x41),  # sequencer-specific meta
        ev(0, 0xFF, 0x60, 0x02, 1, 2),  # meta type no spec defines
        ev(0, 0xF0, 0x05, 0x7E, 0x7F, 0x09, 0x01, 0xF7),  # GM on
        ev(0, 0xF0, 0x03, 0x43, 0x12, 0x00),  # sysex without its F7
        ev(0, 0xF7, 0x02, 0xF3, 0x01),  # escaped song select
        *NOTE, END), 0.5),
    ("SMPTE time division", header(0, 1, bytes([0xE7, 40])) + track(  # 25 fps x 40: 1000 ticks a second
        ev(0, 0x90, 60, 100), ev(500, 0x80, 60, 0), END), 0.5),
    ("a set_tempo in a SMPTE file", header(0, 1, bytes([0xE8, 4])) + track(  # 24 fps x 4: 96 ticks a second
        tempo(0, 10), ev(0, 0x90, 60, 100), ev(48, 0x80, 60, 0), END), 0.5),
    ("an unknown chunk and padding", header(0, 1, ticks_per_beat(480)) + b"XTRA\x00\x00\x00\x02hi"
        + track(*NOTE, END) + b"\x00" * 100, 0.5),
    ("an empty track beside a full one", header(1, 3, ticks_per_beat(480)) + track(END) + track(*NOTE, END)
        + b"MTrk\x00\x00\x00\x00", 0.5),
    ("a track without end of track", header(0, 1, ticks_per_beat(480)) + track(*NOTE), 0.5),
    ("bytes after end of track", header(0, 1, ticks_per_beat(480)) + track(*NOTE, END, b"\x00\x90\x40"), 0.5),
    ("a RIFF RMID wrapper", None, 0.5),
])
def test_odd_but_readable_files_render_the_notes_they_hold(tmp_path, capsys, name, data, seconds):
    if data is None:
        smf = header(0, 1, ticks_per_beat(480)) + track(*NOTE, END)
        data = b"RIFF" + (12 + len(smf)).to_bytes(4, "little") + b"RMIDdata" + len(smf).to_bytes(4, "little") + smf
    code, out = _render(tmp_path, _write(tmp_path, data), "--quiet")
    assert code == 0, capsys.readouterr().err
    assert seconds <= _seconds(out) <= seconds + RELEASE_MAX_S


@pytest.mark.parametrize("name, data", [
    ("only meta events", header(1, 2, ticks_per_beat(480)) + track(
        ev(0, 0xFF, 0x03, 0x04, *b"Solo"), tempo(0, 400_000), ev(9600, 0xFF, 0x2F, 0x00)) + track(END)),
    ("empty tracks", header(1, 2, ticks_per_beat(480)) + track(END) + track(END)),
    ("tracks of zero bytes", header(1, 2, ticks_per_beat(480)) + b"MTrk\x00\x00\x00\x00" * 2),
    ("controllers but no notes", header(0, 1, ticks_per_beat(480)) + track(
        ev(0, 0xC0, 10), ev(0, 0xB0, 7, 100), ev(960, 0xB0, 64, 127), END)),
])
def test_a_file_with_no_notes_renders_no_audio_and_says_so(tmp_path, capsys, name, data):
    song = _write(tmp_path, data)
    code, out = _render(tmp_path, song)
    assert code == 0
    assert sf.info(out).frames == 0
    assert capsys.readouterr().out.startswith(f"wrote {out}: 0:00.0, {RATE_HZ} Hz, 16-bit stereo, silent")
    assert main(["info", song, "--json"]) == 0
    assert '"n_notes": 0' in capsys.readouterr().out


# --- pathological but valid -------------------------------------------------------------------------


def test_a_tempo_of_one_microsecond_a_beat_squeezes_the_song_into_moments(tmp_path, capsys):
    notes = []
    for k in range(1000):
        notes += [ev(0, 0x90, 40 + k % 40, 100), ev(480, 0x80, 40 + k % 40, 0)]
    song = _write(tmp_path, header(0, 1, ticks_per_beat(480)) + track(tempo(0, 1), *notes, END))
    code, out = _render(tmp_path, song, "--quiet")
    assert code == 0
    # 1000 beats of 1 us: the last note-off at 1 ms, then the releases
    assert _seconds(out) <= 0.001 + RELEASE_MAX_S
    assert main(["info", song, "--json"]) == 0
    assert '"duration_s": 0.001' in capsys.readouterr().out


def test_a_tempo_of_sixteen_seconds_a_beat_stretches_one_beat_to_16_8_seconds(tmp_path, capsys):
    song = _write(tmp_path, header(0, 1, ticks_per_beat(1)) + track(
        tempo(0, 0xFFFFFF), ev(0, 0x90, 60, 100), ev(1, 0x80, 60, 0), END))
    code, out = _render(tmp_path, song, "--quiet")
    assert code == 0
    assert 16.777215 <= _seconds(out) <= 16.777215 + RELEASE_MAX_S


def test_a_hundred_thousand_notes_in_one_tick_render_and_steal(tmp_path, capsys):
    on = b"".join(vlq(0) + bytes([0x90 | (k % 16), 20 + k % 90, 1 + k % 127]) for k in range(100_000))
    off = b"".join(vlq(480 if k == 0 else 0) + bytes([0x80 | (k % 16), 20 + k % 90, 0]) for k in range(100_000))
    song = _write(tmp_path, header(0, 1, ticks_per_beat(480)) + track(on + off + END))
    code, out = _render(tmp_path, song)
    assert code == 0
    line = capsys.readouterr().out
    stolen = int(line.rsplit(", ", 1)[1].removesuffix(" notes stolen\n").replace(",", ""))
    # Most notes take a card from another: only a key struck again on its own card does not steal.
    assert 90_000 < stolen < 100_000
    assert 0.5 <= _seconds(out) <= 0.5 + RELEASE_MAX_S


def test_a_note_held_for_hours_is_refused_by_the_default_maximum(tmp_path, capsys):
    song = _write(tmp_path, header(0, 1, ticks_per_beat(480)) + track(
        ev(0, 0x90, 60, 100), ev(3 * 3600 * 960, 0x80, 60, 0), END))
    assert main(["render", song, "-o", os.fspath(tmp_path / "out.wav")]) == 2
    err = capsys.readouterr().err.strip()
    assert err == "liquidsky: error: song.mid: 3.0 hours of audio exceeds --max-duration 1.0 h"
    assert os.listdir(tmp_path) == ["song.mid"]


def test_a_note_never_released_before_a_far_end_of_track_is_cut_after_the_tail_limit(tmp_path, capsys):
    from synth.offline import TAIL_LIMIT_S

    song = _write(tmp_path, header(0, 1, ticks_per_beat(480)) + track(
        ev(0, 0x90, 60, 100), ev(5 * 3600 * 960, 0xFF, 0x2F, 0x00)))  # end of track after 5 hours
    code, out = _render(tmp_path, song, "--quiet")
    assert code == 0
    # released TAIL_LIMIT_S after its last event, not at the end of track; then its release
    assert TAIL_LIMIT_S <= _seconds(out) <= TAIL_LIMIT_S + RELEASE_MAX_S


def test_an_end_of_track_far_past_the_last_note_renders_no_silence_after_the_release(tmp_path, capsys):
    song = _write(tmp_path, header(0, 1, ticks_per_beat(480)) + track(
        *NOTE, ev(5 * 3600 * 960, 0xFF, 0x2F, 0x00)))  # end of track 5 hours after the note
    code, out = _render(tmp_path, song, "--quiet")
    assert code == 0
    n_frames = sf.info(out).frames
    assert 0.5 * RATE_HZ < n_frames <= (0.5 + RELEASE_MAX_S) * RATE_HZ
    assert n_frames % TAIL_GRID_FRAMES == 0 or n_frames < TAIL_GRID_FRAMES * 2


@pytest.mark.parametrize("fmt", [1, 2])
def test_thousands_of_tracks_render(tmp_path, capsys, fmt):
    tracks = b"".join(track(ev(k, 0x90 | (k % 16), 30 + k % 60, 100), ev(48, 0x80 | (k % 16), 30 + k % 60, 0), END)
                      for k in range(3000))
    song = _write(tmp_path, header(fmt, 3000, ticks_per_beat(480)) + tracks)
    code, out = _render(tmp_path, song, "--quiet")
    assert code == 0
    last_off_s = (2999 + 48) / 960
    assert last_off_s <= _seconds(out) <= last_off_s + RELEASE_MAX_S
    assert main(["info", song, "--json"]) == 0
    assert '"n_tracks": 3000' in capsys.readouterr().out


def test_an_impossible_sample_rate_and_an_unknown_piece_are_one_line(tmp_path, capsys):
    for argv, line in [
        (["render", "demo", "-o", "x.wav", "--rate", "1000000"],
         "liquidsky: error: argument --rate: 1000000 is outside 8000-192000 Hz (see 'liquidsky render --help')"),
        (["render", "demo", "-o", "x.wav", "--rate", "0"],
         "liquidsky: error: argument --rate: 0 is outside 8000-192000 Hz (see 'liquidsky render --help')"),
        (["render", "no-such-piece", "-o", "x.wav"],
         "liquidsky: error: no such file, built-in piece or score: 'no-such-piece' "
         "(built-in: demo, sonnerie, trionfo, laurel)"),
        (["render", "demo", "-o", "x.wav", "--format", "flac"],
         "liquidsky: error: x.wav: --format flac does not match the file's extension"),
    ]:
        assert main(argv) == 2
        assert capsys.readouterr().err.strip() == line
    assert not os.path.exists("x.wav")
