import numpy as np

from sf2_tools import write_tiny_sf2

from synth.library.page8 import import_soundfont


def _peak_hz(voice, n_used):
    x = voice.wave[:n_used].astype(np.float64)
    spectrum = np.abs(np.fft.rfft(x * np.hanning(len(x)), 8 * len(x)))
    return np.argmax(spectrum) * voice.recording_rate_hz / (8 * len(x))


def test_soundfont_sample_is_resampled_with_its_correction_and_loops_on_segments(tmp_path):
    path = tmp_path / "tiny.sf2"
    write_tiny_sf2(path, correction_cents=50)
    voice = import_soundfont(path, "tiny", program=0, key=69)
    assert voice.recording_rate_hz == 30200 and voice.root_key == 69 and voice.mode == 4
    n_used = 15100  # 0.5 s at 30.2 kHz
    cents = 1200 * np.log2(_peak_hz(voice, n_used) / 440.0)
    assert abs(cents - 50) < 3
    assert voice.loop_start_segment is not None
    assert 0 < voice.loop_start_segment <= voice.loop_end_segment < n_used // 128
    assert int(np.max(np.abs(voice.wave))) <= 127


def test_voice_import_of_a_soundfont_saves_a_looped_voice(tmp_path, monkeypatch, capsys):
    from synth.app.cli.main import main

    monkeypatch.setenv("LIQUIDSKY_VOICE_DIR", str(tmp_path / "voices"))
    write_tiny_sf2(tmp_path / "tiny.sf2", program=3)
    assert main(["voice", "import", str(tmp_path / "tiny.sf2"), "--program", "3", "--name", "tiny"]) == 0
    assert (tmp_path / "voices" / "tiny.cmv").stat().st_size == 12 + 16384 + 4 + len(
        (tmp_path / "voices" / "tiny.cmv").read_bytes()[12:][: int.from_bytes(
            (tmp_path / "voices" / "tiny.cmv").read_bytes()[8:12], "little")])
    assert "loop segments" in capsys.readouterr().out
    assert main(["voice", "import", str(tmp_path / "tiny.sf2"), "--name", "tiny2"]) == 2
