"""The command line, run in-process through main([...]), and once as `python -m synth`."""

from __future__ import annotations

import importlib
import json
import math
import os
import subprocess
import sys

import mido
import pytest
import soundfile as sf

from synth.app.cli.main import main
from synth.app.cli.options import format_clock

render_module = importlib.import_module("synth.offline")
cli_render = importlib.import_module("synth.app.cli.render")


def _one_error_line(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("liquidsky: error: ")
    assert "Traceback" not in err
    return lines[0]


def _song(path, seconds: float = 0.5) -> str:
    """A one-note MIDI file of about `seconds` at 120 BPM."""
    midi = mido.MidiFile(ticks_per_beat=480)
    track = mido.MidiTrack()
    midi.tracks.append(track)
    track.append(mido.Message("note_on", note=57, velocity=100, time=0))
    track.append(mido.Message("note_off", note=57, time=int(seconds * 960)))
    midi.save(os.fspath(path))
    return os.fspath(path)


def test_help_exits_0_and_names_the_tool(capsys):
    assert main(["--help"]) == 0
    out = capsys.readouterr().out
    assert "Fairlight CMI channel-card synthesiser" in out
    assert "render" in out and "info" in out


def test_render_help_explains_the_options_with_units_and_defaults(capsys):
    assert main(["render", "--help"]) == 0
    out = " ".join(capsys.readouterr().out.split())
    assert "8000-192000 (default 44100)" in out
    assert "-1 dBFS" in out
    assert "card-1.wav" in out


def test_version_prints_the_version(capsys):
    assert main(["--version"]) == 0
    assert capsys.readouterr().out.startswith("liquidsky 0.")


@pytest.mark.parametrize(
    "argv, mentions",
    [
        (["render", "x.mid", "-o", "x.wav", "--rate", "5"], "--rate"),
        (["render", "x.mid", "-o", "x.wav", "--rate", "fast"], "--rate"),
        (["render", "x.mid", "-o", "x.wav", "--voices", "65"], "--voices"),
        (["render", "x.mid", "-o", "x.wav", "--bits", "8"], "--bits"),
        (["render", "x.mid", "-o", "x.wav", "--model", "cmi9"], "--model"),
        (["render", "x.mid", "-o", "x.wav", "--max-duration", "0"], "--max-duration"),
        (["render", "x.mid", "-o", "out.mp3"], "out.mp3: unsupported output format"),
        (["render", "x.mid"], "-o"),
        (["render", "x.mid", "-o", "x.wav", "--frobnicate"], "--frobnicate"),
        (["play"], "play"),
        ([], "COMMAND"),
    ],
)
def test_a_bad_command_line_exits_2_with_one_line_and_no_traceback(capsys, argv, mentions):
    assert main(argv) == 2
    captured = capsys.readouterr()
    assert mentions in _one_error_line(captured.err)
    assert captured.out == ""


def test_a_missing_input_exits_2_naming_the_file(tmp_path, capsys):
    missing = os.fspath(tmp_path / "no-such-song.mid")
    assert main(["render", missing, "-o", os.fspath(tmp_path / "out.wav")]) == 2
    assert "no-such-song.mid" in _one_error_line(capsys.readouterr().err)
    assert os.listdir(tmp_path) == []


def test_a_file_that_is_not_midi_exits_2_naming_it(tmp_path, capsys):
    bad = tmp_path / "notes.mid"
    bad.write_bytes(b"this is not a MIDI file")
    assert main(["info", os.fspath(bad)]) == 2
    assert "notes.mid" in _one_error_line(capsys.readouterr().err)


def test_an_output_folder_that_does_not_exist_exits_2(tmp_path, capsys):
    song = _song(tmp_path / "a.mid")
    assert main(["render", song, "-o", os.fspath(tmp_path / "nowhere" / "out.wav")]) == 2
    assert "nowhere" in _one_error_line(capsys.readouterr().err)


def test_an_unexpected_failure_is_one_line_and_debug_shows_the_traceback(tmp_path, capsys, monkeypatch):
    def broken(*args, **kwargs):
        raise TypeError("a bug")

    monkeypatch.setattr(cli_render, "render_to_file", broken)
    song = _song(tmp_path / "a.mid")
    assert main(["render", song, "-o", os.fspath(tmp_path / "out.wav")]) == 2
    assert "a bug" in _one_error_line(capsys.readouterr().err)
    assert main(["--debug", "render", song, "-o", os.fspath(tmp_path / "out.wav")]) == 2
    assert "Traceback" in capsys.readouterr().err
    assert main(["render", song, "-o", os.fspath(tmp_path / "out.wav"), "--debug"]) == 2
    assert "Traceback" in capsys.readouterr().err


def test_an_interrupt_exits_130_and_leaves_no_file(tmp_path, capsys, monkeypatch):
    real_render_events = render_module.render_events

    def interrupted_after_one_block(*args, **kwargs):
        for i, block in enumerate(real_render_events(*args, **kwargs)):
            if i == 1:
                raise KeyboardInterrupt
            yield block

    monkeypatch.setattr(render_module, "render_events", interrupted_after_one_block)
    song = _song(tmp_path / "a.mid", seconds=2.0)
    out = tmp_path / "out.wav"
    assert main(["render", song, "-o", os.fspath(out), "--stems", os.fspath(tmp_path / "stems")]) == 130
    assert capsys.readouterr().err.strip() == "liquidsky: interrupted"
    assert sorted(os.listdir(tmp_path)) == ["a.mid"]


def test_a_song_longer_than_max_duration_is_refused_before_rendering(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(render_module, "render_events", None)  # rendering would fail loudly
    song = _song(tmp_path / "a.mid", seconds=120.0)
    assert main(["render", song, "-o", os.fspath(tmp_path / "out.wav"), "--max-duration", "60"]) == 2
    line = _one_error_line(capsys.readouterr().err)
    assert line == "liquidsky: error: a.mid: 2.0 minutes of audio exceeds --max-duration 1.0 min"
    assert sorted(os.listdir(tmp_path)) == ["a.mid"]


def test_render_writes_the_file_and_one_summary_line(tmp_path, capsys):
    song = _song(tmp_path / "a.mid", seconds=0.5)
    out = tmp_path / "a.flac"
    assert main(["render", song, "-o", os.fspath(out), "--rate", "22050", "--bits", "24"]) == 0
    captured = capsys.readouterr()
    info = sf.info(out)
    assert (info.samplerate, info.channels, info.subtype) == (22050, 2, "PCM_24")
    assert info.frames > 0.5 * 22050
    lines = captured.out.splitlines()
    assert len(lines) == 1
    clock = format_clock(info.frames / 22050)
    assert lines[0].startswith(f"wrote {out}: {clock}, 22050 Hz, 24-bit stereo, peak -")
    assert lines[0].endswith(" dBFS")
    assert captured.err == ""  # no progress bar when stderr is not a terminal


def test_quiet_prints_nothing_on_success(tmp_path, capsys):
    song = _song(tmp_path / "a.mid")
    assert main(["render", song, "-o", os.fspath(tmp_path / "a.wav"), "--quiet", "--normalize"]) == 0
    assert capsys.readouterr() == ("", "")
    data, _ = sf.read(tmp_path / "a.wav")
    assert 20 * math.log10(abs(data).max()) == pytest.approx(-1.0, abs=0.01)


def test_info_json_gives_the_description_of_the_file(tmp_path, capsys):
    song = _song(tmp_path / "a.mid", seconds=0.5)
    assert main(["info", song, "--json", "--voices", "3"]) == 0
    d = json.loads(capsys.readouterr().out)
    assert d["source"] == "a.mid"
    assert d["n_voices"] == 3
    assert d["n_notes"] == 1


def test_info_prints_readable_lines(tmp_path, capsys):
    song = _song(tmp_path / "a.mid", seconds=0.5)
    assert main(["info", song]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "a.mid"
    assert "  notes: 1" in lines
    assert "  length: 0:00.5" in lines


@pytest.mark.parametrize("seconds, text", [(0.0, "0:00.0"), (182.44, "3:02.4"), (3723.46, "1:02:03.5"),
                                           (59.96, "1:00.0")])
def test_durations_read_as_a_clock(seconds, text):
    assert format_clock(seconds) == text


def test_python_dash_m_synth_help_exits_0():
    result = subprocess.run([sys.executable, "-m", "synth", "--help"], capture_output=True, text=True,
                            timeout=60, check=False)
    assert result.returncode == 0
    assert result.stdout.startswith("usage: liquidsky")
    assert result.stderr == ""


def test_rendering_the_same_piece_twice_gives_byte_identical_files(tmp_path, capsys):
    # Four voices for the demo's seven-note chords: steals, fades and releases all take part.
    outputs = []
    for name in ("a.flac", "b.flac"):
        assert main(["render", "demo", "-o", str(tmp_path / name), "--voices", "4", "--quiet"]) == 0
        outputs.append((tmp_path / name).read_bytes())
    assert len(outputs[0]) > 100_000
    assert outputs[0] == outputs[1]


# What --help may not load: the optional backends (each an extra to install) and scipy.signal, which
# alone takes longer to import than the whole command line.
HEAVY_OR_OPTIONAL = ("sounddevice", "rtmidi", "matplotlib", "starlette", "uvicorn", "websockets", "distributed",
                     "dask", "fsspec", "pretty_midi", "scipy.signal")


@pytest.mark.parametrize("argv", [["--help"], ["render", "--help"], ["play", "--help"], ["live", "--help"],
                                  ["voice", "import", "--help"], ["studio", "--help"]])
def test_help_loads_no_optional_backend_nor_scipy_signal(argv):
    probe = (
        "import json, sys\n"
        "from synth.app.cli.main import main\n"
        f"status = main({argv!r})\n"
        f"print(json.dumps([status, [m for m in {HEAVY_OR_OPTIONAL!r} if m in sys.modules]]))\n"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    status, loaded = json.loads(done.stdout.strip().splitlines()[-1])
    assert status == 0
    assert loaded == []
