"""The play, live and devices commands: missing libraries, the JACK device, recordings, Ctrl-C."""

from __future__ import annotations

import builtins
import os
import signal
import subprocess
import sys
import time

import mido
import numpy as np
import pytest
import soundfile as sf
from jack_tools import JACK_RATE_HZ, jack_server, require_sounddevice, sd_jack  # noqa: F401  (fixtures)

from synth.app.cli.main import main
from synth.offline import render_to_array

LSB_16 = 1.0 / 32768.0


def _song(path, n_notes: int = 3, note_s: float = 0.2) -> str:
    """A few short notes at 120 BPM (960 ticks a second), rising by a fourth."""
    midi = mido.MidiFile(ticks_per_beat=480)
    track = mido.MidiTrack()
    midi.tracks.append(track)
    ticks = round(note_s * 960)
    for i in range(n_notes):
        track.append(mido.Message("note_on", note=60 + 5 * (i % 4), velocity=100, time=0))
        track.append(mido.Message("note_off", note=60 + 5 * (i % 4), time=ticks))
    midi.save(os.fspath(path))
    return os.fspath(path)


def _one_error_line(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("liquidsky: error: ")
    return lines[0]


@pytest.fixture
def no_portaudio(monkeypatch):
    """Importing sounddevice fails as it does when the PortAudio library is missing."""
    real_import = builtins.__import__

    def fake_import(name, *args, **kwargs):
        if name == "sounddevice":
            raise OSError("PortAudio library not found")
        return real_import(name, *args, **kwargs)

    monkeypatch.delitem(sys.modules, "sounddevice", raising=False)
    monkeypatch.setattr(builtins, "__import__", fake_import)


@pytest.mark.parametrize("command", [["play", "demo"], ["live", "--duration", "1"]])
def test_without_portaudio_play_and_live_say_what_to_install_in_one_line(no_portaudio, capsys, command):
    assert main(command) == 2
    line = _one_error_line(capsys.readouterr().err)
    assert line == (f"liquidsky: error: {command[0]} needs the PortAudio library: sudo apt-get install "
                    "libportaudio2 (or: pip install 'liquidsky[live]' for the Python side)")


def test_without_portaudio_render_still_works(no_portaudio, tmp_path, capsys):
    out = tmp_path / "song.wav"
    assert main(["render", _song(tmp_path / "song.mid", 1), "-o", os.fspath(out), "-q"]) == 0
    assert sf.info(out).frames > 0.2 * 44100
    assert "sounddevice" not in sys.modules


def test_without_the_sounddevice_package_play_names_the_extra(monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "sounddevice", None)  # import raises ImportError
    assert main(["play", "demo"]) == 2
    line = _one_error_line(capsys.readouterr().err)
    assert "play needs the sounddevice package: pip install 'liquidsky[live]'" in line


def test_devices_without_portaudio_says_what_to_install(no_portaudio, capsys):
    assert main(["devices"]) == 0
    out = capsys.readouterr().out
    assert "audio outputs: none usable" in out and "sudo apt-get install libportaudio2" in out


def test_devices_lists_the_jack_output_and_the_midi_backend(sd_jack, jack_server, capsys):  # noqa: F811
    assert main(["devices"]) == 0
    out = capsys.readouterr().out
    assert "JACK Audio Connection Kit" in out
    assert f"{JACK_RATE_HZ} Hz" in out
    assert f"JACK server '{jack_server}': {JACK_RATE_HZ} Hz, 256-frame periods;" in out
    assert "MIDI inputs (jack):" in out or "MIDI inputs (alsa):" in out


# The audio paths: liquidsky's own JACK client, PortAudio's JACK device, and what play picks by itself
# (PortAudio's default output here is its JACK device, so the JACK client).
AUDIO_PATHS = {
    "jack": (["--audio", "jack"], "(JACK, liquidsky's own client)"),
    "portaudio": (["--audio", "portaudio"], "on system (JACK Audio Connection Kit)"),
    "default": ([], "(JACK, liquidsky's own client)"),
}


def _server_for(request, audio: str) -> None:
    """The JACK server, and PortAudio's view of it where the path goes through PortAudio."""
    request.getfixturevalue("jack_server" if audio == "jack" else "sd_jack")


@pytest.mark.parametrize("audio", list(AUDIO_PATHS))
def test_play_records_what_an_offline_render_of_the_file_gives(request, audio, tmp_path, capsys):
    _server_for(request, audio)
    options, where = AUDIO_PATHS[audio]
    song = _song(tmp_path / "song.mid")
    rec = tmp_path / "rec.wav"
    assert main(["play", song, "--record", os.fspath(rec), *options]) == 0
    out = capsys.readouterr().out
    assert "played 0:0" in out and f"at {JACK_RATE_HZ} Hz in 256-frame blocks" in out and "underrun" in out
    assert where in out
    recorded, rate = sf.read(rec, dtype="float32")
    reference = render_to_array(mido.MidiFile(song), rate_hz=JACK_RATE_HZ)
    assert rate == JACK_RATE_HZ
    assert recorded.shape == reference.shape
    assert np.max(np.abs(recorded - reference)) <= LSB_16


def test_play_takes_the_voice_options_as_render_does(sd_jack, tmp_path, capsys):  # noqa: F811
    from synth.catalog import voice_set

    song = _song(tmp_path / "song.mid", n_notes=2)
    rec = tmp_path / "square.wav"
    assert main(["play", song, "--voice", "square", "--record", os.fspath(rec), "-q"]) == 0
    recorded, _ = sf.read(rec, dtype="float32")
    midi = mido.MidiFile(song)
    square = render_to_array(midi, rate_hz=JACK_RATE_HZ, voices=voice_set(voice="square"))
    default = render_to_array(midi, rate_hz=JACK_RATE_HZ)
    assert recorded.shape == square.shape
    assert np.max(np.abs(recorded - square)) <= LSB_16
    assert np.max(np.abs(recorded[: default.shape[0]] - default[: recorded.shape[0]])) > 0.01


def test_keys_without_a_terminal_is_one_line(sd_jack, capsys, monkeypatch):  # noqa: F811
    import io

    monkeypatch.setattr(sys, "stdin", io.StringIO(""))
    assert main(["live", "--keys", "--duration", "1"]) == 2
    assert "--keys needs a terminal" in _one_error_line(capsys.readouterr().err)


def test_live_with_a_duration_records_that_long_and_exits_0(sd_jack, tmp_path, capsys):  # noqa: F811
    rec = tmp_path / "live.flac"
    assert main(["live", "--midi-in", "virtual", "--duration", "0.5", "--record", os.fspath(rec), "-q"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("played live 0:00.5")
    info = sf.info(rec)
    assert (info.frames, info.samplerate, info.format) == (JACK_RATE_HZ // 2, JACK_RATE_HZ, "FLAC")


@pytest.mark.parametrize("audio", ["jack", "portaudio"])
def test_sigint_stops_play_at_once_with_a_complete_recording(jack_server, audio, tmp_path):  # noqa: F811
    if audio == "portaudio":
        require_sounddevice()
    song = _song(tmp_path / "long.mid", n_notes=40, note_s=0.5)  # 20 s: far longer than the test waits
    rec = tmp_path / "stopped.wav"
    proc = subprocess.Popen(
        [sys.executable, "-m", "synth", "play", song, "--record", os.fspath(rec), "--audio", audio],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        first = proc.stdout.readline()  # printed just before the sound starts
        assert first.startswith("playing long.mid on "), first + proc.stderr.read()
        time.sleep(1.0)
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 130, err
    assert err.strip() == "liquidsky: interrupted"
    assert out.startswith("stopped after 0:0")
    recorded, rate = sf.read(rec, dtype="float32")  # a complete, readable file
    assert rate == JACK_RATE_HZ
    assert 0.5 * rate < recorded.shape[0] < 10 * rate
    # Up to the stop it is the song as rendered offline; then a fade of a few ms to silence.
    n_fade = round(0.004 * rate) + 16 + 1
    reference = render_to_array(mido.MidiFile(song), rate_hz=rate)
    n_music = recorded.shape[0] - n_fade
    assert np.max(np.abs(recorded[:n_music] - reference[:n_music])) <= LSB_16
    assert np.max(np.abs(recorded[-8:])) < 2 * LSB_16
    assert not [p for p in os.listdir(tmp_path) if p.startswith(".stopped.wav")]  # no temporary left


@pytest.mark.parametrize("value", ["0", "61", "soon"])
def test_play_refuses_a_buffer_out_of_range_in_one_line(capsys, value):
    assert main(["play", "demo", "--buffer", value]) == 2
    err = _one_error_line(capsys.readouterr().err)
    assert "--buffer" in err and ("0.02-60 s" in err or "not a number of seconds" in err)


# --- liquidsky's own JACK client ----------------------------------------------------------------------


def test_play_through_the_jack_client_needs_no_portaudio(no_portaudio, jack_server, tmp_path, capsys):  # noqa: F811
    song = _song(tmp_path / "song.mid", 1)
    rec = tmp_path / "rec.wav"
    assert main(["play", song, "--audio", "jack", "--record", os.fspath(rec), "-q"]) == 0
    assert f"on JACK server '{jack_server}'" in capsys.readouterr().out
    assert "sounddevice" not in sys.modules
    recorded, _ = sf.read(rec, dtype="float32")
    reference = render_to_array(mido.MidiFile(song), rate_hz=JACK_RATE_HZ)
    assert recorded.shape == reference.shape and np.max(np.abs(recorded - reference)) <= LSB_16


def test_without_libjack_play_through_jack_says_what_to_install_in_one_line(monkeypatch, capsys):
    from synth import live

    monkeypatch.setattr(live, "JACK_LIBRARY", "libjack-missing.so.0")
    assert main(["play", "demo", "--audio", "jack"]) == 2
    assert _one_error_line(capsys.readouterr().err) == (
        "liquidsky: error: play needs the JACK library (libjack-missing.so.0): sudo apt-get install libjack-jackd2-0")


def test_play_through_jack_without_a_server_is_one_line(monkeypatch, capsys):
    name = f"liquidsky-none-{os.getpid()}"
    monkeypatch.setenv("LIQUIDSKY_JACK_SERVER", name)
    assert main(["live", "--audio", "jack", "--keys", "--duration", "1"]) == 2
    assert _one_error_line(capsys.readouterr().err) == (
        f"liquidsky: error: no JACK server named '{name}' is running: start one (jackd -d alsa, or jackd -d dummy "
        "without a sound card)")


def test_play_through_jack_at_a_rate_other_than_the_servers_is_one_line(jack_server, tmp_path, capsys):  # noqa: F811
    rec = tmp_path / "rec.wav"
    assert main(["play", "demo", "--audio", "jack", "--rate", "44100", "--record", os.fspath(rec)]) == 2
    assert _one_error_line(capsys.readouterr().err) == (
        f"liquidsky: error: the JACK server '{jack_server}' plays at {JACK_RATE_HZ} Hz, not 44100 Hz (a JACK server "
        "plays only at its own rate: leave out --rate)")
    assert not os.listdir(tmp_path)


def test_play_through_jack_takes_no_portaudio_device(jack_server, capsys):  # noqa: F811
    assert main(["play", "demo", "--audio", "jack", "--device", "0"]) == 2
    assert "with --audio jack the JACK server is the output" in _one_error_line(capsys.readouterr().err)


def test_a_jack_server_that_goes_away_during_play_is_one_line_and_keeps_the_recording(tmp_path):
    from jack_tools import jack_port_names, private_jack_server

    song = _song(tmp_path / "long.mid", n_notes=40, note_s=0.5)
    rec = tmp_path / "take.wav"
    # A server of its own, in a process of its own: libjack holds one server's state per process.
    with private_jack_server("gone") as (name, server):
        proc = subprocess.Popen(
            [sys.executable, "-m", "synth", "play", song, "--audio", "jack", "--record", os.fspath(rec)],
            env=dict(os.environ, LIQUIDSKY_JACK_SERVER=name), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            text=True,
        )
        try:
            first = proc.stdout.readline()
            assert first.startswith("playing long.mid on JACK server"), first + proc.stderr.read()
            deadline = time.monotonic() + 30
            while "liquidsky:left" not in jack_port_names(name):
                assert time.monotonic() < deadline and proc.poll() is None, proc.stderr.read()
                time.sleep(0.05)
            time.sleep(0.5)
            server.terminate()
            server.wait(timeout=10)
            out, err = proc.communicate(timeout=30)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    assert proc.returncode == 2, err
    assert err.strip() == ("liquidsky: error: the sound card stopped asking for audio (is the JACK server or the "
                           f"device still there?); what was played until then is in {rec}")
    recorded, rate = sf.read(rec, dtype="float32")  # complete, readable
    assert rate == JACK_RATE_HZ and recorded.shape[0] > 0
    n_music = recorded.shape[0] - (round(0.004 * rate) + 16 + 1)
    reference = render_to_array(mido.MidiFile(song), rate_hz=rate)
    assert np.max(np.abs(recorded[:n_music] - reference[:n_music])) <= LSB_16
    assert np.max(np.abs(recorded[-8:])) < 2 * LSB_16
