"""The voice workshop on the command line: voices, voice info/show/import/export, --voice and --program-map."""

from __future__ import annotations

import json
import math
import os
import re
import sys

import mido
import numpy as np
import pytest
import soundfile as sf

from synth.app.cli.main import main
from synth.gm import default_voice_set
from synth.library import user
from synth.library.builtin import builtin_voices
from synth.catalog import factory_instruments
from synth.voice import single_cycle_voice

FACTORY = builtin_voices()
GM = default_voice_set()
# Voices are picked through the General MIDI map and by mode, not by hard-coded names, so that the
# tests hold whatever the factory library holds.
PROGRAM_1 = GM.melodic(0).name
KEY_36 = GM.drum(36)[0].name
MODE1 = next(name for name, v in FACTORY.items() if v.mode == 1)
MODE4 = next(name for name, v in FACTORY.items() if v.mode == 4)
MISSPELT = PROGRAM_1[:-1] + ("x" if PROGRAM_1[-1] != "x" else "y")


@pytest.fixture(autouse=True)
def voice_folder(tmp_path, monkeypatch):
    path = tmp_path / "voices"
    monkeypatch.setenv(user.ENV_VAR, str(path))
    return path


def _one_error_line(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("liquidsky: error: ")
    return lines[0]


def _tone_wav(path, freq_hz: float = 440.0, seconds: float = 0.5, rate_hz: int = 44100) -> str:
    t = np.arange(int(seconds * rate_hz)) / rate_hz
    x = 0.5 * np.sin(2 * np.pi * freq_hz * t) * np.minimum(1.0, t / 0.02)
    sf.write(os.fspath(path), x, rate_hz, subtype="PCM_16")
    return os.fspath(path)


def _song(path, channel: int, note: int = 57, seconds: float = 0.5) -> str:
    midi = mido.MidiFile(ticks_per_beat=480)
    track = mido.MidiTrack()
    midi.tracks.append(track)
    track.append(mido.Message("note_on", channel=channel, note=note, velocity=100, time=0))
    track.append(mido.Message("note_off", channel=channel, note=note, time=int(seconds * 960)))
    midi.save(os.fspath(path))
    return os.fspath(path)


# --- voices and voice info -------------------------------------------------------------------------


def test_voices_json_lists_every_factory_voice_with_its_programs(capsys):
    assert main(["voices", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    instruments = factory_instruments()
    assert [r["name"] for r in rows] == [*FACTORY, *instruments]
    by_name = {r["name"]: r for r in rows}
    for name, instrument in instruments.items():  # an instrument's row names its splits
        assert by_name[name]["mode"] == "split"
        assert [s["voice"] for s in by_name[name]["splits"]] == [s.voice.name for s in instrument.splits]
    assert by_name[PROGRAM_1]["gm_programs"] == sorted(p + 1 for p, n in GM.program_map.items() if n == PROGRAM_1)
    assert 1 in by_name[PROGRAM_1]["gm_programs"]
    assert 36 in by_name[KEY_36]["gm_drum_keys"]
    assert sum(len(r["gm_programs"]) for r in rows) == 128
    assert {r["mode"] for r in rows} <= {1, 4, "split"}
    assert all(r["origin"] == "factory" for r in rows)


def test_voices_text_has_a_line_per_voice_and_lists_user_voices_after(tmp_path, capsys):
    assert main(["voice", "import", _tone_wav(tmp_path / "a.wav"), "--name", "hum"]) == 0
    capsys.readouterr()
    assert main(["voices"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 1 + len(FACTORY) + len(factory_instruments()) + 1
    assert lines[-1].split()[:3] == ["hum", "4", "user"]


def test_voice_info_counts_the_bytes_used_and_the_distinct_levels(tmp_path, capsys):
    levels = np.tile([-64, -32, 32, 64, 96], 200)  # 1,000 samples, 5 levels, none of them 0
    sf.write(tmp_path / "steps.wav", levels / 128.0, 30200, subtype="PCM_U8")
    assert main(["voice", "import", str(tmp_path / "steps.wav"), "--name", "steps"]) == 0
    capsys.readouterr()
    assert main(["voice", "info", "steps", "--json"]) == 0
    facts = json.loads(capsys.readouterr().out)
    assert facts["bytes_used"] == 1000 and facts["segments_used"] == 8
    assert facts["distinct_levels"] == 5
    assert facts["wave_ram_bytes"] == 16384 and facts["mode"] == 4 and facts["recording_rate_hz"] == 30200


def test_voice_info_text_shows_page7_and_ram_use(capsys):
    cycle = np.sin(2 * np.pi * np.arange(128) / 128)
    user.save_user_voice(single_cycle_voice("cycles", [cycle, 0.5 * cycle], root_key=62, volume=200))
    assert main(["voice", "info", "cycles"]) == 0
    out = capsys.readouterr().out
    assert "4,096 of 16,384 bytes used (32 segments)" in out
    assert "root key: D4 (62)" in out
    for label in ("attack: timer", "decay: timer", "damping: timer", "filter: ", "volume: 200"):
        assert label in out
    assert main(["voice", "info", PROGRAM_1]) == 0
    assert "General MIDI: programs 1" in capsys.readouterr().out


def test_voice_info_of_an_unknown_voice_suggests_a_name(capsys):
    assert main(["voice", "info", MISSPELT]) == 2
    line = _one_error_line(capsys.readouterr().err)
    assert f"unknown voice '{MISSPELT}'" in line and PROGRAM_1 in line


def test_voices_lists_the_rest_when_a_user_file_is_damaged(tmp_path, voice_folder, capsys):
    assert main(["voice", "import", _tone_wav(tmp_path / "a.wav"), "--name", "fine"]) == 0
    (voice_folder / "torn.cmv").write_bytes(b"LQSKVOIC" + b"\x00" * 30)
    capsys.readouterr()
    assert main(["voices", "--json"]) == 0
    captured = capsys.readouterr()
    assert [r["name"] for r in json.loads(captured.out)][-1] == "fine"
    warning = captured.err.strip().splitlines()
    assert len(warning) == 1 and str(voice_folder / "torn.cmv") in warning[0]


def test_damaged_user_voice_is_one_line_naming_its_file(voice_folder, capsys):
    voice_folder.mkdir()
    (voice_folder / "broken.cmv").write_bytes(b"LQSKVOIC\x04\x00\x00\x00{}" + b"\x00" * 100)
    assert main(["voice", "info", "broken"]) == 2
    line = _one_error_line(capsys.readouterr().err)
    assert str(voice_folder / "broken.cmv") in line


# --- export and import ----------------------------------------------------------------------------


def test_export_writes_the_whole_ram_at_the_recording_rate(tmp_path, capsys):
    out = tmp_path / "ram.wav"
    assert main(["voice", "export", MODE4, "-o", str(out)]) == 0
    info = sf.info(out)
    assert (info.frames, info.samplerate, info.channels, info.subtype) == (16384, 30200, 1, "PCM_U8")
    data, _ = sf.read(out, dtype="int16")
    assert np.array_equal(data // 256, FACTORY[MODE4].wave)


@pytest.mark.parametrize("name, suffix", [(MODE4, ".wav"), (MODE1, ".wav"), (MODE4, ".flac")])
def test_export_then_import_gives_the_same_ram_bytes(tmp_path, capsys, name, suffix):
    out = tmp_path / f"{name}{suffix}"
    assert main(["voice", "export", name, "-o", str(out)]) == 0
    assert main(["voice", "import", str(out), "--name", f"my-{name}", "--loop", "none", "--root", "60"]) == 0
    assert "30,200 Hz, 16,384 samples" in capsys.readouterr().out
    again = user.load_user_voice(f"my-{name}")
    assert again.wave.tobytes() == FACTORY[name].wave.tobytes()
    assert again.recording_rate_hz == 30200 and again.root_key == 60 and not again.looped


def test_stereo_recording_is_mixed_to_mono(tmp_path, capsys):
    levels = np.tile([-64, 0, 64, 32], 250)
    stereo = np.stack([levels / 128.0, (levels + 32) / 128.0], axis=1)  # right = left + 32 levels
    sf.write(tmp_path / "two.wav", stereo, 30200, subtype="PCM_16")
    assert main(["voice", "import", str(tmp_path / "two.wav"), "--name", "two"]) == 0
    wave = user.load_user_voice("two").wave
    assert np.array_equal(wave[:1000], levels + 16)


def test_folder_given_as_the_recording_is_one_line(tmp_path, capsys):
    assert main(["voice", "import", str(tmp_path), "--name", "dir"]) == 2
    assert str(tmp_path) in _one_error_line(capsys.readouterr().err)


def test_auto_root_of_a_440_hz_tone_is_a4_within_5_cents(tmp_path, capsys):
    assert main(["voice", "import", _tone_wav(tmp_path / "a4.wav"), "--name", "a4", "--root", "auto"]) == 0
    out = capsys.readouterr().out
    found = re.search(r"root A4 detected \((\d+\.\d) Hz, ([+-]\d+) cents\)", out)
    assert found, out
    assert abs(1200 * math.log2(float(found.group(1)) / 440.0)) < 5
    assert user.load_user_voice("a4").root_key == 69


def test_auto_loop_lands_on_segment_boundaries_where_the_wave_continues(tmp_path, capsys):
    path = _tone_wav(tmp_path / "tone.wav", freq_hz=330.0, seconds=0.5, rate_hz=30200)
    assert main(["voice", "import", path, "--name", "looped", "--loop", "auto"]) == 0
    out = capsys.readouterr().out
    voice = user.load_user_voice("looped")
    assert voice.looped
    assert f"loop segments {voice.loop_start_segment + 1}-{voice.loop_end_segment + 1}" in out
    start, end = voice.loop_start_segment * 128, (voice.loop_end_segment + 1) * 128
    assert start % 128 == 0 and end % 128 == 0 and end - start >= 256
    wave = voice.wave.astype(int)
    # The sample played after the jump is within 2 levels of the one the data would have gone on
    # with (a sine of this level moves up to 5 levels per sample).
    assert abs(wave[start] - wave[end]) <= 2


def test_loop_given_in_page7_segments(tmp_path, capsys):
    path = _tone_wav(tmp_path / "tone.wav", seconds=0.5, rate_hz=30200)
    assert main(["voice", "import", path, "--name", "fixed", "--loop", "9:40"]) == 0
    voice = user.load_user_voice("fixed")
    assert (voice.loop_start_segment, voice.loop_end_segment) == (8, 39)


def test_too_long_wav_is_fitted_by_a_lower_rate_and_says_so(tmp_path, capsys):
    path = _tone_wav(tmp_path / "long.wav", seconds=2.0, rate_hz=44100)
    assert main(["voice", "import", path, "--name", "long", "--root", "auto"]) == 0
    out = capsys.readouterr().out
    assert "recorded at 8,100 Hz to fit" in out  # 16,384 / 2 s = 8,192 Hz, down to 8,100
    voice = user.load_user_voice("long")
    assert voice.recording_rate_hz == 8100 and voice.root_key == 69
    assert 0 < np.flatnonzero(voice.wave)[-1] < 16384
    assert np.count_nonzero(voice.wave[16000:]) > 100  # the end of the sound reached the RAM's end


def test_too_long_wav_is_truncated_when_asked_and_says_so(tmp_path, capsys):
    path = _tone_wav(tmp_path / "long.wav", seconds=2.0, rate_hz=44100)
    assert main(["voice", "import", path, "--name", "cut", "--fit", "truncate"]) == 0
    out = capsys.readouterr().out
    assert "cut to the first 0.54 s" in out
    voice = user.load_user_voice("cut")
    assert voice.recording_rate_hz == 30200 and np.count_nonzero(voice.wave[-128:]) > 100


def test_empty_wav_is_one_line_and_saves_nothing(tmp_path, voice_folder, capsys):
    path = tmp_path / "empty.wav"
    sf.write(path, np.zeros(0), 44100)
    assert main(["voice", "import", str(path), "--name", "empty"]) == 2
    line = _one_error_line(capsys.readouterr().err)
    assert str(path) in line and "0 frames" in line
    assert not voice_folder.exists() or not any(voice_folder.iterdir())


def test_text_file_named_wav_is_one_line(tmp_path, capsys):
    path = tmp_path / "notes.wav"
    path.write_text("these are not samples\n" * 20)
    assert main(["voice", "import", str(path), "--name", "notes"]) == 2
    line = _one_error_line(capsys.readouterr().err)
    assert str(path) in line and "not an audio file" in line


def test_noise_with_auto_root_asks_for_a_note(tmp_path, capsys):
    sf.write(tmp_path / "hiss.wav", np.random.default_rng(3).uniform(-0.5, 0.5, 20000), 30200)
    assert main(["voice", "import", str(tmp_path / "hiss.wav"), "--name", "hiss", "--root", "auto"]) == 2
    assert "give --root NOTE" in _one_error_line(capsys.readouterr().err)


def test_import_keeps_factory_names_and_existing_voices(tmp_path, capsys):
    path = _tone_wav(tmp_path / "a.wav")
    assert main(["voice", "import", path, "--name", PROGRAM_1]) == 2
    assert "factory voice" in _one_error_line(capsys.readouterr().err)
    assert main(["voice", "import", path, "--name", "mine"]) == 0
    before = user.user_voice_path("mine").read_bytes()
    other = _tone_wav(tmp_path / "b.wav", freq_hz=220.0)
    assert main(["voice", "import", other, "--name", "mine"]) == 2
    assert "--force" in _one_error_line(capsys.readouterr().err)
    assert user.user_voice_path("mine").read_bytes() == before
    assert main(["voice", "import", other, "--name", "mine", "--force"]) == 0
    assert user.user_voice_path("mine").read_bytes() != before


# --- voice show --------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", [MODE1, MODE4])
def test_show_writes_a_png(tmp_path, capsys, name):
    out = tmp_path / f"{name}.png"
    assert main(["voice", "show", name, "-o", str(out)]) == 0
    data = out.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 10_000
    assert [p.name for p in tmp_path.iterdir()] == [f"{name}.png"]


def test_show_without_matplotlib_says_how_to_get_it(tmp_path, capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    assert main(["voice", "show", MODE4, "-o", str(tmp_path / "b.png")]) == 2
    line = _one_error_line(capsys.readouterr().err)
    assert line == "liquidsky: error: voice show needs matplotlib: pip install 'liquidsky[plot]'"


# --- --voice and --program-map on render ---------------------------------------------------------------


def _spectrum_ratio_db(path) -> float:
    """Level of harmonics 2-8 of A3 (220 Hz) against the fundamental, in dB."""
    data, rate = sf.read(path)
    x = data[: int(0.4 * rate), 0]
    spectrum = np.abs(np.fft.rfft(x * np.hanning(len(x))))
    freqs = np.fft.rfftfreq(len(x), 1 / rate)

    def level(f):
        band = (freqs > f - 8) & (freqs < f + 8)
        return np.sum(spectrum[band] ** 2)

    return 10 * math.log10(sum(level(220.0 * h) for h in range(2, 9)) / level(220.0))


def _pure_and_buzz() -> None:
    """Two user voices: a sine and a sawtooth of 16 harmonics, single cycles (Mode 1)."""
    n = np.arange(128)
    sine = 0.9 * np.sin(2 * np.pi * n / 128)
    saw = sum(np.sin(2 * np.pi * h * n / 128) / h for h in range(1, 17))
    user.save_user_voice(single_cycle_voice("pure", sine, loop_start_segment=0, loop_end_segment=0))
    user.save_user_voice(single_cycle_voice("buzz", 0.5 * saw, loop_start_segment=0, loop_end_segment=0))


def test_channel_voice_changes_only_that_channels_sound(tmp_path, capsys):
    _pure_and_buzz()
    song = _song(tmp_path / "ch2.mid", channel=1)
    plain, pure, buzz, elsewhere = (tmp_path / f"{n}.wav" for n in ("plain", "pure", "buzz", "elsewhere"))
    assert main(["render", song, "-o", str(plain), "-q"]) == 0
    assert main(["render", song, "-o", str(pure), "-q", "--voice", "2=pure"]) == 0
    assert main(["render", song, "-o", str(buzz), "-q", "--voice", "2=buzz"]) == 0
    assert main(["render", song, "-o", str(elsewhere), "-q", "--voice", "3=pure"]) == 0
    assert elsewhere.read_bytes() == plain.read_bytes()
    assert pure.read_bytes() != plain.read_bytes()
    assert _spectrum_ratio_db(pure) < -35.0  # a sine has no harmonics to speak of
    assert _spectrum_ratio_db(buzz) > -10.0  # a sawtooth's are strong


def test_program_map_chooses_the_voice_of_a_program(tmp_path, capsys):
    _pure_and_buzz()
    song = _song(tmp_path / "p1.mid", channel=0)
    pure_map, buzz_map = tmp_path / "pure.toml", tmp_path / "buzz.toml"
    pure_map.write_text('[programs]\n1 = "pure"\n')
    buzz_map.write_text('[programs]\n1 = "buzz"\n')
    pure, buzz = tmp_path / "pure.wav", tmp_path / "buzz.wav"
    assert main(["render", song, "-o", str(pure), "-q", "--program-map", str(pure_map)]) == 0
    assert main(["render", song, "-o", str(buzz), "-q", "--program-map", str(buzz_map)]) == 0
    assert _spectrum_ratio_db(pure) < -35.0 < -10.0 < _spectrum_ratio_db(buzz)


def test_program_map_with_an_unknown_voice_is_one_line_naming_the_map(tmp_path, capsys):
    song = _song(tmp_path / "s.mid", channel=0)
    map_path = tmp_path / "map.toml"
    map_path.write_text('[programs]\n1 = "grand"\n')
    out = tmp_path / "out.wav"
    assert main(["render", song, "-o", str(out), "--program-map", str(map_path)]) == 2
    line = _one_error_line(capsys.readouterr().err)
    assert f"{map_path}: unknown voice 'grand'" in line
    assert not out.exists()


def test_two_voices_for_every_channel_are_refused(tmp_path, capsys):
    song = _song(tmp_path / "s.mid", channel=0)
    assert main(["render", song, "-o", str(tmp_path / "o.wav"), "--voice", MODE1, "--voice", MODE4]) == 2
    assert "given already" in _one_error_line(capsys.readouterr().err)


def test_user_voice_plays_by_name_in_a_render(tmp_path, capsys):
    assert main(["voice", "import", _tone_wav(tmp_path / "a.wav"), "--name", "hum", "--root", "auto"]) == 0
    song = _song(tmp_path / "s.mid", channel=0, note=69)
    out = tmp_path / "hum.wav"
    assert main(["render", song, "-o", str(out), "-q", "--voice", "hum"]) == 0
    data, rate = sf.read(out)
    x = data[int(0.1 * rate) : int(0.4 * rate), 0]
    spectrum = np.abs(np.fft.rfft(x * np.hanning(len(x)), 8 * len(x)))
    peak_hz = np.argmax(spectrum) * rate / (8 * len(x))
    assert abs(1200 * math.log2(peak_hz / 440.0)) < 10


# --- bad voices, maps and recordings: one line naming the file -------------------------------------


def _ten_minute_wav(path) -> str:
    """A 10-minute recording, written a minute at a time (8 kHz, 16-bit: 9.6 MB)."""
    rate = 8000
    minute = (0.3 * np.sin(2 * np.pi * 220.0 * np.arange(60 * rate) / rate) * 32767).astype(np.int16)
    with sf.SoundFile(os.fspath(path), "w", samplerate=rate, channels=1, subtype="PCM_16") as f:
        for _ in range(10):
            f.write(minute)
    return os.fspath(path)


def test_a_ten_minute_recording_is_refused_in_one_line_before_it_is_read(tmp_path, voice_folder, capsys,
                                                                         monkeypatch):
    from synth.library import page8

    path = _ten_minute_wav(tmp_path / "long.wav")
    monkeypatch.setattr(page8, "read_recording", None)  # reading the samples would fail loudly
    assert main(["voice", "import", path, "--name", "long"]) == 2
    line = _one_error_line(capsys.readouterr().err)
    assert line == (f"liquidsky: error: {path}: 600.0 s would need a recording rate of 0 Hz to fit, below the "
                    "card's lowest clock (1,962 Hz); use --fit truncate")
    assert not voice_folder.exists() or not any(voice_folder.iterdir())


def test_a_ten_minute_recording_truncated_reads_only_its_start(tmp_path, capsys, monkeypatch):
    from synth.library import page8

    path = _ten_minute_wav(tmp_path / "long.wav")
    asked = []
    real_read = page8.read_recording

    def reading(path, max_frames=None):
        asked.append(max_frames)
        return real_read(path, max_frames)

    monkeypatch.setattr(page8, "read_recording", reading)
    assert main(["voice", "import", path, "--name", "cut", "--fit", "truncate"]) == 0
    assert "cut to the first 0.54 s" in capsys.readouterr().out
    assert asked == [math.ceil(16384 * 8000 / 30200) + 1]  # 4,342 frames of the 4,800,000
    assert np.count_nonzero(user.load_user_voice("cut").wave[-128:]) > 100


def test_a_recording_with_nan_samples_is_one_line(tmp_path, capsys):
    path = tmp_path / "nan.wav"
    x = np.sin(np.arange(4000) / 5.0)
    x[100] = np.nan
    sf.write(path, x, 8000, subtype="FLOAT")
    assert main(["voice", "import", str(path), "--name", "nan"]) == 2
    assert _one_error_line(capsys.readouterr().err) == (
        f"liquidsky: error: {path}: the recording holds NaN or infinite samples")


@pytest.mark.parametrize("damage, problem", [
    (lambda data: data[:-100], "truncated voice file"),
    (lambda data: data[:500] + bytes([data[500] ^ 0xFF]) + data[501:], "damaged voice file (checksum does not match)"),
    (lambda data: b"not a voice", "not a liquidsky voice file (no LQSKVOIC header)"),
])
def test_a_damaged_voice_file_given_to_render_is_one_line_naming_it(tmp_path, capsys, damage, problem):
    from synth.catalog import find_voice
    from synth.voicefile import voice_to_bytes

    path = tmp_path / "broken.cmv"
    path.write_bytes(damage(voice_to_bytes(find_voice(MODE4))))
    out = tmp_path / "out.wav"
    song = _song(tmp_path / "s.mid", channel=0)
    assert main(["render", song, "-o", str(out), "--voice", str(path)]) == 2
    line = _one_error_line(capsys.readouterr().err)
    assert line.startswith(f"liquidsky: error: {path}: {problem}")
    assert not out.exists()


@pytest.mark.parametrize("text, problem", [
    ('[programs]\n1 = "grand"\n', "unknown voice 'grand'"),
    ("[programs\n", "not a valid TOML file"),
    ('[programs]\n200 = "piano"\n', "program 200 is outside 1-128"),
])
def test_a_bad_program_map_is_one_line_naming_it_for_every_input_of_a_batch(tmp_path, capsys, text, problem):
    map_path = tmp_path / "map.toml"
    map_path.write_text(text)
    songs = [_song(tmp_path / f"s{i}.mid", channel=0) for i in range(2)]
    assert main(["render", *songs, "-o", str(tmp_path / "out"), "--program-map", str(map_path)]) == 2
    line = _one_error_line(capsys.readouterr().err)
    assert line.startswith(f"liquidsky: error: {map_path}: ") and problem in line
    assert not (tmp_path / "out").exists()
