"""liquidsky pager export / import / show, and song files as pieces for render, info and arrange."""

import os
import subprocess
import sys

import mido
import pytest
import soundfile as sf

from pager_songs import BASE, EXAMPLE, base_with
from synth.app.cli.main import main
from synth.pager import load_song, loads_song, midi_to_song
from synth.pager.sequencer import TICKS_PER_BEAT, played_bars, tempo_us


def run(capsys, *argv):
    status = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return status, out, err


@pytest.fixture
def song_file(tmp_path):
    path = tmp_path / "base.toml"
    path.write_text(BASE)
    return path


def test_export_then_import_gives_the_song_back(capsys, tmp_path, song_file):
    status, out, _ = run(capsys, "pager", "export", song_file, "-o", tmp_path / "base.mid")
    assert status == 0 and out.startswith(f"wrote {tmp_path / 'base.mid'}: 0:07.5, ")
    midi = mido.MidiFile(tmp_path / "base.mid")
    assert midi.type == 1 and midi.ticks_per_beat == TICKS_PER_BEAT
    status, out, _ = run(capsys, "pager", "import", tmp_path / "base.mid", "-o", tmp_path / "back.toml")
    assert status == 0 and "2 tracks from 2 channels, speed 2618" in out
    assert load_song(tmp_path / "back.toml") == midi_to_song(midi)


def test_export_from_a_step_and_of_a_looped_pattern(capsys, tmp_path, song_file):
    run(capsys, "pager", "export", song_file, "-o", tmp_path / "from.mid", "--from-step", "2")
    assert mido.MidiFile(tmp_path / "from.mid").length == pytest.approx(3.5)  # a 3/4 bar and a 4/4 bar
    run(capsys, "pager", "export", song_file, "-o", tmp_path / "loop.mid", "--loop-pattern", "2x4")
    assert mido.MidiFile(tmp_path / "loop.mid").length == pytest.approx(4 * 1.5)


def test_show_prints_the_song_list_and_the_grid(capsys, song_file):
    status, out, _ = run(capsys, "pager", "show", song_file, "--pattern", "2")
    assert status == 0
    lines = out.splitlines()
    assert lines[0] == "Base: speed 2618 (120 BPM), 2 patterns, 2 song steps"
    assert lines[2].split() == ["1", "1x2", "bars", "1-2", "0:00.0"]
    assert lines[3].split() == ["2", "A", "bars", "3-4", "0:04.0"]
    assert "pattern 2: 3/4 on a 1/8T grid, 9 steps" in lines
    assert "  A  - - - | A2 - - | F2 . ." in lines
    assert "pattern 1" not in out


@pytest.mark.parametrize(("argv", "message"), [
    (["pager", "export", "{bad}", "-o", "{out}.mid"], "{bad}:15: patterns.1.A: step 5: velocity 0 is outside 1-127"),
    (["pager", "show", "{bad}"], "{bad}:15: patterns.1.A: step 5: velocity 0"),
    (["render", "{bad}", "-o", "{out}.wav"], "{bad}:15: patterns.1.A: step 5: velocity 0"),
    (["info", "{bad}"], "{bad}:15: patterns.1.A"),
    (["arrange", "{bad}", "-o", "{out}.mid"], "{bad}:15: patterns.1.A"),
    (["pager", "import", "{bad}", "-o", "{out}.toml"], "{bad}: not a MIDI file"),
    (["pager", "export", "{good}", "-o", "{out}.wav"], "the export is a MIDI file"),
    (["pager", "export", "{good}", "-o", "{out}.mid", "--from-step", "3"], "the song list has 2 steps"),
])
def test_a_bad_song_is_one_line_exit_2_and_leaves_no_output(capsys, tmp_path, song_file, argv, message):
    bad = tmp_path / "bad.toml"
    bad.write_text(base_with("F2:80", "F2:0"))
    out = tmp_path / "out"
    names = {"bad": bad, "good": song_file, "out": out}
    status, stdout, err = run(capsys, *(a.format(**names) for a in argv))
    assert status == 2
    assert err.count("\n") == 1 and err.startswith("liquidsky: error: ") and message.format(**names) in err, err
    assert sorted(os.listdir(tmp_path)) == ["bad.toml", "base.toml"]


def test_a_failed_export_leaves_the_file_that_was_there(capsys, tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text(base_with('song = "1x2 A"', 'song = "1x2 Q"'))
    target = tmp_path / "song.mid"
    target.write_bytes(b"mine")
    status, _, err = run(capsys, "pager", "export", bad, "-o", target)
    assert status == 2 and "song: step 2: section 'Q' is not defined" in err
    assert target.read_bytes() == b"mine" and sorted(os.listdir(tmp_path)) == ["bad.toml", "song.mid"]


def test_a_register_naming_an_unknown_voice_is_refused_with_its_line(capsys, tmp_path):
    song = tmp_path / "song.toml"
    song.write_text(base_with('voice = "synth-bass"', 'voice = "synth-bas"'))
    status, _, err = run(capsys, "render", song, "-o", tmp_path / "out.wav")
    assert status == 2
    assert err == (f"liquidsky: error: {song}:11: registers.A.voice: unknown voice 'synth-bas': "
                   "did you mean synth-bass?\n")


def test_info_and_arrange_take_a_song(capsys, tmp_path, song_file):
    status, out, _ = run(capsys, "info", song_file)
    assert status == 0 and "channels with notes: 2, 10" in out and "length: 0:07.5" in out
    status, out, _ = run(capsys, "arrange", song_file, "--style", "ominous", "-o", tmp_path / "dark.mid")
    assert status == 0 and mido.MidiFile(tmp_path / "dark.mid").length > 7.5  # ominous is slower


def test_the_example_renders_from_another_folder_with_its_notes_on_their_frames(tmp_path):
    """The command a user types; then, the song's kicks found in the audio on the frames the song puts them."""
    rate_hz = 22050
    result = subprocess.run([sys.executable, "-m", "synth", "render", str(EXAMPLE), "-o", "undertow.wav",
                             "--rate", str(rate_hz)], cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    audio, rate = sf.read(tmp_path / "undertow.wav")
    song = load_song(EXAMPLE)
    bars = played_bars(song)
    seconds_per_tick = tempo_us(song.speed) / 1e6 / TICKS_PER_BEAT
    end_s = (bars[-1].start_tick + bars[-1].n_ticks) * seconds_per_tick
    assert rate == rate_hz and end_s < len(audio) / rate < end_s + 3  # 13 bars at 90 BPM and the release

    # The kick track alone (track G), rendered through synth.render as a Python user would.
    import dataclasses

    import numpy as np

    import synth
    from synth.pager import dumps_song, song_to_midi
    from synth.pager.sequencer import song_notes

    kicks_only = dataclasses.replace(song, patterns={
        n: dataclasses.replace(p, tracks=tuple(t if i == 6 else (None,) * len(t) for i, t in enumerate(p.tracks)))
        for n, p in song.patterns.items()})
    path = tmp_path / "kicks.toml"
    path.write_text(dumps_song(kicks_only))
    kick_audio = np.abs(synth.render(str(path), rate_hz=rate_hz).audio).max(axis=1)
    onsets = [round(n.start * seconds_per_tick * rate_hz) for n in song_notes(kicks_only, played_bars(kicks_only))]
    assert len(onsets) == len(set(onsets)) >= 30
    quiet = 0
    for frame in onsets:
        before = kick_audio[max(0, frame - 200):max(0, frame - 2)].max(initial=0.0)
        start = max(0, frame - 2)
        assert kick_audio[frame:frame + round(0.05 * rate_hz)].max() > 2 * before, frame  # a new note sounds
        if before < 1e-3:  # out of silence: within 8 frames of its tick
            rise = np.nonzero(kick_audio[start:frame + 100] > 1e-4)[0]
            assert len(rise) and 0 <= start + rise[0] - frame <= 8, (frame, before)
            quiet += 1
    assert quiet >= len(onsets) // 3
    assert kick_audio[:onsets[1] - 50].max() > 0.01
    song_to_midi(kicks_only)  # the reduced song is itself a valid song


def test_a_songs_registers_choose_its_voices_unless_voice_says_otherwise(song_file, tmp_path):
    from synth.app.sources import piece_voice_set

    assert piece_voice_set(song_file).melodic(0, 1).name == "synth-bass"
    assert piece_voice_set(song_file, channel_voices={1: "flute"}).melodic(0, 1).name == "flute"
    assert piece_voice_set(song_file, voice="glass").melodic(0, 1).name == "glass"
    mapped = tmp_path / "map.toml"
    mapped.write_text('[channels]\n2 = "reed"\n')
    assert piece_voice_set(song_file, program_map_path=mapped).melodic(0, 1).name == "reed"
    assert piece_voice_set(str(EXAMPLE)).melodic(0, 3).name == "sonnerie-bells"
    assert loads_song(BASE).registers[7].voice == "drums"


def test_an_exported_file_renders_as_the_song_does(capsys, tmp_path, song_file):
    """The registers' factory voices travel as General MIDI programs, so the .mid needs no song beside it."""
    import numpy as np

    import synth

    run(capsys, "pager", "export", song_file, "-o", tmp_path / "base.mid")
    from_song = synth.render(str(song_file), rate_hz=8000).audio
    from_midi = synth.render(str(tmp_path / "base.mid"), rate_hz=8000).audio
    assert from_song.shape == from_midi.shape and np.array_equal(from_song, from_midi)
    from synth.app.sources import piece_voice_set

    flute = piece_voice_set(song_file, channel_voices={1: "flute"})
    assert not np.array_equal(from_song[:16000], synth.render(str(song_file), rate_hz=8000, voices=flute).audio[:16000])
